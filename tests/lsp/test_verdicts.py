"""Following an applied optimization through edits: kept, undone, or rewritten by hand."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from promptd.lsp.features.verdicts import Track, apply_edit, as_edit, kept_on_save, step

ORIGINAL = '"Please kindly write some stuff about dogs"'
OPTIMIZED = '"Write a short paragraph about dogs for children."'
BEFORE = "x = 1\nPROMPT = "
AFTER = "\nprint(PROMPT)\n"
TEXT = BEFORE + ORIGINAL + AFTER


def expected() -> Track:
    return Track("opt1", len(BEFORE), len(BEFORE) + len(ORIGINAL), ORIGINAL, OPTIMIZED)


def applied() -> tuple[Track, str]:
    track = expected()
    outcome = step(track, TEXT, track.start, track.end, OPTIMIZED)
    assert outcome.track is not None and outcome.track.state == "applied"
    return outcome.track, apply_edit(TEXT, track.start, track.end, OPTIMIZED)


def test_applying_the_whole_range_then_undoing_it_is_a_rejection() -> None:
    track, text = applied()
    assert text[track.start : track.end] == OPTIMIZED
    undo = step(track, text, track.start, track.end, ORIGINAL)
    assert undo.verdict == "rejected" and undo.track is None


def test_a_minimal_diff_apply_and_undo_as_neovim_reports_them() -> None:
    track = expected()
    s, e, ins = as_edit(TEXT, TEXT.replace(ORIGINAL, OPTIMIZED))
    assert track.start < s  # narrower than the range: the quote is common
    on = step(track, TEXT, s, e, ins)
    assert on.track is not None and on.track.state == "applied"
    text = apply_edit(TEXT, s, e, ins)
    s, e, ins = as_edit(text, TEXT)
    assert step(on.track, text, s, e, ins).verdict == "rejected"


def test_an_undo_reported_as_whole_lines_is_a_rejection() -> None:
    track, text = applied()
    line_start = text.rfind("\n", 0, track.start) + 1
    line_end = text.index("\n", track.end)
    whole = text[line_start : track.start] + ORIGINAL + text[track.end : line_end]
    assert step(track, text, line_start, line_end, whole).verdict == "rejected"


def test_rewriting_the_optimized_text_by_hand_stops_following_it() -> None:
    track, text = applied()
    outcome = step(track, text, track.start + 1, track.start + 6, "Draft")
    assert outcome.track is None and outcome.verdict is None


def test_typing_right_after_the_range_leaves_it() -> None:
    track, text = applied()
    outcome = step(track, text, track.end, track.end, "  # note")
    assert outcome.track == track and outcome.verdict is None


def test_saved_with_the_optimization_in_place_is_kept() -> None:
    track, text = applied()
    assert kept_on_save(track, text)
    assert not kept_on_save(expected(), TEXT)  # never applied: no verdict


@st.composite
def edits_outside(draw: st.DrawFn) -> list[tuple[bool, int, int, str]]:
    """Edits before or after the range: (before?, position fraction, length, inserted)."""
    return draw(
        st.lists(
            st.tuples(
                st.booleans(),
                st.integers(0, 1000),
                st.integers(0, 5),
                st.text(alphabet="ab\n\r é😀", max_size=6),
            ),
            max_size=12,
        )
    )


@given(edits_outside())
def test_edits_elsewhere_shift_the_range_and_it_still_holds_the_optimization(
    edits: list[tuple[bool, int, int, str]],
) -> None:
    track, text = applied()
    for before, where, length, inserted in edits:
        if before:
            start = where % (track.start + 1)
            end = min(start + length, track.start)
        else:
            start = track.end + where % (len(text) - track.end + 1)
            end = min(start + length, len(text))
        outcome = step(track, text, start, end, inserted)
        assert outcome.verdict is None and outcome.track is not None
        track = outcome.track
        text = apply_edit(text, start, end, inserted)
        assert text[track.start : track.end] == OPTIMIZED
    s, e, ins = as_edit(text, text[: track.start] + ORIGINAL + text[track.end :])
    assert step(track, text, s, e, ins).verdict == "rejected"


@given(st.text(max_size=30), st.text(max_size=30))
def test_a_full_text_change_is_the_edit_it_amounts_to(before: str, after: str) -> None:
    start, end, inserted = as_edit(before, after)
    assert apply_edit(before, start, end, inserted) == after
