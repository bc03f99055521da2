"""Read the WS-Scan element reference pages (``shared/spec/ws-scan/*.md``).

The coverage and example tests derive what to check from the pages themselves, never from
a list typed by hand: each element page gives its element name, its attribute table, its
child and parent links, and its XML examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "spec" / "ws-scan"
CORPUS_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus"

_LINK = re.compile(r"\[\*\*(?P<text>[^*\]]+)\*\*\]\((?P<href>[a-z0-9-]+\.md)\)")
_ATTRIBUTE_ROW = re.compile(r"^\|\s*\*\*(?P<name>\w+)\*\*\s*\|")
_XML_BLOCK = re.compile(r"```xml\n(?P<body>.*?)```", re.S)


@dataclass(frozen=True)
class ElementPage:
    """What one element page documents."""

    stem: str  # file name without .md
    element: str  # the element's name
    attributes: tuple[str, ...]
    child_pages: tuple[str, ...]  # stems of the linked child element pages
    parent_pages: tuple[str, ...]
    examples: tuple[str, ...]  # XML blocks under "Examples" (not the Usage block)


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^## {heading}\s*$(?P<body>.*?)(?=^## |\Z)", text, re.S | re.M)
    return match.group("body") if match else ""


def _links(section: str) -> tuple[str, ...]:
    return tuple(m.group("href").removesuffix(".md") for m in _LINK.finditer(section))


def _element_name(title: str) -> str | None:
    # "# ScannerName element", "# JobHistory element (optional)",
    # "# Name Element for DeviceCondition ...", "# Name for RequestedElements element"
    match = re.match(r"# (?P<name>[A-Za-z]+)(?: Element| element| for )", title)
    return match.group("name") if match else None


@cache
def element_pages() -> tuple[ElementPage, ...]:
    """Every page that documents an element, sorted by file name."""
    pages = []
    for path in sorted(SPEC_DIR.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        title = next((line for line in text.splitlines() if line.startswith("# ")), "")
        name = _element_name(title)
        if (
            name is None
            or "## Child elements" not in text
            and "## Parent elements" not in text
        ):
            continue
        attributes = tuple(
            m.group("name")
            for line in _section(text, "Attributes").splitlines()
            if (m := _ATTRIBUTE_ROW.match(line.strip()))
        )
        examples = tuple(
            m.group("body") for m in _XML_BLOCK.finditer(_section(text, "Examples?"))
        )
        pages.append(
            ElementPage(
                stem=path.stem,
                element=name,
                attributes=attributes,
                child_pages=_links(_section(text, "Child elements")),
                parent_pages=_links(_section(text, "Parent elements")),
                examples=examples,
            )
        )
    return tuple(pages)


def page_by_stem() -> dict[str, ElementPage]:
    return {page.stem: page for page in element_pages()}


def all_examples() -> list[tuple[str, int, str]]:
    """(page stem, index, XML text) for every example block on every page (not only
    element pages: operation overview pages have examples too)."""
    found = []
    for path in sorted(SPEC_DIR.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for index, match in enumerate(_XML_BLOCK.finditer(_section(text, "Examples?"))):
            found.append((path.stem, index, match.group("body")))
    return found
