"""Writing new prompt text back as a valid literal of the same kind.

``render(prompt, text)`` gives the replacement for the literal's document range. It keeps
the quote style and prefixes where it can, escapes what must be escaped, turns a one-line
literal into a triple-quoted string (Python) or a template literal (JS/TS) when the text
spans lines, keeps implicit concatenation one piece a line at the code's indentation, puts
back the literal's own indentation, and leaves f-string / ``${}`` fields untouched. The
result is parsed before it is returned: an edit that would break the code is refused.
"""

from __future__ import annotations

import ast
import re
from typing import Final

from .detect import javascript
from .detect.model import Piece, Prompt
from .detect.normalize import denormalize

MAX_LINE: Final = 99


class RenderError(ValueError):
    """The new text cannot be written as a valid literal here (the message says why)."""


def render(prompt: Prompt, text: str) -> str:
    if not prompt.editable:
        raise RenderError(prompt.why_not or "this literal cannot be rewritten")
    style = prompt.style
    if prompt.content == prompt.content.strip():
        text = text.strip()
    value = denormalize(
        text,
        lead=style.lead,
        trail=style.trail,
        indent=style.indent,
        first_line_exempt=style.first_line_exempt,
    )
    if style.language == "python":
        out = _render_python(prompt, value)
        _check_python(out, value, prompt)
        return out
    if style.language in javascript.GRAMMARS:
        out = _render_js(prompt, value)
        _check_js(out, style.language)
        return out
    return _render_markdown(prompt, value)


# --- Python ------------------------------------------------------------------------------


def _atoms(value: str, fields: tuple[str, ...]) -> list[tuple[str, bool]]:
    """Split ``value`` into (text, is_field) runs; fields are the original ones only."""
    if not fields:
        return [(value, False)] if value else []
    pattern = re.compile("|".join(re.escape(f) for f in sorted(set(fields), key=len, reverse=True)))
    atoms: list[tuple[str, bool]] = []
    pos = 0
    for match in pattern.finditer(value):
        if match.start() > pos:
            atoms.append((value[pos : match.start()], False))
        atoms.append((match.group(), True))
        pos = match.end()
    if pos < len(value):
        atoms.append((value[pos:], False))
    return atoms


def _py_escape_text(text: str, quote: str, fstring: bool) -> str:
    triple = len(quote) == 3
    q = quote[0]
    out: list[str] = []
    for index, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == q and (not triple or text[index + 1 : index + 2] == q):
            out.append("\\" + q)
        elif ch == "\n" and not triple:
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\t")
        elif ch in "{}" and fstring:
            out.append(ch * 2)
        elif (ord(ch) < 0x20 and ch != "\n") or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    if triple and out and out[-1] == q:
        out[-1] = "\\" + q
    return "".join(out)


def _raw_ok(atoms: list[tuple[str, bool]], quote: str) -> bool:
    text = "".join(a for a, is_field in atoms if not is_field)
    whole = "".join(a for a, _ in atoms)
    q = quote[0]
    if "\r" in whole or any(
        (ord(c) < 0x20 and c not in "\n\t") or 0xD800 <= ord(c) <= 0xDFFF for c in whole
    ):
        return False
    if len(quote) == 1 and ("\n" in whole or q in text):
        return False
    if len(quote) == 3 and (q * 3 in whole or whole.endswith(q)):
        return False
    if "\\" + q in whole:
        return False
    trailing = len(whole) - len(whole.rstrip("\\"))
    return trailing % 2 == 0


def _py_literal(atoms: list[tuple[str, bool]], prefix: str, quote: str) -> str:
    """One Python literal for ``atoms``: ``prefix`` adjusted (f only when fields remain)."""
    has_field = any(is_field for _, is_field in atoms)
    letters = [c for c in prefix if c.lower() not in "f"]
    f_letter = next((c for c in prefix if c.lower() == "f"), "f")
    raw = any(c.lower() == "r" for c in letters)
    if raw and not _raw_ok(atoms, quote):
        letters = [c for c in letters if c.lower() != "r"]
        raw = False
    if has_field:
        letters.append(f_letter)
    body: list[str] = []
    for text, is_field in atoms:
        if is_field:
            body.append(text)
        elif raw:
            body.append(text.replace("{", "{{").replace("}", "}}") if has_field else text)
        else:
            body.append(_py_escape_text(text, quote, has_field))
    return "".join(letters) + quote + "".join(body) + quote


