"""``wsdscan info URL``: what a scanner says about itself: description, what each
source offers, its state with the reasons and conditions in words, and its active
jobs; ``--json`` for programs."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wsdscan.cli import SubParsers
    from wsdscan.device import ActiveJob, ScannerCapabilities


def add_parser(sub: SubParsers[argparse.ArgumentParser]) -> None:
    info = sub.add_parser("info", help="describe a WS-Scan scanner")
    info.add_argument("url")
    info.add_argument(
        "--json",
        action="store_true",
        help="one JSON document: description, configuration, status, active jobs",
    )


def describe(info: ScannerCapabilities, jobs: list[ActiveJob] | None = None) -> str:
    """A person-readable summary of a scanner's description, configuration, status
    and (when given) active jobs."""
    from wsdscan.messages import STATE_WORDS, reason_words

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
        caps = info.capabilities(source)
        width, height = caps.max_size
        lines.append(
            f"{source}: {', '.join(map(str, caps.resolutions))} dpi; "
            f"{', '.join(caps.color_modes)}; up to {width / 1000:.2f} x "
            f"{height / 1000:.2f} in ({width * 0.0254:.0f} x {height * 0.0254:.0f} mm)"
        )
    if info.state is not None:
        reasons = [f"{reason_words(r)} ({r})" for r in info.state_reasons]
        words = STATE_WORDS.get(info.state, info.state)
        lines.append(
            f"State: {info.state} ({words})"
            + (f": {', '.join(reasons)}" if reasons else "")
        )
    for condition in info.conditions:
        lines.append(
            f"Condition: {reason_words(condition.name)} ({condition.name}, "
            f"{condition.component}, {condition.severity})"
        )
    if jobs is not None:
        lines.append(f"Active jobs: {len(jobs)}")
        for job in jobs:
            why = (
                f" ({', '.join(map(reason_words, job.reasons))})" if job.reasons else ""
            )
            lines.append(
                f"  job {job.job_id} {job.name!r} of {job.user}: {job.state}{why}, "
                f"{job.scans_completed} image(s) done"
            )
    return "\n".join(lines)


def as_json(url: str, info: ScannerCapabilities, jobs: list[ActiveJob] | None) -> str:
    import dataclasses
    import json

    document: dict[str, Any] = {"url": url, **info.summary()}
    document["active_jobs"] = (
        None if jobs is None else [dataclasses.asdict(job) for job in jobs]
    )
    return json.dumps(document, indent=2)


async def run(args: argparse.Namespace) -> int:
    from wsdscan.runtime.errors import WsdScanError
    from wsdscan.scanning import ScannerSession

    async with ScannerSession(args.url) as session:
        info = await session.info()
        jobs: list[ActiveJob] | None
        try:
            jobs = await session.active_jobs()
        except WsdScanError:
            jobs = None  # optional for a scanner to answer; the rest still stands
    print(as_json(args.url, info, jobs) if args.json else describe(info, jobs))
    return 0
