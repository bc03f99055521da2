"""Derive the project's spec data from the WS-Scan element reference pages.

    python tests/data/spec/derive.py PATH/TO/shared/spec/ws-scan [--check]

The pages (``shared/spec/ws-scan/*.md`` beside the checkout) are a reference, not part
of the project. This script reads them once and writes what the tests and the code
generator need, so that neither reads the pages:

- ``tests/data/spec/elements.json``: every element page: element name, attributes,
  child and parent page links;
- ``tests/data/spec/examples.json``: every XML block outside the pages' Usage sections
  (the Examples sections, and the blocks of the error-reporting page);
- ``schema/faults.toml``: every documented fault (code, subcode, reason, detail, the
  operations whose page lists it, the pages it is documented on), and the fault names
  the pages use without a fault table.

Everything the project knows about reading the pages is here; ``tests/spec_pages.py``
and ``tests/test_faults.py`` read the files above, and ``tests/test_spec_data.py``
re-derives them from the pages (where present) and compares. ``--check`` compares
without writing and exits 1 on a difference.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]  # the checkout (tests/data/spec/derive.py)
ELEMENTS = "tests/data/spec/elements.json"
EXAMPLES = "tests/data/spec/examples.json"
FAULTS = "schema/faults.toml"

SOURCE = (
    "WS-Scan element reference pages (shared/spec/ws-scan/*.md): MicrosoftDocs/"
    "windows-driver-docs, folder windows-driver-docs-pr/image, commit 825aa15f47, "
    "licensed CC BY 4.0"
)
REDERIVE = "python tests/data/spec/derive.py PATH/TO/shared/spec/ws-scan"

# --- the pages ---------------------------------------------------------------------------

_LINK = re.compile(r"\[\*\*(?P<text>[^*\]]+)\*\*\]\((?P<href>[a-z0-9-]+\.md)\)")
_ATTRIBUTE_ROW = re.compile(r"^\|\s*\*\*(?P<name>\w+)\*\*\s*\|")
_XML_BLOCK = re.compile(r"```xml\n(?P<body>.*?)```", re.S)
_HEADING = re.compile(r"^## (?P<heading>.*?)\s*$", re.M)


def read_pages(spec_dir: Path) -> dict[str, str]:
    """File name -> text of every page, sorted by file name."""
    paths = sorted(spec_dir.glob("*.md"))
    if not paths:
        raise FileNotFoundError(f"no WS-Scan pages (*.md) in {spec_dir}")
    return {path.name: path.read_text(encoding="utf-8") for path in paths}


def _sections(text: str) -> Iterator[tuple[str, str]]:
    """(heading, body) of each ``## `` section; the text before the first is ``""``."""
    start, heading = 0, ""
    for match in _HEADING.finditer(text):
        yield heading, text[start : match.start()]
        start, heading = match.end(), match.group("heading")
    yield heading, text[start:]


def _section(text: str, heading: str) -> str:
    """The body of the first section whose heading matches the pattern ``heading``."""
    return next(
        (body for name, body in _sections(text) if re.fullmatch(heading, name)), ""
    )


def _links(section: str) -> list[str]:
    return [m.group("href") for m in _LINK.finditer(section)]


def _title(text: str) -> str:
    return next((line for line in text.splitlines() if line.startswith("# ")), "")


def _element_name(title: str) -> str | None:
    # "# ScannerName element", "# JobHistory element (optional)",
    # "# Name Element for DeviceCondition ...", "# Name for RequestedElements element"
    match = re.match(r"# (?P<name>[A-Za-z]+)(?: Element| element| for )", title)
    return match.group("name") if match else None


