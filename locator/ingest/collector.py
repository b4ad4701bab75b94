"""Keeping Python's cyclic garbage collector out of a bulk import's way.

An offline import keeps what it loads for its whole run (GeoPandas and pandas, the communes' contours,
the store's snapshot, the rows it will report): each full collection scanned all of it again, several
times a run, and freed nothing (scripts/bench_import.py, mixed file: 8 full passes, a tenth of the
import's time). Objects alive at each step are moved out of the scans (`gc.freeze`); reference counting
still frees every object as usual, only reference cycles wait, and the end of the run gives them back.
"""

from __future__ import annotations

import gc
from types import TracebackType


class Settling:
    """Freezes the objects alive every `every` steps of a long run; unfreezes them all when it ends."""

    def __init__(self, every: int) -> None:
        self.every = every
        self._steps = 0

    def __enter__(self) -> Settling:
        return self

    def step(self) -> None:
        """Count one step (a row); at each `every`-th, what is alive so far leaves the collector's scans."""
        self._steps += 1
        if self._steps % self.every == 0:
            gc.freeze()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        gc.unfreeze()  # the process goes on (a server, a build): its collector sees everything again
