"""The golden corpus (tests/data/corpus.toml): findings, type detection, and for every
prompt an offline rewrite that passes every guard, never scores lower, and is stable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from promptd.daemon.config import EngineConfig
from promptd.daemon.engine import guards, lint
from promptd.daemon.engine.lint import detect_type
from promptd.daemon.engine.offline.agents import evaluate_texts
from promptd.daemon.engine.offline.design import design
from promptd.daemon.engine.rules import BY_CODE
from promptd.daemon.values import PROMPT_TYPES

CORPUS = Path(__file__).parents[2] / "data" / "corpus.toml"


class Entry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    type: str
    text: str
    must: list[str]
    must_not: list[str]
    unchanged: bool = False
    detect: bool = True


class Corpus(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    prompt: list[Entry]


ENTRIES = msgspec.toml.decode(CORPUS.read_bytes(), type=Corpus).prompt


def _ids(entries: list[Entry]) -> list[Any]:
    return [pytest.param(e, id=e.id) for e in entries]


def test_corpus_is_large_varied_and_well_formed() -> None:
    assert len(ENTRIES) >= 60
    assert len({e.id for e in ENTRIES}) == len(ENTRIES)
    for ptype in PROMPT_TYPES:
        of_type = [e for e in ENTRIES if e.type == ptype]
        assert len(of_type) >= 8, ptype
        assert any(not e.must for e in of_type), f"no good {ptype} prompt"
        assert any(e.must for e in of_type), f"no bad {ptype} prompt"
    codes = {c for e in ENTRIES for c in e.must + e.must_not}
    assert codes <= set(BY_CODE), codes - set(BY_CODE)
    produced = {c for e in ENTRIES for c in e.must}
    assert len(produced) >= 20  # nearly every rule is exercised by some prompt


@pytest.mark.parametrize("entry", _ids(ENTRIES))
def test_findings_match_the_corpus(entry: Entry) -> None:
    report = lint(entry.text, entry.type)
    codes = {f.code for f in report.findings}
    assert set(entry.must) <= codes, f"missing {set(entry.must) - codes}"
    assert not set(entry.must_not) & codes, f"unexpected {set(entry.must_not) & codes}"
    for f in report.findings:
        assert f.span is not None
        assert 0 <= f.span.start <= f.span.end <= len(entry.text)
        assert f.message.endswith((".", ")", '"'))


@pytest.mark.parametrize("entry", _ids([e for e in ENTRIES if e.detect]))
def test_auto_detects_the_type(entry: Entry) -> None:
    assert detect_type(entry.text)[0] == entry.type
    report = lint(entry.text)
    assert report.detected and report.prompt_type == entry.type


@pytest.mark.parametrize("entry", _ids(ENTRIES))
def test_offline_rewrite_passes_guards_never_scores_lower_and_is_stable(entry: Entry) -> None:
    report = lint(entry.text, entry.type)
    first = design(entry.text, entry.type, report.findings)
    again = design(entry.text, entry.type, lint(entry.text, entry.type).findings)
    assert first == again
    assert guards.check(entry.text, first.prompt, EngineConfig(), changes=first.changes) == []
    evaluation = evaluate_texts(entry.text, first.prompt, entry.type)
    assert evaluation.after.total >= evaluation.before.total
    assert "[insert" not in first.prompt.replace(entry.text, "")
    if first.prompt != entry.text:
        assert evaluation.accepted, evaluation.reasons
        assert first.changes, "a rewrite says what it changed"
        for change in first.changes:
            assert change.findings, change.description
            assert set(change.findings) <= set(BY_CODE)
    if entry.unchanged:
        assert first.prompt == entry.text, first.prompt
    # Idempotent: optimizing the rewrite changes nothing more.
    second = design(first.prompt, entry.type, lint(first.prompt, entry.type).findings)
    assert second.prompt == first.prompt


@pytest.mark.parametrize("entry", _ids([e for e in ENTRIES if not e.unchanged]))
def test_rewrite_fixes_what_it_claims(entry: Entry) -> None:
    report = lint(entry.text, entry.type)
    result = design(entry.text, entry.type, report.findings)
    if result.prompt == entry.text:
        return
    after = {f.code for f in lint(result.prompt, entry.type).findings}
    fixed_claims = {c for change in result.changes for c in change.findings}
    # Filler, shouting, missing format/role and undelimited input are gone after the rewrite.
    for code in fixed_claims & {"PD002", "PD006", "PD012", "PD013", "PD017", "PD019"}:
        assert code not in after, f"{code} still present after the rewrite"


@pytest.mark.parametrize("entry", _ids([e for e in ENTRIES if not e.unchanged]))
def test_rewrite_adds_no_negative_only_wording(entry: Entry) -> None:
    """What the Designer writes itself (guidelines, output formats) follows the rules it checks."""
    before = {f.code for f in lint(entry.text, entry.type).findings}
    result = design(entry.text, entry.type, lint(entry.text, entry.type).findings)
    after = {f.code for f in lint(result.prompt, entry.type).findings}
    if "PD005" not in before:
        assert "PD005" not in after, result.prompt
