"""The quality corpus: prompts in the styles people really write, each with expectations.

The corpus lives in ``tests/quality/corpus/*.toml``, one file per style. Each file may hold a
``[defaults]`` table (``must_not_add``, ``structure``, ``may_drop``: added to every case of
the file) and ``[[prompt]]`` entries:

``id``            short, unique over the corpus (``persona-travel-guide``)
``text``          the prompt, original text written for promptd
``must_keep``     substrings that must survive verbatim (a line, a requirement, a template)
``must_not_add``  substrings (case-insensitive) the rewrite must not contain unless the
                  original does ("plain prose", "## Output format" on an image prompt)
``unchanged``     true: already good, must come back byte for byte
``structure``     shapes the prompt has and must keep (a list here replaces the file's
                  default): ``json``, ``yaml`` (the whole prompt or a fenced block),
                  ``code`` (fenced), ``template`` (``{% %}`` blocks keep their order),
                  ``numbered`` (numbered items stay numbered, in order, and out of any
                  "Output format" section)
``may_drop``      words a listed rule may remove on purpose (filler the checks do not know)
``notes``         why the case is here

:func:`load` reads and validates the files; :func:`check_case` gives every problem of one
rewrite (the do-no-harm checks of :mod:`tests.quality.checks` plus the case's own).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, TypeVar

import msgspec
import yaml

from . import checks
from .checks import Problem

CORPUS_DIR = Path(__file__).parent / "corpus"

T = TypeVar("T")
Shape = Literal["json", "yaml", "code", "template", "numbered"]


class Case(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    text: str
    must_keep: list[str] = msgspec.field(default_factory=list)
    must_not_add: list[str] = msgspec.field(default_factory=list)
    unchanged: bool = False
    structure: list[Shape] | None = None  # None: the file's defaults; a list replaces them
    may_drop: list[str] = msgspec.field(default_factory=list)
    notes: str = ""
    style: str = ""  # the file it came from (set by load)


class Defaults(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    must_not_add: list[str] = msgspec.field(default_factory=list)
    structure: list[Shape] = msgspec.field(default_factory=list)
    may_drop: list[str] = msgspec.field(default_factory=list)


class CorpusFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    prompt: list[Case]
    defaults: Defaults = msgspec.field(default_factory=Defaults)


class CorpusError(Exception):
    """A corpus file is wrong (duplicate id, a must_keep the prompt lacks, ...)."""


def load(directory: Path = CORPUS_DIR) -> list[Case]:
    """Every case of every ``*.toml`` file, defaults applied, checked for consistency."""
    cases: list[Case] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.toml")):
        try:
            data = msgspec.toml.decode(path.read_bytes(), type=CorpusFile)
        except msgspec.ValidationError as exc:
            raise CorpusError(f"{path.name}: {exc}") from exc
        d = data.defaults
        for case in data.prompt:
            case = msgspec.structs.replace(
                case,
                style=path.stem,
                must_not_add=_merge(d.must_not_add, case.must_not_add),
                structure=list(d.structure if case.structure is None else case.structure),
                may_drop=_merge(d.may_drop, case.may_drop),
            )
            if case.id in seen:
                raise CorpusError(f"{path.name}: duplicate id {case.id!r}")
            seen.add(case.id)
            _validate(case, path.name)
            cases.append(case)
    return cases


def _merge(a: list[T], b: list[T]) -> list[T]:
    return list(dict.fromkeys([*a, *b]))


def _validate(case: Case, where: str) -> None:
    """A case must be true of its own original, else it checks nothing."""
    for s in case.must_keep:
        if s not in case.text:
            raise CorpusError(f"{where} {case.id}: must_keep {s!r} is not in the prompt")
    problems = check_structure(case, case.text)
    if problems:
        raise CorpusError(f"{where} {case.id}: {problems[0].message}")


def whole_yaml(case: Case) -> bool:
    if "yaml" not in (case.structure or ()) or checks.fences(case.text):
        return False
    try:
        return isinstance(yaml.safe_load(case.text), dict | list)
    except yaml.YAMLError:
        return False


# --- structure -------------------------------------------------------------------------------

_TAG = re.compile(r"\{%-?.{0,200}?-?%\}")
_NUMBERED = re.compile(r"^\s*(?:\d+|[a-z])[.)]\s+(.*\S)", re.MULTILINE)
_HEADING = re.compile(r"^\s*(?:#{1,6}\s+(.+)|([A-Z][\w /-]{1,40}):\s*)$")


def check_structure(case: Case, rewrite: str) -> list[Problem]:
    """The shapes the case names are still there (on the original: they exist at all)."""
    out: list[Problem] = []
    original = case.text
    for shape in case.structure or ():
        if shape == "json" and not checks.has_json(rewrite):
            out.append(Problem("structure", "no JSON value parses in the text"))
        elif shape == "yaml" and not checks.has_yaml(rewrite, whole=whole_yaml(case)):
            out.append(Problem("structure", "no YAML value parses in the text"))
        elif shape == "code" and not checks.fences(rewrite):
            out.append(Problem("structure", "no fenced code block in the text"))
        elif shape == "template":
            before, after = _TAG.findall(original), _TAG.findall(rewrite)
            if not before:
                out.append(Problem("structure", "no {% %} template block in the text"))
            elif before != after:
                out.append(Problem("structure", f"template blocks {before} became {after}"))
        elif shape == "numbered":
            out.extend(_check_numbered(original, rewrite, case.may_drop))
    return out


def _sections(text: str) -> list[tuple[str, str]]:
    """(line, the heading it sits under) for each line."""
    heading = ""
    out = []
    for line in text.splitlines():
        m = _HEADING.match(line)
        if m:
            heading = (m.group(1) or m.group(2) or "").strip().lower()
            continue
        out.append((line, heading))
    return out


def _check_numbered(original: str, rewrite: str, drop: list[str]) -> list[Problem]:
    items = [(m.group(1), h) for line, h in _sections(original) if (m := _NUMBERED.match(line))]
    if len(items) < 2:
        return [Problem("structure", "fewer than two numbered items in the text")]
    after = [
        (set(checks.content_words(m.group(1), drop)), h)
        for line, h in _sections(rewrite)
        if (m := _NUMBERED.match(line))
    ]
    out: list[Problem] = []
    pos = 0
    for item, heading in items:
        need = set(checks.content_words(item, drop))
        found = next((i for i in range(pos, len(after)) if need <= after[i][0]), None)
        if found is None:
            out.append(Problem("structure", f"numbered item {item[:70]!r} is not a numbered line"))
            continue
        pos = found + 1
        moved = after[found][1]
        if "output" in moved and "output" not in heading:
            out.append(Problem("structure", f"requirement {item[:60]!r} moved under {moved!r}"))
    return out


# --- the case's own expectations -------------------------------------------------------------


def check_expectations(case: Case, rewrite: str) -> list[Problem]:
    out: list[Problem] = []
    if case.unchanged and rewrite != case.text:
        out.append(Problem("unchanged", "an already-good prompt was rewritten"))
    for s in case.must_keep:
        # Capitalising the first letter (a fragment that now opens a sentence) is no loss.
        if s not in rewrite and s[:1].swapcase() + s[1:] not in rewrite:
            out.append(Problem("must_keep", f"{s!r} is gone"))
    low_before, low_after = case.text.lower(), rewrite.lower()
    for s in case.must_not_add:
        if s.lower() in low_after and s.lower() not in low_before:
            out.append(Problem("must_not_add", f"{s!r} was added"))
    return out


def check_case(case: Case, rewrite: str) -> list[Problem]:
    """Every problem of ``rewrite`` as the rewrite of ``case`` (empty: it does no harm)."""
    return [
        *checks.harm(case.text, rewrite, case.may_drop, whole_yaml=whole_yaml(case)),
        *check_structure(case, rewrite),
        *check_expectations(case, rewrite),
    ]
