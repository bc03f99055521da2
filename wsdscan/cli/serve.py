"""``wsdscan serve``: the virtual scanner under uvicorn, a DPWS device, optionally
announced by WS-Discovery."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from wsdscan.cli.argtypes import int_range, non_negative_float, positive_float
from wsdscan.runtime.defaults import (
    DEFAULT_MAX_BODY,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
    MAX_DEPTH,
    MAX_DEPTH_CEILING,
)

if TYPE_CHECKING:
    from wsdscan.cli import SubParsers
    from wsdscan.virtual import DeviceProfile, VirtualScanner

SCAN_PATH = "/WSDScanner"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def add_parser(sub: SubParsers[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the virtual scanner")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--port",
        type=int_range(0, 65535),
        default=5358,
        help="0 picks a free port (default 5358)",
    )
    add_scanner_options(serve)
    serve.add_argument(
        "--log-level", choices=LOG_LEVELS, default="warning", type=str.lower
    )
    serve.add_argument(
        "--announce",
        action="store_true",
        help="WS-Discovery on the --host interface (Hello/Bye, answer Probe/Resolve "
        "on UDP 3702); off by default: no multicast is sent without it",
    )
    serve.add_argument(
        "--device-uuid",
        default=None,
        help="device endpoint UUID (default: derived from host, port and name)",
    )
    serve.add_argument(
        "--max-body",
        type=int_range(1024),
        default=DEFAULT_MAX_BODY,
        help=f"largest request body in bytes (default {DEFAULT_MAX_BODY})",
    )
    serve.add_argument(
        "--read-timeout",
        type=positive_float,
        default=DEFAULT_READ_TIMEOUT,
        help="seconds a client gets to send its request line and headers (from "
        "connecting, or from the first byte of a later request), and again its body "
        f"(default {DEFAULT_READ_TIMEOUT:g})",
    )
    serve.add_argument(
        "--write-timeout",
        type=positive_float,
        default=DEFAULT_WRITE_TIMEOUT,
        help="seconds a response may stay unread before the connection is dropped "
        f"(a job whose image it was ends Aborted; default {DEFAULT_WRITE_TIMEOUT:g})",
    )
    # libxml2 itself refuses nesting beyond MAX_DEPTH_CEILING (without huge_tree).
    serve.add_argument(
        "--max-depth",
        type=int_range(1, MAX_DEPTH_CEILING),
        default=MAX_DEPTH,
        metavar=f"1-{MAX_DEPTH_CEILING}",
        help=f"deepest XML element nesting accepted (default {MAX_DEPTH})",
    )


def add_scanner_options(parser: argparse.ArgumentParser) -> None:
    """The virtual scanner's own options."""
    parser.add_argument(
        "--profile",
        default="default",
        metavar="NAME|FILE",
        help="advertise and honour a real device's capabilities: a shipped profile "
        "(default: the built-in scanner; kyocera-m2040dn) or a file holding a "
        "GetScannerElementsResponse (a SOAP envelope or the bare element)",
    )
    parser.add_argument(
        "--adf-sheets",
        type=int_range(0),
        default=5,
        help="sheets in the feeder (default 5)",
    )
    parser.add_argument("--duplex", action="store_true", help="sheets have two sides")
    parser.add_argument(
        "--scan-delay",
        type=non_negative_float,
        default=0.0,
        help="seconds per page (default 0)",
    )
    parser.add_argument(
        "--max-active-jobs",
        type=int_range(1, 1000),
        default=1,
        help="jobs active at once (default 1, as a real scanner)",
    )
    parser.add_argument(
        "--png-compress-level",
        type=int_range(0, 9),
        default=None,
        metavar="0-9",
        help="zlib level of PNG pages (0: large, barely compressed)",
    )
    parser.add_argument(
        "--history-size",
        type=int_range(0, 100_000),
        default=20,
        help="ended jobs remembered for GetJobHistory/GetJobElements (default 20)",
    )
    parser.add_argument(
        "--image-cache",
        type=int_range(0, 10_000),
        default=0,
        help="finished pages kept for reuse (pages are deterministic; default 0)",
    )


