"""argparse types that check ranges, so a bad value is a usage error (exit 2, one
line) instead of a traceback later."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from wsdscan.errors import UnsupportedOption
from wsdscan.options import PAPER_SIZES_MM, Kind, canonical, paper_size


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def int_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """An integer type accepting ``low`` to ``high`` (no upper bound when None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text}") from None
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {text}")
        return value

    parse.__name__ = "int"
    return parse


def host_port(text: str) -> tuple[str, int | None]:
    """``HOST`` or ``HOST:PORT`` (an IPv6 address without a port stays whole)."""
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        number = int(port)
        if not 1 <= number <= 65535:
            raise argparse.ArgumentTypeError(f"port out of range in {text}")
        return host, number
    return text, None


def named(kind: Kind) -> Callable[[str], str]:
    """A source, colour mode or format in any case or by an alias (wsdscan.options),
    as the schema spells it."""

    def parse(text: str) -> str:
        try:
            return canonical(kind, text)
        except UnsupportedOption as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = kind
    return parse


def paper(text: str) -> str:
    """A paper size name (any case), as wsdscan.options spells it."""
    try:
        paper_size(text)
    except UnsupportedOption as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return next(n for n in PAPER_SIZES_MM if n.lower() == text.strip().lower())
