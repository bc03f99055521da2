"""MTOM/XOP (SOAP with binary attachments): MIME values (:mod:`.mime`), the streaming
multipart reader (:mod:`.reader`, over a byte window searched with memmem:
:mod:`.byte_window`, :mod:`.byte_search`) and writer (:mod:`.writer`), and
``xop:Include`` both ways (:mod:`.xop`)."""

from .byte_search import (
    find,
)
from .byte_window import (
    ByteWindow,
    IterWindow,
)
from .mime import (
    CRLF,
    cid_href,
    content_id,
    parse_content_type,
)
from .reader import (
    MAX_HEADER_BLOCK,
    MAX_ROOT_PART,
    MultipartReader,
    Part,
    read_all,
)
from .writer import (
    FILE_CHUNK,
    MtomEnvelope,
    attachment_size,
    iter_source,
    mtom_length,
    mtom_stream,
    open_mtom_stream,
)
from .xop import (
    XOP_INCLUDE,
    detach_includes,
    find_attachment,
    include_attachment,
    inline_includes,
)

__all__ = [
    "ByteWindow",
    "CRLF",
    "FILE_CHUNK",
    "IterWindow",
    "MAX_HEADER_BLOCK",
    "MAX_ROOT_PART",
    "MtomEnvelope",
    "MultipartReader",
    "Part",
    "XOP_INCLUDE",
    "attachment_size",
    "cid_href",
    "content_id",
    "detach_includes",
    "find",
    "find_attachment",
    "include_attachment",
    "inline_includes",
    "iter_source",
    "mtom_length",
    "mtom_stream",
    "open_mtom_stream",
    "parse_content_type",
    "read_all",
]