def virtual_scanner(
    args: argparse.Namespace, profile: DeviceProfile | None = None
) -> VirtualScanner:
    """A VirtualScanner configured from ``args`` (options it lacks keep defaults) and
    ``profile`` (None: the built-in scanner)."""
    from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

    options = (
        "adf_sheets",
        "duplex",
        "scan_delay",
        "max_active_jobs",
        "png_compress_level",
        "image_cache",
        "history_size",
    )
    config = VirtualScannerConfig(
        **{name: getattr(args, name) for name in options if hasattr(args, name)},
        profile=profile,
    )
    return VirtualScanner(config)


def load_profile(args: argparse.Namespace) -> DeviceProfile | None:
    """The ``--profile`` of ``args`` (None: the built-in scanner). ProfileError (its
    message names the file and the problem) for one that cannot be used, or that
    contradicts ``--duplex``."""
    import logging

    from wsdscan.virtual.profiles import ProfileError
    from wsdscan.virtual.profiles import load_profile as load

    # What a profile left out or had filled in is logged: "wsdscan: ..." on stderr.
    name = "DEBUG" if args.log_level == "trace" else str(args.log_level).upper()
    logger = logging.getLogger("wsdscan")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("wsdscan: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.getLevelNamesMapping().get(name, logging.WARNING))
    profile = load(args.profile)
    if profile is not None and args.duplex and not profile.duplex:
        raise ProfileError(f"{args.profile}: --duplex, but the profile's ADF has none")
    return profile


async def run(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import signal
    import sys

    from wsdscan.discover import (
        announce_interface,
        announcing,
        device_endpoint,
        with_device_endpoint,
    )
    from wsdscan.press import serve_eventing
    from wsdscan.runtime.server import ServerLimits, SoapApp, bind_socket, make_server

    limits = ServerLimits(
        max_body=args.max_body,
        read_timeout=args.read_timeout,
        write_timeout=args.write_timeout,
        max_depth=args.max_depth,
    )
    from wsdscan.virtual.profiles import ProfileError

    try:
        profile = load_profile(args)
    except ProfileError as exc:
        print(f"wsdscan: {exc}", file=sys.stderr)
        return 2
    scanner = virtual_scanner(args, profile)
    # WS-Eventing (Subscribe/Renew/GetStatus/Unsubscribe) and the scan button on the
    # scan endpoint; on exit every subscriber gets SubscriptionEnd.
    eventing = serve_eventing(scanner)
    app = SoapApp(scanner, path=SCAN_PATH, limits=limits, handlers=eventing.handlers)
    try:
        interface = announce_interface(args.host) if args.announce else None
    except ValueError as exc:
        print(f"wsdscan: {exc}", file=sys.stderr)
        return 2
    sock = bind_socket(args.host, args.port)
    # The DPWS device endpoint (WS-Transfer Get, directed Probe) on the same port.
    device = device_endpoint(
        scanner.config,
        host=args.host,
        port=sock.getsockname()[1],
        scan_path=SCAN_PATH,
        device_uuid=args.device_uuid,
    )
    # The device endpoint apps get the same limits as the scan service (they parse
    # requests from the same clients).
    server = make_server(
        with_device_endpoint(app, device, limits),
        log_level=args.log_level,
        read_timeout=limits.read_timeout,  # also bounds the wait for request headers
        write_timeout=limits.write_timeout,
    )
    host = f"[{args.host}]" if ":" in args.host else args.host
    # The first line on stdout is the scan service URL (scripts and tests read it).
    print(f"http://{host}:{sock.getsockname()[1]}{SCAN_PATH}", flush=True)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(
                signum, lambda: setattr(server, "should_exit", True)
            )
    # WS-Discovery (Hello/Bye, Probe/Resolve on UDP 3702) only with --announce.
    async with announcing(device, interface):
        await server.serve(sockets=[sock])
    await eventing.aclose()
    return 0
