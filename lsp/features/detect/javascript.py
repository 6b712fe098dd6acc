"""Prompts in JavaScript and TypeScript (also JSX/TSX): string and template literals.

Literals are found with the tree-sitter grammars from PyPI (a query runs in C, so a large
file takes milliseconds); the context that makes a literal a prompt (a variable, property,
argument or JSX attribute name, a role message, a marker comment) is read from its parents.
tree-sitter reports UTF-8 byte offsets; they are turned into code points here.
"""

from __future__ import annotations

import bisect
import re
from functools import cache
from typing import Final

import tree_sitter
import tree_sitter_javascript
import tree_sitter_typescript

from . import heuristics as h
from .model import Piece, Prompt, Style
from .normalize import normalize

GRAMMARS: Final = ("javascript", "typescript", "tsx")
_PASS_THROUGH: Final = frozenset(
    {
        "parenthesized_expression",
        "as_expression",
        "satisfies_expression",
        "non_null_expression",
        "binary_expression",
        "ternary_expression",
        "jsx_expression",
        "type_assertion",
    }
)
_ESCAPE: Final = re.compile(
    r"\\(\r\n|\n|\r|\u2028|\u2029|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|u\{[0-9a-fA-F]+\}|[0-7]{1,3}|[\s\S])"
)
_SIMPLE: Final = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v"}


@cache
def language(grammar: str) -> tree_sitter.Language:
    if grammar == "javascript":
        return tree_sitter.Language(tree_sitter_javascript.language())
    if grammar == "typescript":
        return tree_sitter.Language(tree_sitter_typescript.language_typescript())
    if grammar == "tsx":
        return tree_sitter.Language(tree_sitter_typescript.language_tsx())
    raise ValueError(f"unknown grammar {grammar!r}: use one of {', '.join(GRAMMARS)}")


@cache
def parser(grammar: str) -> tree_sitter.Parser:
    return tree_sitter.Parser(language(grammar))


@cache
def _query(grammar: str) -> tree_sitter.Query:
    return tree_sitter.Query(language(grammar), "[(string) (template_string)] @literal")


class ByteMap:
    """UTF-8 byte offsets -> code-point offsets of one text."""

    def __init__(self, text: str) -> None:
        self._at: list[int] = []
        self._extra: list[int] = []
        if text.isascii():
            return
        extra = 0
        for match in re.finditer(r"[^\x00-\x7f]", text):
            self._at.append(match.start() + extra)
            extra += len(match.group().encode("utf-8", "surrogatepass")) - 1
            self._extra.append(extra)

    def cp(self, byte: int) -> int:
        index = bisect.bisect_right(self._at, byte - 1)
        return byte - (self._extra[index - 1] if index else 0)


def _name_of(node: tree_sitter.Node | None) -> str:
    if node is None:
        return ""
    if node.type == "member_expression":
        return _name_of(node.child_by_field_name("property"))
    if node.type in ("string",):
        return _text(node)[1:-1]
    if node.type in (
        "identifier",
        "property_identifier",
        "private_property_identifier",
        "shorthand_property_identifier",
        "type_identifier",
    ):
        return _text(node)
    return ""


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _call_name(node: tree_sitter.Node | None) -> str:
    if node is None:
        return ""
    if node.type == "member_expression":
        obj = _call_name(node.child_by_field_name("object"))
        prop = _name_of(node.child_by_field_name("property"))
        return f"{obj}.{prop}" if obj else prop
    return _name_of(node)


def _context(literal: tree_sitter.Node) -> tuple[str, str, bool]:
    """(reason, name, statement) for a literal; reason "" when no name says "prompt"."""
    node = literal
    parent = node.parent
    while parent is not None and parent.type in _PASS_THROUGH:
        node, parent = parent, parent.parent
    if parent is None:
        return "", "", False
    kind = parent.type
    if kind == "variable_declarator":
        name = _name_of(parent.child_by_field_name("name"))
    elif kind in ("assignment_expression", "augmented_assignment_expression"):
        name = _name_of(parent.child_by_field_name("left"))
    elif kind in ("public_field_definition", "field_definition", "property_signature"):
        name = _name_of(
            parent.child_by_field_name("name") or parent.child_by_field_name("property")
        )
    elif kind == "pair":
        name = _name_of(parent.child_by_field_name("key"))
        if name == "content" and parent.parent is not None:
            keys = {
                _name_of(p.child_by_field_name("key"))
                for p in parent.parent.named_children
                if p.type == "pair"
            }
            if "role" in keys:
                return "role", name, False
    elif kind == "arguments":
        call = parent.parent
        name = _call_name(call.child_by_field_name("function")) if call is not None else ""
        if call is not None and call.type == "new_expression":
            name = _call_name(call.child_by_field_name("constructor"))
        if h.is_excluded_call(name):
            return "excluded", name, False
        last = name.rsplit(".", 1)[-1]
        return ("name", name, False) if h.is_prompt_name(last) else ("", name, False)
    elif kind == "jsx_attribute":
        name = _name_of(parent.named_children[0]) if parent.named_children else ""
    elif kind == "expression_statement":
        return "", "", True
    elif kind in ("import_statement", "export_statement", "import", "call_expression"):
        return (
            ("tagged", _call_name(parent.child_by_field_name("function")), False)
            if (kind == "call_expression")
            else ("excluded", "", False)
        )
    else:
        return "", "", False
    if h.is_excluded_name(name):
        return "excluded", name, False
    return ("name", name, False) if h.is_prompt_name(name) else ("", name, False)


