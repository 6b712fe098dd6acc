"""Write for a target model: ``--for grok|gpt|claude|llama|generic``.

:data:`CONVENTIONS` is the one table of each family's documented prompting conventions, with
the page it comes from. The LLM Designer is told the convention (:func:`designer_note`); the
offline engine applies it as a deterministic layout transform (:func:`apply_target`):

* **claude**: XML tags. Markdown sections become ``<tag>`` blocks, the instructions go in
  ``<instructions>`` and each input gets its own tag.
* **gpt**: markdown sections (XML section blocks become ``## Headings``; instructions and
  inputs get their own sections) and the role on its own first line, as a developer
  message starts.
* **llama**: explicit, short, numbered steps, and the output format in its own section.
* **grok**: concise, direct instructions in markdown: filler cut, sections as headings.
* **generic**: no family-specific change.

A transform only moves and wraps what the author wrote. Each step is checked with the guards
(placeholders, intent, content, structure, size); a step that would break one is left out and
reported. What a convention asks that only the author can supply (an example of the output
for llama) is reported as unmet, never invented.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

from ..api import TARGETS as TARGETS
from ..config import EngineConfig
from ..values import Change
from . import guards, layout
from .analysis import analyze

Layout = Literal["xml", "markdown", "steps", "none"]


class Convention(msgspec.Struct, frozen=True, kw_only=True):
    """One model family's prompting conventions, as its maker documents them."""

    family: str
    label: str
    advice: str  # the convention in a sentence: shown in changes, told to the LLM Designer
    layout: Layout
    concise: bool = False  # cut filler, politeness and wordiness
    role_first: bool = False  # the role on its own first line
    steps: bool = False  # instructions as numbered steps, the output format in its own section
    source: str = ""


CONVENTIONS: Final[dict[str, Convention]] = {
    "claude": Convention(
        family="claude",
        label="Claude",
        advice="wrap the instructions, the context, each input and the examples in their own "
        "XML tags (<instructions>, <context>, <document>, <example>) so Claude can tell them "
        "apart",
        layout="xml",
        source="https://docs.anthropic.com/en/docs/build-with-claude/prompt-engineering/use-xml-tags",
    ),
    "gpt": Convention(
        family="gpt",
        label="GPT",
        advice="put the role on its own first line, as a developer message starts, and give "
        "the instructions, context, inputs and output format their own markdown sections",
        layout="markdown",
        role_first=True,
        source="https://cookbook.openai.com/examples/gpt4-1_prompting_guide",
    ),
    "llama": Convention(
        family="llama",
        label="Llama and small local models",
        advice="keep it explicit and short: numbered steps, and an explicit output format "
        "with an example of the answer",
        layout="steps",
        steps=True,
        source="https://www.llama.com/docs/how-to-guides/prompting/",
    ),
    "grok": Convention(
        family="grok",
        label="Grok",
        advice="give concise, direct instructions without filler, in markdown sections",
        layout="markdown",
        concise=True,
        source="https://docs.x.ai/docs/guides/grok-code-prompt-engineering",
    ),
    "generic": Convention(
        family="generic",
        label="any model",
        advice="no family-specific conventions",
        layout="none",
    ),
}

# XML section blocks that are sections of instructions (markdown headings for gpt and grok);
# other tags (<document>, <code>, <email>...) delimit outside data and stay as they are
_SECTION_TAGS: Final = frozenset(
    {
        "instructions", "instruction", "task", "context", "background", "rules", "constraints",
        "guidelines", "requirements", "output_format", "format", "output", "examples",
        "example", "role", "style", "tone", "steps", "notes", "audience", "goal", "objective",
    }
)  # fmt: skip


def check_target(target: str) -> str:
    """``target`` lower-cased, or ``ValueError`` naming the choices."""
    value = target.strip().lower()
    if value not in CONVENTIONS:
        raise ValueError(f"unknown target {target!r}; use one of {', '.join(TARGETS)}")
    return value


def designer_note(target: str) -> str:
    """What the LLM Designer is told about ``target`` (empty for generic)."""
    conv = CONVENTIONS.get(target)
    if conv is None or conv.layout == "none":
        return ""
    return (
        f"The rewritten prompt will be sent to {conv.label}. Follow its maker's documented "
        f"conventions ({conv.source}): {conv.advice}. Keep every placeholder, instruction, "
        "constraint and example; name the convention in the changes."
    )


