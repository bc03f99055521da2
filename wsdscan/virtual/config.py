"""Configuration of the virtual scanner: what it has and what it supports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from .encoders import producible_formats
from .limits import SourceLimits

if TYPE_CHECKING:
    from .deviceprofile import DeviceProfile

DEFAULT_FORMATS: Final = ("png", "jfif")
"""What the built-in scanner advertises unless told otherwise."""

SUPPORTED_FORMATS: Final = producible_formats()
"""Every format the virtual scanner can produce here (``encoders.py``: png, jfif, exif,
dib, the TIFF formats and pdf-a, jpeg2k where Pillow has OpenJPEG)."""

SUPPORTED_COLOR_MODES: Final = ("BlackAndWhite1", "Grayscale8", "RGB24")
"""Every colour mode the virtual scanner can produce."""


@dataclass
class VirtualScannerConfig:
    """What the virtual scanner has and supports.

    Sizes are in 1/1000 inch (Width = fast scan direction, Height = slow scan
    direction), times in seconds. ``adf_sheets`` is the number of sheets in the feeder
    at start; :meth:`VirtualScanner.load_adf` reloads it at run time.

    With ``profile`` (a real device's capabilities, ``profiles.load_profile``) the
    scanner advertises what the profile says, and its sources, sizes, resolutions,
    colour modes, formats and defaults come from the profile: the fields describing
    them here are set from it.
    """

    name: str = "wsdscan Virtual Scanner"
    manufacturer: str = "wsdscan"
    model: str = "Virtual Scanner"
    location: str = "localhost"

    platen: bool = True
    adf: bool = True
    duplex: bool = True
    adf_sheets: int = 5

    formats: tuple[str, ...] = DEFAULT_FORMATS
    resolutions: tuple[int, ...] = (75, 100, 150, 200, 300, 600)
    color_modes: tuple[str, ...] = SUPPORTED_COLOR_MODES

    platen_width: int = 8500
    platen_height: int = 11690
    adf_width: int = 8500
    adf_height: int = 14000
    min_width: int = 500
    min_height: int = 500

    default_format: str = "png"
    default_resolution: int = 300
    default_color_mode: str = "RGB24"
    jpeg_quality: int = 85

    scan_delay: float = 0.0
    """Seconds each image takes to "scan" (slept before encoding)."""
    job_timeout: float = 60.0
    """A job nobody touches for this long is Aborted (JobTimedOut)."""
    history_size: int = 20
    """How many ended jobs GetJobHistory (and GetJobElements) remember."""
    first_job_id: int = 1
    max_active_jobs: int = 1
    """Jobs that may be active at once; CreateScanJob beyond it answers
    ServerErrorNotAcceptingJobs (a real scanner has one; load tests want more)."""
    png_compress_level: int | None = None
    """zlib level (0-9) for PNG images; None is Pillow's default. 0 makes large,
    barely compressed images (load tests)."""
    image_cache: int = 0
    """How many finished images to keep for reuse (pages are deterministic); 0: none."""
    profile: DeviceProfile | None = None
    """A real device's capabilities to advertise and honour (None: the built-in ones)."""

    def __post_init__(self) -> None:
        if self.profile is not None:
            self._take_profile(self.profile)
        problems: list[str] = []
        if not (self.platen or self.adf):
            problems.append("the scanner needs a platen or an ADF")
        if self.duplex and not self.adf:
            problems.append("duplex needs an ADF")
        if self.adf_sheets < 0:
            problems.append("adf_sheets must be >= 0")
        if not self.formats:
            problems.append("formats must not be empty")
        problems += [
            f"unsupported format {f!r} (choose from {', '.join(SUPPORTED_FORMATS)})"
            for f in self.formats
            if f not in SUPPORTED_FORMATS
        ]
        if not self.color_modes:
            problems.append("color_modes must not be empty")
        problems += [
            f"unsupported colour mode {c!r} "
            f"(choose from {', '.join(SUPPORTED_COLOR_MODES)})"
            for c in self.color_modes
            if c not in SUPPORTED_COLOR_MODES
        ]
        if not self.resolutions or any(r <= 0 for r in self.resolutions):
            problems.append("resolutions must be positive and not empty")
        sizes = (
            self.platen_width,
            self.platen_height,
            self.adf_width,
            self.adf_height,
            self.min_width,
            self.min_height,
        )
        if any(s <= 0 for s in sizes):
            problems.append("sizes must be positive")
        if self.min_width > min(self.platen_width, self.adf_width) or (
            self.min_height > min(self.platen_height, self.adf_height)
        ):
            problems.append("the minimum size exceeds a maximum size")
        if self.default_format not in self.formats:
            problems.append(f"default_format {self.default_format!r} not in formats")
        if self.default_resolution not in self.resolutions:
            problems.append(
                f"default_resolution {self.default_resolution} not in resolutions"
            )
        if self.default_color_mode not in self.color_modes:
            problems.append(
                f"default_color_mode {self.default_color_mode!r} not in color_modes"
            )
        if not 1 <= self.jpeg_quality <= 100:
            problems.append("jpeg_quality must be in 1..100")
        if self.scan_delay < 0 or self.job_timeout <= 0:
            problems.append("scan_delay must be >= 0 and job_timeout > 0")
        if self.max_active_jobs < 1 or self.image_cache < 0:
            problems.append("max_active_jobs must be >= 1 and image_cache >= 0")
        if (
            self.png_compress_level is not None
            and not 0 <= self.png_compress_level <= 9
        ):
            problems.append("png_compress_level must be in 0..9")
        if self.history_size < 0 or self.first_job_id < 1:
            problems.append("history_size must be >= 0 and first_job_id >= 1")
        if problems:
            raise ValueError("invalid VirtualScannerConfig: " + "; ".join(problems))

    def _take_profile(self, profile: DeviceProfile) -> None:
        """Set the fields that describe the scanner from ``profile``."""
        self.name = profile.scanner_name or self.name
        self.platen = profile.platen is not None
        self.adf = profile.adf_front is not None
        self.duplex = profile.duplex
        if not self.adf:
            self.adf_sheets = 0
        self.formats = profile.formats
        sides = [s for s in (profile.platen, profile.adf_front, profile.adf_back) if s]
        self.resolutions = tuple(
            sorted({r for s in sides for r in s.x_resolutions + s.y_resolutions})
        )
        self.color_modes = tuple(
            c for c in SUPPORTED_COLOR_MODES if any(c in s.color_modes for s in sides)
        )
        if profile.platen is not None:
            self.platen_width = profile.platen.max_width
            self.platen_height = profile.platen.max_height
        if profile.adf_front is not None:
            self.adf_width = profile.adf_front.max_width
            self.adf_height = profile.adf_front.max_height
        self.min_width = min(s.min_width for s in sides)
        self.min_height = min(s.min_height for s in sides)
        self.default_format = profile.default_format
        self.default_resolution = profile.default_resolution[0]
        self.default_color_mode = profile.default_color_mode

    def limits(self, source: str, side: str = "front") -> SourceLimits:
        """What ``source`` (Platen, ADF, ADFDuplex) takes on ``side``."""
        if self.profile is not None:
            return self.profile.limits(source, side)
        width, height = self.max_size(source)
        return SourceLimits(
            x_resolutions=self.resolutions,
            y_resolutions=self.resolutions,
            color_modes=self.color_modes,
            min_width=self.min_width,
            min_height=self.min_height,
            max_width=width,
            max_height=height,
        )

    def default_resolutions(self) -> tuple[int, int]:
        """The default (x, y) resolution: the profile's default ticket, or
        ``default_resolution`` on both axes."""
        if self.profile is not None:
            return self.profile.default_resolution
        return self.default_resolution, self.default_resolution

    def max_size(self, source: str) -> tuple[int, int]:
        """(width, height) of the largest original ``source`` takes, 1/1000 inch."""
        if source == "Platen":
            return self.platen_width, self.platen_height
        return self.adf_width, self.adf_height

    def sources(self) -> tuple[str, ...]:
        """The InputSource values this scanner accepts."""
        found: list[str] = []
        if self.platen:
            found.append("Platen")
        if self.adf:
            found.append("ADF")
            if self.duplex:
                found.append("ADFDuplex")
        return tuple(found)

    @property
    def default_source(self) -> str:
        if self.profile is not None and self.profile.default_source in self.sources():
            return self.profile.default_source
        return "Platen" if self.platen else "ADF"
