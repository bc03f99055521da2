"""Stage 2b, model (index): read the xsdata modules back as syntax trees.

The stub templates need to know which class binds which element, where it lives, and its
fields (for typed keyword arguments). Reading the source with ``ast`` keeps the generator
from importing code it has just written.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .ir import ClassInfo, FieldInfo, ImportRef


@dataclass(frozen=True)
class ClassIndex:
    """All top-level generated classes, by name and by element QName."""

    by_name: dict[str, ClassInfo]
    by_element: dict[tuple[str | None, str], ClassInfo]
    # Non-generated names the modules import (QName, XmlDateTime, Decimal, ...).
    foreign_imports: dict[str, ImportRef]

    def import_for(self, name: str) -> ImportRef | None:
        """Where a name used in an annotation comes from, seen from generated/."""
        if name in self.by_name:
            info = self.by_name[name]
            return ImportRef(info.import_module, name)
        return self.foreign_imports.get(name)


def _module_dotted(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def _string_constant(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _meta(cls: ast.ClassDef) -> dict[str, str]:
    for item in cls.body:
        if isinstance(item, ast.ClassDef) and item.name == "Meta":
            values = {}
            for stmt in item.body:
                if isinstance(stmt, ast.Assign) and isinstance(
                    stmt.targets[0], ast.Name
                ):
                    value = _string_constant(stmt.value)
                    if value is not None:
                        values[stmt.targets[0].id] = value
            return values
    return {}


def _has_default(value: ast.expr | None) -> bool:
    if value is None:
        return False
    if isinstance(value, ast.Call):  # field(...): a default unless it has neither kind
        keywords = {kw.arg for kw in value.keywords}
        return bool(keywords & {"default", "default_factory"})
    return True


def _names_in(annotation: ast.expr) -> tuple[str, ...]:
    names = set()
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name) and node.id != "None":
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # A string annotation (forward reference): index the names inside it.
            names.update(_names_in(ast.parse(node.value, mode="eval").body))
    builtins = {
        "list",
        "dict",
        "str",
        "int",
        "bool",
        "float",
        "bytes",
        "object",
        "tuple",
    }
    return tuple(sorted(names - builtins))


def _xml_name(value: ast.expr | None, default: str) -> str:
    """The ``metadata={"name": ...}`` of a ``field(...)``, else the Python name."""
    if isinstance(value, ast.Call):
        for keyword in value.keywords:
            if keyword.arg == "metadata" and isinstance(keyword.value, ast.Dict):
                for key, item in zip(
                    keyword.value.keys, keyword.value.values, strict=True
                ):
                    if key is not None and _string_constant(key) == "name":
                        return _string_constant(item) or default
    return default


def _fields(cls: ast.ClassDef) -> tuple[FieldInfo, ...]:
    fields = []
    for stmt in cls.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            fields.append(
                FieldInfo(
                    name=stmt.target.id,
                    xml_name=_xml_name(stmt.value, stmt.target.id),
                    annotation=ast.unparse(stmt.annotation),
                    required=not _has_default(stmt.value),
                    referenced_names=_names_in(stmt.annotation),
                )
            )
    return tuple(fields)


def build_class_index(modules: dict[str, str]) -> ClassIndex:
    """Index every top-level class of the xsdata output."""
    by_name: dict[str, ClassInfo] = {}
    by_element: dict[tuple[str | None, str], ClassInfo] = {}
    foreign: dict[str, ImportRef] = {}
    for path in sorted(modules):
        if path.endswith("__init__.py"):
            continue
        tree = ast.parse(modules[path])
        module_namespace = None
        for stmt in tree.body:
            if (
                isinstance(stmt, ast.Assign)
                and isinstance(stmt.targets[0], ast.Name)
                and stmt.targets[0].id == "__NAMESPACE__"
            ):
                module_namespace = _string_constant(stmt.value)
            elif isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module:
                for alias in stmt.names:
                    if stmt.module not in {"__future__", "dataclasses", "enum"}:
                        foreign[alias.asname or alias.name] = ImportRef(
                            stmt.module, alias.name
                        )
        for stmt in tree.body:
            if not isinstance(stmt, ast.ClassDef):
                continue
            meta = _meta(stmt)
            info = ClassInfo(
                name=stmt.name,
                module=_module_dotted(path),
                namespace=meta.get("namespace", module_namespace),
                element_name=meta.get("name", stmt.name),
                fields=_fields(stmt),
                docstring=ast.get_docstring(stmt) or "",
            )
            by_name[info.name] = info
            # A type and an element may share a name; the element (with Meta) wins.
            key = (info.namespace, info.element_name)
            if key not in by_element or "name" in meta:
                by_element[key] = info
    return ClassIndex(by_name, by_element, foreign)
