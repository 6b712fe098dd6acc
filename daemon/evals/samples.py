"""Sample inputs for ``promptd eval``: read a JSONL file, fill a prompt's placeholders.

One sample a line (blank lines are skipped)::

    {"vars": {"topic": "tides", "audience": "children"}, "expected": "...", "criteria": "..."}

* ``vars`` (object, required unless the prompts have no placeholders): a value for each
  placeholder, by its bare name (``{topic}``, ``{{ topic | upper }}``, ``${topic}``,
  ``{$topic}``, ``%(topic)s``, ``<topic>``, ``[[topic]]``, ``<<topic>>`` are all ``topic``).
  Strings are used as they are; other JSON values as their JSON text.
* ``expected`` (optional): what a good answer says or looks like; the judge checks it.
* ``criteria`` (optional, a string or a list of strings): what the judge should weigh.

Every placeholder style the engine's guards know (:func:`~promptd.daemon.engine.guards.
placeholder_spans`) is filled, except template blocks (``{% if %}``, ``{# #}``), which are
logic, not values, and stay as they are. ``${name:default}`` takes its default when the sample
has no ``name``. Errors name the line and say what to do.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from ..engine.guards import placeholder_name, placeholder_spans
from ..errors import InputError

MAX_SAMPLES: Final = 200
_UNFILLED: Final = frozenset({"block"})  # template logic, not a value


class Sample(msgspec.Struct, frozen=True, kw_only=True):
    """One sample input: placeholder values by name, and what the judge checks against."""

    vars: dict[str, str] = msgspec.field(default_factory=dict)
    expected: str = ""
    criteria: list[str] = msgspec.field(default_factory=list)
    line: int = 0  # its line in the inputs file (0: drafted)


class _Row(msgspec.Struct, forbid_unknown_fields=True):
    vars: dict[str, Any] = msgspec.field(default_factory=dict)
    expected: Any = None
    criteria: str | list[str] | None = None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()


def variables(template: str) -> list[str]:
    """The names a sample must give to fill ``template``, in order of first use."""
    seen: dict[str, None] = {}
    for token, style, _s, _e in placeholder_spans(template):
        if style in _UNFILLED or _default(token) is not None:
            continue
        seen.setdefault(placeholder_name(token), None)
    return list(seen)


def _default(token: str) -> str | None:
    """The default of a ``${name:default}`` placeholder, else None."""
    if token.startswith("${") and ":" in token:
        return token[2:-1].split(":", 1)[1]
    return None


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with each placeholder replaced by its value (see the module docs).

    Raises :class:`KeyError` naming a variable that ``values`` lacks.
    """
    parts: list[str] = []
    pos = 0
    for token, style, start, end in placeholder_spans(template):
        if style in _UNFILLED:
            continue
        name = placeholder_name(token)
        if name in values:
            value = values[name]
        else:
            default = _default(token)
            if default is None:
                raise KeyError(name)
            value = default
        parts.append(template[pos:start])
        parts.append(value)
        pos = end
    parts.append(template[pos:])
    return "".join(parts)


def parse_samples(data: str, where: str = "the inputs") -> list[Sample]:
    """The samples of a JSONL text; :class:`InputError` naming the line of a bad row."""
    samples: list[Sample] = []
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = msgspec.json.decode(raw, type=_Row)
        except msgspec.ValidationError as exc:
            raise InputError(
                f"{where} line {number}: {exc}; each line is one JSON object like "
                '{"vars": {"name": "value"}, "expected": "...", "criteria": "..."}'
            ) from exc
        except msgspec.DecodeError as exc:
            raise InputError(
                f"{where} line {number} is not valid JSON ({exc}); write one JSON object a line"
            ) from exc
        criteria = row.criteria if isinstance(row.criteria, list) else [row.criteria or ""]
        samples.append(
            Sample(
                vars={str(k): _text(v) for k, v in row.vars.items()},
                expected="" if row.expected is None else _text(row.expected),
                criteria=[c for c in criteria if c.strip()],
                line=number,
            )
        )
        if len(samples) > MAX_SAMPLES:
            raise InputError(
                f"{where} has more than {MAX_SAMPLES} samples (line {number}); "
                "evaluate a smaller file, or split it"
            )
    if not samples:
        raise InputError(f"{where} holds no samples; write one JSON object a line")
    return samples


def check_samples(samples: list[Sample], prompts: dict[str, str], where: str) -> None:
    """Every sample fills every prompt (``prompts``: label -> template), or an InputError
    naming the line, the prompt and the missing variables."""
    needs = {label: variables(text) for label, text in prompts.items()}
    for index, sample in enumerate(samples):
        at = f"{where} line {sample.line}" if sample.line else f"drafted input {index + 1}"
        for label, names in needs.items():
            missing = [n for n in names if n not in sample.vars]
            if missing:
                listed = ", ".join(repr(n) for n in missing)
                raise InputError(
                    f"{at}: no value for {listed} (a placeholder of the {label}); add it "
                    f'under "vars", e.g. {{"vars": {{"{missing[0]}": "..."}}}}'
                )
