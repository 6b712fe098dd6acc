"""Do-no-harm checks of one rewrite against its original, written apart from the engine.

Nothing here imports the engine's guards: a check that reused the code it checks could not
catch that code's mistakes. Each function takes the original and the rewrite and returns
:class:`Problem` s (empty: nothing wrong). :func:`harm` runs the checks that hold for every
prompt; :func:`expectations` the ones a corpus case names.

What "harm" means here (EXAMPLES.md, "Do no harm"):

* **placeholders** — every template field, in every syntax (``{x}``, ``{{x}}``,
  ``{{ x | f }}``, ``{% ... %}``, ``{# ... #}``, ``${x}``, ``${x:default}``, ``{$X}``,
  ``<<x>>``, ``[[x]]``, ``%(x)s``, ``$x``, unpaired ``<x>`` tags, f-string fields) occurs in
  the rewrite exactly as often as in the original, byte for byte, and none is invented;
* **constraints** — every clause with never / do not / avoid / must not / only / at most ...
  survives: one sentence or line of the rewrite still holds a limiting word and all the
  clause's content words;
* **content** — every content word of the original, and every number as often as before, is
  still there; every clause keeps two thirds of its content words together in one sentence or line;
* **blocks** — fenced code is byte-identical; JSON and YAML (fenced, or the whole prompt, or
  an unfenced multi-line JSON value) still parse to the same value;
* **fill-ins** — no "[insert X]"-style slot the author did not write;
* **garble** — no doubled word ("The the") and no new one-word fragment ("Sooo much.") left
  behind by a cut;
* **task** — a prompt that opens with an instruction (or a persona) keeps it as the task, not
  under a Guidelines, Context, Constraints or Output format heading; and no instruction of the
  author's that is not about the answer's shape lands under "Output format".
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a rewrite: which check, and what exactly."""

    check: str  # placeholders | constraint | content | line | block | fill-in | expectation
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.message}"


# --- placeholders ----------------------------------------------------------------------------

# Longest syntaxes first: ``${x}`` must not be read as ``$`` + ``{x}``, nor ``{{x}}`` as ``{x}``.
_FIELD = re.compile(
    r"\{%-?.{0,200}?-?%\}"  # {% if x %} ... block tags
    r"|\{#.{0,200}?#\}"  # {# comment #}
    r"|\{\{[^{}\n]{1,120}\}\}"  # {{x}}, {{ x | upper }}
    r"|\$\{[^{}\n]{1,120}\}"  # ${x}, ${x:default value}
    r"|\{\$[A-Za-z_][\w.\[\]'\"-]{0,80}\}"  # {$X}
    r"|<<[A-Za-z_][\w .:-]{0,60}>>"  # <<x>>
    r"|\[\[[A-Za-z_][\w .:-]{0,60}\]\]"  # [[x]]
    r"|%\([A-Za-z_]\w{0,60}\)[#0 +-]?\d*(?:\.\d+)?[sdifrxXeEgGco]"  # %(x)s
    r"|\{(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[[^\[\]{}\n]{1,20}\])*|\d+)?(?:![rsa])?"
    r"(?::[^{}\n]{0,30})?\}"  # {x}, {0}, {value!r:>10}, {}
    r"|(?<![\w$\\])\$[A-Za-z_]\w*"  # $x
    r"|<[A-Za-z_][\w-]{0,40}>"  # <x> (kept only when unpaired and not HTML)
)
_CLOSING = re.compile(r"</([A-Za-z_][\w-]{0,40})>")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_HTML = _words(
    "a b i u p br hr em strong code pre div span ul ol li table tr td th img html body head "
    "title script style section article header footer nav main h1 h2 h3 h4 h5 h6 blockquote "
    "sub sup small kbd tt s q"
)


def _raw_fields(text: str) -> Iterator[str]:
    closing = set(_CLOSING.findall(text))
    for m in _FIELD.finditer(text):
        token = m.group(0)
        if token.startswith("<") and not token.startswith("<<"):
            name = token[1:-1]
            if name in closing or name.lower() in _HTML:
                continue
        if token == "{}":
            continue
        yield token


def fields(text: str) -> Counter[str]:
    """The template fields of ``text`` as a multiset (token -> how many times)."""
    return Counter(_raw_fields(text))