def _decode(
    text: str, start: int, end: int, fields: list[tuple[int, int]], raw: bool
) -> tuple[str, list[int]]:
    """Cooked value of a string/template body [start, end) and each char's offset.

    ``fields`` are the ``${...}`` substitutions (offsets), kept verbatim.
    """
    out: list[str] = []
    offsets: list[int] = []
    i = start
    field_index = 0
    while i < end:
        if field_index < len(fields) and i == fields[field_index][0]:
            f_start, f_end = fields[field_index]
            out.append(text[f_start:f_end])
            offsets.extend(range(f_start, f_end))
            i = f_end
            field_index += 1
            continue
        ch = text[i]
        if ch == "\\" and not raw:
            esc = _ESCAPE.match(text, i)
            if esc is not None:
                value = _escape_value(esc.group(1))
                out.append(value)
                offsets.extend([i] * len(value))
                i = esc.end()
                continue
        out.append(ch)
        offsets.append(i)
        i += 1
    offsets.append(end)
    return "".join(out), offsets


def _escape_value(esc: str) -> str:
    if esc in ("\n", "\r\n", "\r", "\u2028", "\u2029"):
        return ""
    if esc in _SIMPLE:
        return _SIMPLE[esc]
    if esc[0] == "x" and len(esc) == 3:
        return chr(int(esc[1:], 16))
    if esc[0] == "u" and len(esc) > 1:
        digits = esc[2:-1] if esc[1] == "{" else esc[1:]
        code = int(digits, 16)
        return chr(code) if code <= 0x10FFFF else ""
    if esc[0] in "01234567":
        return "\0" if esc == "0" else chr(int(esc, 8))
    return esc


def _line_start(text: str, offset: int) -> int:
    return max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1


def detect(text: str, grammar: str, min_words: int, eol: str = "\n") -> list[Prompt]:
    source = text.encode("utf-8", "surrogatepass")
    tree = parser(grammar).parse(source)
    bytemap = ByteMap(text)
    captures = tree_sitter.QueryCursor(_query(grammar)).captures(tree.root_node)
    nodes = sorted(captures.get("literal", []), key=lambda n: n.start_byte)
    prompts: list[Prompt] = []
    for node in nodes:
        if node.has_error or node.is_missing:
            continue
        found = _classify(text, node, bytemap, grammar, min_words, eol)
        if found is not None:
            prompts.append(found)
    return prompts


def _classify(
    text: str,
    node: tree_sitter.Node,
    bytemap: ByteMap,
    grammar: str,
    min_words: int,
    eol: str,
) -> Prompt | None:
    reason, name, statement = _context(node)
    if reason == "excluded":
        return None
    start, end = bytemap.cp(node.start_byte), bytemap.cp(node.end_byte)
    line_start = _line_start(text, start)
    above = text[_line_start(text, max(0, line_start - 1)) : line_start] if line_start else ""
    line_end = text.find("\n", start)
    same_line = text[line_start : len(text) if line_end < 0 else line_end]
    if h.has_ignore(above) or h.has_ignore(same_line):
        return None
    tagged = reason == "tagged"
    if tagged:
        reason = ""
    if h.has_marker(above) or h.has_marker(same_line):
        reason = "marker"
    template = node.type == "template_string"
    jsx = node.parent is not None and node.parent.type == "jsx_attribute"
    quote = text[start] if not tagged else "`"
    fields = [
        (bytemap.cp(child.start_byte), bytemap.cp(child.end_byte))
        for child in node.children
        if child.type == "template_substitution"
    ]
    value, offsets = _decode(text, start + 1, end - 1, fields, raw=jsx)
    if not reason:
        if statement or not h.looks_natural(value, min_words):
            return None
        reason = "natural"
    if not value.strip():
        return None
    content, content_offsets, lead, trail, indent, exempt = normalize(
        value, offsets, multiline_literal=template
    )
    if not content.strip():
        return None
    indent_text = text[line_start:start]
    piece = Piece(
        start=start,
        end=end,
        prefix=name if tagged else "",
        quote=quote,
        column=start - line_start,
        line_indent=indent_text[: len(indent_text) - len(indent_text.lstrip(" \t"))],
        own_line=not indent_text.strip(),
    )
    style = Style(
        language=grammar,
        pieces=(piece,),
        kind="jsx" if jsx else "template" if template else "string",
        fields=tuple(text[a:b] for a, b in fields),
        lead=lead,
        trail=trail,
        indent=indent,
        first_line_exempt=exempt,
        eol=eol,
    )
    return Prompt(
        start=start,
        end=end,
        content=content,
        offsets=content_offsets,
        style=style,
        reason=reason,
        name=name,
        editable=not tagged,
        why_not=f"a tagged template ({name}`...`) is read by its tag: promptd does not rewrite it"
        if tagged
        else "",
    )
