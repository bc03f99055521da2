"""What the WS-Scan element reference pages document, as derived into the project.

The coverage and example tests check what the pages document, never a list typed by
hand: each element page gives its element name, its attribute table, its child and
parent links, and its XML examples. The pages themselves (``shared/spec/ws-scan/*.md``
beside the checkout) are read only by ``tests/data/spec/derive.py``, which writes
``tests/data/spec/elements.json`` and ``examples.json``; this module reads those.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from project_data import SPEC_DATA_DIR


@dataclass(frozen=True)
class ElementPage:
    """What one element page documents."""

    stem: str  # file name without .md
    element: str  # the element's name
    attributes: tuple[str, ...]
    child_pages: tuple[str, ...]  # stems of the linked child element pages
    parent_pages: tuple[str, ...]
    examples: tuple[str, ...]  # XML blocks under "Examples" (not the Usage block)


def _load(name: str, key: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(
        (SPEC_DATA_DIR / name).read_text(encoding="utf-8")
    )[key]
    return records


def _stem(page: str) -> str:
    return page.removesuffix(".md")


@cache
def xml_blocks() -> tuple[dict[str, Any], ...]:
    """Every XML block the pages have outside their Usage sections: page (file name),
    section (heading, ``""`` before the first), index within the section, xml."""
    return tuple(_load("examples.json", "examples"))


def _is_example(block: dict[str, Any]) -> bool:
    return re.fullmatch("Examples?", block["section"]) is not None


@cache
def element_pages() -> tuple[ElementPage, ...]:
    """Every page that documents an element, sorted by file name."""
    return tuple(
        ElementPage(
            stem=_stem(record["page"]),
            element=record["element"],
            attributes=tuple(record["attributes"]),
            child_pages=tuple(_stem(page) for page in record["child_pages"]),
            parent_pages=tuple(_stem(page) for page in record["parent_pages"]),
            examples=tuple(
                block["xml"]
                for block in xml_blocks()
                if block["page"] == record["page"] and _is_example(block)
            ),
        )
        for record in sorted(_load("elements.json", "pages"), key=lambda r: r["page"])
    )


def page_by_stem() -> dict[str, ElementPage]:
    return {page.stem: page for page in element_pages()}


def all_examples() -> list[tuple[str, int, str]]:
    """(page stem, index, XML text) for every example block on every page (not only
    element pages: operation overview pages have examples too)."""
    return [
        (_stem(block["page"]), block["index"], block["xml"])
        for block in sorted(xml_blocks(), key=lambda b: (b["page"], b["index"]))
        if _is_example(block)
    ]


def page_xml(page: str) -> list[str]:
    """The XML blocks of one page (file name), in page order, Usage blocks left out."""
    return [block["xml"] for block in xml_blocks() if block["page"] == page]
