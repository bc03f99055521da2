"""The blocking API: :class:`Scanner` and the one-liner :func:`scan`.

    import wsdscan

    with wsdscan.Scanner("http://192.0.2.10:5358/WSDScanner") as scanner:
        print(scanner.info().name)
        scanner.scan("doc.pdf", source="adf")

    wsdscan.scan("http://192.0.2.10:5358/WSDScanner", "page.png")

Both run the async :class:`~wsdscan.scanning.ScannerSession` on the runtime's
:class:`~wsdscan.runtime.sync.SyncRunner` (a private event loop in a daemon thread,
the engine of the generated ``ScannerServiceSyncClient``). Ctrl-C during a scan
cancels the job on the device before the KeyboardInterrupt goes on. A ``progress``
callback runs on the runner's thread.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from wsdscan.device import ActiveJob, ScannerCapabilities
from wsdscan.runtime.transport import SyncRunner
from wsdscan.scanning import ProgressCallback, ScannerSession
from wsdscan.ticket import Region

__all__ = ["Scanner", "scan"]


async def _open(url: str) -> ScannerSession:
    # Made on the runner's loop: the transport's connections belong to that loop.
    return ScannerSession(url)


class Scanner:
    """A scanner at ``url``, used from blocking code; close it (or use ``with``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._runner = SyncRunner()
        try:
            self._session = self._runner.run(_open(url))
        except BaseException:
            self._runner.close()
            raise
        self._runner.on_close(self._session.aclose)

    def info(self) -> ScannerCapabilities:
        """Description, configuration and status (see ``ScannerCapabilities``)."""
        return self._runner.run(self._session.info())

    def active_jobs(self) -> list[ActiveJob]:
        return self._runner.run(self._session.active_jobs())

    def scan(
        self,
        output: str | os.PathLike[str],
        *,
        source: str | None = None,
        resolution: int | None = None,
        color: str | None = None,
        format: str | None = None,
        size: str | None = None,
        region: Region | None = None,
        pages: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> list[Path]:
        """Scan into ``output`` and return the files written; the options are those
        of ``ScannerSession.scan``."""
        return self._runner.run(
            self._session.scan(
                output,
                source=source,
                resolution=resolution,
                color=color,
                format=format,
                size=size,
                region=region,
                pages=pages,
                progress=progress,
            )
        )

    def close(self) -> None:
        self._runner.close()

    def __enter__(self) -> Scanner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def scan(
    url: str,
    output: str | os.PathLike[str],
    *,
    source: str | None = None,
    resolution: int | None = None,
    color: str | None = None,
    format: str | None = None,
    size: str | None = None,
    region: Region | None = None,
    pages: int | None = None,
) -> list[Path]:
    """Scan once from the scanner at ``url`` into ``output``; returns the files
    written (``wsdscan.scan(url, "doc.pdf", source="adf")``)."""
    with Scanner(url) as scanner:
        return scanner.scan(
            output,
            source=source,
            resolution=resolution,
            color=color,
            format=format,
            size=size,
            region=region,
            pages=pages,
        )
