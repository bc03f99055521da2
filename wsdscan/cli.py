"""``wsdscan``: run a virtual scanner, scan from any WS-Scan scanner, show what it is.

    wsdscan serve [--host ADDR] [--port N] [--adf-sheets N] [--duplex]
                  [--scan-delay S] [--log-level LEVEL] [--announce]
                  [--device-uuid UUID] [--max-body BYTES] [--read-timeout S]
                  [--write-timeout S] [--max-depth N] [--max-active-jobs N]
                  [--png-compress-level 0-9] [--history-size N] [--image-cache N]
    wsdscan scan URL -o FILE [--source Platen|ADF|ADFDuplex] [--resolution DPI]
                 [--color MODE] [--format png|jfif]
    wsdscan info URL
    wsdscan demo [-o FILE]
    wsdscan press URL (--destination NAME | --jam | --clear-jam)
    wsdscan receive URL --name NAME --dir DIR [--source ...] [--resolution DPI]
                    [--color MODE] [--format ...] [--expires S] [--listen ADDR]
    wsdscan discover [--timeout S] [--interface IPV4]... [--address HOST[:PORT]]...

``wsdscan COMMAND --help`` describes every option.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import signal
import sys

from wsdscan import __version__
from wsdscan.discover import (
    add_discover_parser,
    announce_interface,
    announcing,
    device_endpoint,
    run_discover,
    with_device_endpoint,
)
from wsdscan.runtime.errors import WsdScanError
from wsdscan.runtime.faults import SoapFault
from wsdscan.runtime.serve import bind_socket, make_server, running
from wsdscan.runtime.server import (
    DEFAULT_MAX_BODY,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
    ServerLimits,
    SoapApp,
)
from wsdscan.runtime.xmlbind import MAX_DEPTH, MAX_DEPTH_CEILING
from wsdscan.scanning import (
    COLOR_MODES,
    FORMATS,
    SOURCES,
    PageNamer,
    ScanError,
    ScannerInfo,
    ScannerSession,
)

SCAN_PATH = "/WSDScanner"


def _virtual_scanner(args: argparse.Namespace) -> object:
    from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

    # `serve` has every option; `demo` only some: the config's defaults fill the rest.
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
        **{name: getattr(args, name) for name in options if hasattr(args, name)}
    )
    return VirtualScanner(config)


async def _serve(args: argparse.Namespace) -> int:
    limits = ServerLimits(
        max_body=args.max_body,
        read_timeout=args.read_timeout,
        write_timeout=args.write_timeout,
        max_depth=args.max_depth,
    )
    from wsdscan.press import serve_eventing
    from wsdscan.virtual import VirtualScanner

    scanner = _virtual_scanner(args)
    assert isinstance(scanner, VirtualScanner)
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


class _Progress:
    """A one-line progress display on a terminal; silent otherwise."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def __call__(self, page: int, received: int) -> None:
        if self.enabled:
            print(
                f"\rpage {page}: {received / 1024:10.1f} KiB",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def done(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


async def _scan(args: argparse.Namespace) -> int:
    namer = PageNamer(
        args.output, extension=".jpg" if args.format == "jfif" else ".png"
    )
    progress = _Progress()
    async with ScannerSession(args.url) as session:
        pages = await session.scan(
            namer,
            source=args.source,
            resolution=args.resolution,
            color=args.color,
            format=args.format,
            progress=progress,
        )
    progress.done()
    for page in pages:
        print(page)
    return 0


def describe(info: ScannerInfo) -> str:
    """A person-readable summary of a scanner's description, configuration and status."""
    lines = [f"Scanner: {info.name}"]
    if info.description is not None:
        for label, values in (
            ("Info", info.description.scanner_info),
            ("Location", info.description.scanner_location),
        ):
            for value in values:
                lines.append(f"{label}: {getattr(value, 'value', value)}")
    if info.formats:
        lines.append(f"Formats: {', '.join(info.formats)}")
    for source in info.sources():
        resolutions, colors, (width, height) = info.source_capabilities(source)
        lines.append(
            f"{source}: {', '.join(map(str, resolutions))} dpi; {', '.join(colors)}; "
            f"up to {width / 1000:.2f} x {height / 1000:.2f} in"
        )
    if info.status is not None:
        state = getattr(info.status.scanner_state, "value", info.status.scanner_state)
        reasons = [
            str(getattr(reason, "value", reason))
            for reason in getattr(
                info.status.scanner_state_reasons, "scanner_state_reason", []
            )
        ]
        lines.append(
            f"State: {state}" + (f" ({', '.join(reasons)})" if reasons else "")
        )
    return "\n".join(lines)


async def _info(args: argparse.Namespace) -> int:
    async with ScannerSession(args.url) as session:
        print(describe(await session.info()))
    return 0


async def _demo(args: argparse.Namespace) -> int:
    args.adf_sheets, args.duplex, args.scan_delay = 0, False, 0.0
    async with running(SoapApp(_virtual_scanner(args), path=SCAN_PATH)) as server:
        url = server.url(SCAN_PATH)
        print(f"virtual scanner at {url}")
        async with ScannerSession(url) as session:
            info = await session.info()
            print(describe(info))
            pages = await session.scan(
                PageNamer(args.output),
                source="Platen",
                resolution=100,
                color="RGB24",
                format="png",
            )
    for page in pages:
        print(f"scanned {page} ({page.stat().st_size} bytes)")
    return 0


def _positive_float(text: str) -> float:
    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _max_depth(text: str) -> int:
    value = int(text)
    # libxml2 itself refuses nesting beyond MAX_DEPTH_CEILING (without huge_tree).
    if not 1 <= value <= MAX_DEPTH_CEILING:
        raise argparse.ArgumentTypeError(
            f"must be between 1 and {MAX_DEPTH_CEILING}, not {text}"
        )
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wsdscan", description="WS-Scan (WSD scanning) tools"
    )
    parser.add_argument(
        "--version", action="version", version=f"wsdscan {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the virtual scanner")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5358, help="0 picks a free port")
    serve.add_argument(
        "--adf-sheets", type=int, default=5, help="sheets in the feeder (default 5)"
    )
    serve.add_argument("--duplex", action="store_true", help="sheets have two sides")
    serve.add_argument("--scan-delay", type=float, default=0.0, help="seconds per page")
    serve.add_argument("--log-level", default="warning")
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
        type=int,
        default=DEFAULT_MAX_BODY,
        help=f"largest request body in bytes (default {DEFAULT_MAX_BODY})",
    )
    serve.add_argument(
        "--read-timeout",
        type=_positive_float,
        default=DEFAULT_READ_TIMEOUT,
        help="seconds a client gets to send its request line and headers (from "
        "connecting, or from the first byte of a later request), and again its body "
        f"(default {DEFAULT_READ_TIMEOUT:g})",
    )
    serve.add_argument(
        "--write-timeout",
        type=_positive_float,
        default=DEFAULT_WRITE_TIMEOUT,
        help="seconds a response may stay unread before the connection is dropped "
        f"(a job whose image it was ends Aborted; default {DEFAULT_WRITE_TIMEOUT:g})",
    )
    serve.add_argument(
        "--max-depth",
        type=_max_depth,
        default=MAX_DEPTH,
        metavar=f"1-{MAX_DEPTH_CEILING}",
        help=f"deepest XML element nesting accepted (default {MAX_DEPTH})",
    )
    serve.add_argument(
        "--max-active-jobs",
        type=int,
        default=1,
        help="jobs active at once (default 1, as a real scanner)",
    )
    serve.add_argument(
        "--png-compress-level",
        type=int,
        choices=range(10),
        default=None,
        metavar="0-9",
        help="zlib level of PNG pages (0: large, barely compressed)",
    )
    serve.add_argument(
        "--history-size",
        type=int,
        default=20,
        help="ended jobs remembered for GetJobHistory/GetJobElements (default 20)",
    )
    serve.add_argument(
        "--image-cache",
        type=int,
        default=0,
        help="finished pages kept for reuse (pages are deterministic; default 0)",
    )

    scan = sub.add_parser("scan", help="scan from a WS-Scan scanner")
    scan.add_argument("url")
    scan.add_argument(
        "-o", "--output", required=True, help="file, %%d pattern, or folder"
    )
    scan.add_argument("--source", choices=SOURCES, default="Platen")
    scan.add_argument("--resolution", type=int, default=300)
    scan.add_argument("--color", choices=COLOR_MODES, default="RGB24")
    scan.add_argument("--format", choices=FORMATS, default="png")

    info = sub.add_parser("info", help="describe a WS-Scan scanner")
    info.add_argument("url")

    demo = sub.add_parser(
        "demo", help="start a virtual scanner, scan one page from it, stop"
    )
    demo.add_argument("-o", "--output", default="demo-page.png")

    from wsdscan.press import add_press_parser
    from wsdscan.receive import add_receive_parser

    add_press_parser(sub)
    add_receive_parser(sub)
    add_discover_parser(sub)
    return parser


async def _press(args: argparse.Namespace) -> int:
    from wsdscan.press import press_command

    return await press_command(args)


async def _receive(args: argparse.Namespace) -> int:
    from wsdscan.receive import receive_command

    return await receive_command(args)


COMMANDS = {
    "serve": _serve,
    "scan": _scan,
    "info": _info,
    "demo": _demo,
    "press": _press,
    "receive": _receive,
    "discover": run_discover,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(COMMANDS[args.command](args))
    except KeyboardInterrupt:
        return 130
    except SoapFault as fault:
        print(f"wsdscan: the scanner answered a fault: {fault}", file=sys.stderr)
        return 1
    except (ScanError, WsdScanError, OSError) as exc:
        print(f"wsdscan: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