def check_placeholders(original: str, rewrite: str) -> list[Problem]:
    before, after = fields(original), fields(rewrite)
    problems = []
    for token, n in before.items():
        # Counted as fields, so "{x}" inside "{{x}}" is not taken for a use of "{x}"; a tag
        # the rewrite pairs (<x>...</x>) still counts as the author's <x>.
        tag = token.startswith("<") and not token.startswith("<<")
        m = rewrite.count(token) if tag else after[token]
        if m != n:
            problems.append(
                Problem("placeholders", f"{token!r} occurs {n}x in the original, {m}x after")
            )
    for token, n in after.items():
        if token not in before and not token.startswith("<"):
            problems.append(Problem("placeholders", f"{token!r} ({n}x) was not in the original"))
    return problems


# --- words -----------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]|\d+(?:[.,]\d+)*")
# Function words, generic verbs and the filler, politeness and vague words a listed rule may
# drop on purpose: none of them carries what the author asked for on its own.
STOP = _words(
    """
    a an the and or but if then than so as at by for from in into of on onto to up with about
    over under out off via per this that these those it its it's they them their there here
    is are was were be been being am do does did doing done have has had having will would
    shall should can could may might must i me my we us our you your yours he she his her him
    who whom whose which what when where why how all any each every some such no nor not only
    own same too very just also both either neither more most other another much many few
    one ones s t ll re ve d m don dont doesn didn isn aren wasn weren won wouldn shouldn
    couldn mustn can't cannot don't doesn't isn't won't shouldn't mustn't
    please kindly pls plz thanks thank thx hi hey hello dear sir madam ok okay
    really actually basically literally simply totally honestly definitely certainly
    quite rather pretty super extremely stuff things thing something anything everything
    good nice great awesome amazing cool fine best better well
    make makes made making use using used uses give gives gave given provide provides
    get gets got need needs want wants wanted like would love let lets help try go put take
    able sure know think feel
    i'm you're we're it’s don’t can’t cant wont isnt didnt im ive youre thats whats
    """
)
_MARKER = re.compile(
    r"\b(never|not|no|none|nothing|avoid|avoiding|only|without|except|exclude|excluding|"
    r"refrain|at most|no more than|no longer than|under|max(?:imum)?|limit(?:ed)?|forbid\w*|"
    r"prohibit\w*)\b|n['’]t\b|\bdont\b|\bcannot\b",
    re.IGNORECASE,
)
# What makes a sentence a constraint (the brief's list, and its close spellings).
_CONSTRAINT = re.compile(
    r"\b(never|do not|does not|don['’]?t|doesn['’]?t|avoid|must not|mustn['’]?t|should not|"
    r"shouldn['’]?t|cannot|can['’]t|only|at most|no more than|no longer than|without|"
    r"refrain from|under no circumstances)\b",
    re.IGNORECASE,
)


