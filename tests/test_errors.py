"""One exception tree: every exception class the package defines descends from
WsdScanError, so ``except WsdScanError`` catches everything wsdscan raises on purpose
(README, "Errors"). The one documented exception is the generator's CodegenError:
wsdscan-codegen is a build-time tool in a layer below the runtime, which defines the
root."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from wsdscan.codegen.errors import CodegenError
from wsdscan.generated.stubs import faults as scan_faults
from wsdscan.runtime.errors import ProtocolError, TransportError, WsdScanError
from wsdscan.runtime.soap import SoapFault

# Documented in the README's "Errors" section.
OUTSIDE_THE_TREE = {CodegenError}


# The subpackages are walked one by one: an editable install maps each folder to its
# package, so they are not found below wsdscan's own folder.
PACKAGES = ("wsdscan", "wsdscan.runtime", "wsdscan.generated", "wsdscan.codegen")


def _modules() -> list[str]:
    names = set(PACKAGES)
    for package in PACKAGES:
        path = importlib.import_module(package).__path__
        for info in pkgutil.walk_packages(path, f"{package}."):
            if not info.name.endswith("__main__"):
                names.add(info.name)
    return sorted(names)


def defined_exceptions() -> set[type[BaseException]]:
    found: set[type[BaseException]] = set()
    for name in _modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == name:
                found.add(cls)
    return found


def test_every_exception_the_package_defines_descends_from_wsdscan_error() -> None:
    found = defined_exceptions()
    assert len(found) > 40  # the walk reached the faults, the runtime and the app
    strays = sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in found - OUTSIDE_THE_TREE
        if not issubclass(cls, WsdScanError)
    )
    assert strays == []


def test_the_main_branches() -> None:
    assert issubclass(SoapFault, WsdScanError)
    assert issubclass(scan_faults.ClientErrorJobIdNotFound, SoapFault)
    assert issubclass(TransportError, WsdScanError)
    assert issubclass(ProtocolError, WsdScanError)
    assert not issubclass(CodegenError, WsdScanError)
