"""Stage 2b, faults: the schema's fault table (``faults.toml``) read into the IR.

The table lists every fault the WS-Scan pages document (``source = "pages"``) and the
ones the project adds where the pages leave a gap (``source = "wsdscan"``, with a
``note`` saying why; ``aliases`` name documented subcodes a row is sent instead of).
The generator makes a class for each row in the service's namespace; the rows of other
namespaces (``wsa:``) are protocol faults the runtime defines itself. A schema folder
without the table gives no WS-Scan fault classes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import CodegenError
from .ir import FaultInfo

TABLE = "faults.toml"
SOURCES = frozenset({"pages", "wsdscan"})
_REQUIRED = ("code", "subcode", "reason", "detail", "operations", "pages", "source")
_OPTIONAL = ("note", "aliases")


def _clark(text: str, prefixes: Mapping[str, str], where: str) -> str:
    prefix, colon, local = text.partition(":")
    if not colon or prefix not in prefixes or not local.isidentifier():
        raise CodegenError(f"{where}: {text!r} is not a QName with a known prefix")
    return f"{{{prefixes[prefix]}}}{local}"


def _row(index: int, row: Mapping[str, Any], prefixes: Mapping[str, str]) -> FaultInfo:
    where = f"{TABLE}: fault {index + 1}"
    missing = [key for key in _REQUIRED if key not in row]
    unknown = sorted(set(row) - {*_REQUIRED, *_OPTIONAL})
    if missing or unknown:
        raise CodegenError(f"{where}: missing {missing}, unknown {unknown}")
    if row["source"] not in SOURCES:
        raise CodegenError(
            f"{where}: source {row['source']!r} not in {sorted(SOURCES)}"
        )
    if row["source"] != "pages" and not row.get("note"):
        raise CodegenError(f"{where}: a row of source {row['source']!r} needs a note")
    subcode = _clark(row["subcode"], prefixes, where)
    return FaultInfo(
        code=_clark(row["code"], prefixes, where),
        subcode=subcode,
        reason=row["reason"],
        detail=row["detail"],
        operations=tuple(row["operations"]),
        pages=tuple(row["pages"]),
        source=row["source"],
        note=row.get("note", ""),
        aliases=tuple(_clark(a, prefixes, where) for a in row.get("aliases", ())),
    )


def read_fault_table(schema_dir: Path, namespace: str) -> tuple[FaultInfo, ...]:
    """The fault classes to generate for the service ``namespace``, sorted by name."""
    path = schema_dir / TABLE
    if not path.is_file():
        return ()
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CodegenError(f"{TABLE}: {exc}") from exc
    prefixes = table.get("prefixes", {})
    rows = [_row(i, row, prefixes) for i, row in enumerate(table.get("fault", []))]
    superseded = {alias for row in rows for alias in row.aliases}
    faults: dict[str, FaultInfo] = {}
    for row in rows:
        if row.subcode in superseded or not row.subcode.startswith(f"{{{namespace}}}"):
            continue
        if row.name in faults:
            raise CodegenError(f"{TABLE}: two rows for {row.name}")
        faults[row.name] = row
    return tuple(faults[name] for name in sorted(faults))
