"""JSON schemas for the agents' answers, restricted to what xAI's structured outputs accept.

``msgspec.json.schema`` gives a draft 2020-12 schema with ``$ref``/``$defs``, titles, defaults
and untyped enums. xAI (and OpenAI) structured outputs take a plainer subset, so the schema is
rewritten: references inlined, keywords they do not support dropped (``default``, ``title``,
``format``, ``pattern``, length/size/range bounds), ``enum`` given its ``type``, and every
object closed with ``additionalProperties: false``. Answers are still validated by msgspec
against the real Struct, so nothing is lost by the restriction.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

import msgspec

_DROP: Final = frozenset(
    {
        "default",
        "title",
        "format",
        "pattern",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minProperties",
        "maxProperties",
        "$schema",
        "examples",
    }
)
_MAX_DEPTH: Final = 32


def _inline(node: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    if depth > _MAX_DEPTH:
        raise ValueError("schema nests too deeply (a recursive Struct?): it cannot be inlined")
    if isinstance(node, list):
        return [_inline(item, defs, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        return _inline(defs[name], defs, depth + 1)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key == "$defs":
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _inline(sub, defs, depth + 1) for name, sub in value.items()}
        else:
            out[key] = _inline(value, defs, depth + 1)
    if "enum" in out and "type" not in out:
        values = out["enum"]
        if all(isinstance(v, str) for v in values):
            out["type"] = "string"
        elif all(isinstance(v, int) for v in values):
            out["type"] = "integer"
    if out.get("type") == "object":
        out.setdefault("properties", {})
        out.setdefault("required", [])
        out["additionalProperties"] = False
    return out


@lru_cache(maxsize=32)
def _schema_json(struct: type[msgspec.Struct]) -> bytes:
    raw = msgspec.json.schema(struct)
    defs = raw.get("$defs", {})
    return msgspec.json.encode(_inline(raw, defs))


def answer_schema(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """The restricted, self-contained JSON schema of ``struct`` (a fresh dict each call)."""
    value: dict[str, Any] = msgspec.json.decode(_schema_json(struct))
    return value


def response_format(struct: type[msgspec.Struct], *, json_schema: bool) -> dict[str, Any]:
    """The ``response_format`` of a request asking for ``struct`` as JSON.

    Without json_schema, ``json_object`` still carries the ``schema``: llama.cpp's server and
    vLLM constrain the output to it (others ignore the key).
    """
    if not json_schema:
        return {"type": "json_object", "schema": answer_schema(struct)}
    return {
        "type": "json_schema",
        "json_schema": {
            "name": struct.__name__.lower(),
            "schema": answer_schema(struct),
            "strict": False,
        },
    }


def schema_text(struct: type[msgspec.Struct]) -> str:
    """The schema as compact JSON text, for prompts of endpoints without json_schema."""
    return _schema_json(struct).decode()
