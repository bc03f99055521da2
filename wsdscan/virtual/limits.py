"""What one input source of the virtual scanner takes: the limits a ticket is resolved
against (``documentvalues.py``, ``sidevalues.py``), from the built-in configuration or
from a device profile; and how a value is brought within them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLimits:
    """Resolutions per axis, colour modes and sizes (1/1000 inch) of one source side.

    ``x_resolutions`` are the advertised Widths (fast scan direction), ``y_resolutions``
    the Heights; a real device may list different values for each."""

    x_resolutions: tuple[int, ...]
    y_resolutions: tuple[int, ...]
    color_modes: tuple[str, ...]
    min_width: int
    min_height: int
    max_width: int
    max_height: int
    any_orientation: bool = False
    """The sizes hold in either orientation: a device that advertises a landscape
    maximum but is asked for portrait media (a quirk, see ``profiles.py``)."""

    def sizes_for(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(min width, min height, max width, max height) for media of this shape:
        with ``any_orientation`` the limits turn to the requested orientation."""
        sizes = (self.min_width, self.min_height, self.max_width, self.max_height)
        if not self.any_orientation:
            return sizes
        portrait_request = width <= height
        portrait_limits = self.max_width <= self.max_height
        if portrait_request == portrait_limits:
            return sizes
        return self.min_height, self.min_width, self.max_height, self.max_width


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def nearest(choices: tuple[int, ...], value: int) -> int:
    """The choice closest to ``value``; of two as close, the higher."""
    return min(choices, key=lambda r: (abs(r - value), -r))