def _split_lines(atoms: list[tuple[str, bool]], width: int) -> list[list[tuple[str, bool]]]:
    """Atoms split after each newline, and at spaces so no piece passes ``width``."""
    lines: list[list[tuple[str, bool]]] = [[]]
    size = 0
    for text, is_field in atoms:
        if is_field:
            lines[-1].append((text, True))
            size += len(text)
            continue
        for part in re.split(r"(?<=\n)", text):
            if not part:
                continue
            for word in re.findall(r"\S*\s*", part):
                if not word:
                    continue
                if size + len(word) > width and size > 0:
                    lines.append([])
                    size = 0
                lines[-1].append((word, False))
                size += len(word)
            if part.endswith("\n"):
                lines.append([])
                size = 0
    return [line for line in lines if line]


def _render_python(prompt: Prompt, value: str) -> str:
    style = prompt.style
    pieces = style.pieces
    first = pieces[0]
    atoms = _atoms(value, style.fields)
    stacked = len(pieces) > 1 and any(p.own_line for p in pieces[1:])
    if stacked:
        anchor = next(p for p in pieces[1:] if p.own_line)
        indent = anchor.line_indent
        width = max(20, MAX_LINE - len(indent) - 4)
        lines = _split_lines(atoms, width) or [[("", False)]]
        quote = first.quote if len(first.quote) == 1 else first.quote[0]
        parts = [_py_literal(line, _common_prefix(pieces), quote) for line in lines]
        return (style.eol + indent).join(parts)
    quote = first.quote
    if "\n" in value and len(quote) == 1:
        quote = quote * 3
    return _py_literal(atoms, _common_prefix(pieces), quote)


def _common_prefix(pieces: tuple[Piece, ...]) -> str:
    """The prefix for rewritten pieces: the first piece's, plus f if any piece had it."""
    prefix = pieces[0].prefix
    if not any(c.lower() == "f" for c in prefix):
        f_piece = next((p for p in pieces if "f" in p.prefix.lower()), None)
        if f_piece is not None:
            prefix += next(c for c in f_piece.prefix if c.lower() == "f")
    return prefix


def _check_python(out: str, value: str, prompt: Prompt) -> None:
    try:
        tree = ast.parse("(\n" + out + "\n)", mode="eval")
    except SyntaxError as exc:
        raise RenderError(f"the result would not be a valid Python literal ({exc.msg})") from exc
    except (UnicodeError, ValueError) as exc:
        raise RenderError(f"the result would not be a valid Python literal ({exc})") from exc
    node = tree.body
    if isinstance(node, ast.Constant):
        if node.value != value:
            raise RenderError("the result would not hold the same text (escaping failed)")
    elif not isinstance(node, ast.JoinedStr):
        raise RenderError("the result would not be a single string literal")


# --- JavaScript / TypeScript ---------------------------------------------------------------


def _js_escape(text: str, quote: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + quote)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch in "\u2028\u2029" or 0xD800 <= ord(ch) <= 0xDFFF:
            out.append(f"\\u{ord(ch):04x}")
        elif (ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def _template_escape(text: str) -> str:
    out: list[str] = []
    for index, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == "`":
            out.append("\\`")
        elif ch == "$" and text[index + 1 : index + 2] == "{":
            out.append("\\$")
        elif ch == "\r":
            out.append("\\r")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append(f"\\u{ord(ch):04x}")
        elif (ord(ch) < 0x20 and ch not in "\t\n") or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def _template(value: str, fields: tuple[str, ...]) -> str:
    atoms = _atoms(value, fields)
    return "`" + "".join(t if f else _template_escape(t) for t, f in atoms) + "`"


def _render_js(prompt: Prompt, value: str) -> str:
    style = prompt.style
    piece = style.pieces[0]
    if style.kind == "jsx":
        plain = not any(
            ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF or c in "{}&<>\\\n" or c == piece.quote
            for c in value
        )
        if plain:  # JSX attribute strings have no escapes (and decode &entities;)
            return piece.quote + value + piece.quote
        return "{" + _template(value, ()) + "}"
    if style.kind == "template" or "\n" in value:
        return _template(value, style.fields)
    return piece.quote + _js_escape(value, piece.quote) + piece.quote


def _check_js(out: str, grammar: str) -> None:
    jsx = out.startswith("{")
    wrapped = f"<a b={out} />;" if jsx else f"x = ({out});"
    tree = javascript.parser("tsx" if jsx and grammar == "typescript" else grammar).parse(
        wrapped.encode("utf-8", "surrogatepass")
    )
    if tree.root_node.has_error:
        raise RenderError("the result would not be a valid string literal")


# --- Markdown ------------------------------------------------------------------------------


def _render_markdown(prompt: Prompt, value: str) -> str:
    style = prompt.style
    if style.kind != "fence":
        return value
    fence = style.pieces[0].quote
    if any(line.lstrip().startswith(fence[0] * 3) for line in value.splitlines()):
        raise RenderError(
            "the result contains a code fence; optimize the whole file or change the fence"
        )
    return value
