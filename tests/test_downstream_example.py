"""examples/downstream, a project that extends the schema and generates its own bindings:
its committed bindings are what the generator makes, its own tests pass, and the whole
flow works from scratch without touching the installed wsdscan package.

Everything goes through ``python -m wsdscan.codegen``: CI runs this suite against the
installed wheel, with the source tree's own folders off sys.path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import wsdscan.generated
from wsdscan.codegen.pipeline import DEFAULT_SCHEMA

import wsdscan

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "downstream"
# -P: never the current folder on sys.path (a source tree there would shadow wsdscan).
CLI = [sys.executable, "-P", "-m", "wsdscan.codegen"]


def _codegen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        CLI + [str(a) for a in args], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _listing(*roots: Path) -> dict[str, tuple[int, int]]:
    """Every file below ``roots`` with its size and mtime, so any write shows up;
    bytecode caches aside (an import may write them)."""
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for root in roots
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_committed_bindings_match_a_fresh_generation(tmp_path: Path) -> None:
    out = tmp_path / "bindings"
    _codegen("generate", "--schema", EXAMPLE / "schema", "--out", out)
    committed = _files(EXAMPLE / "acme_scan" / "bindings")
    assert "models/acme.py" in committed
    assert _files(out) == committed, (
        "examples/downstream/acme_scan/bindings is stale; in examples/downstream run "
        "wsdscan-codegen generate --schema schema --out acme_scan/bindings"
    )
    # The example's CI command agrees, and says so with exit 0.
    _codegen(
        "check",
        "--schema",
        EXAMPLE / "schema",
        "--out",
        EXAMPLE / "acme_scan" / "bindings",
    )


def test_the_examples_own_tests_pass() -> None:
    # In place, leaving no caches behind: no bytecode, no pytest cache.
    environment = dict(os.environ, PYTHONPATH=str(EXAMPLE), PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=EXAMPLE,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout


VENDOR_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           targetNamespace="http://vendor.example/scan"
           elementFormDefault="qualified">
  <xs:element name="FeederWear">
    <xs:complexType><xs:sequence>
      <xs:element name="Sheets" type="xs:unsignedInt"/>
    </xs:sequence></xs:complexType>
  </xs:element>
</xs:schema>
"""

IMPORT_PROBE = """
import sys
from vendor_scan import ScannerServiceClient
from vendor_scan.models.vendor import FeederWear
from wsdscan.runtime import xmlbind

wear = FeederWear(sheets=7)
data = xmlbind.to_string(wear, {"v": "http://vendor.example/scan"}).encode()
assert xmlbind.parse(data, FeederWear) == wear, data
assert hasattr(ScannerServiceClient, "retrieve_image")
assert not any(m.startswith("wsdscan.generated") for m in sys.modules)
print("ok")
"""


def test_flow_from_scratch_leaves_the_installed_package_alone(tmp_path: Path) -> None:
    # The installed package; from a checkout also its generated/ and schema/ folders.
    installed = {
        Path(wsdscan.__file__).resolve().parent,
        Path(wsdscan.generated.__file__).resolve().parent,
        DEFAULT_SCHEMA.resolve(),
    }
    before = _listing(*installed)

    schema = tmp_path / "schema"
    _codegen("export-schema", schema)
    (schema / "vendor").mkdir()
    (schema / "vendor" / "wear.xsd").write_text(VENDOR_XSD)
    with (schema / "codegen.toml").open("a") as config:
        config.write('"http://vendor.example/scan" = "vendor"\n')
    out = tmp_path / "src" / "vendor_scan"
    _codegen("generate", "--schema", schema, "--out", out)
    _codegen("check", "--schema", schema, "--out", out)

    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(tmp_path / "src")),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok"
    assert _listing(*installed) == before
