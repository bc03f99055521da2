"""The project's test data against the reference it was made from.

``tests/data/spec/*.json`` and ``schema/faults.toml`` are derived from the WS-Scan
pages by ``tests/data/spec/derive.py``; ``tests/data/corpus`` holds byte-for-byte copies
from the shared corpus. Where the pages ($WSDSCAN_SPEC_DIR, else
``../shared/spec/ws-scan``) or the corpus ($WSDSCAN_CORPUS_DIR, else ``../shared/corpus``)
are present, the data must equal what they give. Where they are absent (a plain clone)
those tests skip, also under WSDSCAN_REQUIRE_INTEROP=1: the reference is documentation,
not a program the tests drive. The layout, provenance and derive-logic tests need no
reference and always run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from project_data import (
    CORPUS_DIR,
    CORPUS_DIR_VARIABLE,
    DATA_DIR,
    DERIVE_SCRIPT,
    FAULTS_TOML,
    PROVENANCE,
    ROOT,
    SPEC_DATA_DIR,
    SPEC_DIR_VARIABLE,
    corpus_reference_dir,
    derive_module,
    spec_reference_dir,
)
from test_faults import mentioned_scan_fault_names
from ws_scan_names import OPERATIONS

SPEC_SKIP = "WS-Scan spec pages not found (set WSDSCAN_SPEC_DIR)"
CORPUS_SKIP = "shared corpus not found (set WSDSCAN_CORPUS_DIR)"
COMMIT = re.compile(r"\b[0-9a-f]{40}\b")


@pytest.fixture(scope="module")
def derive() -> ModuleType:
    return derive_module()


def _reference(found: Path | None, variable: str, reason: str) -> Path:
    if found is None:
        pytest.skip(reason)
    if not found.is_dir():
        pytest.fail(f"{variable}={found} is not a directory", pytrace=False)
    return found


@pytest.fixture(scope="module")
def spec_dir() -> Path:
    return _reference(spec_reference_dir(), SPEC_DIR_VARIABLE, SPEC_SKIP)


@pytest.fixture(scope="module")
def corpus_dir() -> Path:
    return _reference(corpus_reference_dir(), CORPUS_DIR_VARIABLE, CORPUS_SKIP)


@pytest.fixture(scope="module")
def pages(spec_dir: Path, derive: ModuleType) -> dict[str, str]:
    found: dict[str, str] = derive.read_pages(spec_dir)
    return found


# --- against the pages -------------------------------------------------------------------


def test_derived_files_equal_what_the_pages_give(
    spec_dir: Path, derive: ModuleType
) -> None:
    files: dict[str, str] = derive.derive(spec_dir)
    assert set(files) == {
        "tests/data/spec/elements.json",
        "tests/data/spec/examples.json",
        "schema/faults.toml",
    }
    for relative, text in files.items():
        committed = (ROOT / relative).read_bytes()
        assert committed == text.encode("utf-8"), (
            f"{relative} differs from the pages: "
            f"python tests/data/spec/derive.py {spec_dir}"
        )


def test_derive_script_check_mode(spec_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(DERIVE_SCRIPT), str(spec_dir), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_fault_tables_are_found_on_every_page_that_has_one(
    pages: dict[str, str], derive: ModuleType
) -> None:
    table_pages = {table.page for table in derive.fault_tables(pages)}
    pages_with_tables = {
        page
        for page, text in pages.items()
        if re.search(r"\|\s*\\?\[Subcode\\?\]\s*\|\s*\w+:\w+", text)
    }
    assert table_pages == pages_with_tables
    assert {
        "common-wsd-scan-service-operation-error-codes.md",
        "createscanjobrequest.md",
        "retrieveimagerequest.md",
    } <= table_pages


def test_same_subcode_is_documented_consistently_across_pages(
    pages: dict[str, str], derive: ModuleType
) -> None:
    tables = derive.fault_tables(pages)
    by_local: dict[str, Any] = {}
    for table in tables:
        first = by_local.setdefault(table.local, table)
        assert (table.code, table.reason, table.detail) == (
            first.code,
            first.reason,
            first.detail,
        ), table
    assert len(by_local) < len(tables)  # some faults are documented on two pages


def test_operation_pages_are_the_eight_operations(
    pages: dict[str, str], derive: ModuleType
) -> None:
    assert sorted(derive.operation_pages(pages).values()) == sorted(OPERATIONS)


def test_fault_names_are_every_name_the_pages_use(pages: dict[str, str]) -> None:
    names = set()
    for text in pages.values():
        names.update(re.findall(r"\b((?:Client|Server)Error[A-Z][A-Za-z]+)", text))
    assert names and mentioned_scan_fault_names() == names


# --- against the shared corpus -----------------------------------------------------------


def _copied_files() -> list[Path]:
    """Every file under tests/data/corpus except the added PROVENANCE.md files."""
    return sorted(
        path
        for path in CORPUS_DIR.rglob("*")
        if path.is_file() and path.relative_to(CORPUS_DIR).parts[1:] != (PROVENANCE,)
    )


def test_corpus_copies_are_byte_identical(corpus_dir: Path) -> None:
    copied = _copied_files()
    assert len(copied) >= 150
    for path in copied:
        original = corpus_dir / path.relative_to(CORPUS_DIR)
        assert original.is_file(), f"{path} has no original {original}"
        assert path.read_bytes() == original.read_bytes(), f"{path} differs"


# --- without a reference -----------------------------------------------------------------


def test_every_corpus_folder_has_its_provenance() -> None:
    assert not [path for path in CORPUS_DIR.iterdir() if path.is_file()]
    folders = sorted(path for path in CORPUS_DIR.iterdir() if path.is_dir())
    assert len(folders) >= 4
    index = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    for folder in folders:
        provenance = folder / PROVENANCE
        assert provenance.is_file(), f"{folder.name} has no {PROVENANCE}"
        text = provenance.read_text(encoding="utf-8")
        assert f"shared/corpus/{folder.name}/" in text, provenance
        assert "byte for byte" in text, provenance
        assert f"`{folder.name}/`" in index, f"tests/data/README.md lacks {folder.name}"
        source = folder / "SOURCE.md"
        if source.is_file():  # an upstream repository: its commit, as SOURCE.md says
            commits = set(COMMIT.findall(text))
            assert commits, f"{provenance} names no upstream commit"
            assert commits <= set(COMMIT.findall(source.read_text(encoding="utf-8")))
        else:
            assert (folder / "README.md").is_file(), f"{folder.name}: no own note"


def test_capture_line_ends_survived() -> None:
    """CRLF captures stay CRLF (``.gitattributes``: ``tests/data/** -text``)."""
    captures = sorted(CORPUS_DIR.rglob("*.response.http"))
    assert captures
    assert all(b"\r\n\r\n" in path.read_bytes() for path in captures)
    attributes = (ROOT / ".gitattributes").read_text(encoding="utf-8").splitlines()
    assert "tests/data/** -text" in attributes


def test_derived_files_keep_their_layout(derive: ModuleType) -> None:
    """Sorted, pretty-printed, stable: loading and writing again gives the same bytes
    (a hand edit that breaks the layout fails here, also without the pages)."""
    for name, key in (("elements.json", "pages"), ("examples.json", "examples")):
        text = (SPEC_DATA_DIR / name).read_text(encoding="utf-8")
        data = json.loads(text)
        assert derive.dump_json(data) == text, name
        records = data[key]
        assert records and all(record["page"].endswith(".md") for record in records)
        assert [r["page"] for r in records] == sorted(r["page"] for r in records)
    text = FAULTS_TOML.read_text(encoding="utf-8")
    table = tomllib.loads(text)
    assert derive.render_faults(table["fault"], table.get("mentioned", [])) == text


# --- the derive logic, on pages made here -------------------------------------------------

_ELEMENT_PAGE = """\
# Widget element

## Usage

```xml
<wscn:Widget/>
```

## Attributes

| Attribute | Type |
|--|--|
| **MustHonor** | xs:string |

## Child elements

| Element |
|--|
| [**Knob**](knob.md) |

## Parent elements

| Element |
|--|
| [**Panel**](panel.md) |

## Examples

```xml
<wscn:Widget><wscn:Knob>1</wscn:Knob></wscn:Widget>
```
"""

_OPERATION_PAGE = """\
# TurnKnobRequest element

This operation can return all of the [**common WSD Scan Service operation error \
codes**](common-wsd-scan-service-operation-error-codes.md).

- **ClientErrorKnobStuck** The knob does not turn.

    | Fault property | Definition |
    |--|--|
    | \\[Code\\] | soap:Sender |
    | \\[Subcode\\] | wscn:ClientErrorKnobStuck |
    | \\[Reason\\] | The knob is &lt;stuck&gt;. |
    | \\[Detail\\] | None |
"""

_COMMON_PAGE = """\
# Common WSD Scan Service operation error codes

- **InvalidArgs**

    | Fault property | Definition |
    |--|--|
    | \\[Code\\] | soap:Sender |
    | \\[Subcode\\] | wscn:InvalidArgs |
    | \\[Reason\\] | At least one input argument is invalid. |
    | \\[Detail\\] | *None* |

A ServerErrorKnobMissing is named here without a table.
"""


def _made_pages() -> dict[str, str]:
    return {
        "widget.md": _ELEMENT_PAGE,
        "turnknobrequest.md": _OPERATION_PAGE,
        "common-wsd-scan-service-operation-error-codes.md": _COMMON_PAGE,
    }


def test_derive_reads_an_element_page(derive: ModuleType) -> None:
    (record,) = derive.element_records(_made_pages())
    assert record == {
        "page": "widget.md",
        "element": "Widget",
        "attributes": ["MustHonor"],
        "child_pages": ["knob.md"],
        "parent_pages": ["panel.md"],
    }
    (example,) = derive.example_records(_made_pages())  # the Usage block is left out
    assert example == {
        "page": "widget.md",
        "section": "Examples",
        "index": 0,
        "xml": "<wscn:Widget><wscn:Knob>1</wscn:Knob></wscn:Widget>\n",
    }


def test_derive_builds_the_fault_table(derive: ModuleType, tmp_path: Path) -> None:
    faults = derive.fault_records(_made_pages())
    assert faults == [
        {
            "code": "soap:Sender",
            "subcode": "wscn:ClientErrorKnobStuck",
            "reason": "The knob is <stuck>.",
            "detail": "None",
            "operations": ["TurnKnob"],
            "pages": ["turnknobrequest.md"],
            "source": "pages",
        },
        {
            "code": "soap:Sender",
            "subcode": "wscn:InvalidArgs",
            "reason": "At least one input argument is invalid.",
            "detail": "*None*",
            "operations": ["TurnKnob"],
            "pages": ["common-wsd-scan-service-operation-error-codes.md"],
            "source": "pages",
        },
    ]
    mentioned = derive.mention_records(_made_pages())
    assert mentioned == [
        {
            "name": "ServerErrorKnobMissing",
            "pages": ["common-wsd-scan-service-operation-error-codes.md"],
        }
    ]
    text = derive.render_faults(faults, mentioned)
    assert tomllib.loads(text) == {
        "prefixes": derive.PREFIXES,
        "fault": faults,
        "mentioned": mentioned,
    }

    # Re-deriving keeps the project's own rows (source "wsdscan") after the pages'.
    kept = derive.kept_records(derive.ROOT / derive.FAULTS)
    assert kept and all(row["source"] == "wsdscan" and row["note"] for row in kept)
    for name, page in _made_pages().items():
        (tmp_path / name).write_text(page, encoding="utf-8")
    files = derive.derive(tmp_path)
    assert files["schema/faults.toml"] == derive.render_faults(faults + kept, mentioned)


def test_derive_refuses_pages_that_disagree(derive: ModuleType) -> None:
    pages = _made_pages()
    pages["otherrequest.md"] = _OPERATION_PAGE.replace("TurnKnob", "Other").replace(
        "&lt;stuck&gt;", "jammed"
    )
    with pytest.raises(ValueError, match="different reasons"):
        derive.fault_records(pages)


def test_derive_needs_pages(derive: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        derive.derive(tmp_path)
