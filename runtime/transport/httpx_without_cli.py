"""httpx, imported without its command line.

``import httpx`` also imports httpx's own command line client (``httpx._main``: click,
rich, pygments) whenever those are installed, and rich is a dependency of wsdscan's
progress bar: about 50 ms and 3 MiB in every process that imports the runtime, for a
command nobody here runs. The first import of httpx goes through this module, with
``httpx._main`` marked missing for its duration (httpx then binds a stub ``main``);
the mark is removed afterwards, so ``import httpx._main`` still works for whoever wants
it. The packages that use httpx (``transport``, ``eventing``) import this first.
"""

from __future__ import annotations

import sys

if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx  # noqa: F401
    finally:
        del sys.modules["httpx._main"]
