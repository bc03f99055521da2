"""Importing the runtime does not drag in httpx's command line (click, rich, pygments:
about 50 ms and 3 MiB a process), which httpx imports by itself whenever those are
installed; and httpx's command line still works for whoever imports it."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROGRAM = """
import sys
import {module}
print("rich" in sys.modules, "httpx._main" in sys.modules)
import httpx._main
print(callable(httpx._main.main))
"""


@pytest.mark.parametrize(
    "module",
    [
        "wsdscan.runtime.transport",
        "wsdscan.runtime.eventing",
        "wsdscan.generated.stubs.client",
        "wsdscan.scanning",
    ],
)
def test_runtime_imports_httpx_without_its_command_line(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(module=module)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "True"]
