"""What a scanner says about itself (GetScannerElements, GetActiveJobs), read into
plain values: its name, formats, sources with their resolutions, colour modes and
sizes, its state with the reasons and conditions, and its active jobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wsdscan.errors import ScanError, UnsupportedOption
from wsdscan.generated.models.scan import (
    JobSummary,
    ScannerConfiguration,
    ScannerDescription,
    ScannerStatus,
)
from wsdscan.options import millimetres
from wsdscan.quirks import maximum_size


def text(value: object) -> str:
    """An element's text: enum members and value wrappers unwrapped."""
    inner = getattr(value, "value", value)
    return str(getattr(inner, "value", inner))


@dataclass(frozen=True)
class SourceCapabilities:
    """One input source: sizes in 1/1000 inch, portrait (a swapped maximum is
    corrected, see ``quirks.maximum_size``)."""

    source: str
    resolutions: list[int]
    color_modes: list[str]
    max_size: tuple[int, int]
    min_size: tuple[int, int]

    def summary(self) -> dict[str, Any]:
        return {
            "resolutions": self.resolutions,
            "color_modes": self.color_modes,
            "max_size_mm": [millimetres(v) for v in self.max_size],
            "min_size_mm": [millimetres(v) for v in self.min_size],
        }


@dataclass(frozen=True)
class Condition:
    """An active device condition (``InputTrayEmpty`` on the ``ADF``, ...)."""

    name: str
    component: str
    severity: str


@dataclass(frozen=True)
class ActiveJob:
    job_id: int
    name: str
    user: str
    state: str
    reasons: list[str]
    scans_completed: int

    @classmethod
    def from_summary(cls, summary: JobSummary) -> ActiveJob:
        reasons = summary.job_state_reasons.job_state_reason
        return cls(
            summary.job_id,
            summary.job_name,
            summary.job_originating_user_name,
            text(summary.job_state),
            [text(r) for r in reasons if text(r) != "None"],
            summary.scans_completed,
        )


def _resolutions(resolutions: Any) -> list[int]:
    """The resolutions a side offers in both directions (Kyocera lists heights the
    widths lack, 100 dpi: a ticket sends one value for both)."""
    widths = {int(text(w)) for w in resolutions.widths.width}
    heights = {int(text(h)) for h in resolutions.heights.height}
    return sorted(widths & heights if heights else widths)


@dataclass(frozen=True)
class ScannerCapabilities:
    """What GetScannerElements tells about a scanner."""

    description: ScannerDescription | None
    configuration: ScannerConfiguration | None
    status: ScannerStatus | None

    @property
    def name(self) -> str:
        names = self.description.scanner_name if self.description else []
        return text(names[0]) if names else "(unnamed scanner)"

    @property
    def formats(self) -> list[str]:
        if self.configuration is None:
            return []
        supported = self.configuration.device_settings.formats_supported
        return [text(value) for value in supported.format_value]

    def sources(self) -> list[str]:
        found = []
        if self.configuration is not None and self.configuration.platen is not None:
            found.append("Platen")
        adf = self.configuration.adf if self.configuration is not None else None
        if adf is not None:
            found.append("ADF")
            if adf.adf_supports_duplex:
                found.append("ADFDuplex")
        return found

    def capabilities(self, source: str) -> SourceCapabilities:
        """What ``source`` offers; UnsupportedOption if the scanner has no such."""
        configuration = self.configuration
        if configuration is None:
            raise ScanError("the scanner did not describe its configuration")
        resolutions: Any
        largest: Any
        smallest: Any
        if source == "Platen" and configuration.platen is not None:
            platen = configuration.platen
            resolutions = platen.platen_resolutions
            colors = platen.platen_color.color_entry
            largest, smallest = platen.platen_maximum_size, platen.platen_minimum_size
        elif source in ("ADF", "ADFDuplex") and configuration.adf is not None:
            front = configuration.adf.adf_front
            if source == "ADFDuplex" and not configuration.adf.adf_supports_duplex:
                raise UnsupportedOption("the scanner's feeder does not scan duplex")
            resolutions = front.adf_resolutions
            colors = front.adf_color.color_entry
            largest, smallest = front.adf_maximum_size, front.adf_minimum_size
        else:
            raise UnsupportedOption(
                f"the scanner has no {source} (it has: {', '.join(self.sources())})"
            )
        return SourceCapabilities(
            source,
            _resolutions(resolutions),
            [text(c) for c in colors],
            maximum_size(largest.width.value, largest.height.value),
            maximum_size(smallest.width.value, smallest.height.value),
        )

    def source_capabilities(
        self, source: str
    ) -> tuple[list[int], list[str], tuple[int, int]]:
        """(resolutions, colour modes, (max width, max height) in 1/1000 inch)."""
        found = self.capabilities(source)
        return found.resolutions, found.color_modes, found.max_size

    # --- status --------------------------------------------------------------

    @property
    def state(self) -> str | None:
        """Idle, Processing or Stopped (or a vendor's word); None if not reported."""
        return text(self.status.scanner_state) if self.status is not None else None

    @property
    def state_reasons(self) -> list[str]:
        if self.status is None:
            return []
        values = self.status.scanner_state_reasons.scanner_state_reason
        return [text(v) for v in values if text(v) != "None"]

    @property
    def conditions(self) -> list[Condition]:
        if self.status is None or self.status.active_conditions is None:
            return []
        return [
            Condition(text(c.name), text(c.component), text(c.severity))
            for c in self.status.active_conditions.device_condition
        ]

    @property
    def reasons(self) -> list[str]:
        """State reasons and condition names together (what explains a refusal)."""
        return [*self.state_reasons, *(c.name for c in self.conditions)]

    def summary(self) -> dict[str, Any]:
        """Description, configuration and status as JSON-ready values."""
        description = self.description
        sources: dict[str, Any] = {}
        for source in self.sources():
            sources[source] = self.capabilities(source).summary()
        return {
            "name": self.name,
            "info": [text(v) for v in description.scanner_info] if description else [],
            "location": (
                [text(v) for v in description.scanner_location] if description else []
            ),
            "formats": self.formats,
            "sources": sources,
            "state": self.state,
            "state_reasons": self.state_reasons,
            "conditions": [vars(c) for c in self.conditions],
        }
