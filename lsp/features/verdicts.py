"""Was an applied optimization kept or undone? Following its range through the edits.

After the server hands out an optimization's edit (codeAction/resolve, or applyEdit of the
``promptd.optimize`` command) it remembers a :class:`Track`: the document range, the text
there before (``original``) and the text the edit puts there (``optimized``). Every later
edit of the document is fed to :func:`step`, in code-point offsets of the text *before* that
edit:

* an edit wholly before the range shifts it; one wholly after leaves it;
* an edit touching the range compares what the region holds now with what it would hold
  with ``optimized`` or ``original`` in the range: the editor applying the optimization turns
  an ``expected`` track ``applied``; restoring the original turns an applied one
  ``undone`` (a verdict); anything else stops following it (no verdict: the person rewrote it).

The edit an editor reports may be narrower than the range (Neovim sends the minimal diff of
the changed lines) or wider (whole lines), so the comparison is on the union of the two.
A save or close with the optimization still applied is "kept" (:func:`kept_on_save`).
Pure functions: the flow (:mod:`promptd.lsp.flows.verdicts`) does the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

State = Literal["expected", "applied"]
Verdict = Literal["kept", "rejected"]

UNDONE_WHY: Final = "undone in the editor"


@dataclass(frozen=True, slots=True)
class Track:
    """One optimization followed in one open document (offsets are code points)."""

    opt_id: str
    start: int
    end: int  # end of the text the range holds now
    original: str
    optimized: str
    state: State = "expected"

    @property
    def holds(self) -> str:
        """What the range holds in this state."""
        return self.optimized if self.state == "applied" else self.original


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of one edit for one track: the track as it goes on (None: stop following
    it) and the verdict it reached, if any."""

    track: Track | None
    verdict: Verdict | None = None


def step(track: Track, before: str, start: int, end: int, inserted: str) -> Step:
    """Follow ``track`` through the edit ``before[start:end] = inserted``."""
    if start <= track.end and end >= track.start:
        outcome = _touch(track, before, start, end, inserted)
        if outcome.verdict is not None or outcome.track is not None:
            return outcome
        if start < track.end and end > track.start:
            return outcome  # inside the range, and neither text: rewritten by hand
        if start == end and track.start < start < track.end:
            return outcome  # typed inside the range
    # Wholly before (or at the start of) the range: shift it; after it: nothing to do.
    if end <= track.start:
        delta = len(inserted) - (end - start)
        return Step(replace(track, start=track.start + delta, end=track.end + delta))
    return Step(track)


def _touch(track: Track, before: str, start: int, end: int, inserted: str) -> Step:
    """An edit touching the range: compare the union of both, after the edit."""
    lo = min(start, track.start)
    hi = max(end, track.end)
    after = before[lo:start] + inserted + before[end:hi]
    head = before[lo : track.start]
    tail = before[track.end : hi]
    if track.state == "expected":
        if after == head + track.optimized + tail:
            return Step(replace(track, end=track.start + len(track.optimized), state="applied"))
        return Step(None)
    if after == head + track.original + tail:
        return Step(None, "rejected")
    return Step(None)


def apply_edit(before: str, start: int, end: int, inserted: str) -> str:
    """``before`` with ``before[start:end]`` replaced by ``inserted``."""
    return before[:start] + inserted + before[end:]


def as_edit(before: str, after: str) -> tuple[int, int, str]:
    """A full-text change as one edit (the common prefix and suffix kept)."""
    limit = min(len(before), len(after))
    prefix = 0
    while prefix < limit and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    last_b, last_a = len(before) - 1, len(after) - 1
    while suffix < limit - prefix and before[last_b - suffix] == after[last_a - suffix]:
        suffix += 1
    return prefix, len(before) - suffix, after[prefix : len(after) - suffix]


def kept_on_save(track: Track, text: str) -> bool:
    """True when the optimization is applied and still in place in ``text``."""
    return track.state == "applied" and text[track.start : track.end] == track.optimized