class Applied(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    changes: list[Change]
    unmet: list[str]


def apply_target(text: str, target: str, config: EngineConfig | None = None) -> Applied:
    """``text`` laid out for ``target`` (see the module docstring), with what changed and what
    could not be done."""
    conv = CONVENTIONS.get(target)
    if conv is None or conv.layout == "none":
        return Applied(text=text, changes=[], unmet=[])
    changes: list[Change] = []
    unmet: list[str] = []
    current = text

    def step(new: str, description: str, step_changes: list[Change] | None = None) -> None:
        nonlocal current
        if new == current:
            return
        extra = step_changes or []
        broken = guards.check(current, new, config, changes=extra)
        if broken:
            unmet.append(
                f"--for {target}: {description} was left out: it would break the "
                f"{broken[0].guard} guard"
            )
            return
        current = new
        changes.extend(extra)
        changes.append(
            Change(
                description=f"For {conv.label}: {description} (its documented convention: "
                f"{conv.source}).",
                kind="structure",
            )
        )

    if conv.concise:
        concise, cuts = _concise(current)
        step(concise, "cut filler and wordiness", cuts)
    if conv.role_first:
        step(_role_first(current), "put the role on its own first line")
    if conv.layout == "xml":
        step(_to_xml(current), "wrapped the instructions and each input in XML tags")
    elif conv.layout == "markdown":
        step(_to_markdown(current), "gave the instructions and each input a markdown section")
    elif conv.steps:
        step(_to_steps(current), "made the instructions numbered steps")
        step(_format_section(current), "gave the output format its own section")
        a = analyze(current)
        if not a.has_format:
            unmet.append(
                f"--for {target}: say what the answer looks like, with one example of it "
                "(an explicit output format; only you know it, so the offline engine adds none)"
            )
        elif not a.has_examples:
            unmet.append(
                f"--for {target}: add one example of the expected answer (only you know it, "
                "so the offline engine invents none)"
            )
    return Applied(text=current, changes=changes, unmet=unmet)


def _concise(text: str) -> tuple[str, list[Change]]:
    from .instruct import cut_filler  # one implementation of "shorter" for both

    return cut_filler(text)


def _groups(body: str) -> list[tuple[bool, str]]:
    """Consecutive instruction paragraphs joined, each input paragraph alone: (is_input, text)."""
    out: list[tuple[bool, str]] = []
    for para in layout.paragraphs(body):
        inp = layout.is_input(para)
        if out and not inp and not out[-1][0]:
            out[-1] = (False, out[-1][1] + "\n\n" + para)
        else:
            out.append((inp, para))
    return out


def _to_xml(text: str) -> str:
    parts = layout.chunks(text)
    if len(parts) == 1 and parts[0].kind == "text" and len(_groups(parts[0].body)) < 2:
        return text  # one block of instructions: nothing to tell apart
    out: list[str] = []
    used = {c.title for c in parts if c.kind == "xml"}
    for c in parts:
        if c.kind == "xml":
            out.append(f"<{c.title}>\n{c.body}\n</{c.title}>")
        elif c.kind == "md":
            inner = layout.xml_block(c.body)
            if inner is not None or not c.body.strip():
                out.append(c.body if c.body.strip() else c.heading)
                continue
            out.append(_wrap(layout.slug(c.title), c.body, used))
        else:
            for inp, para in _groups(c.body):
                if inp and layout.xml_block(para) is not None:
                    out.append(para)
                    continue
                title, para = _titled(inp, para)
                out.append(_wrap(layout.slug(title), para, used))
    return "\n\n".join(out)


def _titled(inp: bool, para: str) -> tuple[str, str]:
    """(title, body) of a paragraph: an input's label (its label line becomes the title), or
    "Output format" / "Instructions"."""
    if inp:
        first, _, rest = para.partition("\n")
        if rest and layout.is_label(first):
            return first.strip()[:-1], rest
        return layout.input_name(para), para
    if all(_is_format(s) for s in layout.prose_sentences(para) or ["-"]):
        return "Output format", para
    return "Instructions", para


def _wrap(name: str, body: str, used: set[str]) -> str:
    """``body`` in ``<name>`` tags (a name the prompt already uses for another block gets
    ``_2``: a tag names one kind of thing)."""
    if name in used and name not in ("instructions", "output_format"):
        base, n = name, 2
        while name in used:
            name = f"{base}_{n}"
            n += 1
    used.add(name)
    return f"<{name}>\n{body}\n</{name}>"


def _to_markdown(text: str) -> str:
    parts = layout.chunks(text)
    has_sections = any(c.kind == "md" for c in parts)
    out: list[str] = []
    for c in parts:
        if c.kind == "xml" and c.title.lower() in _SECTION_TAGS:
            out.append(f"## {layout.heading_title(c.title)}\n\n{c.body}")
        elif c.kind == "xml":
            out.append(f"<{c.title}>\n{c.body}\n</{c.title}>")
        elif c.kind == "md":
            out.append(f"{c.heading}\n\n{c.body}" if c.body.strip() else c.heading)
        else:
            groups = _groups(c.body)
            if has_sections or len(groups) < 2 or not any(inp for inp, _p in groups):
                out.append(c.body)
                continue
            for inp, para in groups:
                lead = ""
                if not inp:
                    first, _, rest = para.partition("\n\n")
                    if layout.is_role(first) and "\n" not in first and rest:
                        lead, para = first + "\n\n", rest  # the role line stays first
                title, para = _titled(inp, para)
                out.append(f"{lead}## {layout.heading_title(title)}\n\n{para}")
    return "\n\n".join(out)


def _role_first(text: str) -> str:
    parts = layout.chunks(text)
    if not parts or parts[0].kind != "text":
        return text
    paras = layout.paragraphs(parts[0].body)
    if not paras:
        return text
    sentences = layout.prose_sentences(paras[0])
    roles = [s for s in sentences if layout.is_role(s)]
    if not roles or (sentences[0] == roles[0] and paras[0].strip() == roles[0]):
        return text
    role = roles[0]
    rest = paras[0].replace(role, "", 1).strip()
    rest = " ".join(rest.split()) if "\n" not in rest else rest
    lead = [role, rest] if rest else [role]
    new_first = "\n\n".join([*lead, *paras[1:]])
    return _replace_first(text, parts[0].body, new_first)


def _replace_first(text: str, old: str, new: str) -> str:
    at = text.find(old)
    return text if at < 0 else text[:at] + new + text[at + len(old) :]


def _to_steps(text: str) -> str:
    out = text
    for c in layout.chunks(text):
        if c.kind == "xml" or (c.kind == "md" and c.title.lower() not in _STEP_SECTIONS):
            continue
        for para in layout.paragraphs(c.body):
            sentences = layout.prose_sentences(para)
            lead = [s for s in sentences[:1] if layout.is_role(s)]
            body = [s for s in sentences if s not in lead and not _is_format(s)]
            if len(body) < 2:
                continue
            steps = "\n".join(f"{i}. {s}" for i, s in enumerate(body, 1))
            fmt = [s for s in sentences if _is_format(s)]
            new = "\n\n".join(p for p in (" ".join(lead), steps, " ".join(fmt)) if p)
            out = out.replace(para, new, 1)
    return out


_STEP_SECTIONS: Final = frozenset({"instructions", "task", "steps", "guidelines", "rules"})


def _is_format(sentence: str) -> bool:
    """A sentence that says what the answer should look like ("Answer with the label only.")."""
    labeled = analyze(sentence).sentences
    return bool(labeled) and "format" in labeled[0].kinds and "task" not in labeled[0].kinds


def _format_section(text: str) -> str:
    """The output-format sentences of the untitled text moved into an "Output format" section
    at the end (when the prompt has no such section)."""
    parts = layout.chunks(text)
    if any(
        layout.slug(c.title) in ("output_format", "format", "output")
        for c in parts
        if c.kind != "text"
    ):
        return text
    moved: list[str] = []
    new = text
    for c in parts:
        if c.kind != "text":
            continue
        for para in layout.paragraphs(c.body):
            sentences = layout.prose_sentences(para)
            fmt = [s for s in sentences if _is_format(s)]
            if not fmt or (len(fmt) == len(sentences) and para == c.body.strip()):
                continue
            rest = " ".join(s for s in sentences if s not in fmt)
            new = new.replace(para, rest, 1) if rest else _drop(new, para)
            moved += fmt
    if not moved:
        return text
    return new.rstrip() + "\n\n## Output format\n\n" + " ".join(moved)


def _drop(text: str, para: str) -> str:
    at = text.find(para)
    if at < 0:
        return text
    return (text[:at].rstrip("\n") + "\n\n" + text[at + len(para) :].lstrip("\n")).strip("\n")
