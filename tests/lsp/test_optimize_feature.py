"""Picking what to optimize, keeping it valid after edits, and the progress shown."""

from __future__ import annotations

import pytest

from promptd.daemon.api import Progress
from promptd.lsp.features import optimize
from promptd.lsp.features.analysis import Analyzer
from promptd.lsp.features.documents import Document
from promptd.lsp.features.settings import Settings

SOURCE = 'SYSTEM_PROMPT = "Write some stuff about dogs for the kids, please."\nx = 1\n'
AT = SOURCE.index("stuff")


def doc(text: str = SOURCE, version: int = 1) -> Document:
    return Document(uri="file:///a.py", text=text, language_id="python", version=version)


def test_types_are_checked() -> None:
    assert optimize.check_type(None) == "auto"
    assert optimize.check_type("code") == "code"
    with pytest.raises(optimize.TargetError, match="unknown prompt type 'poem': use auto"):
        optimize.check_type("poem")


def test_targets_are_a_prompt_or_a_non_empty_selection() -> None:
    d = doc()
    prompts = Analyzer().prompts(d, 12)
    at = SOURCE.index("stuff")
    target = optimize.find_target(d, prompts, at, at, selection=False)
    assert target.text.startswith("Write some stuff") and target.prompt is not None
    with pytest.raises(optimize.TargetError, match="no prompt here"):
        optimize.find_target(
            d, prompts, SOURCE.index("x = 1"), SOURCE.index("x = 1"), selection=False
        )
    start = SOURCE.index("x = 1")
    sel = optimize.find_target(d, prompts, start, start + 5, selection=True)
    assert sel.text == "x = 1" and sel.prompt is None
    with pytest.raises(optimize.TargetError, match="the selection is empty"):
        optimize.find_target(d, prompts, start, start, selection=True)


def test_params_carry_the_settings() -> None:
    d = doc()
    target = optimize.find_target(d, Analyzer().prompts(d, 12), AT, AT, selection=False)
    params = optimize.params_for(target, "general", Settings(engine="offline", model="m"))
    assert (params.engine, params.model, params.source) == ("offline", "m", "lsp")
    assert optimize.params_for(target, "auto", Settings()).engine is None


def test_revalidate_follows_a_prompt_that_moved_and_refuses_one_that_changed() -> None:
    d = doc()
    analyzer = Analyzer()
    target = optimize.find_target(d, analyzer.prompts(d, 12), AT, AT, selection=False)
    moved = doc("import os\n" + SOURCE, version=2)
    again = optimize.revalidate(moved, analyzer.prompts(moved, 12), target)
    assert again.start == target.start + len("import os\n") and again.version == 2
    changed = doc(SOURCE.replace("dogs", "cats"), version=3)
    with pytest.raises(optimize.TargetError, match="the prompt changed"):
        optimize.revalidate(changed, analyzer.prompts(changed, 12), target)


def test_revalidate_a_selection_by_its_text() -> None:
    d = doc()
    start = SOURCE.index("x = 1")
    sel = optimize.find_target(d, [], start, start + 5, selection=True)
    same = doc(SOURCE, version=2)
    assert optimize.revalidate(same, [], sel) == sel
    with pytest.raises(optimize.TargetError, match="the selected text changed"):
        optimize.revalidate(doc(SOURCE.replace("x = 1", "y = 2"), version=3), [], sel)


def test_replacement_renders_a_literal_but_not_a_selection() -> None:
    d = doc()
    target = optimize.find_target(d, Analyzer().prompts(d, 12), AT, AT, selection=False)
    assert optimize.replacement(target, 'Say "hi"') == '"Say \\"hi\\""'
    start = SOURCE.index("x = 1")
    sel = optimize.find_target(d, [], start, start + 5, selection=True)
    assert optimize.replacement(sel, "y = 2") == "y = 2"


def test_workspace_edits_with_and_without_document_changes() -> None:
    d = doc()
    target = optimize.find_target(d, Analyzer().prompts(d, 12), AT, AT, selection=False)
    plain = optimize.workspace_edit(d, target, '"x"', "utf-16", document_changes=False)
    assert plain.changes is not None and plain.changes[d.uri][0].new_text == '"x"'
    versioned = optimize.workspace_edit(d, target, '"x"', "utf-16", document_changes=True)
    assert versioned.document_changes is not None


def test_progress_reports_name_the_agent_and_a_percentage() -> None:
    report = optimize.progress_report(
        Progress(token="t", kind="optimize", message="scoring", agent="Evaluator", done=3, total=4)
    )
    assert report.message == "Evaluator: scoring" and report.percentage == 75
    bare = optimize.progress_report(Progress(token="t", kind="optimize", message="working"))
    assert bare.message == "working" and bare.percentage is None
