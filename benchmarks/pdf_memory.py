"""Peak memory of ``wsdscan scan --source adf -o doc.pdf``: bounded, whatever the
number of pages.

    python benchmarks/pdf_memory.py [--pages 100] [--baseline-pages 5]
                                    [--resolution 300] [--compare-img2pdf]

One ``wsdscan serve --adf-sheets N`` per job. The client is a whole process; its peak
RSS is the kernel's (``wait4``), the figure ``/usr/bin/time -v`` prints as "Maximum
resident set size". A job of ``--pages`` pages is compared with one of
``--baseline-pages``: the PDF is written page by page, so the peak must not grow with
the pages (target: at most 16 MiB more). Every PDF is checked (pikepdf: its page
count, each page a JPEG as the scanner sent it).

With ``--compare-img2pdf`` (img2pdf installed) the same pages, saved as received (jfif),
are also made into a PDF by ``img2pdf.convert`` over the file list, whose peak shows what
holding the whole document costs.

Ends with ``pdf_memory: pages=N peak_mib=X baseline_peak_mib=Y growth_mib=Z
pdf_mib=W targets_met=T`` (and ``img2pdf_peak_mib=V``); exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GROWTH_TARGET_MIB = 16.0
MiB = 1024 * 1024


def run_client(argv: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one whole process; exits on a failure."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    error = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"pdf_memory: {' '.join(argv)} failed: {error.decode()[-2000:]}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def scan_job(
    pages: int, resolution: int, folder: Path, output: str, *extra: str
) -> float:
    server = subprocess.Popen(
        [sys.executable, "-m", "wsdscan", "serve", "--port", "0",
         "--adf-sheets", str(pages)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        seconds, peak = run_client(
            [sys.executable, "-m", "wsdscan", "scan", url, "--source", "adf",
             "--resolution", str(resolution), "-o", output, *extra],
            folder,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)
    print(
        f"{pages} pages to {output}: {seconds:.1f} s, peak RSS {peak:.1f} MiB",
        file=sys.stderr,
    )
    return peak


def check_pdf(path: Path, pages: int) -> None:
    import pikepdf

    with pikepdf.open(path) as pdf:
        filters = {
            str(image.get("/Filter"))
            for page in pdf.pages
            for image in page.get_images().values()
        }
        if len(pdf.pages) != pages or filters != {"/DCTDecode"}:
            sys.exit(f"pdf_memory: {path}: {len(pdf.pages)} pages, {filters}")


IMG2PDF = """
import sys, img2pdf
from pathlib import Path
pages = sorted(str(p) for p in Path(sys.argv[1]).iterdir())
with open(sys.argv[2], "wb") as out:
    img2pdf.convert(pages, outputstream=out)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--baseline-pages", type=int, default=5)
    parser.add_argument("--resolution", type=int, default=300)
    parser.add_argument("--compare-img2pdf", action="store_true")
    args = parser.parse_args(argv)
    figures: dict[str, float] = {"pages": args.pages}
    with tempfile.TemporaryDirectory(prefix="wsdscan-pdf-memory-") as work:
        folder = Path(work)
        baseline = scan_job(args.baseline_pages, args.resolution, folder, "small.pdf")
        check_pdf(folder / "small.pdf", args.baseline_pages)
        peak = scan_job(args.pages, args.resolution, folder, "doc.pdf")
        check_pdf(folder / "doc.pdf", args.pages)
        figures |= {
            "peak_mib": peak,
            "baseline_peak_mib": baseline,
            "growth_mib": peak - baseline,
            "pdf_mib": (folder / "doc.pdf").stat().st_size / MiB,
        }
        if args.compare_img2pdf:
            pages = folder / "pages"
            pages.mkdir()
            # The same JPEG pages the PDF job received, kept as files.
            scan_job(args.pages, args.resolution, folder, "pages/", "--format=jfif")
            _, img2pdf_peak = run_client(
                [sys.executable, "-c", IMG2PDF, str(pages), "img2pdf.pdf"], folder
            )
            figures["img2pdf_peak_mib"] = img2pdf_peak
    met = figures["growth_mib"] <= GROWTH_TARGET_MIB
    print(
        "pdf_memory: "
        + " ".join(
            f"{name}={value:.0f}" if name == "pages" else f"{name}={value:.1f}"
            for name, value in figures.items()
        )
        + f" targets_met={met}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
