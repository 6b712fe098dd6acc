"""Evaluations: every ``promptd eval`` by id and by the optimization it evaluated.

Tables:

* ``evaluations``         ``eval_id`` -> the sequence of its ``EvaluationCompleted``
* ``evaluations_by_opt``  ``text_key(opt_id) + be64(seq)`` -> ``True`` (oldest first)

Sequence numbers, not copies: the view reads the events from the log (``promptd show ID``
and the dashboard's history detail list an optimization's evaluations).
"""

from __future__ import annotations

from ..events import EvaluationCompleted, Record
from .base import Projection, Reader, State, Table, be64, from_be64, on, text_key

EVALUATIONS = Table("evaluations", int)
BY_OPT = Table("evaluations_by_opt", bool)


class EvaluationsProjection(Projection):
    name = "evaluations"
    version = 1
    tables = (EVALUATIONS, BY_OPT)

    @on(EvaluationCompleted)
    def completed(self, state: State, rec: Record, ev: EvaluationCompleted) -> None:
        state.put(EVALUATIONS, ev.eval_id.encode(), rec.seq)
        if ev.opt_id:
            state.put(BY_OPT, text_key(ev.opt_id) + be64(rec.seq), True)


class EvaluationsView:
    """``view.evaluations``: the recorded evaluations."""

    def __init__(self, reader: Reader) -> None:
        self._r = reader

    def _event(self, seq: int) -> EvaluationCompleted | None:
        rec = self._r.record(seq)
        return rec.event if rec is not None and isinstance(rec.event, EvaluationCompleted) else None

    def get(self, eval_id: str) -> EvaluationCompleted | None:
        seq = self._r.get(EVALUATIONS, eval_id.encode())
        return None if seq is None else self._event(seq)

    def of(self, opt_id: str) -> list[tuple[int, EvaluationCompleted]]:
        """The evaluations of optimization ``opt_id``, oldest first, with their sequence."""
        prefix = text_key(opt_id)
        out: list[tuple[int, EvaluationCompleted]] = []
        for key, _ in self._r.scan(BY_OPT, prefix):
            seq = from_be64(key[len(prefix) :])
            ev = self._event(seq)
            if ev is not None:
                out.append((seq, ev))
        return out
