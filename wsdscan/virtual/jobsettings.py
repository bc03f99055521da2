"""The settings a virtual scanner job really scans with, once its ScanTicket was resolved
(``ticket.py``): per job and per side."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SideSettings:
    """The effective settings of one side: colour, resolution and scan region."""

    color_mode: str
    x_resolution: int
    y_resolution: int
    x_offset: int
    y_offset: int
    width: int
    """Scan region width, 1/1000 inch."""
    height: int
    """Scan region height, 1/1000 inch."""

    @property
    def pixels_per_line(self) -> int:
        return max(1, self.width * self.x_resolution // 1000)

    @property
    def number_of_lines(self) -> int:
        return max(1, self.height * self.y_resolution // 1000)


@dataclass(frozen=True)
class ScanSettings:
    """The effective settings of a job."""

    source: str
    """Platen, ADF or ADFDuplex."""
    format: str
    images_to_transfer: int
    """As requested (0 = every sheet in the feeder; Platen always gives one image)."""
    media_width: int
    media_height: int
    front: SideSettings
    back: SideSettings | None
    """The back side's settings (ADFDuplex only)."""
    jpeg_quality: int
    compression_quality_factor: int | None = None
    content_type: str | None = None

    @property
    def duplex(self) -> bool:
        return self.back is not None
