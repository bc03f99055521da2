"""The progress of a scan on a terminal (rich, loaded only then): page n of N where
known, the page's bytes against its length with the percentage, and a spinner while
the scanner works before the first bytes. Nothing on a non-terminal or with --quiet;
the bar is erased when the scan ends."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wsdscan.scanning import ScanProgress


class ScanDisplay:
    """A ``progress`` callback for ``ScannerSession.scan`` and a context manager that
    owns the display."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> ScanDisplay:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                SpinnerColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                DownloadColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("connecting", total=None)
        return self

    def __call__(self, event: ScanProgress) -> None:
        if self._progress is None:
            return
        page = f"page {event.page}" + (f" of {event.pages}" if event.pages else "")
        if event.waiting:
            # A new task: rich cannot make a task's total unknown again (spinner and
            # pulsing bar while the scanner works).
            self._progress.remove_task(self._task)
            self._task = self._progress.add_task(
                f"{page}: the scanner is scanning", total=None
            )
        else:
            self._progress.update(
                self._task,
                description=page,
                total=event.size,
                completed=event.received,
                refresh=event.done,  # a whole page is shown, however fast it came
            )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
