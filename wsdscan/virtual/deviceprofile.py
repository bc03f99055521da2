"""A real device's capabilities as the virtual scanner advertises them: what
``profiles.py`` reads from a captured GetScannerElementsResponse and ``config.py``
serves."""

from __future__ import annotations

from dataclasses import dataclass

from wsdscan.generated.models.scan import (
    DefaultScanTicket,
    ScannerConfiguration,
    ScannerDescription,
)

from .limits import SourceLimits


@dataclass(frozen=True)
class DeviceProfile:
    """A real device's capabilities, as the virtual scanner advertises them."""

    name: str
    origin: str
    """The file or shipped profile it was read from."""
    description: ScannerDescription
    configuration: ScannerConfiguration
    """The device's configuration minus what was left out."""
    default_ticket: DefaultScanTicket
    formats: tuple[str, ...]
    platen: SourceLimits | None
    adf_front: SourceLimits | None
    adf_back: SourceLimits | None
    duplex: bool
    default_format: str
    default_source: str
    default_resolution: tuple[int, int]
    default_color_mode: str
    left_out: tuple[str, ...] = ()
    """What the device advertises that the virtual scanner cannot produce."""
    filled: tuple[str, ...] = ()
    """Required elements the device left out, filled in from the built-in scanner."""

    @property
    def scanner_name(self) -> str:
        names = self.description.scanner_name
        return names[0].value.strip() if names else ""

    def limits(self, source: str, side: str = "front") -> SourceLimits:
        found = self.platen if source == "Platen" else None
        if source != "Platen":
            found = self.adf_back if side == "back" and self.adf_back else None
            found = found or self.adf_front
        if found is None:
            raise ValueError(f"profile {self.name} has no {source}")
        return found
