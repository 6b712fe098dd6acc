"""Child process of the crash test: appends forever and reports every returned sequence.

    python -m tests.daemon.store.crash_child EVENTS_DIR

Each line on stdout is ``SEQ I``: event number ``I`` (see :func:`event`) is stored at
sequence ``SEQ`` and the append that stored it returned. The map starts tiny, so it grows
(and is re-mapped) while the parent kills us at random moments.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from promptd.daemon.events import Event, OptimizationRequested, ProviderCallCompleted
from promptd.daemon.projections import open_log


def event(i: int) -> Event:
    """The ``i``-th event the child writes (deterministic, so the parent can check it)."""
    if i % 3 == 2:
        return ProviderCallCompleted(
            call_id=f"c{i}",
            provider="xai",
            model="m",
            opt_id=f"o{i // 3}",
            cost_ticks=i,
            request_key=f"k{i}",
            response="x" * (i % 97),
        )
    return OptimizationRequested(
        opt_id=f"o{i // 3}", prompt=f"prompt {i} " + "y" * (i % 301), prompt_hash=f"h{i % 50}"
    )


def main() -> None:
    log = open_log(Path(sys.argv[1]), map_size=64 * 1024)
    rng = random.Random()
    i = sum(1 for _ in log.read())  # continue numbering after an earlier run
    out = sys.stdout
    while True:
        batch = [event(i + n) for n in range(rng.randint(1, 40))]
        seqs = log.append(batch)
        out.write("".join(f"{seq} {i + n}\n" for n, seq in enumerate(seqs)))
        out.flush()
        i += len(batch)
        log.last_seq()  # a read transaction too: a killed reader leaves a slot behind


if __name__ == "__main__":
    main()
