"""The layer contract (docs/architecture.md), read from the code's own imports.

schema -> codegen -> generated models -> runtime -> generated stubs -> applications:
a layer imports only from the layers below it (codegen is a build-time tool: nothing at
run time imports it). Inside the runtime the subpackages are ordered too, so that a
reader can go bottom-up. Every import counts, also one deferred into a function.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from project_data import ROOT

# setup.py's folders: the one wsdscan namespace over the top-level folders.
FOLDERS = {
    "wsdscan": ROOT / "wsdscan",
    "wsdscan.codegen": ROOT / "codegen",
    "wsdscan.generated": ROOT / "generated",
    "wsdscan.runtime": ROOT / "runtime",
    "wsdscan.schema": ROOT / "schema",
}

# What each layer may import of wsdscan (besides itself).
ALLOWED: dict[str, set[str]] = {
    "schema": set(),
    "codegen": {"schema"},
    "models": set(),
    "runtime": {"models"},
    "stubs": {"models", "runtime"},
    "application": {"models", "runtime", "stubs"},
}

# The runtime's subpackages (and top-level modules), bottom first: each imports only
# from those before it and from itself.
RUNTIME_ORDER = (
    "__init__",
    "defaults",
    "errors",
    "xmlbind",
    "soap",
    "contract",
    "mtom",
    "transport",
    "server",
    "eventing",
    "discovery",
)


def layer(module: str) -> str:
    if module == "wsdscan.schema" or module.startswith("wsdscan.schema."):
        return "schema"
    if module == "wsdscan.codegen" or module.startswith("wsdscan.codegen."):
        return "codegen"
    if module.startswith("wsdscan.generated.models"):
        return "models"
    # The package face of the bindings hands on the stubs' names (lazily).
    if module.startswith("wsdscan.generated"):
        return "stubs"
    if module == "wsdscan.runtime" or module.startswith("wsdscan.runtime."):
        return "runtime"
    return "application"


def modules() -> Iterator[tuple[str, Path]]:
    """Every module of the package with its file (subpackage folders excluded from
    the application's walk: they are layers of their own)."""
    for package, folder in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(folder).with_suffix("")
            parts = [p for p in relative.parts if p != "__init__"]
            if any(part.startswith(".") or part == "templates" for part in parts):
                continue
            yield ".".join([package, *parts]), path


def imported(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """The wsdscan modules ``module`` imports: absolute names, with their lines."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                keep = len(base) - node.level + (1 if is_package else 0)
                prefix = ".".join(base[:keep])
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            yield node.lineno, target
            # ``from package import module`` imports that module too.
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def _wsdscan(name: str) -> bool:
    return name == "wsdscan" or name.startswith("wsdscan.")


def _existing(name: str) -> bool:
    """``from pkg import name`` names a module only when the module exists."""
    for package, folder in sorted(FOLDERS.items(), key=lambda item: -len(item[0])):
        if name == package or name.startswith(package + "."):
            rest = (
                name[len(package) :].lstrip(".").split(".") if name != package else []
            )
            target = folder.joinpath(*rest) if rest else folder
            return target.with_suffix(".py").is_file() or target.is_dir()
    return False


ALL_MODULES = dict(modules())


def test_the_walk_finds_every_layer() -> None:
    found = {layer(name) for name in ALL_MODULES}
    assert found == set(ALLOWED)


def test_each_layer_imports_only_from_below() -> None:
    wrong = []
    for module, path in ALL_MODULES.items():
        own = layer(module)
        for line, target in imported(module, path):
            if not _wsdscan(target) or not _existing(target) or target == "wsdscan":
                continue
            theirs = layer(target)
            if theirs != own and theirs not in ALLOWED[own]:
                wrong.append(
                    f"{path.relative_to(ROOT)}:{line}: {own} imports {theirs} ({target})"
                )
    assert wrong == []


def _runtime_part(module: str) -> str:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 else "__init__"


def test_runtime_subpackages_import_downwards() -> None:
    assert {_runtime_part(m) for m in ALL_MODULES if layer(m) == "runtime"} == set(
        RUNTIME_ORDER
    )
    wrong = []
    for module, path in ALL_MODULES.items():
        if layer(module) != "runtime":
            continue
        own = RUNTIME_ORDER.index(_runtime_part(module))
        for line, target in imported(module, path):
            if layer(target) != "runtime" or not _existing(target):
                continue
            theirs = RUNTIME_ORDER.index(_runtime_part(target))
            if theirs > own:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: imports {target}")
    assert wrong == []


def test_the_application_imports_runtime_faces_only() -> None:
    """wsdscan/ imports a runtime subpackage's face, never a module inside it."""
    wrong = []
    for module, path in ALL_MODULES.items():
        if layer(module) != "application":
            continue
        for line, target in imported(module, path):
            if layer(target) != "runtime" or not _existing(target):
                continue
            if target.count(".") > 2:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {target}")
    assert wrong == []


RUNTIME_IMPORTER = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("wsdscan."))))
"""


def test_importing_the_runtime_loads_no_stub() -> None:
    """In a fresh interpreter, every runtime module loads models at most: never a stub,
    never the application."""
    names = sorted(m for m in ALL_MODULES if layer(m) == "runtime")
    result = subprocess.run(
        [sys.executable, "-c", RUNTIME_IMPORTER, json.dumps(names)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(result.stdout)
    assert set(names) <= set(loaded)
    above = [m for m in loaded if layer(m) in {"stubs", "application"}]
    # The bindings' package face is loaded as the parent of models; it defers every
    # stub name (PEP 562), so it is the one stubs-layer module allowed.
    assert [m for m in above if m != "wsdscan.generated"] == []
