"""The prompt tools' part of the control API: params and results of ``templatize`` and ``trim``.

``templatize`` ({text}) -> :class:`TemplatizeResult`; ``trim`` ({text, max_tokens, model}) ->
:class:`TrimResult`. Light (msgspec only): the CLI imports it without the engine.
"""

from __future__ import annotations

import msgspec

from ..api import Params


class TemplatizeParams(Params):
    text: str


class Variable(msgspec.Struct, kw_only=True):
    """One extracted value: ``placeholder`` stands for ``value`` in the template."""

    name: str  # snake_case, unique, never an existing placeholder's name
    placeholder: str  # the token in the template, in the prompt's own syntax: {{name}}, {name}...
    value: str  # the literal it replaced, verbatim
    kind: str  # name | number | date | email | url | quote | document
    occurrences: int = 1


class TemplatizeResult(msgspec.Struct, kw_only=True):
    template: str
    style: str  # the syntax used: jinja brace dollar php percent tag angle bracket shell
    variables: list[Variable]
    existing: list[str]  # placeholders the prompt already had, kept as they were


class TrimParams(Params):
    text: str
    max_tokens: int
    model: str = ""  # the tokenizer's model; empty: the daemon's configured model


class Removal(msgspec.Struct, kw_only=True):
    """One cut: what went (``text``), of which ``kind``, and the tokens it saved."""

    kind: str  # filler | politeness | repetition | wordiness | whitespace
    text: str
    tokens: int


class TrimResult(msgspec.Struct, kw_only=True):
    trimmed: str
    tokens_before: int
    tokens_after: int
    max_tokens: int
    fits: bool
    over_by: int  # tokens over the limit after the best trim (0 when it fits)
    encoding: str  # o200k_base | cl100k_base
    model: str
    estimate: str  # empty when the model's own tokenizer was used, else why it is an estimate
    removals: list[Removal]
    reason: str = ""  # why it does not fit, when it does not
