"""The append path's fast type check: whatever it clears decodes back as itself, and whatever
is wrong is still refused with msgspec's precise error."""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptd.daemon.events import (
    EVENT_TYPES,
    BudgetSet,
    ConfigReloaded,
    DaemonStarted,
    OptimizationCompleted,
    decode_event,
    encode_event,
)
from promptd.daemon.projections import open_log
from promptd.daemon.store.typecheck import cleared, plain_fields, to_decode


class Color(enum.StrEnum):
    RED = "red"


# values of every plain type and of a few near misses: bool for int, a str subclass, int for
# float, bytearray for bytes, None where it is not allowed
values: st.SearchStrategy[Any] = st.one_of(
    st.text(max_size=8),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.booleans(),
    st.binary(max_size=8),
    st.floats(allow_nan=False),
    st.none(),
    st.just(Color.RED),
    st.binary(max_size=4).map(bytearray),
)
PLAIN_TYPES = [cls for cls in EVENT_TYPES if plain_fields(cls) is not None]


def test_most_event_types_are_plain_and_the_nested_ones_are_not() -> None:
    assert len(PLAIN_TYPES) >= 20
    assert ConfigReloaded in PLAIN_TYPES and BudgetSet in PLAIN_TYPES
    assert plain_fields(OptimizationCompleted) is None  # scores, findings, changes


@settings(max_examples=300)
@given(cls=st.sampled_from(PLAIN_TYPES), data=st.data())
def test_an_event_the_fast_check_clears_decodes_back_as_itself(
    cls: type[msgspec.Struct], data: st.DataObject
) -> None:
    fields = msgspec.structs.fields(cls)
    kwargs = {f.name: data.draw(values, label=f.name) for f in fields}
    event = cls(**kwargs)  # msgspec does not check types here
    if not cleared(cls, [event]):
        return  # the decode decides (tested below through append)
    assert decode_event(encode_event(event)) == event  # type: ignore[arg-type]


def test_values_of_exactly_the_declared_types_need_no_decode() -> None:
    batch = [
        ConfigReloaded(engine="llm", provider="xai", model="grok-4.3"),
        BudgetSet(daily_ticks=None, monthly_ticks=5, alert_pct=80),
        DaemonStarted(pid=1, version="t"),
    ]
    raws = [encode_event(e) for e in batch]
    assert to_decode(batch, raws, {type(e) for e in batch}) == ([], [])


def test_only_the_types_the_fast_check_cannot_clear_are_handed_back_for_decoding() -> None:
    good, bad = DaemonStarted(pid=1, version="t"), DaemonStarted(pid=True, version="t")
    reloaded = ConfigReloaded(engine="llm")
    completed = OptimizationCompleted(
        opt_id="o", prompt_hash="h", original="a", optimized="b", prompt_type="general"
    )
    batch = [good, reloaded, bad, completed]
    raws = [encode_event(e) for e in batch]
    unsure, unsure_raws = to_decode(batch, raws, {type(e) for e in batch})
    # every DaemonStarted (one of them is wrong) and the nested-field type, in log order
    assert unsure == [good, bad, completed]
    assert unsure_raws == [raws[0], raws[2], raws[3]]


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (DaemonStarted(pid=True, version="t"), "Expected `int`, got `bool`"),
        (DaemonStarted(pid=1, version=None), "Expected `str`, got `None`"),  # type: ignore[arg-type]
        (BudgetSet(daily_ticks="5"), "Expected `int | null`, got `str`"),  # type: ignore[arg-type]
    ],
)
def test_a_wrong_type_the_fast_check_sends_on_is_refused_with_the_decoders_error(
    tmp_path: Path, event: msgspec.Struct, error: str
) -> None:
    assert not cleared(type(event), [event])
    log = open_log(tmp_path / "events")
    with pytest.raises(
        TypeError, match=re.escape(f"cannot append {type(event).__name__}: {error}")
    ):
        log.append([DaemonStarted(pid=1, version="t"), event])  # type: ignore[list-item]
    assert log.count() == 0
    log.close()


def test_a_str_subclass_is_decoded_back_before_it_is_accepted(tmp_path: Path) -> None:
    event = ConfigReloaded(engine=Color.RED)
    assert not cleared(type(event), [event])
    log = open_log(tmp_path / "events")
    assert log.append(event) == [1]  # an enum of str is a str on the wire
    [rec] = list(log.read())
    assert rec.event == ConfigReloaded(engine="red")
    log.close()
