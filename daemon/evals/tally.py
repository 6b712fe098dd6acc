"""The counting of ``promptd eval``: verdicts from the judge's two orders, the interval.

Pure functions, so the rules are easy to test and to state:

* **Both orders.** The judge sees the two outputs as A and B twice: original first, then
  candidate first. Each order picks ``original``, ``candidate`` or ``same`` (or is
  ``invalid`` when its answer could not be read). The candidate **wins** a comparison when
  both orders pick it, **loses** when both pick the original, and **ties** otherwise (the
  orders disagree: position bias, or no real difference).
* **Score.** ``(wins + ties / 2) / comparisons``: the share of comparisons the candidate wins,
  a tie counting as half a win.
* **95% interval.** The Wilson score interval of that share with ``z = 1.96`` over ``n``
  comparisons (better than ``p ± z·sqrt(p(1-p)/n)`` at small ``n`` and near 0 or 1; it never
  leaves [0, 1]). When its low end is above 0.5 the candidate is better with 95% confidence;
  when its high end is below 0.5, worse; otherwise the evaluation cannot tell.
"""

from __future__ import annotations

import math
from typing import Final, Literal

Pick = Literal["original", "candidate", "same", "invalid"]
Verdict = Literal["win", "tie", "loss"]
Z95: Final = 1.959963984540054


def verdict(first: Pick, second: Pick) -> Verdict:
    """The candidate's verdict from the judge's picks in the two orders."""
    if first == second == "candidate":
        return "win"
    if first == second == "original":
        return "loss"
    return "tie"


def pick_of(better: str, *, candidate_is: str) -> Pick:
    """The judge's ``better`` (``A`` | ``B`` | ``same``) as a pick, given the candidate's letter."""
    if better == "same":
        return "same"
    if better not in ("A", "B"):
        return "invalid"
    return "candidate" if better == candidate_is else "original"


def score(wins: int, ties: int, losses: int) -> float:
    """The candidate's share of wins, ties counting as half (0.5 when nothing was compared)."""
    n = wins + ties + losses
    return 0.5 if n == 0 else (wins + ties / 2) / n


def wilson(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``p`` observed over ``n`` trials."""
    if n <= 0:
        return 0.0, 1.0
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def summary(wins: int, ties: int, losses: int) -> tuple[float, float, float]:
    """``(score, low, high)``, each rounded to 4 places (what the event records)."""
    p = score(wins, ties, losses)
    low, high = wilson(p, wins + ties + losses)
    return round(p, 4), round(low, 4), round(high, 4)


def conclusion(low: float, high: float, n: int) -> str:
    """One sentence on what the interval says."""
    if n == 0:
        return "nothing was compared"
    if low > 0.5:
        return "the candidate is better (95% interval above 50%)"
    if high < 0.5:
        return "the original is better (95% interval below 50%)"
    return "no clear winner (the 95% interval includes 50%): add samples or --runs to tell"
