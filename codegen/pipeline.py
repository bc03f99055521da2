"""The generator as a pipeline of named stages: load -> model (dataclasses, service,
fault table) -> render -> write."""

from __future__ import annotations

from pathlib import Path

from .class_index import build_class_index
from .dataclasses_stage import generate_dataclass_modules
from .errors import CodegenError
from .faults_table import read_fault_table
from .load import load
from .locations import installed_generated, protected_dir, shipped_schema
from .render import render
from .service_model import build_service_model
from .write import TreeDiff, compare, write
from .wsdl_checks import check_wsdl

# The shipped schema, and generated/ beside codegen/: in a checkout the tree to keep up
# to date, once installed the read-only wsdscan.generated (``generate`` refuses it).
DEFAULT_SCHEMA = shipped_schema()
DEFAULT_OUT = installed_generated()


def build(schema_dir: Path = DEFAULT_SCHEMA) -> dict[str, str]:
    """Run load, model and render; return the tree ``generated/`` should hold."""
    sources = load(schema_dir)
    check_wsdl(sources.wsdl_documents)  # before xsdata's few seconds: fail fast
    modules = generate_dataclass_modules(sources.xsd_files, sources.modules)
    index = build_class_index(modules)
    service = build_service_model(sources.wsdl_documents, index)
    faults = read_fault_table(schema_dir, service.namespace)
    return render(service, modules, faults)


def generate(
    schema_dir: Path = DEFAULT_SCHEMA, out_dir: Path = DEFAULT_OUT
) -> TreeDiff:
    """Regenerate ``out_dir`` from ``schema_dir``; return what changed.

    Refuses an ``out_dir`` among the installed packages before reading the schema."""
    folder = protected_dir(out_dir)
    if folder is not None:
        raise CodegenError(
            f"refusing to write into installed packages ({folder}): {out_dir}"
        )
    return write(build(schema_dir), out_dir)


def check(schema_dir: Path = DEFAULT_SCHEMA, out_dir: Path = DEFAULT_OUT) -> TreeDiff:
    """Compare ``out_dir`` with a fresh run without writing anything."""
    return compare(build(schema_dir), out_dir)
