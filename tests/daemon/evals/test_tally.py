"""The counting rules of ``promptd eval``: both orders, ties as half, the Wilson interval."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptd.daemon.evals import tally


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("candidate", "candidate", "win"),
        ("original", "original", "loss"),
        ("candidate", "original", "tie"),  # the orders disagree: position bias
        ("original", "candidate", "tie"),
        ("same", "same", "tie"),
        ("candidate", "same", "tie"),
        ("candidate", "invalid", "tie"),
    ],
)
def test_a_verdict_needs_both_orders_to_agree(first: str, second: str, expected: str) -> None:
    assert tally.verdict(first, second) == expected  # type: ignore[arg-type]


def test_a_judge_that_always_picks_a_gives_ties() -> None:
    # original shown as A first, then the candidate as A: "A" both times is no preference
    first = tally.pick_of("A", candidate_is="B")
    second = tally.pick_of("A", candidate_is="A")
    assert (first, second) == ("original", "candidate")
    assert tally.verdict(first, second) == "tie"


def test_known_wilson_intervals() -> None:
    # textbook values (z = 1.96): 5 of 10 -> 23.7%..76.3%; 8 of 10 -> 49.0%..94.3%
    low, high = tally.wilson(0.5, 10)
    assert (round(low, 3), round(high, 3)) == (0.237, 0.763)
    low, high = tally.wilson(0.8, 10)
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)
    assert tally.wilson(1.0, 5)[1] == 1.0 and tally.wilson(0.0, 5)[0] == 0.0


def test_ties_count_half() -> None:
    assert tally.score(2, 2, 0) == 0.75
    assert tally.score(0, 4, 0) == 0.5
    assert tally.summary(3, 1, 1) == (0.7, 0.2988, 0.9274)  # by hand: 0.6131 -+ 0.3143


def test_the_conclusion_reads_the_interval() -> None:
    assert "candidate is better" in tally.conclusion(0.6, 0.9, 20)
    assert "original is better" in tally.conclusion(0.1, 0.4, 20)
    assert "no clear winner" in tally.conclusion(0.3, 0.7, 5)


@given(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))
def test_the_interval_holds_the_score_inside_zero_one(wins: int, ties: int, losses: int) -> None:
    n = wins + ties + losses
    p = tally.score(wins, ties, losses)
    low, high = tally.wilson(p, n)
    assert 0.0 <= low <= p + 1e-12 and p - 1e-12 <= high <= 1.0
    if n:
        bigger = tally.wilson(p, 4 * n)  # four times the samples: a narrower interval
        assert bigger[1] - bigger[0] <= high - low + 1e-12
        assert math.isclose(p, (wins + ties / 2) / n)
