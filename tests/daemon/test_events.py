"""daemon/events.py is the glossary of the domain: every event says what it is."""

from __future__ import annotations

import pytest

from promptd.daemon.events import EVENT_TYPES


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_every_event_type_has_a_docstring_of_its_own(event_type: type) -> None:
    doc = event_type.__dict__.get("__doc__") or ""
    assert len(doc.split()) >= 8, (
        f"{event_type.__name__} has no docstring: say what happened, who emits it, and the "
        "units of its numbers (money: USD ticks) in a docstring in promptd/daemon/events.py"
    )
