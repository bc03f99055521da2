"""For the tests that run scan jobs: a ScanTicket the scanner accepts, built from the
capabilities it reports (GetScannerElements through ScannerSession)."""

from __future__ import annotations

from wsdscan.generated import ScannerServiceClient
from wsdscan.generated.models.scan import ScanTicket

from wsdscan.scanning import ScannerSession
from wsdscan.ticket import scan_ticket as ticket_for


async def scan_ticket(
    client: ScannerServiceClient,
    *,
    source: str = "Platen",
    dpi: int = 75,
    color: str = "RGB24",
) -> ScanTicket:
    """A PNG ticket for ``source`` at ``dpi`` in ``color``."""
    async with ScannerSession("unused", transport=client.transport) as session:
        info = await session.info()
    return ticket_for(info, source=source, resolution=dpi, color=color, format="png")
