"""docs/rules.md is generated from the rule table and checked to be current."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptd.daemon.engine import RULES
from promptd.daemon.engine.rules_doc import main, render

DOC = Path(__file__).parents[3] / "docs" / "rules.md"


def test_committed_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run `make docs`"


def test_doc_lists_every_rule() -> None:
    text = render()
    for r in RULES:
        assert f"## {r.code} {r.name}" in text
        assert f"| {r.severity} |" in text


def test_check_mode_exits_1_with_a_clear_message_when_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "rules.md"
    stale.write_text("# old rules\n", encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    err = capsys.readouterr().err
    assert "is stale" in err and "make docs" in err
    assert main(["--check", str(tmp_path / "missing.md")]) == 1
    stale.write_text(render(), encoding="utf-8")
    assert main(["--check", str(stale)]) == 0


def test_print_mode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert capsys.readouterr().out == render()
    assert main(["--bogus"]) == 2
