"""The collector pause around a compile (monspec.heap): off inside, back on after, and what was
made inside filed with the old objects, where a young collection does not scan it again."""
from __future__ import annotations

import gc
import weakref

from monspec.heap import cycle_collection_paused


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_objects_made_while_paused_join_the_oldest_generation_and_cycles_are_still_freed() -> None:
    assert gc.isenabled()
    with cycle_collection_paused():
        assert not gc.isenabled()
        kept = [Node() for _ in range(3)]
        garbage = weakref.ref(Node())
    assert gc.isenabled()
    assert all(any(obj is node for obj in gc.get_objects(generation=2)) for node in kept)
    assert not any(obj is node for obj in gc.get_objects(generation=0) for node in kept)
    assert garbage() is not None  # a cycle: still there until a collection
    gc.collect()
    assert garbage() is None


def test_a_pause_inside_a_pause_and_a_process_that_froze_objects_itself() -> None:
    with cycle_collection_paused():
        with cycle_collection_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with cycle_collection_paused():
            Node()
        assert gc.get_freeze_count() == frozen  # left frozen: not ours to thaw
    finally:
        gc.unfreeze()
