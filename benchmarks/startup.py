"""Start-up: ``wsdscan --help``, and a one-page scan by ``wsdscan scan`` against
``scanimage`` (sane-airscan) from the same virtual scanner, in one run.

    python benchmarks/startup.py [--pairs 10] [--help-runs 10] [--resolution 300]

One ``wsdscan serve`` runs for the whole benchmark (default configuration: pages are
rendered for each request, the same work for both clients). Each client is a whole
process timed from outside, start-up and imports included: ``wsdscan scan URL -o
page.png`` and ``scanimage -d DEVICE --resolution 300 --format=png -o page.png`` with a
private SANE_CONFIG_DIR (the recipe of tests/interop_support.py: ``dll.conf`` naming
only airscan, one ``[devices]`` line, ``discovery = disable``). They run in pairs,
A B A B ..., after one warm-up run each; every run's file is checked (a PNG of the
expected size). The ratio is the median of the pairwise ratios (pairing keeps it
meaningful when the machine's speed drifts). ``wsdscan --help`` is timed
``--help-runs`` times.

Ends with ``startup: help_s=H wsdscan_s=A scanimage_s=B ratio=R targets_met=T``
(medians, in seconds); exits 1 when a target is missed. Targets: help_s <= 0.15,
ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

TARGETS = {"help_s": 0.15, "ratio": 1.2}
LABEL = "wsdscan startup"
# The virtual scanner's platen, 8.5 x 11.69 in.
PLATEN = (8500, 11690)


def wsdscan_command() -> list[str]:
    """The ``wsdscan`` console script beside this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("wsdscan")
    return [str(script)] if script.exists() else [sys.executable, "-m", "wsdscan"]


def start_server(extra: Sequence[str]) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "wsdscan", "serve", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    if not url.startswith("http://"):
        server.kill()
        sys.exit(f"startup: wsdscan serve printed no URL ({url!r})")
    return server, url


def sane_environment(url: str, folder: Path) -> tuple[dict[str, str], str]:
    """SANE_CONFIG_DIR for ``url``; (environment, device name from scanimage -L)."""
    (folder / "dll.conf").write_text("airscan\n")
    (folder / "airscan.conf").write_text(
        f'[devices]\n"{LABEL}" = {url}, WSD\n\n[options]\ndiscovery = disable\n'
    )
    env = dict(os.environ, SANE_CONFIG_DIR=str(folder))
    for noisy in ("SANE_DEBUG_AIRSCAN", "SANE_DEBUG_DLL"):
        env.pop(noisy, None)
    listing = subprocess.run(
        ["scanimage", "-L"], env=env, capture_output=True, text=True, timeout=30
    )
    devices = re.findall(r"device `([^']+)' is a", listing.stdout)
    ours = [d for d in devices if d.endswith(":" + LABEL)]
    if len(ours) != 1:
        sys.exit(f"startup: scanimage -L did not list {LABEL!r}: {listing.stdout}")
    return env, ours[0]


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of one whole process; exits on a failure."""
    started = time.perf_counter()
    done = subprocess.run(
        argv, env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=120
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(
            f"startup: {' '.join(argv)} failed (exit {done.returncode}): "
            f"{done.stderr.decode(errors='replace')[-2000:]}"
        )
    return elapsed


def check_page(path: Path, resolution: int) -> None:
    from PIL import Image

    expected = tuple(v * resolution // 1000 for v in PLATEN)
    with Image.open(path) as image:
        if image.format != "PNG" or abs(image.size[0] - expected[0]) > 1:
            sys.exit(f"startup: {path} is not the page ({image.format}, {image.size})")
    path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=10, help="A B pairs (default 10)")
    parser.add_argument("--help-runs", type=int, default=10)
    parser.add_argument("--resolution", type=int, default=300)
    parser.add_argument(
        "--serve-option",
        action="append",
        default=[],
        help="an option for wsdscan serve (repeat), e.g. --serve-option=--image-cache=5",
    )
    args = parser.parse_args(argv)
    if shutil.which("scanimage") is None:
        sys.exit("startup: scanimage (sane-utils, sane-airscan) is not installed")
    wsdscan = wsdscan_command()
    help_times = [timed([*wsdscan, "--help"]) for _ in range(max(1, args.help_runs))]
    server, url = start_server(args.serve_option)
    try:
        with tempfile.TemporaryDirectory(prefix="wsdscan-startup-") as work:
            folder = Path(work)
            sane = folder / "sane"
            sane.mkdir()
            env, device = sane_environment(url, sane)
            ours = folder / "wsdscan.png"
            theirs = folder / "scanimage.png"
            a = [*wsdscan, "scan", url, "-o", str(ours)]
            a += ["--resolution", str(args.resolution)]
            b = ["scanimage", "-d", device, "--resolution", str(args.resolution)]
            b += ["--format=png", "-o", str(theirs)]
            pairs: list[tuple[float, float]] = []
            for round_ in range(args.pairs + 1):  # round 0 warms both up
                pair = (timed(a), timed(b, env))
                check_page(ours, args.resolution)
                check_page(theirs, args.resolution)
                if round_:
                    pairs.append(pair)
                    print(
                        f"round {round_}: wsdscan {pair[0]:.3f} s, "
                        f"scanimage {pair[1]:.3f} s",
                        file=sys.stderr,
                    )
    finally:
        server.terminate()
        server.wait(10)
    figures = {
        "help_s": statistics.median(help_times),
        "wsdscan_s": statistics.median(p[0] for p in pairs),
        "scanimage_s": statistics.median(p[1] for p in pairs),
        "ratio": statistics.median(p[0] / p[1] for p in pairs),
    }
    met = all(figures[name] <= limit for name, limit in TARGETS.items())
    print(
        "startup: "
        + " ".join(f"{name}={value:.3f}" for name, value in figures.items())
        + f" targets_met={met}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
