"""A fast way to know that a batch of events will decode as itself, before it goes in the log.

The log is forever, so an event whose field holds a value of the wrong type must not get in.
msgspec checks types when it decodes, not when a Struct is built, so the sure check is to
decode each encoded event back; on small events that costs about as much as everything else
an append does. Most event types have only *plain* fields: ``str``, ``int``, ``bool``,
``bytes``, ``float``, ``None`` and unions of them. An event of such a type decodes back
exactly when each value is of one of its field's types (``type(value) is T``: a ``bool`` is
not an ``int`` here, nor a ``str`` subclass a ``str``), and that is checked field by field
over the whole batch, at C speed.

Anything else (a nested Struct, a list, a literal, a constraint, a subclass, an ``int`` in a
``float`` field) is not decided here: :func:`needs_decode` says so, and the caller decodes,
which has the last word and gives the precise error.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Collection, Sequence
from operator import attrgetter
from typing import Any

import msgspec

_PLAIN: frozenset[type] = frozenset({str, int, bool, bytes, float, type(None)})

Fields = tuple[tuple[Callable[[Any], Any], frozenset[type]], ...]
_fields: dict[type, Fields | None] = {}


def plain_fields(cls: type) -> Fields | None:
    """``(getter, allowed types)`` per field of ``cls``, or ``None`` when a field is not plain."""
    try:
        return _fields[cls]
    except KeyError:
        pass
    out: list[tuple[Callable[[Any], Any], frozenset[type]]] = []
    found: Fields | None = None
    for field in msgspec.structs.fields(cls):
        hint = field.type
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        options = typing.get_args(hint) if union else (hint,)
        if not all(isinstance(opt, type) and opt in _PLAIN for opt in options):
            break
        out.append((attrgetter(field.name), frozenset(options)))
    else:
        found = tuple(out)
    _fields[cls] = found
    return found


def needs_decode(events: Sequence[msgspec.Struct], kinds: Collection[type]) -> bool:
    """Whether the batch must be decoded back to be sure it is well typed (``False``: every
    event is of a plain-field type and every value exactly of one of its field's types).
    ``kinds``: the types of the events (each once)."""
    for cls in kinds:
        fields = plain_fields(cls)
        if fields is None:
            return True
        group = events if len(kinds) == 1 else [e for e in events if type(e) is cls]
        for getter, allowed in fields:
            if not allowed.issuperset(map(type, map(getter, group))):
                return True
    return False
