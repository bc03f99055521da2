"""Black-box interop: the real WS-Scan client sane-airscan (through ``scanimage``) against
``python -m wsdscan serve``.

Recipe and client behaviour: the project's shared notes (``shared/notes/interop.md``
beside the checkout). Things to keep in mind when reading the assertions:

* sane-airscan 0.99.27 offers only the modes ``Color`` (RGB24) and ``Gray``
  (Grayscale8). BlackAndWhite1 is parsed from ScannerConfiguration but never offered,
  so 1-bit scanning cannot be driven through scanimage; we only assert that it is *not*
  offered (i.e. the configuration parsed and the client stayed sane).
* The output size is decided by the client: it always asks for the full maximum area
  of the source and pads (white) or crops the server's image to that size. The pixel
  size therefore checks the advertised maximum size and resolution handling end to
  end; the page marker (top-left) checks that the server's own image arrived.
* ``--format=png`` is scanimage's *output* format; on the wire sane-airscan picks png
  whenever the server advertises it.
* Every scanimage call goes through :func:`run_scanimage` (hard timeout), and ADF
  batches carry ``--batch-count`` one larger than the expected number of pages so a
  server that never ends the batch cannot run away (pitfall 3).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
from interop_support import (
    REPO_ROOT,
    ServedScanner,
    airscan_env,
    require_tool,
    run_scanimage,
)
from PIL import Image

# The virtual scanner's geometry in 1/1000 inch (wsdscan.virtual.config defaults,
# restated here on purpose: the test checks what the server advertises).
PLATEN_W, PLATEN_H = 8500, 11690
ADF_W, ADF_H = 8500, 14000
RESOLUTIONS = (75, 100, 150, 200, 300, 600)

SANE_STATUS_CANCELLED = 2
SANE_STATUS_NO_DOCS = 7

MODES = {"Color": "RGB", "Gray": "L"}


@pytest.fixture(autouse=True)
def _need_scanimage() -> None:
    require_tool("scanimage")


def expected_px(units: int, dpi: int) -> set[int]:
    """Pixels for ``units`` (1/1000 inch) at ``dpi``: exact, or either neighbour if the
    product is fractional (sane-airscan converts through SANE_Fixed millimetres)."""
    exact = Fraction(units * dpi, 1000)
    if exact.denominator == 1:
        return {int(exact)}
    return {int(exact), int(exact) + 1}


def _marker_reader():  # type: ignore[no-untyped-def]
    try:
        from wsdscan.virtual import images
    except ImportError:
        return None
    return getattr(images, "read_marker", None)


def read_marker(path: Path) -> tuple[int, str] | None:
    """(sheet, side) of a scanned page via ``wsdscan.virtual.images.read_marker``.

    Raises LookupError if the project does not have that function (yet)."""
    reader = _marker_reader()
    if reader is None:
        raise LookupError("wsdscan.virtual.images.read_marker does not exist")
    with Image.open(path) as image:
        marker = reader(image)
    if marker is None:
        return None
    if isinstance(marker, tuple):
        page, side = marker
    else:
        page, side = marker.sheet, marker.side
    side = getattr(side, "value", side)
    return int(page), str(side).lower()


def assert_markers(paths: list[Path], expected: list[tuple[int, str]]) -> None:
    try:
        found = [read_marker(p) for p in paths]
    except LookupError as exc:
        pytest.skip(f"page counts/sizes checked, page markers not: {exc}")
    assert found == expected, f"page markers in file order {[p.name for p in paths]}"


def scan_ok(
    rc: int, out: str, err: str, files: list[Path], server: ServedScanner
) -> None:
    """rc 0 and non-empty output files; a failing call shows the client's and server's story."""
    empty = [f.name for f in files if not f.exists() or f.stat().st_size == 0]
    assert rc == 0 and not empty, (
        f"scanimage rc={rc}, missing/empty files={empty}\nscanimage stderr:\n{err}\n"
        f"{server.log_tail()}"
    )


# ----------------------------------------------------------------------------------------
# Options the client derives from ScannerConfiguration
# ----------------------------------------------------------------------------------------


def _option_line(text: str, option: str) -> str:
    for line in text.splitlines():
        if line.strip().startswith(option + " "):
            return line.strip()
    raise AssertionError(f"option {option} not in scanimage -A output:\n{text}")


@pytest.mark.parametrize("duplex", [False, True], ids=["simplex", "duplex"])
def test_options_from_scanner_configuration(tmp_path: Path, duplex: bool) -> None:
    with ServedScanner(["--adf-sheets", "1"] + (["--duplex"] if duplex else [])) as srv:
        env, device = airscan_env(srv.url, tmp_path / "sane")
        rc, out, err = run_scanimage(["-d", device, "-A"], env, timeout=30)
        assert rc == 0, f"scanimage -A rc={rc}\n{err}\n{srv.log_tail()}"

    resolutions = "|".join(map(str, RESOLUTIONS))
    assert _option_line(out, "--resolution").startswith(
        f"--resolution {resolutions}dpi "
    )
    # BlackAndWhite1 is advertised by the server but sane-airscan 0.99.27 never offers it.
    assert _option_line(out, "--mode").startswith("--mode Color|Gray ")
    sources = "Flatbed|ADF|ADF Duplex" if duplex else "Flatbed|ADF"
    assert _option_line(out, "--source").startswith(f"--source {sources} ")
    # Flatbed geometry (default source): 8.5 x 11.69 inch in mm.
    assert _option_line(out, "-x").startswith(f"-x 0..{PLATEN_W * 25.4 / 1000:g}mm")
    assert _option_line(out, "-y").startswith(f"-y 0..{PLATEN_H * 25.4 / 1000:g}mm")


# ----------------------------------------------------------------------------------------
# Flatbed
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flatbed_server() -> Iterator[ServedScanner]:
    with ServedScanner() as srv:
        yield srv


@pytest.fixture(scope="module")
def flatbed_env(
    flatbed_server: ServedScanner, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, str], str]:
    return airscan_env(flatbed_server.url, tmp_path_factory.mktemp("sane"))


@pytest.mark.parametrize("dpi", [100, 200])
@pytest.mark.parametrize("mode", ["Color", "Gray"])
def test_flatbed(
    flatbed_server: ServedScanner,
    flatbed_env: tuple[dict[str, str], str],
    tmp_path: Path,
    dpi: int,
    mode: str,
) -> None:
    env, device = flatbed_env
    out_file = tmp_path / "flatbed.png"
    args = [
        "-d",
        device,
        "--source",
        "Flatbed",
        "--resolution",
        str(dpi),
        "--mode",
        mode,
    ]
    rc, out, err = run_scanimage(
        [*args, "--format=png", "-o", str(out_file)], env, timeout=60
    )
    scan_ok(rc, out, err, [out_file], flatbed_server)

    with Image.open(out_file) as image:
        width, height = image.size
        assert image.format == "PNG"
        assert image.mode == MODES[mode]
        # (For Gray the client would also convert an RGB reply by itself, so the wire
        # colour mode is not observable here; the zeep test checks it.)
    assert width in expected_px(PLATEN_W, dpi), (width, PLATEN_W, dpi)
    assert height in expected_px(PLATEN_H, dpi), (height, PLATEN_H, dpi)
    try:
        marker = read_marker(out_file)
    except LookupError as exc:
        warnings.warn(f"flatbed page marker not checked: {exc}", stacklevel=1)
    else:
        assert marker == (1, "front")


# ----------------------------------------------------------------------------------------
# ADF
# ----------------------------------------------------------------------------------------


def _batch(
    srv: ServedScanner, tmp_path: Path, source: str, pages: int, dpi: int = 100
) -> tuple[list[Path], int, str]:
    env, device = airscan_env(srv.url, tmp_path / "sane")
    out_dir = tmp_path / "pages"
    out_dir.mkdir()
    args = [
        "-d", device, "--source", source, "--resolution", str(dpi), "--mode", "Color",
        "--format=png", f"--batch={out_dir}/page%d.png", f"--batch-count={pages + 1}",
    ]  # fmt: skip
    rc, out, err = run_scanimage(args, env, timeout=90)
    files = sorted(out_dir.glob("page*.png"), key=lambda p: int(p.stem[4:]))
    return files, rc, err


def _check_batch(
    files: list[Path], rc: int, err: str, srv: ServedScanner, pages: int, dpi: int = 100
) -> None:
    # --batch-count is pages+1, so a feeder that runs out after `pages` ends the batch
    # with "no docs" (7); 0 is accepted as well (newer clients end quietly).
    assert rc in (0, SANE_STATUS_NO_DOCS), f"scanimage rc={rc}\n{err}\n{srv.log_tail()}"
    assert [f.name for f in files] == [f"page{i}.png" for i in range(1, pages + 1)], err
    for f in files:
        assert f.stat().st_size > 0, f"{f.name} is empty"
        with Image.open(f) as image:
            assert image.format == "PNG" and image.mode == "RGB", (
                f.name,
                image.format,
                image.mode,
            )
            assert image.size[0] in expected_px(ADF_W, dpi), (f.name, image.size)
            assert image.size[1] in expected_px(ADF_H, dpi), (f.name, image.size)


def test_adf_batch_five_sheets(tmp_path: Path) -> None:
    with ServedScanner(["--adf-sheets", "5"]) as srv:
        files, rc, err = _batch(srv, tmp_path, "ADF", pages=5)
        _check_batch(files, rc, err, srv, pages=5)
    assert_markers(files, [(sheet, "front") for sheet in range(1, 6)])


def test_adf_duplex_three_sheets(tmp_path: Path) -> None:
    with ServedScanner(["--adf-sheets", "3", "--duplex"]) as srv:
        files, rc, err = _batch(srv, tmp_path, "ADF Duplex", pages=6)
        _check_batch(files, rc, err, srv, pages=6)
    assert_markers(
        files, [(sheet, side) for sheet in (1, 2, 3) for side in ("front", "back")]
    )


# ----------------------------------------------------------------------------------------
# Cancel (SIGINT) in the middle of a slow scan, then a normal scan
# ----------------------------------------------------------------------------------------


def test_sigint_cancels_scan_and_server_keeps_serving(tmp_path: Path) -> None:
    # The virtual scanner takes 4 s per page, so SIGINT lands while RetrieveImage is open.
    with ServedScanner(["--scan-delay", "4"]) as srv:
        env, device = airscan_env(srv.url, tmp_path / "sane")
        out_file = tmp_path / "cancelled.png"
        cmd = [
            require_tool("scanimage"), "-d", device, "--resolution", "100",
            "--format=png", "-o", str(out_file),
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            time.sleep(1.5)
            if proc.poll() is not None:
                _, err = proc.communicate()
                pytest.fail(
                    f"scanimage ended before SIGINT: rc={proc.returncode}\n{err.decode()}\n{srv.log_tail()}"
                )
            t0 = time.monotonic()
            proc.send_signal(signal.SIGINT)
            _, err_b = proc.communicate(timeout=30)
            cancel_s = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err = err_b.decode("utf-8", "replace")
        assert (
            proc.returncode == SANE_STATUS_CANCELLED
        ), f"rc={proc.returncode}\n{err}\n{srv.log_tail()}"
        assert "cancel" in err.lower(), err
        assert cancel_s < 10, f"cancel took {cancel_s:.1f} s"
        assert srv.alive(), srv.log_tail()
        # The interrupted job ended Canceled (CancelJob) or Aborted, per GetJobHistory.
        states = _job_history_states(srv.url)
        assert states and states[-1] in {"Canceled", "Aborted"}, states

        # The scanner must be usable again straight away (no stuck job, not "busy").
        after = tmp_path / "after.png"
        args = [
            "-d",
            device,
            "--resolution",
            "100",
            "--mode",
            "Color",
            "--format=png",
            "-o",
            str(after),
        ]
        rc, out, err = run_scanimage(args, env, timeout=60)
        scan_ok(rc, out, err, [after], srv)
        with Image.open(after) as image:
            assert image.mode == "RGB"
            assert image.size == (
                min(expected_px(PLATEN_W, 100)),
                min(expected_px(PLATEN_H, 100)),
            )

        # And the project's own client still gets a description from it.
        info = subprocess.run(
            [sys.executable, "-m", "wsdscan", "info", srv.url],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert info.returncode == 0, f"wsdscan info rc={info.returncode}\n{info.stderr}"
        assert "Platen" in info.stdout, info.stdout


def _job_history_states(url: str) -> list[str]:
    """JobState of each ended job, oldest first, read with our sync client."""
    from wsdscan.generated import ScannerServiceSyncClient
    from wsdscan.runtime.transport.sync import SyncRunner

    with SyncRunner() as runner:
        history = ScannerServiceSyncClient.connect(url, runner).get_job_history()
    summaries = history.job_history.job_summary if history.job_history else []
    ordered = sorted(summaries, key=lambda summary: summary.job_id)
    return [str(getattr(s.job_state, "value", s.job_state)) for s in ordered]


# ----------------------------------------------------------------------------------------
# A device profile: the Kyocera ECOSYS M2040dn's capabilities (wsdscan serve --profile)
# ----------------------------------------------------------------------------------------

# Its maximum size is 14016 x 8504 (wider than high); sane-airscan swaps such a size
# (a Kyocera workaround), so it asks for 8504 x 14016 and gets it in that orientation.
KYOCERA_W, KYOCERA_H = 8504, 14016


def test_kyocera_profile_options_flatbed_and_adf(tmp_path: Path) -> None:
    with ServedScanner(["--profile", "kyocera-m2040dn", "--adf-sheets", "2"]) as srv:
        env, device = airscan_env(srv.url, tmp_path / "sane")
        rc, out, err = run_scanimage(["-d", device, "-A"], env, timeout=30)
        assert rc == 0, f"scanimage -A rc={rc}\n{err}\n{srv.log_tail()}"
        # Widths 200-600 and Heights 100-600: the client offers what both allow.
        assert _option_line(out, "--resolution").startswith(
            "--resolution 200|300|400|600dpi "
        )
        assert _option_line(out, "--source").startswith(
            "--source Flatbed|ADF|ADF Duplex "
        )

        # Flatbed: no png advertised, so the wire format is jfif (sane-airscan
        # prefers png, then jfif); scanimage writes PNG.
        out_file = tmp_path / "kyocera.png"
        args = ["-d", device, "--resolution", "200", "--mode", "Gray"]
        rc, out, err = run_scanimage(
            [*args, "--format=png", "-o", str(out_file)], env, timeout=60
        )
        scan_ok(rc, out, err, [out_file], srv)
        with Image.open(out_file) as image:
            assert image.mode == "L"
            assert image.size[0] in expected_px(KYOCERA_W, 200), image.size
            assert image.size[1] in expected_px(KYOCERA_H, 200), image.size
        assert read_marker(out_file) == (1, "front")

        # ADF: both sheets of the feeder.
        files, rc, err = _batch(srv, tmp_path / "adf", "ADF", pages=2, dpi=200)
        assert rc in (0, SANE_STATUS_NO_DOCS), f"rc={rc}\n{err}\n{srv.log_tail()}"
        assert [f.name for f in files] == ["page1.png", "page2.png"], err
        for f in files:
            with Image.open(f) as image:
                assert image.size[0] in expected_px(KYOCERA_W, 200), image.size
    assert_markers(files, [(1, "front"), (2, "front")])
