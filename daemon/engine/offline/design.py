"""The offline Designer: a minimal, meaning-preserving rewrite of a prompt.

Two modes. ``full`` restructures an unstructured prompt into sections that suit its type
(role, task, context, delimited input, guidelines, output format, examples); ``minimal``
keeps the author's layout and only makes local edits (filler, shouting, negative-only
wording) plus the sections that are missing. The second try after the Evaluator's feedback
uses ``minimal``. What only the author can decide stays a finding: nothing like "[insert X]"
is ever written into the prompt. A prompt with nothing to fix comes back as it is.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from ...config import EngineConfig
from ...values import Change, Finding
from ..analysis import Analysis, analyze
from ..checks import may_repeat, near_duplicate, split_tasks, wordset
from ..delimiters import is_delimited
from ..guards import check, placeholder_name
from ..preserve import is_image_prompt
from ..scoring import score
from ..text import IMPERATIVES
from ..types import Design
from .edits import capitalize, clean_sentence, tidy
from .formats import PERSONA, is_persona, output_format, role_line

Mode = Literal["full", "minimal"]

_EDIT_TEXT: Final = {
    "PD013": "Removed filler and politeness ({items}).",
    "PD012": "Turned shouting into plain emphasis ({items}).",
    "PD005": "Turned a negative-only instruction into a positive one ({items}).",
    "PD003": "Dropped a vague request the positive instruction beside it makes concrete ({items}).",
}
_FIXABLE_RESTRUCTURE: Final = {"PD002", "PD006", "PD014", "PD017", "PD022"}


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _section_name(token: str) -> str:
    name = placeholder_name(token).split(".")[-1].replace("_", " ").strip() or "input"
    return name[0].upper() + name[1:]


def _tag_name(token: str) -> str:
    name = re.sub(r"\W+", "_", placeholder_name(token).split(".")[-1]).strip("_").lower()
    return name or "input"


_FORMAT_LEAD: Final = re.compile(
    r"^\W*(?:(?:answer|respond|reply)\s+(?:with|in|as|using|only|by)\b|return\b|output\b|"
    r"format\b|give the (?:answer|result|output)\b|the (?:answer|output|result|response) "
    r"(?:should|must)\b|present\b|structure\b|print\b|your (?:answer|output|response)\b|"
    r"(?:use|write in|in) (?:a |one )?(?:[\w-]+ )?(?:table|bullet|list|json|yaml|csv|markdown)|"
    r"(?:list|give|provide)\b[^.]{0,40}\b(?:bullet|numbered|one per line|table)|"
    r"(?:in|as) (?:a |one )?(?:numbered|bulleted)|one (?:per|a) line)",
    re.I,
)
_DET: Final = r"(?:this|the|following|my|our|these|those|attached|that)"
_NOT_PREP: Final = r"(?!(?:in|from|of|on|about|for|to|with|into|at|by|and|or)\b)"


def _point_at_input(sentence: str, token: str) -> tuple[str, bool]:
    """ "fix the bug in this code {code}" -> "fix the bug in the code below".

    Returns the sentence and whether the placeholder was taken out of it (it then moves
    into its own delimited section).
    """
    esc = re.escape(token)
    noun = placeholder_name(token).split(".")[-1].replace("_", " ").lower()
    m = re.search(rf"\s*:\s*{esc}\s*[.!?]?\s*$", sentence)
    if m and len(sentence[: m.start()].split()) <= 3 and not re.search(r"\s", token):
        return sentence, False  # "Review: {review}" is a labeled input: it stays in its line
    if m and re.search(r"\s", token):
        return sentence, False  # a field with a default ("${x:None (solo)}") stays where it is
    if m:
        head = sentence[: m.start()]
        pointed = re.sub(
            rf"\b(?:this|these)\s+({re.escape(noun)}s?)\b",
            r"the \1 below",
            head,
            count=1,
            flags=re.I,
        )
        if pointed == head:
            pointed = re.sub(r"\b(?:this|these)\s+([\w-]+)\s*$", r"the \1 below", head, flags=re.I)
        if pointed == head:
            pointed = f"{head} the {noun} below"  # "a query that answers: {question}"
        head = pointed
        return tidy(head) + ".", True
    m = re.search(
        rf"\b{_DET}\s+((?:{_NOT_PREP}[\w/-]+\s+){{0,2}}{_NOT_PREP}[\w/-]+)\s*{esc}", sentence, re.I
    )
    if m:
        return tidy(f"{sentence[: m.start()]}the {m.group(1)} below{sentence[m.end() :]}"), True
    m = re.search(rf"\b(in|from|of|on|about|for|to|with|into|at)\s+{esc}", sentence, re.I)
    if m:
        out = f"{sentence[: m.start()]}{m.group(1)} the {noun} below{sentence[m.end() :]}"
        return tidy(out), True
    return sentence, False


_TRAILING_RULE: Final = re.compile(
    r",\s*(?=(?:and\s+)?(?:make it|make sure|keep it|keep the|be |use |using |avoid |"
    r"don'?t |do not |never |always |written |in (?:a|an) \w+ tone))",
    re.I,
)


def _split_rule(task: str) -> tuple[str, str]:
    """ "Write a story, make it funny" -> ("Write a story.", "Make it funny.")."""
    m = _TRAILING_RULE.search(task)
    if not m or m.start() < 12:
        return task, ""
    head = task[: m.start()]
    if ":" in head or head.count(",") >= 1 or task.rstrip().endswith("?"):
        return task, ""  # the last item of a list of actions, not a rule about the task
    verb = re.match(r"[A-Za-z]+", head.strip())
    if not verb or verb.group(0).lower() not in IMPERATIVES:
        return task, ""  # "This function is slow, make it faster": the request is the rule
    head = task[: m.start()].rstrip(" ,") + "."
    rule = re.sub(r"^and\s+", "", task[m.end() :].strip(), flags=re.I)
    rule = capitalize(rule.rstrip(" ."))
    return head, (rule + "." if rule else "")


class _Builder:
    def __init__(self, text: str, ptype: str, a: Analysis, findings: list[Finding]) -> None:
        self.text = text
        self.ptype = ptype
        self.a = a
        self.codes = {f.code for f in findings}
        self.changes: list[Change] = []
        self.edited: dict[int, str] = {}  # sentence index -> cleaned text ("" = removed)
        self.edit_items: dict[str, list[str]] = {}

    def clean_all(self) -> None:
        data = data_spans(self.text)
        for i, labeled in enumerate(self.a.sentences):
            if labeled.kinds & {"example", "heading"} or PERSONA.search(labeled.text):
                continue  # examples are data; a persona line is the author's own framing
            if any(s <= labeled.sentence.start < e for s, e in data):
                continue  # the text the prompt works on (an email to translate) is not edited
            new, done = clean_sentence(labeled.text)
            for code, items in done.items():
                self.edit_items.setdefault(code, []).extend(items)
            if new != labeled.text:
                self.edited[i] = new
        for code, items in self.edit_items.items():
            shown = ", ".join(f'"{x}"' for x in dict.fromkeys(items))
            self._note("edit", code, _EDIT_TEXT[code].format(items=shown))
        self._drop_duplicates()

    def _drop_duplicates(self) -> None:
        if "PD019" not in self.codes:
            return
        kept: list[set[str]] = []
        for i, labeled in enumerate(self.a.sentences):
            if labeled.kinds & {"input"} or not may_repeat(self.a, labeled):
                continue
            ws = wordset(self.sentence(i))
            if len(ws) < 3:
                continue
            if any(near_duplicate(ws, k) for k in kept):
                self.edited[i] = ""
                self._note(
                    "remove", "PD019", f'Removed a repeated sentence ("{labeled.text[:50]}").'
                )
            else:
                kept.append(ws)

    def _note(self, kind: str, code: str, description: str) -> None:
        """Record a change of ``kind`` (edit, structure, remove, add) answering ``code``."""
        self.changes.append(Change(description=description, findings=[code], kind=kind))

    def sentence(self, i: int) -> str:
        return self.edited.get(i, self.a.sentences[i].text)

    # --- minimal: keep the layout ----------------------------------------------------------

    def minimal(self, add_format: bool = False) -> str:
        out = self.text
        for i in sorted(self.edited, reverse=True):
            s = self.a.sentences[i].sentence
            new = self.edited[i]
            end = s.end
            if not new:
                while end < len(out) and out[end] == " ":
                    end += 1
            out = out[: s.start] + new + out[end:]
        out = re.sub(r"\n{3,}", "\n\n", out).strip()
        out = self._delimit_in_place(out)
        fmt = output_format(self.ptype, self.a, self.text) if add_format else ""
        if fmt and "PD002" in self.codes and not analyze(out).has_format:
            out += "\n\n## Output format\n" + fmt
            self._note("add", "PD002", "Added the output format the request implies.")
        return out

    def _delimit_in_place(self, out: str) -> str:
        if "PD017" not in self.codes:
            return out
        done: list[str] = []
        for tok, _st, _s, _e in self.a.input_placeholders():
            idx = out.find(tok)
            if idx < 0 or is_delimited(out, idx, idx + len(tok)) or tok in done:
                continue
            line_start = out.rfind("\n", 0, idx) + 1
            line_end = out.find("\n", idx)
            line = out[line_start : line_end if line_end >= 0 else len(out)]
            if line.strip() != tok:
                continue  # inside a sentence, a URL or a template line: left as the author put it
            tag = _tag_name(tok)
            lead = "" if idx == 0 or out[idx - 1] == "\n" else "\n"
            out = out[:idx] + f"{lead}<{tag}>\n{tok}\n</{tag}>\n" + out[idx + len(tok) :]
            out = re.sub(r"[ \t]+\n", "\n", out)
            out = re.sub(r"\n{3,}", "\n\n", out).strip()
            done.append(tok)
        if done:
            self._note(
                "structure",
                "PD017",
                f"Delimited the outside input {', '.join(done)} with tags so it cannot be "
                "taken for instructions.",
            )
        return out

    # --- full: sections by type -------------------------------------------------------------

    def full(self) -> str:
        a = self.a
        inputs = [ph for ph in a.input_placeholders() if not is_delimited(self.text, ph[2], ph[3])]
        input_tokens = list(dict.fromkeys(ph[0] for ph in inputs))
        roles: list[str] = []
        tasks: list[str] = []
        context: list[str] = []
        rules: list[str] = []
        formats: list[str] = []
        examples: list[str] = []
        split_any = False
        inline: list[str] = []
        for i, labeled in enumerate(a.sentences):
            text = self.sentence(i)
            if not text:
                continue
            for tok in input_tokens:
                if tok in text:
                    text, moved = _point_at_input(text, tok)
                    if not moved:
                        # It stays where it is, delimited in place.
                        text = text.replace(tok, f'"""{tok}"""', 1)
                        inline.append(tok)
            kinds = labeled.kinds
            if i in self.edited or (not tasks and "task" in kinds):
                text = capitalize(text)  # the author's own data ("urgent = ...") keeps its case
            if not re.search(r"[.!?:\"')\]}>`]$", text):
                text += "."
            # The author's first instruction stays the task, whatever else it also says.
            first = not tasks and not kinds & {"example", "role", "input", "context"}
            if "example" in kinds:
                examples.append(labeled.text)
            elif "role" in kinds and "task" not in kinds:
                roles.append(text)
            elif "task" in kinds or (first and not _FORMAT_LEAD.match(text)):
                parts = split_tasks(text) if "PD014" in self.codes else [text]
                if len(parts) > 1:
                    split_any = True
                    parts = [_finish(p, parts[0]) for p in parts]
                for part in parts:
                    head, rule = _split_rule(part)
                    tasks.append(head)
                    if rule:
                        rules.append(rule)
            elif "format" in kinds and _FORMAT_LEAD.match(text):
                # Only what describes the answer goes under "Output format"; a requirement
                # that names a format ("Include export in JSON and CSV") stays a requirement.
                formats.append(text)
            elif "constraint" in kinds or "format" in kinds:
                rules.append(capitalize(text))
            else:
                context.append(text)
        if not tasks:
            return self.minimal()
        lines: list[str] = []
        if not roles and "PD006" in self.codes and role_line(self.ptype, self.text):
            roles.append(role_line(self.ptype, self.text))
            self._note("add", "PD006", f'Named a role ("{roles[0]}").')
        if roles:
            lines += [" ".join(roles), ""]
        headed = bool(roles or input_tokens or split_any or context)
        if headed:
            lines.append("## Task")
        if split_any and len(tasks) > 1:
            lines += [f"{n}. {t}" for n, t in enumerate(tasks, 1)]
        else:
            lines.append(" ".join(tasks))
        if split_any:
            self._note("structure", "PD014", "Split the tasks into ordered steps.")
        if context:
            lines += ["", "## Context", " ".join(context)]
        input_tokens = [tok for tok in input_tokens if tok not in inline]
        for tok in input_tokens:
            tag = _tag_name(tok)
            lines += ["", f"## {_section_name(tok)}", f"<{tag}>", tok, f"</{tag}>"]
        if input_tokens:
            self._note(
                "structure",
                "PD017",
                f"Moved the outside input {', '.join(input_tokens)} into its own delimited "
                "section.",
            )
        if inline:
            self._note(
                "structure",
                "PD017",
                f"Delimited the outside input {', '.join(inline)} with triple quotes.",
            )
        if rules:
            title = "Constraints" if self.ptype in ("code", "technical") else "Guidelines"
            lines += ["", f"## {title}"] + [f"- {r}" for r in rules]
        if formats:
            lines += ["", "## Output format", " ".join(formats)]
        elif not a.has_format and output_format(self.ptype, a, self.text):
            lines += ["", "## Output format", output_format(self.ptype, a, self.text)]
            self._note(
                "add",
                "PD002",
                f"Added an output format that suits {_article(self.ptype)} {self.ptype} prompt.",
            )
        if examples:
            lines += ["", "## Examples", *examples]
        if "PD022" in self.codes:
            self._note("structure", "PD022", "Split the block of text into sections.")
        return "\n".join(lines).strip()


_BARE_FOLLOWUPS: Final = {
    "explain": "Explain what was wrong and why the fix works",
    "test it": "Test the fix",
}


def _finish(part: str, first: str) -> str:
    part = capitalize(part.strip(" ,;"))
    bare = part.rstrip(".").lower()
    if bare in _BARE_FOLLOWUPS and re.search(r"\b(?:fix|bug|debug)\b", first, re.I):
        part = _BARE_FOLLOWUPS[bare]
    return part if re.search(r"[.!?]$", part) else part + "."


def _messy(text: str, codes: set[str]) -> bool:
    """A prompt typed in a hurry (no capital, filler, shouting, an input inside a sentence):
    the kind that sections help. A written, capitalized prompt keeps its layout."""
    start = text.lstrip()[:1]
    return (
        bool(codes & {"PD012", "PD013"})
        or (start.isalpha() and start.islower())
        or (
            "PD017" in codes
            and bool(re.search(r"\b(?:this|the|these|my)\s+\w+\s*[{$<%]", text, re.I))
        )
    )


# YAML-like "key: value" lines and "**Label:**" template lines are the prompt's data or
# layout: no edit goes inside them.
_FIXED_LINE: Final = re.compile(
    r"^[ \t]*(?:-[ \t]+)?[a-z_][\w.-]*:(?:[ \t]+\S.*)?$"
    r"|^[ \t]*\*\*[^*\n]{1,40}\*\*.*$|^[ \t]*\|.*$",
    re.M,
)


_TRANSFORM: Final = re.compile(
    r"\b(?:translate|proofread|rewrite|rephrase|paraphrase|edit|correct|polish|shorten|"
    r"summari[sz]e|improve|fix|localize|adapt|review|reply to|respond to|answer)\b[^.\n]*"
    r"\b(?:my|this|these|the following|the above|the \w+ below|below|following)\b",
    re.I,
)


def data_spans(text: str) -> list[tuple[int, int]]:
    """Where the prompt holds the text it works on, which no edit may touch: key-value and
    template lines, the lines after a line that ends with ":" (up to a blank line), and,
    when a line asks to transform "my email", "this letter" or "the following", every other
    line (its first paragraph, when that is where the request is, stays editable)."""
    spans: list[tuple[int, int]] = [(m.start(), m.end()) for m in _FIXED_LINE.finditer(text)]
    for block in re.finditer(r":[ \t]*\n(.+?)(?=\n[ \t]*\n|\Z)", text, re.S):
        spans.append((block.start(1), block.end(1)))
    # A request to transform "this letter" / "my email": every other line is the text to
    # transform (before or after the request), and is left exactly as the author wrote it.
    m = _TRANSFORM.search(text)
    if m and "\n" in text.strip():
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        first = re.split(r"\n[ \t]*\n", text.strip(), maxsplit=1)[0]
        if m.start() < len(first) and "\n" not in first.strip():
            line_end = max(line_end, text.find(first) + len(first))
        spans += [(0, line_start), (line_end, len(text))]
    return spans


def design(
    text: str,
    prompt_type: str,
    findings: list[Finding],
    *,
    mode: Mode = "full",
    config: EngineConfig | None = None,
) -> Design:
    """Rewrite ``text``; the result passes every guard or is ``text`` itself, unchanged."""
    a = analyze(text)
    codes = {f.code for f in findings}
    builder = _Builder(text, prompt_type, a, findings)
    builder.clean_all()
    keep_layout = is_persona(text) or is_image_prompt(text)
    restructure = (
        mode == "full"
        and not keep_layout
        and not a.structured
        and not re.search(r"\n[ \t]*\n", text.strip())  # one paragraph
        and (
            _messy(text, codes)
            # one sentence whose answer shape follows from what it asks ("Write ... about
            # dogs" -> a title, then prose): the format is a confident addition
            or (
                len(a.sentences) == 1
                and "PD002" in codes
                and bool(output_format(prompt_type, a, text))
            )
        )
        and len([x for x in a.sentences if not x.kinds & {"role", "example", "heading"}]) <= 3
        and bool(codes & _FIXABLE_RESTRUCTURE)
        and "PD001" not in codes
        and "```" not in text
    )
    # One sentence wrapped over lines (a dedented string): its layout stays, and the output
    # format its request implies is added below it.
    wrapped = (
        mode == "full"
        and not restructure
        and not keep_layout
        and "PD002" in codes
        and "\n" in text.strip()
        and not re.search(r"\n[ \t]*\n", text.strip())
        and len(re.findall(r"[.!?](?:\s|$)", text.strip())) <= 1
        and not a.structured
    )
    out = builder.full() if restructure else builder.minimal(add_format=wrapped)
    if out.strip() == text.strip() or not out.strip() or not builder.changes:
        # nothing a rule answers (a capital letter or a full stop is not worth a rewrite)
        return Design(prompt=text, changes=[])
    worse = score(out, prompt_type).scores.total < score(text, prompt_type).scores.total
    if worse or check(text, out, config, changes=builder.changes):
        if mode == "full":
            return design(text, prompt_type, findings, mode="minimal", config=config)
        return Design(prompt=text, changes=[])
    return Design(prompt=out, changes=builder.changes)
