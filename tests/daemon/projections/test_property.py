"""Incremental projections equal rebuilt ones, byte for byte, for random event sequences."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from promptd.daemon.config import CacheConfig
from promptd.daemon.events import Event
from promptd.daemon.projections import memory_log, open_log
from promptd.daemon.store.base import BaseEventLog

from .strategies import batches

# a tiny cap, so eviction happens in most examples
SMALL_CACHE = CacheConfig(max_entries=2)


def _check(log: BaseEventLog, written: list[list[Event]]) -> None:
    ts = 1_795_000_000_000_000_000
    for i, batch in enumerate(written):
        log.append(batch, ts_ns=ts + i * 3_600_000_000_000)  # hours apart: days change
    incremental = log.projection_bytes()
    report = log.verify()
    assert report.ok, report.lines()
    log.rebuild()
    assert log.projection_bytes() == incremental


@settings(max_examples=150, deadline=None)
@given(written=batches)
def test_memory_incremental_equals_rebuild(written: list[list[Event]]) -> None:
    _check(memory_log(cache_config=SMALL_CACHE), written)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(written=batches)
def test_lmdb_incremental_equals_rebuild(written: list[list[Event]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = open_log(Path(tmp) / "events", cache_config=SMALL_CACHE)
        try:
            _check(log, written)
        finally:
            log.close()


@settings(max_examples=40, deadline=None)
@given(written=batches)
def test_lmdb_and_memory_hold_the_same_projection_bytes(written: list[list[Event]]) -> None:
    memory = memory_log(cache_config=SMALL_CACHE)
    with tempfile.TemporaryDirectory() as tmp:
        log = open_log(Path(tmp) / "events", cache_config=SMALL_CACHE)
        try:
            for i, batch in enumerate(written):
                memory.append(batch, ts_ns=1_000 + i)
                log.append(batch, ts_ns=1_000 + i)
            assert log.projection_bytes() == memory.projection_bytes()
        finally:
            log.close()
