"""SyncRunner (the engine of every blocking facade) when the waiting thread is
interrupted: the coroutine is cancelled on the loop and its cleanup runs before the
KeyboardInterrupt goes on, instead of running on unseen."""

from __future__ import annotations

import asyncio
import signal
import threading

import pytest
from wsdscan.generated.stubs.faults import ClientErrorJobIdNotFound
from wsdscan.runtime.errors import WsdScanError
from wsdscan.runtime.transport import SyncRunner


def test_an_interrupted_wait_cancels_the_coroutine_and_waits_for_its_cleanup() -> None:
    cleaned = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)  # a CancelJob on its way
            cleaned.set()
            raise

    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
    with SyncRunner() as runner:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            runner.run(slow())
        assert cleaned.is_set()
        assert runner.run(asyncio.sleep(0, "still usable")) == "still usable"


def test_soap_faults_are_wsdscan_errors() -> None:
    assert isinstance(ClientErrorJobIdNotFound(), WsdScanError)
