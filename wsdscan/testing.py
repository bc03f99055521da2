"""A pytest plugin for testing against the virtual scanner (registered under the
``pytest11`` entry point ``wsdscan``: installed with wsdscan, it is loaded by itself).

Fixtures:

* ``virtual_scanner``: a running virtual scanner on 127.0.0.1 at a free port, as a
  :class:`VirtualScannerHandle` (``.url``, ``.scanner``, ``.profile``, ``.load_adf``,
  ...). Configure it with ``@pytest.mark.virtual_scanner(profile="kyocera-m2040dn",
  adf_sheets=3)`` (any ``VirtualScannerConfig`` field; default: the built-in scanner).
* ``virtual_scanner_factory``: a function that starts one more scanner per call,
  ``virtual_scanner_factory(profile="kyocera-m2040dn", adf_sheets=3)``; every
  scanner it started stops at the end of the test.

Outside pytest, ``with running_virtual_scanner(profile=...) as handle:`` does the same.

The scanner runs in a **background thread with its own event loop**, not in a
subprocess and not on the test's loop: the test gets the ``VirtualScanner`` object
itself (a subprocess could only be driven over the wire), the server starts in
milliseconds with no port file or output to parse and cannot outlive the test run, and
it works alike for sync tests and for async ones under any loop plugin
(pytest-asyncio, anyio) or none, because nothing runs on the test's own loop: a sync
client that blocks the test's thread still gets answers. The scanner's state belongs
to its loop: change it with the handle's methods (:meth:`VirtualScannerHandle.call`
runs any function there), not by calling ``scanner.load_adf`` from the test thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar

import pytest

if TYPE_CHECKING:
    from wsdscan.virtual import DeviceProfile, VirtualScanner

__all__ = [
    "VirtualScannerHandle",
    "running_virtual_scanner",
    "virtual_scanner",
    "virtual_scanner_factory",
]

SCAN_PATH: Final = "/WSDScanner"
START_TIMEOUT: Final = 30.0
"""Seconds a scanner gets to start, and a call on its loop to finish."""
T = TypeVar("T")


@dataclass
class VirtualScannerHandle:
    """A virtual scanner running in a background thread."""

    url: str
    """The scan service URL (``http://127.0.0.1:PORT/WSDScanner``)."""
    scanner: VirtualScanner
    profile: DeviceProfile | None
    """The device profile it advertises (None: the built-in scanner)."""
    profile_name: str
    _loop: asyncio.AbstractEventLoop = field(repr=False)

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function(*args, **kwargs)`` on the scanner's event loop; returns its
        result or raises its exception."""

        async def run() -> T:
            return function(*args, **kwargs)

        future = asyncio.run_coroutine_threadsafe(run(), self._loop)
        return future.result(START_TIMEOUT)

    def load_adf(self, sheets: int, *, duplex: bool | None = None) -> None:
        """Refill the feeder (``VirtualScanner.load_adf``)."""
        self.call(self.scanner.load_adf, sheets, duplex=duplex)

    def set_jammed(self, jammed: bool) -> None:
        """Simulate a paper jam, or clear it."""
        self.call(self.scanner.set_jammed, jammed)

    @property
    def adf_sheets(self) -> int:
        """Sheets left in the feeder."""
        return self.call(lambda: self.scanner.adf_sheets)


@contextlib.contextmanager
def running_virtual_scanner(
    profile: str = "default", **options: Any
) -> Iterator[VirtualScannerHandle]:
    """Run a virtual scanner for the ``with`` block: ``profile`` is a shipped profile
    name or a file (``wsdscan serve --profile``), ``options`` are
    ``VirtualScannerConfig`` fields (``adf_sheets=3``, ``duplex=True``, ...)."""
    from wsdscan.virtual.profiles import load_profile

    device_profile = load_profile(profile)
    loop = asyncio.new_event_loop()
    started: concurrent.futures.Future[VirtualScannerHandle] = (
        concurrent.futures.Future()
    )
    stop = threading.Event()
    thread = threading.Thread(
        target=_run,
        args=(loop, _serve(loop, device_profile, profile, options, started, stop)),
        name=f"wsdscan-virtual-scanner-{profile}",
        daemon=True,
    )
    thread.start()
    try:
        handle = started.result(START_TIMEOUT)
        yield handle
    finally:
        stop.set()
        thread.join(START_TIMEOUT)


def _run(loop: asyncio.AbstractEventLoop, main: Coroutine[Any, Any, None]) -> None:
    try:
        loop.run_until_complete(main)
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


async def _serve(
    loop: asyncio.AbstractEventLoop,
    device_profile: DeviceProfile | None,
    profile: str,
    options: dict[str, Any],
    started: concurrent.futures.Future[VirtualScannerHandle],
    stop: threading.Event,
) -> None:
    from wsdscan.press import serve_eventing
    from wsdscan.runtime.server import SoapApp, running
    from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

    try:
        scanner = VirtualScanner(
            VirtualScannerConfig(**options, profile=device_profile)
        )
        # The panel (wsdscan press: button, jam, feeder) and events, as `wsdscan serve`.
        eventing = serve_eventing(scanner)
        app = SoapApp(scanner, path=SCAN_PATH, handlers=eventing.handlers)
        async with running(app, "127.0.0.1", 0) as server:
            started.set_result(
                VirtualScannerHandle(
                    url=server.url(SCAN_PATH),
                    scanner=scanner,
                    profile=device_profile,
                    profile_name=profile,
                    _loop=loop,
                )
            )
            while not stop.is_set():
                await asyncio.sleep(0.02)
        await eventing.aclose()
    except BaseException as exc:
        if not started.done():
            started.set_exception(exc)
        else:
            raise


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "virtual_scanner(profile='default', **options): how the virtual_scanner "
        "fixture's scanner is set up (wsdscan.testing)",
    )


@pytest.fixture
def virtual_scanner_factory() -> Iterator[Callable[..., VirtualScannerHandle]]:
    """Start virtual scanners: ``factory(profile="kyocera-m2040dn", adf_sheets=3)``
    returns a running one; all stop at the end of the test."""
    with contextlib.ExitStack() as stack:

        def factory(profile: str = "default", **options: Any) -> VirtualScannerHandle:
            return stack.enter_context(running_virtual_scanner(profile, **options))

        yield factory


@pytest.fixture
def virtual_scanner(
    request: pytest.FixtureRequest,
    virtual_scanner_factory: Callable[..., VirtualScannerHandle],
) -> VirtualScannerHandle:
    """A running virtual scanner; ``@pytest.mark.virtual_scanner(...)`` sets it up."""
    marker = request.node.get_closest_marker("virtual_scanner")
    args: tuple[Any, ...] = marker.args if marker else ()
    kwargs: dict[str, Any] = dict(marker.kwargs) if marker else {}
    return virtual_scanner_factory(*args, **kwargs)
