"""argparse types that check ranges, so a bad value is a usage error (exit 2, one
line) instead of a traceback later."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


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
