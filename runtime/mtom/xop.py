"""XOP, the one place that knows ``xop:Include``: a reply's attachment element is
replaced by an Include of its part (server), a request's Includes are replaced by the
base64 of the parts they name (server), a response's Includes are detached and the
part they name is found in the stream (client)."""

from __future__ import annotations

import base64
import tempfile
from collections.abc import AsyncIterator, Mapping
from typing import IO, Final

from lxml import etree

from ..errors import ProtocolError
from ..xmlbind.namespaces import XOP
from .mime import cid_href
from .reader import MultipartReader, Part
from .writer import FILE_CHUNK

XOP_INCLUDE: Final = f"{{{XOP}}}Include"


def include_attachment(body: etree._Element, carrier: str, content_id: str) -> None:
    """Sending: the one ``carrier`` element (Clark name) under ``body`` loses its base64
    text for an ``xop:Include`` of the part ``content_id``."""
    carriers = list(body.iter(carrier))
    if len(carriers) != 1:
        raise ValueError(
            f"expected one <{carrier}> in the reply, found {len(carriers)}"
        )
    carriers[0].text = None
    etree.SubElement(carriers[0], XOP_INCLUDE, href=f"cid:{content_id}")


def inline_includes(root: etree._Element, parts: Mapping[str, bytes]) -> str | None:
    """Receiving a whole request: every ``xop:Include`` under ``root`` is replaced (in
    place) by the base64 of the part it names. Returns the first Content-ID that names
    no part (nothing is replaced then), else None."""
    includes = list(root.iter(XOP_INCLUDE))
    for include in includes:
        href = cid_href(include.get("href", ""))
        if href not in parts:
            return href
    for include in includes:
        parent = include.getparent()
        if parent is not None:
            parent.remove(include)
            parent.text = base64.b64encode(
                parts[cid_href(include.get("href", ""))]
            ).decode("ascii")
    return None


def detach_includes(root: etree._Element) -> list[str]:
    """Receiving a stream: remove every ``xop:Include`` from the SOAP part and return
    their hrefs in document order. The referenced parts are streamed separately instead
    of being inlined, so the base64Binary fields stay empty."""
    hrefs = []
    for include in list(root.iter(XOP_INCLUDE)):
        hrefs.append(include.get("href", ""))
        parent = include.getparent()
        if parent is not None:
            parent.remove(include)
    return hrefs


async def find_attachment(
    reader: MultipartReader, href: str | None
) -> tuple[Part, AsyncIterator[memoryview]]:
    """The part ``href`` (an Include's) names, streaming it when it comes first.

    Matching is by Content-ID (the href URL-decoded, brackets stripped); when no part
    matches, the first attachment (the second MIME part) is used, as sane-airscan does.
    A first attachment with another Content-ID is spooled to a temporary file while
    later parts are searched, so memory stays bounded either way."""
    wanted = cid_href(href) if href else None
    first = await reader.next_part()
    if first is None:
        raise ProtocolError("MTOM response without an attachment part")
    if wanted is None or first.content_id in (None, wanted):
        return first, first.views
    spool = tempfile.TemporaryFile()
    try:
        async for view in first.views:
            spool.write(view)
        while (part := await reader.next_part()) is not None:
            if part.content_id == wanted:
                spool.close()
                return part, part.views
            async for _ in part.views:
                pass
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return first, _replay(spool)


async def _replay(spool: IO[bytes]) -> AsyncIterator[memoryview]:
    try:
        while chunk := spool.read(FILE_CHUNK):
            yield memoryview(chunk)
    finally:
        spool.close()
