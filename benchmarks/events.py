"""Time for one event to reach 200 event sinks (target: under 1 s on 2 cores).

    python benchmarks/events.py [--sinks 200] [--runs 5]

The sinks run in a child process (one uvicorn server, one EventSinkApp path per
sink, as 200 PCs would each run one); the event source is this process: the virtual
scanner's SubscriptionManager behind a SoapApp, with one real Subscribe per sink. A
run is publish (one JobStatusEvent) until every sink answered 202 (``drain``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time

from lxml import etree
from wsdscan.generated import EVENT_ROUTES
from wsdscan.generated import routes as gen_routes
from wsdscan.generated.models import scan
from wsdscan.runtime.eventing import EventSinkApp, SubscriptionManager, wire
from wsdscan.runtime.eventing.receiver import running_sink
from wsdscan.runtime.server import SoapApp, running
from wsdscan.runtime.transport import UNLIMITED, SoapClient
from wsdscan.runtime.xmlbind import WSA, WSE

from wsdscan.virtual import VirtualScanner

TARGET_SECONDS = 1.0


async def _serve_sinks(count: int) -> None:
    app = EventSinkApp(EVENT_ROUTES)
    for index in range(count):
        app.register(str(index), object(), None)
    async with running_sink(app, "127.0.0.1", 0) as server:
        print(server.url(""), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def _subscribe_body(notify_to: str) -> etree._Element:
    body = etree.Element(wire.wse("Subscribe"), nsmap={"wse": WSE, "wsa": WSA})
    delivery = etree.SubElement(body, wire.wse("Delivery"), Mode=wire.PUSH_MODE)
    delivery.append(wire.EndpointReference(notify_to).element(wire.wse("NotifyTo")))
    body.append(wire.filter_element([gen_routes.JOB_STATUS_EVENT.action]))
    return body


def _event(job_id: int) -> scan.JobStatusEvent:
    return scan.JobStatusEvent(
        job_status=scan.JobStatus(
            job_id=job_id,
            job_state=scan.JobStateKnownValue.PROCESSING,
            job_state_reasons=scan.JobStateReasons(
                job_state_reason=[
                    scan.JobStateReasonKnownValue.JOB_SCANNING_AND_TRANSFERRING
                ]
            ),
            scans_completed=job_id,
        )
    )


async def _measure(sinks: int, runs: int) -> list[float]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve-sinks", str(sinks)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        base = child.stdout.readline().strip()
        manager = SubscriptionManager(routes=EVENT_ROUTES)
        app = SoapApp(VirtualScanner(), handlers=manager.handlers())
        async with (
            running(app) as server,
            SoapClient(timeout=10, limits=UNLIMITED) as client,
        ):
            url = server.url("/WSDScanner")
            await asyncio.gather(
                *(
                    client.request(
                        url,
                        wire.SUBSCRIBE,
                        _subscribe_body(f"{base}/events/{i}"),
                    )
                    for i in range(sinks)
                )
            )
            times = []
            for run in range(runs + 1):  # the first run opens the connections
                started = time.perf_counter()
                queued = manager.publish_nowait(
                    gen_routes.JOB_STATUS_EVENT, _event(run)
                )
                await manager.drain()
                elapsed = time.perf_counter() - started
                delivered = [s.outbox.delivered for s in manager.subscriptions]
                failures = [s.outbox.failures for s in manager.subscriptions]
                assert queued == sinks and delivered == [run + 1] * sinks, (
                    delivered,
                    failures,
                )
                if run:
                    times.append(elapsed)
            await manager.aclose()
        return times
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sinks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--serve-sinks", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sinks:
        asyncio.run(_serve_sinks(args.serve_sinks))
        return 0
    times = asyncio.run(_measure(args.sinks, args.runs))
    best, median = min(times), statistics.median(times)
    print(f"sinks={args.sinks} runs={args.runs} best={best:.3f}s median={median:.3f}s")
    print(f"events: median_s={median:.3f} target_met={median < TARGET_SECONDS}")
    return 0 if median < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
