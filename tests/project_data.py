"""Where the tests find the project's own data, and the shared reference beside it.

Everything is located from this file, never from the working directory: CI may run the
suite against an installed wheel, from another folder. ``tests/data/`` holds the device
messages (``corpus/``) and the data derived from the WS-Scan pages (``spec/``); the
fault table is ``schema/faults.toml``. The reference they come from (the project's
``shared/`` folder beside the checkout) is optional: only ``tests/test_spec_data.py``
reads it, to check the copies and the derived files.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DATA_DIR = TESTS / "data"
CORPUS_DIR = DATA_DIR / "corpus"
SPEC_DATA_DIR = DATA_DIR / "spec"
FAULTS_TOML = ROOT / "schema" / "faults.toml"
DERIVE_SCRIPT = SPEC_DATA_DIR / "derive.py"
PROVENANCE = "PROVENANCE.md"

SPEC_DIR_VARIABLE = "WSDSCAN_SPEC_DIR"
CORPUS_DIR_VARIABLE = "WSDSCAN_CORPUS_DIR"


def _reference(variable: str, default: Path) -> Path | None:
    """The folder the environment variable names (whether or not it exists: a wrong
    setting must fail, not skip), else ``default`` when it exists, else ``None``."""
    value = os.environ.get(variable)
    if value:
        return Path(value)
    return default if default.is_dir() else None


def spec_reference_dir() -> Path | None:
    """The WS-Scan pages: $WSDSCAN_SPEC_DIR, else ``../shared/spec/ws-scan``."""
    return _reference(SPEC_DIR_VARIABLE, ROOT.parent / "shared" / "spec" / "ws-scan")


def corpus_reference_dir() -> Path | None:
    """The shared corpus: $WSDSCAN_CORPUS_DIR, else ``../shared/corpus``."""
    return _reference(CORPUS_DIR_VARIABLE, ROOT.parent / "shared" / "corpus")


@cache
def derive_module() -> ModuleType:
    """``tests/data/spec/derive.py``, the one reader of the pages, as a module."""
    name = "wsdscan_tests_spec_derive"
    spec = importlib.util.spec_from_file_location(name, DERIVE_SCRIPT)
    assert spec is not None and spec.loader is not None, DERIVE_SCRIPT
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while defined
    spec.loader.exec_module(module)
    return module
