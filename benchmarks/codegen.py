"""Time a full regeneration of generated/ from schema/ (target: under 20 s on 2 cores).

    python benchmarks/codegen.py [--runs N]

Each run is the whole pipeline (load, xsdata, index, WSDL model, render, black) into a
temporary directory, so the committed tree is not touched.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from wsdscan.codegen.pipeline import DEFAULT_SCHEMA, generate

TARGET_SECONDS = 20.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            generate(DEFAULT_SCHEMA, Path(tmp) / "generated")
            times.append(time.perf_counter() - started)
    best, median = min(times), statistics.median(times)
    print(
        f"runs={args.runs} best={best:.2f}s median={median:.2f}s target<{TARGET_SECONDS:.0f}s"
    )
    print(f"codegen: median_s={median:.2f} target_met={median < TARGET_SECONDS}")
    return 0 if median < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
