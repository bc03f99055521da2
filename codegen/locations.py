"""Where the generator reads and may write: the shipped schema, the source checkout, and
the installed packages it must never write into.

Standard library only: the CLI imports this before it knows whether the ``[codegen]``
extra is installed.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import site
import sysconfig
import tomllib
from pathlib import Path

# The folder that holds codegen/: the checkout's root, or site-packages/wsdscan.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def shipped_schema() -> Path:
    """The schema wsdscan ships: the package ``wsdscan.schema``, else (a checkout where
    it is not a package yet) the ``schema/`` folder beside ``codegen/``."""
    try:
        files = importlib.resources.files("wsdscan.schema")
    except ModuleNotFoundError:
        return PACKAGE_ROOT / "schema"
    if isinstance(files, Path):
        return files
    # Not a plain folder (e.g. a namespace package): its first location on disk.
    spec = importlib.util.find_spec("wsdscan.schema")
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else PACKAGE_ROOT / "schema"


def source_checkout() -> Path | None:
    """The wsdscan checkout this generator runs from, or None when it is installed.

    A checkout is the folder above ``codegen/`` holding a ``pyproject.toml`` that names
    the project ``wsdscan`` and a ``generated/`` folder; an installed package has
    neither (site-packages/wsdscan holds no pyproject.toml).
    """
    pyproject = PACKAGE_ROOT / "pyproject.toml"
    if not (pyproject.is_file() and (PACKAGE_ROOT / "generated").is_dir()):
        return None
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    if isinstance(project, dict) and project.get("name") == "wsdscan":
        return PACKAGE_ROOT
    return None


def installed_generated() -> Path:
    """``generated/`` beside ``codegen/``: the checkout's tree, or the installed
    ``wsdscan.generated`` (read it, never write it)."""
    return PACKAGE_ROOT / "generated"


def site_package_dirs() -> tuple[Path, ...]:
    """Every folder Python installs packages into, as far as this interpreter knows."""
    paths = sysconfig.get_paths()
    found = [paths.get("purelib"), paths.get("platlib")]
    try:
        found += site.getsitepackages()
    except AttributeError:  # some embedded or virtualenv builds lack it
        pass
    user_site = site.getusersitepackages()
    found.append(user_site)
    return tuple(sorted({Path(p).resolve() for p in found if p}))


def protected_dir(path: Path) -> Path | None:
    """The installed-packages folder ``path`` lies in (generated code or an exported
    schema must never land there), or None when ``path`` is fine to write."""
    target = path.resolve()
    protected = list(site_package_dirs())
    if source_checkout() is None:
        protected.append(PACKAGE_ROOT)  # an installed wsdscan, wherever it sits
    for folder in protected:
        if target.is_relative_to(folder):
            return folder
    return None
