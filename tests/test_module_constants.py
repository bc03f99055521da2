"""No mutable module-level maps, lists or sets: a module's tables are read-only
(``MappingProxyType``, tuples, frozensets), so no caller can change what every other
caller reads. ``__all__`` is the one list allowed."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("runtime", "generated", "codegen", "wsdscan")
_MUTABLE_CALLS = {"dict", "list", "set", "defaultdict", "OrderedDict", "Counter"}


def _mutable(value: ast.expr | None) -> bool:
    if isinstance(value, (ast.Dict, ast.List, ast.Set)):
        return True
    if isinstance(value, (ast.DictComp, ast.ListComp, ast.SetComp)):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        return name in _MUTABLE_CALLS
    return False


def _offenders(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        else:
            continue
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if names and names != ["__all__"] and _mutable(value):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {', '.join(names)}")
    return found


def test_no_mutable_module_level_tables() -> None:
    found = [
        offender
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for offender in _offenders(path)
    ]
    assert found == []