def element_records(pages: Mapping[str, str]) -> list[dict[str, Any]]:
    """One record per page that documents an element (a name in its title and a child
    or parent table), sorted by file name."""
    records = []
    for page, text in sorted(pages.items()):
        name = _element_name(_title(text))
        if (
            name is None
            or "## Child elements" not in text
            and "## Parent elements" not in text
        ):
            continue
        attributes = [
            m.group("name")
            for line in _section(text, "Attributes").splitlines()
            if (m := _ATTRIBUTE_ROW.match(line.strip()))
        ]
        records.append(
            {
                "page": page,
                "element": name,
                "attributes": attributes,
                "child_pages": _links(_section(text, "Child elements")),
                "parent_pages": _links(_section(text, "Parent elements")),
            }
        )
    return records


def example_records(pages: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every XML block outside a Usage section (those only show an element's shape):
    page, section heading (``""`` before the first), index within the section, text."""
    records = []
    for page, text in sorted(pages.items()):
        for heading, body in _sections(text):
            if heading == "Usage":
                continue
            for index, match in enumerate(_XML_BLOCK.finditer(body)):
                records.append(
                    {
                        "page": page,
                        "section": heading,
                        "index": index,
                        "xml": match.group("body"),
                    }
                )
    return records


# --- faults ------------------------------------------------------------------------------

COMMON_PAGE = "common-wsd-scan-service-operation-error-codes.md"

_ROW = re.compile(
    r"^\s*\|\s*\\?\[(Code|Subcode|Reason|Detail)\\?\]\s*\|\s*(.*?)\s*\|\s*$"
)
_PAGE_QNAME = re.compile(r"^([A-Za-z]+):([A-Za-z]+)$")
_LISTED = re.compile(r"^\s*- \*\*(?:[A-Za-z]+:)?(?P<name>[A-Za-z]+)\*\*", re.M)
_SCAN_ERROR_NAME = re.compile(r"\b((?:Client|Server)Error[A-Z][A-Za-z]+)")
_OPERATION_TITLE = re.compile(r"# (?P<operation>[A-Za-z]+)Request [Ee]lement")
_RETURNS_COMMON = re.compile(
    r"can return all of the \[\*\*common WSD Scan Service operation error codes\*\*\]"
    rf"\({re.escape(COMMON_PAGE)}\)"
)


@dataclass(frozen=True)
class FaultTable:
    """One fault table ([Code]/[Subcode]/[Reason]/[Detail] rows) on one page, with the
    values as the page writes them (escapes and entities resolved)."""

    page: str
    code: str  # "soap:Sender"
    subcode: str  # "wscn:ClientErrorJobIdNotFound"
    reason: str
    detail: str

    @property
    def local(self) -> str:
        return self.subcode.partition(":")[2]


def _unescape(cell: str) -> str:
    return html.unescape(cell.replace("\\[", "[").replace("\\]", "]")).strip()


def fault_tables(pages: Mapping[str, str]) -> list[FaultTable]:
    """Every fault table on every page, in page order."""
    found: list[FaultTable] = []
    for page, text in sorted(pages.items()):
        table: dict[str, str] = {}
        for line in [*text.splitlines(), ""]:
            row = _ROW.match(line)
            if row:
                table[row.group(1)] = _unescape(row.group(2))
                continue
            if table:
                # The error-reporting page defines the properties generically
                # ("The fault code."): only tables with a QName code are faults.
                if _PAGE_QNAME.match(table.get("Code", "")):
                    if not _PAGE_QNAME.match(table.get("Subcode", "")):
                        raise ValueError(f"{page}: subcode is not a QName: {table}")
                    found.append(
                        FaultTable(
                            page=page,
                            code=table["Code"],
                            subcode=table["Subcode"],
                            reason=table["Reason"],
                            detail=table.get("Detail", ""),
                        )
                    )
                table = {}
    return found


def operation_pages(pages: Mapping[str, str]) -> dict[str, str]:
    """Page -> operation name (``CreateScanJob``) for each operation request page."""
    found = {}
    for page, text in pages.items():
        match = _OPERATION_TITLE.fullmatch(_title(text).strip())
        if match and page.endswith("request.md"):
            found[page] = match.group("operation")
    return found


def listed_faults(text: str) -> set[str]:
    """Local names of the faults a page lists as bullets (``- **Name**``)."""
    return {m.group("name") for m in _LISTED.finditer(text)}


def mentioned_scan_fault_names(pages: Mapping[str, str]) -> dict[str, list[str]]:
    """ClientError*/ServerError* name -> the pages that use it anywhere in their text."""
    found: dict[str, set[str]] = {}
    for page, text in pages.items():
        for name in _SCAN_ERROR_NAME.findall(text):
            found.setdefault(name, set()).add(page)
    return {name: sorted(found[name]) for name in sorted(found)}


def _one(values: Iterable[str], what: str, subcode: str) -> str:
    distinct = sorted(set(values))
    if len(distinct) != 1:
        raise ValueError(f"{subcode}: the pages document different {what}: {distinct}")
    return distinct[0]


def fault_records(pages: Mapping[str, str]) -> list[dict[str, Any]]:
    """One record per documented subcode, sorted by subcode. Raises ValueError when two
    pages document one subcode (or one local name) differently."""
    tables = fault_tables(pages)
    by_subcode: dict[str, list[FaultTable]] = {}
    for table in tables:
        by_subcode.setdefault(table.subcode, []).append(table)
    locals_seen = [subcode.partition(":")[2] for subcode in by_subcode]
    if len(set(locals_seen)) != len(locals_seen):
        raise ValueError(f"one fault name under two prefixes: {sorted(by_subcode)}")
    common = {t.local for t in tables if t.page == COMMON_PAGE}
    operations: dict[str, set[str]] = {local: set() for local in locals_seen}
    for page, operation in operation_pages(pages).items():
        text = pages[page]
        listed = listed_faults(text) | {t.local for t in tables if t.page == page}
        if _RETURNS_COMMON.search(text):
            listed |= common
        for local in listed & operations.keys():
            operations[local].add(operation)
    records = []
    for subcode, group in sorted(by_subcode.items()):
        local = subcode.partition(":")[2]
        records.append(
            {
                "code": _one((t.code for t in group), "codes", subcode),
                "subcode": subcode,
                "reason": _one((t.reason for t in group), "reasons", subcode),
                "detail": _one((t.detail for t in group), "details", subcode),
                "operations": sorted(operations[local]),
                "pages": sorted({t.page for t in group}),
                "source": "pages",
            }
        )
    return records


def kept_records(path: Path) -> list[dict[str, Any]]:
    """The project's own rows of the fault table (``source`` other than "pages"), as
    they are written in ``path``: re-deriving keeps them."""
    if not path.is_file():
        return []
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    return [row for row in table.get("fault", []) if row.get("source") != "pages"]


def mention_records(pages: Mapping[str, str]) -> list[dict[str, Any]]:
    """The ClientError*/ServerError* names the pages use without a fault table."""
    tabled = {t.local for t in fault_tables(pages)}
    return [
        {"name": name, "pages": where}
        for name, where in mentioned_scan_fault_names(pages).items()
        if name not in tabled
    ]


# --- the files ---------------------------------------------------------------------------


def dump_json(data: Any) -> str:
    """The one JSON layout of the derived files: sorted keys, indent 2, UTF-8."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _toml_string(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes, \\uXXXX included).
    return json.dumps(value, ensure_ascii=False)


def _toml_array(values: Sequence[str]) -> str:
    if not values:
        return "[]"
    return "[\n" + "".join(f"    {_toml_string(v)},\n" for v in values) + "]"


_FAULTS_HEADER = f"""\
# The WS-Scan faults: one [[fault]] per subcode, first those the reference pages
# document (source = "pages", sorted by subcode), then those the project adds where
# the pages leave a gap (source = "wsdscan", each with a note saying why); then one
# [[mentioned]] per WS-Scan fault name that the pages use in their text without a fault
# table (no code or reason documented). wsdscan-codegen makes a class for every row in
# the scan namespace (the runtime defines the wsa: ones) and skips a documented row
# that a project row names in its aliases.
#
# The pages' rows are derived by tests/data/spec/derive.py from the WS-Scan element
# reference pages (shared/spec/ws-scan/*.md beside the checkout:
# MicrosoftDocs/windows-driver-docs, folder windows-driver-docs-pr/image, commit
# 825aa15f47, licensed CC BY 4.0): every "Fault property | Definition" table
# ([Code]/[Subcode]/[Reason]/[Detail] rows), and the operation request pages that list
# the faults. Do not edit them by hand; re-derive (the project's rows are kept):
#     {REDERIVE}
# tests/test_spec_data.py checks this file against the pages where they are present.
#
# [[fault]] fields:
#   code        the [Code] row (soap:Sender, soap:Receiver)
#   subcode     the [Subcode] row, with the page's prefix
#   reason      the [Reason] row (the English reason text)
#   detail      the [Detail] row (Markdown emphasis kept, e.g. "*None*")
#   operations  the operations whose request page lists the fault (as a bullet or a
#               table), or says it can return all of the common error codes when
#               the fault is one of them; sorted
#   pages       the pages that have the fault's table (or name it); sorted
#   source      "pages" (documented) or "wsdscan" (the project's addition)
#   aliases     (project rows) documented subcodes read as this fault on receipt
#   note        (project rows) why the row is there
# [prefixes] are those of the pages (they show the scan namespace as 2006/01; devices
# use 2006/08, which is the one listed).
"""

PREFIXES = {
    "soap": "http://www.w3.org/2003/05/soap-envelope",
    "wprt": "http://schemas.microsoft.com/windows/2006/08/wdp/print",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "wscn": "http://schemas.microsoft.com/windows/2006/08/wdp/scan",
}


def render_faults(
    faults: Sequence[Mapping[str, Any]], mentioned: Sequence[Mapping[str, Any]]
) -> str:
    parts = [_FAULTS_HEADER, "\n[prefixes]\n"]
    parts += [f"{prefix} = {_toml_string(uri)}\n" for prefix, uri in PREFIXES.items()]
    for fault in faults:
        parts.append(
            "\n[[fault]]\n"
            f"code = {_toml_string(fault['code'])}\n"
            f"subcode = {_toml_string(fault['subcode'])}\n"
            f"reason = {_toml_string(fault['reason'])}\n"
            f"detail = {_toml_string(fault['detail'])}\n"
            f"operations = {_toml_array(fault['operations'])}\n"
            f"pages = {_toml_array(fault['pages'])}\n"
            f"source = {_toml_string(fault['source'])}\n"
        )
        if "aliases" in fault:
            parts.append(f"aliases = {_toml_array(fault['aliases'])}\n")
        if "note" in fault:
            parts.append(f"note = {_toml_string(fault['note'])}\n")
    for mention in mentioned:
        parts.append(
            "\n[[mentioned]]\n"
            f"name = {_toml_string(mention['name'])}\n"
            f"pages = {_toml_array(mention['pages'])}\n"
        )
    return "".join(parts)


def derive(spec_dir: Path) -> dict[str, str]:
    """Path relative to the checkout -> the text of each derived file."""
    pages = read_pages(spec_dir)
    return {
        ELEMENTS: dump_json(
            {"source": SOURCE, "rederive": REDERIVE, "pages": element_records(pages)}
        ),
        EXAMPLES: dump_json(
            {"source": SOURCE, "rederive": REDERIVE, "examples": example_records(pages)}
        ),
        FAULTS: render_faults(
            fault_records(pages) + kept_records(ROOT / FAULTS), mention_records(pages)
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec_dir", type=Path, help="the folder of the WS-Scan pages")
    parser.add_argument(
        "--check", action="store_true", help="compare only; exit 1 on a difference"
    )
    args = parser.parse_args(argv)
    stale = []
    for relative, text in derive(args.spec_dir).items():
        target = ROOT / relative
        data = text.encode("utf-8")
        if target.exists() and target.read_bytes() == data:
            continue
        stale.append(relative)
        if not args.check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    for relative in stale:
        print(f"{'differs' if args.check else 'wrote'}: {relative}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
