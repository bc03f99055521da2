"""MIME header values as MTOM and HTTP write them: media types with parameters,
Content-IDs and the ``cid:`` URLs that name them."""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote

CRLF: Final = b"\r\n"


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """``multipart/related; boundary=...`` -> ("multipart/related", {"boundary": ...}).

    Media type and parameter names are lower-cased; values may be quoted or not, in any
    order (Dell C2665dnf sends unquoted values with special characters)."""
    media, _, rest = value.partition(";")
    params: dict[str, str] = {}
    i = 0
    while i < len(rest):
        while i < len(rest) and rest[i] in " \t;":
            i += 1
        eq = rest.find("=", i)
        if eq < 0:
            break
        name = rest[i:eq].strip().lower()
        i = eq + 1
        if i < len(rest) and rest[i] == '"':
            end = i + 1
            chars = []
            while end < len(rest) and rest[end] != '"':
                if rest[end] == "\\" and end + 1 < len(rest):
                    end += 1
                chars.append(rest[end])
                end += 1
            params[name] = "".join(chars)
            i = end + 1
        else:
            end = rest.find(";", i)
            end = len(rest) if end < 0 else end
            params[name] = rest[i:end].strip()
            i = end
    return media.strip().lower(), params


def content_id(value: str) -> str:
    """Normalize a Content-ID header (or a ``start`` parameter) for matching: angle
    brackets stripped. Not URL-decoded (a Content-ID is not a URL, and ``%`` is a legal
    character in it), unless given a ``cid:`` URL, which is read as an href
    (:func:`cid_href`: URL-decoded)."""
    value = value.strip()
    if value.lower().startswith("cid:"):  # lenient: a cid: URL where an id belongs
        return cid_href(value)
    return value.strip("<>")


def cid_href(href: str) -> str:
    """The Content-ID an ``xop:Include href="cid:..."`` names: scheme and angle
    brackets stripped, URL-decoded (RFC 2392; ``%40`` vs ``@``, python-zeep PR #896)."""
    value = href.strip()
    if value.lower().startswith("cid:"):
        value = value[4:]
    return unquote(value.strip("<>"))
