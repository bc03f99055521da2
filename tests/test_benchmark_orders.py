"""The order of the cases in benchmarks/mtom.py's rounds (``balanced_orders``): a
Williams design, so that no case inherits another's after-effects more often than
the rest (a run right after our server's transfer is slower, whoever runs)."""

from __future__ import annotations

import runpy
from collections import Counter
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).parent.parent / "benchmarks" / "mtom.py"


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 7])
def test_each_case_follows_every_other_equally_often(n: int) -> None:
    orders = runpy.run_path(str(BENCHMARK), run_name="benchmark")["balanced_orders"](n)
    assert len(orders) == (2 * n if n % 2 else n)
    assert all(sorted(order) == list(range(n)) for order in orders)
    follows = Counter(
        (a, b) for order in orders for a, b in zip(order, order[1:], strict=False)
    )
    assert set(follows) == {(a, b) for a in range(n) for b in range(n) if a != b}
    assert len(set(follows.values())) == 1
    places = Counter((case, i) for order in orders for i, case in enumerate(order))
    assert len(places) == n * n and len(set(places.values())) == 1
