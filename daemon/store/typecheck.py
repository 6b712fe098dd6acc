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
``float`` field) is not decided here: :func:`to_decode` hands those events back (all of their
type in the batch), and the caller decodes them, which has the last word and gives the
precise error.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Collection, Sequence
from operator import attrgetter
from typing import Any, TypeVar

import msgspec

_PLAIN: frozenset[type] = frozenset({str, int, bool, bytes, float, type(None)})

E = TypeVar("E", bound=msgspec.Struct)
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


def cleared(cls: type, group: Sequence[Any]) -> bool:
    """Whether every event of ``group`` (all of type ``cls``) is sure to decode back."""
    fields = plain_fields(cls)
    if fields is None:
        return False
    return all(allowed.issuperset(map(type, map(get, group))) for get, allowed in fields)


def to_decode(
    events: Sequence[E], raws: Sequence[bytes], kinds: Collection[type]
) -> tuple[list[E], list[bytes]]:
    """The events (and their encodings, in log order) that the fast check cannot clear, for
    the caller to decode back; the others are sure. ``kinds``: the types in ``events``."""
    if len(kinds) == 1:
        [cls] = kinds
        return ([], []) if cleared(cls, events) else (list(events), list(raws))
    groups: dict[type, list[E]] = {cls: [] for cls in kinds}
    for event in events:
        groups[type(event)].append(event)
    unsure = {cls for cls, group in groups.items() if not cleared(cls, group)}
    if not unsure:
        return [], []
    pairs = [(e, r) for e, r in zip(events, raws, strict=True) if type(e) in unsure]
    return [e for e, _ in pairs], [r for _, r in pairs]
