"""Load: N concurrent clients run full scan jobs against ``wsdscan serve`` for a while.

    python benchmarks/load.py [--clients 50] [--seconds 60] [--mib 10]

Each client loops: CreateScanJob (platen, Grayscale8, 600 dpi, a scan region sized so
the image is about ``--mib`` MiB), RetrieveImage (streamed, SHA-256 computed on the
fly), GetJobElements (the job must be Completed with one scan). The server is a real
``python -m wsdscan serve`` subprocess on 127.0.0.1 with ``--max-active-jobs`` = N,
barely compressed PNG pages (``--png-compress-level 0``) and an image cache (pages are
deterministic). The expected digest is computed here, independently, by rendering the
same page with :func:`wsdscan.virtual.pagecache.produce_image`.

Pass: zero errors, every image hash-verified, server RSS at the end within 1.5x of the
RSS after warm-up. Prints jobs/s and MB/s. Exit code 1 on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import QName

import httpx
from wsdscan.generated import ScannerServiceClient
from wsdscan.generated.models.scan import (
    DocumentDescription,
    RequestedElements,
    ScanRegionHeight,
    ScanTicket,
)
from wsdscan.runtime.transport import HttpTransport

from wsdscan.scanning import ScannerSession
from wsdscan.virtual.images import PageSpec
from wsdscan.virtual.pagecache import produce_image

SCAN = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
DPI = 600
WIDTH_MILS = 8500  # the whole platen width: 5100 pixels at 600 dpi
RSS_GROWTH_LIMIT = 1.5


@dataclass
class Totals:
    jobs: int = 0
    bytes: int = 0
    verified: int = 0
    errors: list[str] = field(default_factory=list)


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) if match else -1


def start_server(clients: int) -> tuple[subprocess.Popen[str], str]:
    cmd = [
        sys.executable,
        "-m",
        "wsdscan",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--max-active-jobs",
        str(clients),
        "--png-compress-level",
        "0",
        "--image-cache",
        "4",
        "--history-size",
        str(clients * 4),
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(
            f"server did not start: {url!r} {proc.stderr.read() if proc.stderr else ''}"
        )
    return proc, url


async def make_ticket(url: str, mib: float) -> ScanTicket:
    async with ScannerSession(url) as session:
        info = await session.info()
    ticket = info.ticket(
        source="Platen", resolution=DPI, color="Grayscale8", format="png"
    )
    pixels = int(mib * 1024 * 1024)
    lines = pixels // (WIDTH_MILS * DPI // 1000)
    height_mils = lines * 1000 // DPI
    region = ticket.document_parameters.media_sides.media_front.scan_region  # type: ignore[union-attr]
    assert region is not None
    region.scan_region_height = ScanRegionHeight(value=height_mils)
    return ticket


async def client_loop(
    url: str,
    ticket: ScanTicket,
    expected: dict[tuple[int, int], str],
    deadline: float,
    totals: Totals,
) -> None:
    names = RequestedElements(name=[QName(SCAN, "JobStatus")])
    async with HttpTransport(url, timeout=httpx.Timeout(120.0)) as transport:
        client = ScannerServiceClient(transport)
        while time.monotonic() < deadline:
            try:
                job = await client.create_scan_job(scan_ticket=ticket)
                front = job.image_information.media_front_image_info
                key = (front.pixels_per_line, front.number_of_lines)
                image = await client.retrieve_image(
                    job_id=job.job_id,
                    job_token=job.job_token,
                    document_description=DocumentDescription(document_name="load.png"),
                )
                digest = hashlib.sha256()
                size = 0
                async for chunk in image.aiter_bytes():
                    digest.update(chunk)
                    size += len(chunk)
                elements = await client.get_job_elements(
                    job_id=job.job_id, requested_elements=names
                )
                status = elements.job_elements.element_data[0].job_status
                assert status is not None
                state = getattr(status.job_state, "value", status.job_state)
                if state != "Completed" or status.scans_completed != 1:
                    raise AssertionError(
                        f"job {job.job_id} ended {state} after {status.scans_completed} scans"
                    )
                if key not in expected:
                    raise AssertionError(f"unexpected image size {key}")
                if digest.hexdigest() != expected[key]:
                    raise AssertionError(
                        f"job {job.job_id}: image digest mismatch ({size} bytes)"
                    )
                totals.jobs += 1
                totals.verified += 1
                totals.bytes += size
            except Exception as exc:  # noqa: BLE001 - every error is counted and shown
                totals.errors.append(f"{type(exc).__name__}: {exc}")


async def run(clients: int, seconds: float, mib: float) -> int:
    proc, url = start_server(clients)
    try:
        ticket = await make_ticket(url, mib)
        # Warm-up job: learn the image geometry and let the server render and cache it.
        async with HttpTransport(url, timeout=httpx.Timeout(120.0)) as transport:
            client = ScannerServiceClient(transport)
            job = await client.create_scan_job(scan_ticket=ticket)
            front = job.image_information.media_front_image_info
            width, lines = front.pixels_per_line, front.number_of_lines
            image = await client.retrieve_image(
                job_id=job.job_id,
                job_token=job.job_token,
                document_description=DocumentDescription(document_name="warm.png"),
            )
            warm = await image.read()
        spec = PageSpec(
            width=width,
            height=lines,
            color_mode="Grayscale8",
            format="png",
            sheet=1,
            side="front",
            x_resolution=DPI,
            y_resolution=DPI,
            title="wsdscan Virtual Scanner",
        )
        expected_bytes = await asyncio.to_thread(produce_image, spec, 0)
        expected = {(width, lines): hashlib.sha256(expected_bytes).hexdigest()}
        if hashlib.sha256(warm).hexdigest() != expected[(width, lines)]:
            print(
                "warm-up image does not match the locally rendered page",
                file=sys.stderr,
            )
            return 1
        print(
            f"server {url}: image {width}x{lines} Grayscale8 PNG, {len(warm) / 2**20:.2f} MiB"
        )
        idle_rss = rss_kib(proc.pid)
        totals = Totals()
        started = time.monotonic()
        deadline = started + seconds
        samples: list[int] = []

        async def sample_rss() -> None:
            while time.monotonic() < deadline:
                await asyncio.sleep(1.0)
                samples.append(rss_kib(proc.pid))

        sampler = asyncio.create_task(sample_rss())
        await asyncio.gather(
            *(
                client_loop(url, ticket, expected, deadline, totals)
                for _ in range(clients)
            )
        )
        elapsed = time.monotonic() - started
        await sampler
        # "Start" is the steady state after the first sixth of the run (50 transfers
        # of 10 MiB in flight hold their send buffers); "end" is the last sample.
        warm = max(1, len(samples) // 6)
        start_rss = max(samples[:warm]) if samples else idle_rss
        end_rss = samples[-1] if samples else rss_kib(proc.pid)
        peak_rss = max(samples, default=end_rss)
        await asyncio.sleep(2.0)
        after_rss = rss_kib(proc.pid)
    finally:
        proc.terminate()
        try:
            _, stderr = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
    print(f"clients {clients}, {elapsed:.1f} s")
    print(
        f"jobs {totals.jobs} ({totals.jobs / elapsed:.2f} jobs/s), verified {totals.verified}"
    )
    print(f"data {totals.bytes / 1e6:.0f} MB ({totals.bytes / 1e6 / elapsed:.1f} MB/s)")
    print(
        f"server RSS: idle before {idle_rss / 1024:.1f} MiB; under load start "
        f"{start_rss / 1024:.1f} MiB, end {end_rss / 1024:.1f} MiB, peak "
        f"{peak_rss / 1024:.1f} MiB; idle after {after_rss / 1024:.1f} MiB"
    )
    print(f"errors {len(totals.errors)}")
    for error in totals.errors[:10]:
        print(f"  {error}")
    ok = True
    if totals.errors or totals.verified != totals.jobs or totals.jobs == 0:
        ok = False
    if end_rss > start_rss * RSS_GROWTH_LIMIT:
        print(f"server memory grew more than {RSS_GROWTH_LIMIT}x", file=sys.stderr)
        ok = False
    if "Traceback" in stderr:
        print("server printed a traceback:\n" + stderr[-3000:], file=sys.stderr)
        ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--mib", type=float, default=10.0, help="image size in MiB")
    args = parser.parse_args()
    return asyncio.run(run(args.clients, args.seconds, args.mib))


if __name__ == "__main__":
    sys.exit(main())
