"""Delivery to one event sink: a bounded queue and the task that drains it.

Each subscription has its own :class:`Outbox`, so a slow or dead sink only ever
delays itself: the publisher only enqueues, and every POST has its own timeout.
A sink whose deliveries fail ``max_failures`` times in a row, or whose queue overflows,
is reported through ``on_failed`` (the manager ends the subscription with
DeliveryFailure).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import httpx

from ..defaults import DELIVERY_TIMEOUT
from ..transport.soap_client import SoapClient
from . import wire

log = logging.getLogger("wsdscan.eventing")

# A small pool per sink: httpcore's pool scans every connection for each request, so
# one pool for hundreds of sinks is quadratic.
_SINK_LIMITS: Final = httpx.Limits(max_connections=2, max_keepalive_connections=1)

DEFAULT_QUEUE_SIZE: Final = 64
DEFAULT_MAX_FAILURES: Final = 3


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard the event source tries: ``timeout`` seconds per POST, ``queue_size``
    notifications waiting per sink, ``max_failures`` failed POSTs in a row before the
    sink is dropped."""

    timeout: float = DELIVERY_TIMEOUT
    queue_size: int = DEFAULT_QUEUE_SIZE
    max_failures: int = DEFAULT_MAX_FAILURES

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.queue_size < 1 or self.max_failures < 1:
            raise ValueError("timeout > 0, queue_size >= 1 and max_failures >= 1")


async def wait_ended(task: asyncio.Task[Any], *, cancel: bool = True) -> None:
    """Cancel ``task`` (unless ``cancel`` is False) and wait until it has ended,
    swallowing its own CancelledError but not one aimed at the caller: suppressing
    that would let a cancelled caller carry on as if nothing happened. The caller's
    cancellation count tells them apart (a caller already cleaning up after being
    cancelled still waits the task out)."""
    current = asyncio.current_task()
    before = current.cancelling() if current is not None else 0
    if cancel:
        task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        if current is not None and current.cancelling() > before:
            raise


class Outbox:
    """The notifications waiting for one sink, delivered in order by one task."""

    def __init__(
        self,
        address: str,
        policy: DeliveryPolicy,
        on_failed: Callable[[str], None],
    ) -> None:
        self.address = address
        self.policy = policy
        self.delivered = 0
        self.failures = 0
        self._client: SoapClient | None = None
        self._on_failed = on_failed
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(policy.queue_size)
        self._task: asyncio.Task[None] | None = None
        self._failed = False

    def offer(self, data: bytes) -> bool:
        """Queue one message without waiting; False (and the sink counts as failed)
        when its queue is full or it already failed."""
        if self._failed:
            return False
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            self._fail(f"queue of {self.policy.queue_size} notifications is full")
            return False
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"outbox {self.address}")
        return True

    def _fail(self, why: str) -> None:
        if not self._failed:
            self._failed = True
            log.warning("dropping event sink %s: %s", self.address, why)
            self._on_failed(why)

    async def _run(self) -> None:
        self._client = SoapClient(timeout=self.policy.timeout, limits=_SINK_LIMITS)
        try:
            await self._deliver()
        finally:
            await self._client.aclose()

    async def _deliver(self) -> None:
        assert self._client is not None
        while True:
            data = await self._queue.get()
            try:
                await asyncio.wait_for(
                    self._client.post_one_way(self.address, data, limit=wire.MAX_REPLY),
                    self.policy.timeout,
                )
            except Exception as exc:  # timeout, refused, HTTP error: all the same
                self.failures += 1
                log.info("delivery to %s failed: %r", self.address, exc)
                if self.failures >= self.policy.max_failures:
                    self._fail(f"{self.failures} deliveries failed in a row")
            else:
                self.failures = 0
                self.delivered += 1
            finally:
                self._queue.task_done()
            if self._failed:
                self._discard()
                return

    def _discard(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
            self._queue.task_done()

    async def join(self) -> None:
        """Wait until every queued message was delivered (or failed)."""
        if self._task is not None and not self._task.done():
            await self._queue.join()

    async def aclose(self) -> None:
        """Stop delivering; queued messages are dropped."""
        self._failed = True
        if self._task is not None:
            await wait_ended(self._task)
        self._discard()
