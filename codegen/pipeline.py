"""The generator as a pipeline of named stages: load -> model -> render -> write."""

from __future__ import annotations

from pathlib import Path

from .class_index import build_class_index
from .dataclasses_stage import generate_dataclass_modules
from .load import load
from .render import render
from .service_model import build_service_model
from .write import TreeDiff, compare, write

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA = REPO_ROOT / "schema"
DEFAULT_OUT = REPO_ROOT / "generated"


def build(schema_dir: Path = DEFAULT_SCHEMA) -> dict[str, str]:
    """Run load, model and render; return the tree ``generated/`` should hold."""
    sources = load(schema_dir)
    modules = generate_dataclass_modules(sources.xsd_files, sources.modules)
    index = build_class_index(modules)
    service = build_service_model(sources.wsdl_documents, index)
    return render(service, modules)


def generate(
    schema_dir: Path = DEFAULT_SCHEMA, out_dir: Path = DEFAULT_OUT
) -> TreeDiff:
    """Regenerate ``out_dir`` from ``schema_dir``; return what changed."""
    return write(build(schema_dir), out_dir)


def check(schema_dir: Path = DEFAULT_SCHEMA, out_dir: Path = DEFAULT_OUT) -> TreeDiff:
    """Compare ``out_dir`` with a fresh run without writing anything."""
    return compare(build(schema_dir), out_dir)
