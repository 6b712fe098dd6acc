"""Prompts in Markdown and prompt files.

A prompt file (``.prompt``, ``.prompt.md``, ``.prompty``, or ``.md`` / ``.txt`` under a
``prompts/`` folder) is one prompt: its whole body, after YAML front matter. In any other
Markdown file, a fenced block whose info string is ``prompt`` (or ``promptd``) is one.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Final

from .model import Piece, Prompt, Style

_FRONT_MATTER: Final = re.compile(r"\A---[ \t]*\r?\n(?:.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_FENCE: Final = re.compile(
    r"^(?P<indent>[ \t]{0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>prompt|promptd)\b[^\n]*\n"
    r"(?P<body>.*?)"
    r"^(?P=indent)(?P=fence)[`~]*[ \t]*$",
    re.DOTALL | re.MULTILINE,
)


def is_prompt_file(path: PurePosixPath) -> bool:
    name = path.name.lower()
    if name.endswith((".prompt", ".prompt.md", ".prompty")):
        return True
    in_prompts = any(part.lower() == "prompts" for part in path.parts[:-1])
    return in_prompts and name.endswith((".md", ".txt", ".markdown"))


def is_markdown(path: PurePosixPath, language_id: str) -> bool:
    return language_id == "markdown" or path.suffix.lower() in (".md", ".markdown")


def detect(text: str, path: PurePosixPath, eol: str = "\n") -> list[Prompt]:
    if is_prompt_file(path):
        body_start = 0
        match = _FRONT_MATTER.match(text)
        if match is not None:
            body_start = match.end()
        lead = len(text[body_start:]) - len(text[body_start:].lstrip())
        content = text[body_start + lead :].rstrip()
        if not content:
            return []
        start = body_start + lead
        end = start + len(content)
        style = Style(
            language="markdown",
            pieces=(Piece(start=start, end=end, quote=""),),
            kind="file",
            eol=eol,
        )
        return [
            Prompt(
                start=start,
                end=end,
                content=content,
                offsets=range(start, end + 1),
                style=style,
                reason="file",
                name=path.name,
            )
        ]
    prompts: list[Prompt] = []
    for match in _FENCE.finditer(text):
        body = match.group("body")
        content = body[:-1] if body.endswith("\n") else body
        content = content[:-1] if content.endswith("\r") else content
        if not content.strip():
            continue
        start = match.start("body")
        end = start + len(content)
        style = Style(
            language="markdown",
            pieces=(
                Piece(
                    start=start,
                    end=end,
                    quote=match.group("fence"),
                    line_indent=match.group("indent"),
                ),
            ),
            kind="fence",
            eol=eol,
        )
        prompts.append(
            Prompt(
                start=start,
                end=end,
                content=content,
                offsets=range(start, end + 1),
                style=style,
                reason="fence",
                name=match.group("info"),
            )
        )
    return prompts
