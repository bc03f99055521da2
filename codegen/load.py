"""Stage 1, load: find the schema files and parse the WSDL with a hardened parser.

Inputs are named by folder and suffix (``*.xsd`` and ``*.wsdl``), never guessed from
content, so a WSDL is never mistaken for an XML sample (tefra/xsdata#1029).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from lxml import etree

from .errors import CodegenError

_XS_NAMESPACE = "http://www.w3.org/2001/XMLSchema"


@dataclass(frozen=True)
class WsdlDocument:
    """A parsed WSDL and the name errors call it by (relative to the schema folder)."""

    name: str
    tree: etree._ElementTree

    def at(self, element: etree._Element) -> str:
        """``wsdl/scan.wsdl:42``: where an element of this document starts."""
        return f"{self.name}:{element.sourceline}"


@dataclass(frozen=True)
class SchemaSources:
    """The schema tree the generator reads, in a stable order."""

    root: Path
    xsd_files: tuple[Path, ...]  # entry schemas (not xs:included by another file)
    wsdl_files: tuple[Path, ...]
    wsdl_documents: tuple[WsdlDocument, ...]
    # Target namespace -> module name under generated/models (schema/codegen.toml).
    modules: dict[str, str]


def _strings(result: object) -> list[str]:
    """An attribute XPath's result as strings (lxml types it as any XPath result)."""
    return [str(item) for item in result] if isinstance(result, list) else []


def _relative(root: Path, filename: str | None, default: Path) -> str:
    where = Path(filename.removeprefix("file://")) if filename else default
    try:
        return where.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(where)


def _located(root: Path, path: Path, error: etree.LxmlError) -> str:
    """``scan/job.xsd:42: message`` for an lxml error (its file may be one that ``path``
    includes), else ``path`` and the exception; always one line."""
    if isinstance(error, etree.XMLSyntaxError):
        # Its own position: the error log it carries can hold earlier parses' entries.
        name = _relative(root, error.filename, path)
        return f"{name}:{error.lineno}: {' '.join(str(error.msg).split())}"
    # lxml-stubs declare the error log opaque; it iterates over _LogEntry objects.
    for entry in cast("Iterable[Any]", error.error_log):
        message = " ".join(str(entry.message).split())
        return f"{_relative(root, entry.filename, path)}:{entry.line}: {message}"
    return f"{path.relative_to(root).as_posix()}: {' '.join(str(error).split())}"


def _hardened_parser() -> etree.XMLParser:
    # The schema is ours, but the generator must never fetch or expand anything.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )


def load(schema_dir: Path) -> SchemaSources:
    """Collect the XSD and WSDL files below ``schema_dir`` and validate that they load."""
    root = schema_dir.resolve()
    if not root.is_dir():
        raise CodegenError(f"schema directory not found: {schema_dir}")
    xsd_files = tuple(sorted(root.rglob("*.xsd")))
    wsdl_files = tuple(sorted(root.rglob("*.wsdl")))
    if not xsd_files:
        raise CodegenError(f"no *.xsd files below {schema_dir}")
    if not wsdl_files:
        raise CodegenError(f"no *.wsdl files below {schema_dir}")

    parser = _hardened_parser()
    trees = {}
    for path in xsd_files:
        try:
            trees[path] = etree.parse(str(path), parser)
        except etree.XMLSyntaxError as exc:
            located = _located(root, path, exc)
            raise CodegenError(f"{located} (not well-formed XML)") from exc
    # Section files are xs:included by an entry schema and only valid as part of it.
    included = {
        (path.parent / location).resolve()
        for path, tree in trees.items()
        for location in _strings(
            tree.xpath("//xs:include/@schemaLocation", namespaces={"xs": _XS_NAMESPACE})
        )
    }
    entries = tuple(path for path in xsd_files if path not in included)
    for path in entries:
        try:
            etree.XMLSchema(trees[path])
        except etree.XMLSchemaParseError as exc:
            located = _located(root, path, exc)
            raise CodegenError(f"{located} (not a valid XML Schema)") from exc

    documents = []
    for path in wsdl_files:
        try:
            tree = etree.parse(str(path), parser)
        except etree.XMLSyntaxError as exc:
            located = _located(root, path, exc)
            raise CodegenError(f"{located} (not well-formed XML)") from exc
        documents.append(WsdlDocument(path.relative_to(root).as_posix(), tree))
    modules = _modules(root, xsd_files, trees)
    return SchemaSources(root, entries, wsdl_files, tuple(documents), modules)


def _modules(
    root: Path, xsd_files: tuple[Path, ...], trees: dict[Path, etree._ElementTree]
) -> dict[str, str]:
    config_path = root / "codegen.toml"
    if not config_path.is_file():
        raise CodegenError(f"{config_path} is missing (it maps namespaces to modules)")
    try:
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CodegenError(f"codegen.toml: not valid TOML: {exc}") from exc
    modules = config.get("modules", {})
    bad = [name for name in modules.values() if not str(name).isidentifier()]
    if bad:
        raise CodegenError(f"codegen.toml: module names must be identifiers: {bad}")
    for path in xsd_files:
        namespace = trees[path].getroot().get("targetNamespace")
        if namespace and namespace not in modules:
            rel = path.relative_to(root)
            raise CodegenError(
                f"{rel}: namespace {namespace} has no module in codegen.toml [modules]"
            )
    return dict(sorted(modules.items()))
