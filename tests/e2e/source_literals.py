"""Read a string literal's value back out of an edited source file, parsing the file with
the language's own parser: ``ast`` for Python, tree-sitter's TypeScript grammar for TS.

A file that no longer parses is a failure: the edit must keep the code valid.
"""

from __future__ import annotations

import ast
import re

import tree_sitter
import tree_sitter_typescript


def python_assignment(source: str, name: str) -> str:
    """The string assigned to ``name`` at module level in Python ``source``."""
    tree = ast.parse(source)  # raises SyntaxError when the edit broke the file
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                value = node.value
                assert isinstance(value, ast.Constant) and isinstance(value.value, str), (
                    f"{name} is not a plain string literal any more: {ast.unparse(node)}"
                )
                return value.value
    raise AssertionError(f"no assignment to {name} in:\n{source}")


_SIMPLE_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "0": "\0",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "`": "`",
    "$": "$",
    "{": "{",
}
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|\n|.)", re.S)


def _unescape_js(body: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape.startswith("u{"):
            return chr(int(escape[2:-1], 16))
        if escape.startswith(("u", "x")) and len(escape) > 1:
            return chr(int(escape[1:], 16))
        if escape in ("\n", "\r\n"):
            return ""  # a line continuation
        return _SIMPLE_ESCAPES.get(escape, escape)

    # Surrogate pairs written as two \\u escapes come out as two surrogates: join them.
    text = _ESCAPE.sub(replace, body)
    return text.encode("utf-16", "surrogatepass").decode("utf-16")


def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_typescript.language_typescript()))


def typescript_const(source: str, name: str) -> str:
    """The string (or substitution-free template) that ``const name = ...`` holds."""
    data = source.encode("utf-8")
    tree = _parser().parse(data)
    assert not tree.root_node.has_error, f"the TypeScript no longer parses:\n{source}"
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "variable_declarator":
            ident = node.child_by_field_name("name")
            value = node.child_by_field_name("value")
            if ident is not None and ident.text == name.encode() and value is not None:
                raw = data[value.start_byte : value.end_byte].decode("utf-8")
                if value.type == "string":
                    return _unescape_js(raw[1:-1])
                if value.type == "template_string":
                    assert not any(c.type == "template_substitution" for c in value.children), (
                        f"{name} gained a ${{}} substitution: {raw}"
                    )
                    return _unescape_js(raw[1:-1]).replace("\r\n", "\n")
                raise AssertionError(f"{name} is a {value.type}, not a string: {raw}")
        stack.extend(node.children)
    raise AssertionError(f"no const {name} in:\n{source}")
