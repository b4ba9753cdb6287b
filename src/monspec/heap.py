"""Python's cyclic garbage collector paused while a compile builds objects that all stay alive.

The collector runs when allocations outnumber frees, and each full pass scans every object
alive: while a compile builds its spec tree, model, test plan and dashboards (nearly all kept
until it ends), it scans the growing heap again and again. Loading 100x synthetic specs took
17x the CPU of 10x with it, 10x without. The collector runs as usual again afterwards, so a
process that compiles many times (the test suite) frees the cycles then.

The objects made while it was paused are filed with the old ones on the way out (`freeze`
then `unfreeze` moves every tracked object to the oldest generation without a scan): left in
the youngest, the first collection after the pause scanned them all (0.4 s after a 100x
compile), although nearly all of them live on. Old-generation passes come only as that
generation grows by a quarter, as they would have for objects that had survived.
"""
from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def cycle_collection_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:  # never thaw what the embedding process froze itself
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()
