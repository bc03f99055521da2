"""Resolving a requested ScanTicket against what the virtual scanner supports, into
the settings a job scans with and the answers that report them.

The rules of CreateScanJobRequest (``substitutions.py``): an unsupported value whose
element has ``MustHonor`` true rejects the request; otherwise a supported value is
substituted and reported with ``Override="true"`` in DocumentFinalParameters. A missing
value gets the default, reported with ``UsedDefault="true"``. For ValidateScanTicket
nothing is rejected: every substitution just makes the ticket invalid. The values are
resolved in ``documentvalues.py`` and ``sidevalues.py``, the answers built in
``ticketfields.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from wsdscan.generated.models.scan import (
    DocumentFinalParameters,
    DocumentParameters,
    ScanTicket,
)

from . import documentvalues
from .config import VirtualScannerConfig
from .jobsettings import ScanSettings
from .sidevalues import resolve_side
from .substitutions import Substitutions
from .ticketfields import parameter_fields


@dataclass(frozen=True)
class ResolvedTicket:
    settings: ScanSettings
    final_parameters: DocumentFinalParameters
    """What the job really uses, with Override/UsedDefault marks."""
    valid_parameters: DocumentParameters
    """The corrected request (for ValidScanTicket)."""
    adjustments: tuple[str, ...]
    """What was substituted; empty when the ticket was valid as it stood."""

    @property
    def valid(self) -> bool:
        return not self.adjustments


def resolve_ticket(
    config: VirtualScannerConfig, ticket: ScanTicket, *, strict: bool = True
) -> ResolvedTicket:
    """The effective settings for ``ticket``.

    ``strict`` (CreateScanJob) raises ``ClientErrorFormatNotSupported`` or
    ``InvalidArgs`` for unsupported MustHonor values; without it (ValidateScanTicket)
    every unsupported value is substituted and listed in ``adjustments``.
    """
    subs = Substitutions(strict)
    settings = _settings(
        subs, config, ticket.document_parameters or DocumentParameters()
    )
    marks = subs.marks
    final = DocumentFinalParameters(**parameter_fields(settings, marks, final=True))
    valid = DocumentParameters(**parameter_fields(settings, marks, final=False))
    return ResolvedTicket(settings, final, valid, tuple(subs.adjustments))


def _settings(
    subs: Substitutions, config: VirtualScannerConfig, params: DocumentParameters
) -> ScanSettings:
    # The order matters: the first unsupported MustHonor value decides the fault.
    fmt = documentvalues.resolve_format(subs, config, params.format)
    source = documentvalues.resolve_source(subs, config, params.input_source)
    images = documentvalues.resolve_images(subs, params.images_to_transfer, source)
    media = documentvalues.resolve_media_size(subs, config, params.input_size, source)
    sides = params.media_sides
    front_element = sides.media_front if sides else None
    front = resolve_side(subs, config, front_element, "front", source, media, fmt)
    back = None
    if source == "ADFDuplex":
        back_element = sides.media_back if sides else None
        back = (
            resolve_side(subs, config, back_element, "back", source, media, fmt)
            if back_element is not None
            else front
        )
    content_type = documentvalues.resolve_features(subs, params)
    factor = params.compression_quality_factor
    return ScanSettings(
        source=source,
        format=fmt,
        images_to_transfer=images,
        media_width=media[0],
        media_height=media[1],
        front=front,
        back=back,
        jpeg_quality=documentvalues.jpeg_quality(config, factor),
        compression_quality_factor=factor.value if factor is not None else None,
        content_type=content_type,
    )
