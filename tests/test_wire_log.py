"""The runtime's wire log (``wsdscan.wire``, what ``wsdscan -v``/``-vv`` shows): one
INFO line per exchange with the operation, URL, HTTP status and time; DEBUG lines with
every envelope sent and received, JobToken and DestinationToken values masked. Also
what a progress bar needs from a response (the attachment's expected size), and a
closed connection giving back its body buffer at once (a 100-page job kept ~25 MiB
of them alive until a full garbage collection)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cli_support import virtual_scanner
from wsdscan.generated import ScannerServiceClient
from wsdscan.generated.models.scan import DocumentDescription
from wsdscan.runtime.transport import HttpTransport, mask_secrets

from wsdscan.scanning import ScannerSession
from wsdscan.ticket import scan_ticket


def test_masking_leaves_no_token() -> None:
    xml = (
        b"<s:Envelope><wscn:JobToken>secret-1</wscn:JobToken><JobToken a='1'>"
        b"secret-2</JobToken><x:DestinationToken>secret-3</x:DestinationToken>"
        b"<wscn:JobToken/><wscn:JobId>7</wscn:JobId></s:Envelope>"
    )
    masked = mask_secrets(xml)
    assert "secret" not in masked
    assert "<wscn:JobToken>***</wscn:JobToken>" in masked and "<wscn:JobId>7<" in masked


async def test_the_wire_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wsdscan.wire")
    async with virtual_scanner() as (url, _):
        async with ScannerSession(url) as session:
            info = await session.info()
        ticket = scan_ticket(
            info, source="Platen", resolution=75, color="RGB24", format="png"
        )
        async with HttpTransport(url) as transport:
            client = ScannerServiceClient(transport)
            job = await client.create_scan_job(scan_ticket=ticket)
            image = await client.retrieve_image(
                job_id=job.job_id,
                job_token=job.job_token,
                document_description=DocumentDescription(document_name="IMAGE001"),
            )
            expected = image.expected_size
            stream = image._response.extensions["network_stream"]
            size = await image.save(tmp_path / "p.png")
            assert len(stream._receiver.buffer) == 0  # closed: its buffer given back
    # The HTTP body's length: the image plus the SOAP part and the MIME framing.
    assert expected is not None and size < expected < size + 4096
    records = [r for r in caplog.records if r.name == "wsdscan.wire"]
    exchanges = [r.getMessage() for r in records if r.levelno == logging.INFO]
    assert [m.split()[0] for m in exchanges] == [
        "GetScannerElements",
        "CreateScanJob",
        "RetrieveImage",
    ]
    assert all(f" {url}: HTTP 200 in " in m for m in exchanges)
    envelopes = "\n".join(r.getMessage() for r in records if r.levelno == logging.DEBUG)
    assert (
        "CreateScanJob reply: " in envelopes and "RetrieveImage request: " in envelopes
    )
    assert job.job_token not in envelopes
    token_texts = [part.split("<", 1)[0] for part in envelopes.split("JobToken>")[1::2]]
    assert token_texts and set(token_texts) == {"***"}


async def test_a_refused_connection_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wsdscan.wire")
    async with HttpTransport("http://127.0.0.1:1/WSDScanner") as transport:
        with pytest.raises(Exception, match="failed"):
            await ScannerServiceClient(transport).get_active_jobs()
    assert "GetActiveJobs http://127.0.0.1:1/WSDScanner: failed" in caplog.text
