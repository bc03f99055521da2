"""MTOM/XOP (SOAP with binary attachments): the streaming multipart reader and writer
(:mod:`.multipart`), over a byte window (:mod:`.byte_window`) searched with memmem
(:mod:`.byte_search`)."""

from .byte_search import (
    find,
)
from .byte_window import (
    ByteWindow,
    IterWindow,
)
from .multipart import (
    FILE_CHUNK,
    MAX_HEADER_BLOCK,
    MAX_ROOT_PART,
    XOP_INCLUDE,
    MtomEnvelope,
    MultipartReader,
    Part,
    attachment_size,
    cid_href,
    content_id,
    detach_includes,
    iter_source,
    mtom_length,
    mtom_stream,
    open_mtom_stream,
    parse_content_type,
    read_all,
)

__all__ = [
    "ByteWindow",
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
    "iter_source",
    "mtom_length",
    "mtom_stream",
    "open_mtom_stream",
    "parse_content_type",
    "read_all",
]