def stem(word: str) -> str:
    """A crude stem, the same on both sides: lower case, no possessive or common suffix."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'-")
    for suffix in ("ing", "ies", "ed", "es", "s"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            return w[: -len(suffix)]
    return w


def content_words(text: str, drop: Iterable[str] = ()) -> list[str]:
    """Stems of the words that carry meaning, in order (placeholders and fences excluded)."""
    dropped = {stem(d) for d in drop}
    text = _without_fields(text)
    out = []
    for w in _WORD.findall(text):
        if w[0].isdigit():
            continue
        lw = w.lower()
        if lw in STOP or lw.replace("’", "'") in STOP or len(lw) < 2:
            continue
        s = stem(w)
        if s not in dropped:
            out.append(s)
    return out


def numbers(text: str) -> Counter[str]:
    """Numbers as a multiset; list markers (``1.``, ``2)``) do not count: items renumber."""
    text = _LIST_MARKER.sub(" ", _without_fields(text))
    return Counter(n for n in _WORD.findall(text) if n[0].isdigit())


_LIST_MARKER = re.compile(r"^\s*(?:\d+|[a-z])[.)]\s", re.MULTILINE)


def _without_fields(text: str) -> str:
    """The text without placeholders and fenced blocks (both are checked on their own)."""
    return _FIELD.sub(" ", without_fences(text))


# --- blocks ----------------------------------------------------------------------------------

_FENCE = re.compile(r"^([ \t]*)(```+|~~~+)([^\n`]*)\n(.*?)^\1\2[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Fence:
    info: str
    body: str
    raw: str


def fences(text: str) -> list[Fence]:
    return [
        Fence(m.group(3).strip().lower(), m.group(4), m.group(0)) for m in _FENCE.finditer(text)
    ]


def without_fences(text: str) -> str:
    return _FENCE.sub("\n", text)


def _json_values(text: str) -> list[Any]:
    """Every JSON object/array in ``text``: fenced, the whole text, or a multi-line span."""
    out: list[Any] = []
    candidates = [f.body for f in fences(text) if f.info in ("json", "jsonc", "")]
    candidates.append(text)
    candidates.extend(_balanced_spans(text))
    for c in candidates:
        try:
            value = json.loads(c)
        except ValueError:
            continue
        if isinstance(value, dict | list):
            out.append(value)
    return out


def _balanced_spans(text: str) -> Iterator[str]:
    """Spans that open with ``{``/``[`` at a line start and close where the brackets do, over
    several lines or at the end of the line."""
    for m in re.finditer(r"^[ \t]*[\[{]", text, re.MULTILINE):
        start = m.end() - 1
        depth, in_str, esc = 0, False, False
        for i in range(start, len(text)):
            ch = text[i]
            if in_str:
                if esc:
                    esc = False
                elif ch == "\\":
                    esc = True
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch in "[{":
                depth += 1
            elif ch in "]}":
                depth -= 1
                if depth == 0:
                    end = text.find("\n", i)
                    rest = text[i + 1 : end if end >= 0 else len(text)]
                    if "\n" in text[start:i] or not rest.strip():
                        yield text[start : i + 1]
                    break


def _yaml_values(text: str, whole: bool) -> list[Any]:
    candidates = [f.body for f in fences(text) if f.info in ("yaml", "yml")]
    if whole:
        candidates.append(text)
    out: list[Any] = []
    for c in candidates:
        try:
            value = yaml.safe_load(c)
        except yaml.YAMLError:
            continue
        if isinstance(value, dict | list):
            out.append(value)
    return out


def check_blocks(original: str, rewrite: str, whole_yaml: bool = False) -> list[Problem]:
    problems = []
    for f in fences(original):
        if f.raw.strip() not in rewrite:
            first = f.body.strip().splitlines()[0] if f.body.strip() else ""
            problems.append(
                Problem("block", f"the ```{f.info} fence ({first[:50]!r}...) is not byte-identical")
            )
    after_json = _json_values(rewrite)
    for value in _json_values(original):
        if value not in after_json:
            problems.append(
                Problem("block", f"JSON value {json.dumps(value)[:70]}... no longer parses alike")
            )
    after_yaml = _yaml_values(rewrite, whole=True) + _yaml_values(without_fences(rewrite), True)
    for value in _yaml_values(original, whole=whole_yaml):
        if value not in after_yaml:
            problems.append(Problem("block", f"YAML value {str(value)[:70]}... no longer alike"))
    return problems


def has_json(text: str) -> bool:
    return bool(_json_values(text))


def has_yaml(text: str, whole: bool) -> bool:
    return bool(_yaml_values(text, whole))


# --- constraints and content -----------------------------------------------------------------

_UNIT = re.compile(r"[^.!?\n]+[.!?]*")


def units(text: str) -> list[str]:
    """Sentences and lines: the pieces a rewrite keeps a clause together in."""
    return [u.strip() for u in _UNIT.findall(_without_fields_keep(text)) if u.strip()]


def _without_fields_keep(text: str) -> str:
    # Dots inside a placeholder ({user.name}) must not split a sentence.
    return _FIELD.sub(" § ", without_fences(text))


_CLAUSE_SPLIT = re.compile(r"[,;:()\[\]—–]|\s-\s|\b(?:and|but|or|so|while|whereas)\b", re.I)


def constraint_clauses(text: str) -> list[str]:
    """The clauses of ``text`` that limit the answer (never, do not, only, avoid, ...)."""
    out = []
    for unit in units(text):
        if not _CONSTRAINT.search(unit):
            continue
        for clause in _CLAUSE_SPLIT.split(unit):
            if clause and _MARKER.search(clause) and _CONSTRAINT.search(unit):
                out.append(clause.strip())
    return out


def check_constraints(original: str, rewrite: str, drop: Iterable[str] = ()) -> list[Problem]:
    problems = []
    after_units = [(u, set(content_words(u, drop))) for u in units(rewrite)]
    for clause in constraint_clauses(original):
        need = set(content_words(clause, drop))
        if not need:
            continue
        if not any(_MARKER.search(u) and need <= words for u, words in after_units):
            problems.append(
                Problem(
                    "constraint",
                    f"{clause!r}: no sentence of the rewrite keeps a limiting word with "
                    f"{', '.join(sorted(need))}",
                )
            )
    return problems


def check_content(original: str, rewrite: str, drop: Iterable[str] = ()) -> list[Problem]:
    problems = []
    before = set(content_words(original, drop))
    after = set(content_words(rewrite, drop))
    lost = sorted(before - after)
    if lost:
        problems.append(Problem("content", f"words lost: {', '.join(lost)}"))
    nb, na = numbers(original), numbers(rewrite)
    fewer = sorted(n for n in nb if na[n] < nb[n])
    if fewer:
        problems.append(Problem("content", f"numbers lost: {', '.join(fewer)}"))
    after_units = [set(content_words(u, drop)) for u in units(rewrite)]
    # A sentence may be split into steps (at a comma, "and", "then"), never scattered.
    for clause in (c for unit in units(original) for c in _STEP_SPLIT.split(unit)):
        need = set(content_words(clause, drop))
        if len(need) < 2:
            continue
        best = max((len(need & u) for u in after_units), default=0)
        if best * 3 < len(need) * 2:
            problems.append(
                Problem("line", f"{clause.strip()[:90]!r} is no longer together in any sentence")
            )
    problems.extend(check_items(original, rewrite, drop))
    return problems


# A list item or a labelled line: "- x", "2. x", "Layer 2 (Middle): x", "**File:** x".
_ITEM = re.compile(
    r"^\s*(?:[-*•]\s|\d+[.)]\s|\*\*[^*\n]{1,30}\*\*"
    r"|[A-Za-z][\w-]*(?: [\w-]+){0,2}\s*(?:\([^)\n]*\))?:\s)"
)


def check_items(original: str, rewrite: str, drop: Iterable[str] = ()) -> list[Problem]:
    """Parallel items (Layer 1 / Layer 2 ...) each keep a line of their own.

    Each list item or labelled line of the original needs its own line in the rewrite that
    holds two thirds of its content words; two items may not share one line. Only a verbatim
    repeat of an item may collapse into the first.
    """
    after = [set(content_words(ln, drop)) for ln in without_fences(rewrite).splitlines()]
    used: set[int] = set()
    seen: set[str] = set()
    problems = []
    for line in without_fences(original).splitlines():
        if not _ITEM.match(line) or _norm_line(line) in seen:
            continue
        seen.add(_norm_line(line))
        need = set(content_words(line, drop))
        if len(need) < 2:
            continue
        best, where = 0, -1
        for i, words in enumerate(after):
            if i not in used and len(need & words) > best:
                best, where = len(need & words), i
        if best * 3 < len(need) * 2:
            problems.append(Problem("line", f"the item {line.strip()[:80]!r} lost its own line"))
        else:
            used.add(where)
    return problems


_STEP_SPLIT = re.compile(r"[,;:]|\b(?:and|then)\b", re.IGNORECASE)


def _norm_line(line: str) -> str:
    return " ".join(line.split()).strip().lower()


_FILL_IN = re.compile(
    r"\[(?:insert|your|add|specify|todo|tbd|placeholder)\b[^\]]*\]|<(?:insert|your)\b[^>]*>"
    r"|\bTODO\b|\bTBD\b|\bXXX\b",
    re.IGNORECASE,
)


def check_fill_ins(original: str, rewrite: str) -> list[Problem]:
    before = Counter(m.group(0).lower() for m in _FILL_IN.finditer(original))
    after = Counter(m.group(0).lower() for m in _FILL_IN.finditer(rewrite))
    extra = sorted((after - before).elements())
    if extra:
        return [Problem("fill-in", f"slot(s) for the author written into the prompt: {extra}")]
    return []


# The first instruction stays the task (EXAMPLES.md "Demote the task").
_IMPERATIVE = _words(
    """
    act answer analyse analyze assign build check classify colorize compare convert create
    decide describe design detect do draft draw edit explain extract find fix generate give
    identify implement list localize make outline plan propose provide pull recommend redact
    restore review rewrite route solve suggest summarise summarize tag tell translate turn
    upscale write
    """
)
_SIDE_HEADING = re.compile(
    r"^\s*#{1,6}\s*(guideline|context|constraint|output|note|background|example|detail|tip)",
    re.IGNORECASE,
)


def check_task_first(original: str, rewrite: str, drop: Iterable[str] = ()) -> list[Problem]:
    """An original that opens with an instruction or a role ("You ...") keeps it out of a
    side section (Context, Guidelines, Output format ...)."""
    first = next((u for u in units(original) if len(set(content_words(u, drop))) >= 2), "")
    opening = re.match(r"[\W_]*(\w+)", first)
    persona = re.match(
        r"\W*(i want you to|you\b(?!\s+(?:will|'ll|may|might|can|should|must|need)\b)|act as"
        r"|pretend|be an?\b)",
        first,
        re.IGNORECASE,
    )
    if not first or not (persona or (opening and opening.group(1).lower() in _IMPERATIVE)):
        return []
    need = set(content_words(first, drop))
    heading = ""
    for line in without_fences(rewrite).splitlines():
        if re.match(r"^\s*#{1,6}\s", line):
            heading = line.strip()
            continue
        words = set(content_words(line, drop))
        if len(need & words) * 3 >= len(need) * 2:
            if _SIDE_HEADING.match(heading):
                return [
                    Problem(
                        "task", f"the first instruction {first[:60]!r} is now under {heading!r}"
                    )
                ]
            return []
    return []


_FORMAT_WORDS = _words(
    """
    format answer answers reply respond respon return output table tabl bullet line sentenc
    word paragraph label list title heading section only json yaml csv markdown
    """
)


def check_output_section(original: str, rewrite: str, drop: Iterable[str] = ()) -> list[Problem]:
    """An instruction of the author's moved under "Output format" must be about the answer.

    A line under an output-format heading that comes from the original (two thirds of its
    content words are one sentence of the original) must name the answer's shape (format,
    answer, reply, return, output, table, bullet, line, words ...). "Include export in JSON
    and CSV" or "Ask one guiding question at a time" there is a requirement demoted.
    """
    originals = [set(content_words(u, drop)) for u in units(original)]
    heading = ""
    problems = []
    for line in without_fences(rewrite).splitlines():
        if re.match(r"^\s*#{1,6}\s", line):
            heading = line.lower()
            continue
        if "output" not in heading and "format" not in heading:
            continue
        words = set(content_words(line, drop))
        if len(words) < 2 or words & _FORMAT_WORDS or {stem(w) for w in words} & _FORMAT_WORDS:
            continue
        if any(len(words & o) * 3 >= len(words) * 2 for o in originals):
            problems.append(
                Problem(
                    "task",
                    f"the author's instruction {line.strip()[:70]!r} is now under "
                    f"{heading.strip()!r}",
                )
            )
    return problems


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w{}$%<>\[\]]+", " ", text.lower()).split())


def _only_filler_after(unit: str, prefix: str) -> bool:
    rest = unit[len(prefix) :]
    return unit.startswith(prefix) and not content_words(rest) and not re.search(r"[{}$%<>]", rest)


def check_garble(original: str, rewrite: str) -> list[Problem]:
    """No leftovers of a cut: a doubled word ("The the") or a new sentence of at most one
    content word ("Sooo much.", "A bunch!", "{{ name }}!") that the original did not have."""
    problems = []
    doubled = re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE)
    before = {m.group(0).lower() for m in doubled.finditer(original)}
    for m in doubled.finditer(without_fences(rewrite)):
        if m.group(0).lower() not in before and not m.group(1).isdigit():
            problems.append(Problem("garble", f"a doubled word {m.group(0)!r}"))
    original_units = {_plain(u) for u in _UNIT.findall(without_fences(original))}
    known = {w.lower() for w in _WORD.findall(original)}
    for line in without_fences(rewrite).splitlines():
        if re.match(r"^\s*(#{1,6}\s|$)", line):
            continue
        for unit in _UNIT.findall(re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", line)):
            plain = _plain(unit)
            bare = re.sub(r"</?[\w-]+>|\"\"\"|`", "", _FIELD.sub("", unit)).strip()
            words = {w.lower() for w in _WORD.findall(_FIELD.sub(" ", unit))}
            if not bare or plain in original_units or len(content_words(unit)) > 1:
                continue
            if not words <= known:  # text the engine wrote, not a leftover of the author's
                continue
            first = re.match(r"\W*(\w+)", unit)
            step = first and first.group(1).lower() in _IMPERATIVE and len(words) > 1
            if unit.strip().endswith(":") or step:
                continue  # a label before a delimited input, or a step split off a sentence
            if any(_only_filler_after(u, plain) for u in original_units):
                continue  # only trailing filler went ("Simple please." -> "Simple.")
            problems.append(
                Problem("garble", f"a fragment {unit.strip()!r} the original did not have")
            )
    return problems


def harm(
    original: str, rewrite: str, drop: Iterable[str] = (), whole_yaml: bool = False
) -> list[Problem]:
    """Every do-no-harm check that holds for any prompt (empty when the rewrite is safe)."""
    if rewrite == original:
        return []
    drop = tuple(drop)
    return [
        *check_placeholders(original, rewrite),
        *check_constraints(original, rewrite, drop),
        *check_content(original, rewrite, drop),
        *check_blocks(original, rewrite, whole_yaml),
        *check_fill_ins(original, rewrite),
        *check_task_first(original, rewrite, drop),
        *check_output_section(original, rewrite, drop),
        *check_garble(original, rewrite),
    ]
