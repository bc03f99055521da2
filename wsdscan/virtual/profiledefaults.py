"""The defaults a ticket gets under a device profile: the values of the device's
DefaultScanTicket where the profile can honour them."""

from __future__ import annotations

from dataclasses import dataclass

from wsdscan.generated.models.scan import DefaultScanTicket

from .limits import SourceLimits, nearest
from .values import text


@dataclass(frozen=True)
class ProfileDefaults:
    format: str
    format_replaced: str | None
    source: str
    resolution: tuple[int, int]
    color_mode: str

    @classmethod
    def of(
        cls,
        ticket: DefaultScanTicket | None,
        formats: tuple[str, ...],
        platen: SourceLimits | None,
        front: SourceLimits | None,
        duplex: bool,
    ) -> ProfileDefaults:
        """The defaults a ticket gets: the DefaultScanTicket's values where the
        profile can honour them (the nearest resolution, else its first colour)."""
        params = ticket.document_parameters if ticket is not None else None
        fmt = text(params.format.value) if params and params.format else formats[0]
        replaced = None if fmt in formats else fmt
        wanted = ""
        if params and params.input_source:
            wanted = text(params.input_source.value)
        available = {"Platen": platen is not None, "ADF": front is not None}
        available["ADFDuplex"] = available["ADF"] and duplex
        source = wanted if available.get(wanted) else "Platen" if platen else "ADF"
        limits = platen if source == "Platen" else front
        assert limits is not None
        side = params.media_sides.media_front if params and params.media_sides else None
        x, y = 300, 300
        if side is not None and side.resolution is not None:
            x = side.resolution.width.value
            y = side.resolution.height.value if side.resolution.height else x
        color = ""
        if side is not None and side.color_processing is not None:
            color = text(side.color_processing.value)
        if color not in limits.color_modes:
            color = "RGB24" if "RGB24" in limits.color_modes else limits.color_modes[0]
        return cls(
            format=formats[0] if replaced else fmt,
            format_replaced=replaced,
            source=source,
            resolution=(
                nearest(limits.x_resolutions, x),
                nearest(limits.y_resolutions, y),
            ),
            color_mode=color,
        )
