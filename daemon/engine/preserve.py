"""What a rewrite must keep: the author's content and the prompt's shape.

Two guards that run after every engine (the pipeline calls them through
:func:`promptd.daemon.engine.guards.check`):

* :func:`check_content` — every instruction, requirement, constraint (positive and
  negative: never, do not, avoid, must not, only), example and output-template line of the
  original survives in the rewrite. A sentence survives when its content words are still
  there (all of a short one's, 70% of a longer one's; each word counted as often as the
  original uses it, so two parallel items need two copies) and, for a negative
  constraint, its negation too, or the known positive form a rule turned it into ("never
  use jargon" -> "use plain language"). What a listed rule removes on purpose (filler,
  shouting, a repeated sentence) is excused when the rewrite's changes quote it.
* :func:`check_shape` — a prompt whose shape carries meaning keeps it: fenced code, JSON,
  YAML blocks and output-template lines come out verbatim (JSON: the same value), a
  numbered or bulleted list keeps all its items, and an image-generation prompt gets no
  sections or lists it did not have.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Final

from ..values import Change
from .positive import positive_form
from .text import FILLER, split_sentences, wordlist

# Rules whose changes may remove text on purpose (and must quote what they removed).
REMOVAL_RULES: Final = frozenset({"PD003", "PD012", "PD013", "PD019"})

_STOP: Final = wordlist(
    """
    a an the and or but if then so of to in on at by for with from into onto as is are was
    were be been being am it its it's this that these those there their they them you your
    yours i me my we us our he she his her him do does did done make makes made get gets
    have has had will would shall should can could may might must also just very too
    please kindly what which who whom whose when where why how all any each every some
    such than same other own up out about over under again further once here both few
    more most s t
    """
)
# "make it good" and its kin carry no content: PD003 may drop them.
_EMPTY: Final = wordlist("good nice great better awesome")
_NEGATION: Final = re.compile(
    r"\b(?:never|not|no|avoid|without|only|except|nothing|none|nor|neither|dont|cant|wont|"
    r"doesnt|isnt|arent|shouldnt|mustnt|cannot)\b|n['’]t\b",
    re.I,
)
_WORD: Final = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*|\d+(?:[.,]\d+)?")
_PH_LIKE: Final = re.compile(
    r"\{%.*?%\}|\{\{.*?\}\}|\$\{[^{}\n]*\}|\{[^{}\n]*\}|<<[^<>\n]*>>|\[\[[^\[\]\n]*\]\]"
)


def _stem(word: str) -> str:
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_words(text: str) -> list[str]:
    """The words of ``text`` that carry its meaning (stemmed; stop words and filler out)."""
    prose = FILLER.sub(" ", _PH_LIKE.sub(" ", text))
    out = []
    for w in _WORD.findall(prose):
        s = _stem(w)
        if s in _STOP or s in _EMPTY or _NEGATION.fullmatch(w) or len(s) < 2:
            continue
        out.append(s)
    return out


def _negations(text: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for m in _NEGATION.finditer(text):
        word = m.group(0).lower()
        found["not" if word.endswith("t") and word != "without" else word] += 1
    return found


def _declared(changes: Sequence[Change]) -> list[str]:
    """The quoted pieces the changes of removal rules say they removed (normalized)."""
    out: list[str] = []
    for change in changes:
        if not set(change.findings) & REMOVAL_RULES:
            continue
        for quoted in re.findall(r'"([^"]+)"', change.description):
            out.append(_norm(quoted.rstrip("…")))
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _excused(sentence: str, declared: list[str]) -> bool:
    s = _norm(sentence)
    return any(d and (s.startswith(d) or d.startswith(s)) and len(d) >= 8 for d in declared)


def lost_content(original: str, rewritten: str, changes: Sequence[Change] = ()) -> list[str]:
    """The sentences of ``original`` that ``rewritten`` no longer says."""
    pool = Counter(content_words(rewritten))
    neg_pool = _negations(FILLER.sub(" ", rewritten))
    low = _norm(rewritten)
    declared = _declared(changes)
    lost: list[str] = []
    for sentence in split_sentences(original):
        text = sentence.text
        if re.match(r"^#{1,6}\s", text):
            continue  # a heading names a section; its content is what is checked
        if re.fullmatch(r"</?[A-Za-z_][\w-]{0,40}>", text.strip()):
            continue  # a tag line delimits a section (<instructions> ... </instructions>)
        words = content_words(text)
        if not words:
            continue
        if _excused(text, declared):
            continue
        for clause in re.split(r"[,;]\s*|\s+(?:and|but)\s+", text.rstrip(".!?")):
            positive = positive_form(clause.strip())
            # the rule's form ("Use plain language, no jargon") or its positive head alone
            head = re.split(r",\s+(?:not|no)\s", positive)[0]
            if positive and (_norm(positive) in low or _norm(head) in low):
                # The rule's positive form stands in for this clause: its words are excused.
                for w in content_words(clause):
                    if w in words:
                        words.remove(w)
                text = text.replace(clause, " ")
        hits = 0
        for w in words:
            if pool[w] > 0:
                pool[w] -= 1
                hits += 1
        # short sentences keep every content word; longer ones at least 70% of them
        need = len(words) if len(words) <= 3 else -(-len(words) * 7 // 10)
        negs_ok = True
        for neg, n in _negations(FILLER.sub(" ", text)).items():
            have = min(n, neg_pool[neg])
            neg_pool[neg] -= have
            if have < n:
                negs_ok = False
        if hits < need or not negs_ok:
            lost.append(sentence.text)
    return lost


# --- shape ---------------------------------------------------------------------------------

_FENCE: Final = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.S | re.M)
_TEMPLATE_LINE: Final = re.compile(
    r"^[ \t]*(?:\*\*[^*\n]{1,40}:?\*\*:?.*|\|.*\|[ \t]*|[A-Z][\w /&()-]{0,40}:[ \t]*"
    r"(?:\{[^{}\n]*\}|\$\{[^{}\n]*\}|\{\{[^{}\n]*\}\}|\[[^\]\n]*\]|_{3,}|<[^<>\n]+>)[ \t]*)$",
    re.M,
)
_YAML_LINE: Final = re.compile(r"^[ \t]*(?:-[ \t]+)?[\w.-]+:(?:[ \t].*)?$|^[ \t]*-[ \t]+\S.*$")
_NUMBERED: Final = re.compile(r"^[ \t]*\d+[.)][ \t]+\S", re.M)
_BULLET: Final = re.compile(r"^[ \t]*[-*•][ \t]+\S", re.M)
_HEADING: Final = re.compile(r"^#{1,6}[ \t]+\S", re.M)
_IMAGE: Final = re.compile(
    r"\b(?:photo-?realistic|photorealistic|photograph|photo|image|illustration|render(?:ed|ing)?|"
    r"midjourney|dall-?e|stable diffusion|4k|8k|hdr|bokeh|cinematic lighting|aspect ratio|"
    r"portrait|wallpaper|logo|concept art|digital art|oil painting|watercolou?r|"
    r"unreal engine|octane|depth of field|wide-angle|close-up|--ar|--v)\b",
    re.I,
)


def is_image_prompt(text: str) -> bool:
    """An image-generation (or photo-editing) prompt: its shape is a description, not a task
    with an answer in prose."""
    hits = {m.group(0).lower() for m in _IMAGE.finditer(text)}
    if len(hits) >= 2:
        return True
    verb = re.search(r"\b(?:generate|create|draw|paint|render|design|restore|edit)\b", text, re.I)
    noun = re.search(r"\b(?:image|photo\w*|illustration|picture|logo|painting)\b", text, re.I)
    return bool(hits) and bool(verb and noun)


def _json_values(text: str) -> list[object]:
    out: list[object] = []
    decoder = json.JSONDecoder()
    pos = 0
    for m in re.finditer(r"^[ \t]*([\[{])", text, re.M):
        start = m.start(1)
        if start < pos:
            continue
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, (dict, list)) and value:
            out.append(value)
            pos = end
    return out


def _yaml_blocks(text: str) -> list[str]:
    """Runs of three or more YAML-like lines with at least one nested key."""
    blocks: list[str] = []
    run: list[str] = []
    for line in [*text.split("\n"), ""]:
        if line.strip() and _YAML_LINE.match(line) and not _NUMBERED.match(line):
            run.append(line)
            continue
        nested = any(re.match(r"^[ \t]+\S", ln) for ln in run) and any(
            ln.rstrip().endswith(":") for ln in run
        )
        if len(run) >= 3 and nested:
            blocks.append("\n".join(ln.rstrip() for ln in run))
        run = []
    return blocks


def shape_problems(original: str, rewritten: str) -> list[str]:
    """How ``rewritten`` broke a shape of ``original`` (empty: every shape kept)."""
    problems: list[str] = []
    flat = "\n".join(ln.rstrip() for ln in rewritten.split("\n"))
    for m in _FENCE.finditer(original):
        block = "\n".join(ln.rstrip() for ln in m.group(0).strip("\n").split("\n"))
        if block.strip() not in flat:
            problems.append("a fenced code block changed")
            break
    outside = _FENCE.sub("", original)
    after_values = _json_values(_FENCE.sub("", rewritten))
    for value in _json_values(outside):
        if value not in after_values:
            problems.append("a JSON block changed")
            break
    for block in _yaml_blocks(outside):
        if block not in flat:
            problems.append("a YAML block changed")
            break
    lines_after = Counter(ln.strip() for ln in rewritten.split("\n"))
    for line, n in Counter(m.group(0).strip() for m in _TEMPLATE_LINE.finditer(outside)).items():
        if lines_after[line] < n:
            problems.append(f'an output-template line changed ("{line[:50]}")')
            break
    for what, pattern in (("numbered", _NUMBERED), ("bulleted", _BULLET)):
        before, after = len(pattern.findall(outside)), len(pattern.findall(rewritten))
        if after < before:
            problems.append(f"the {what} list lost items ({after} of {before})")
    added_headings = len(_HEADING.findall(rewritten)) > len(_HEADING.findall(original))
    if added_headings and is_image_prompt(original):
        problems.append("an image prompt got sections it did not have")
    return problems
