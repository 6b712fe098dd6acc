"""Diagnostics JSON: what publishDiagnostics carries, compact and reused across edits."""

from __future__ import annotations

import json
from typing import Any

from promptd.lsp.features import diagnostics
from promptd.lsp.features.analysis import Analyzer
from promptd.lsp.features.documents import Document
from promptd.lsp.features.settings import Settings

SOURCE = 'def f(client):\n    prompt = "Write some stuff about 100% of dogs, please."\n'


def published(text: str, *, code_links: bool = True, settings: Settings | None = None) -> Any:
    doc = Document(uri="file:///m.py", text=text, language_id="python", version=1)
    settings = settings or Settings()
    checked = Analyzer().checked(doc, settings.min_words)
    encoded = diagnostics.encode(checked, doc.index, settings, "utf-16", code_links=code_links)
    return json.loads(encoded)


def test_each_diagnostic_has_what_the_editor_shows_and_nothing_else() -> None:
    found = published(SOURCE)
    assert found, "the vague prompt has findings"
    for diag in found:
        assert set(diag) == {"range", "message", "severity", "code", "codeDescription", "source"}
        assert diag["source"] == "promptd"
        assert diag["codeDescription"]["href"].endswith("#" + diag["code"].lower())
        assert diag["range"]["start"]["line"] == 1
        assert 4 <= diag["range"]["start"]["character"] <= diag["range"]["end"]["character"]
    assert "codeDescription" not in published(SOURCE, code_links=False)[0]


def test_lines_follow_the_prompt_when_an_edit_above_moves_it() -> None:
    before = published(SOURCE)
    after = published("import os\n\n" + SOURCE)  # the same literal, reused from the cache
    assert [d["range"]["start"]["line"] + 2 for d in before] == [
        d["range"]["start"]["line"] for d in after
    ]
    assert [d["message"] for d in before] == [d["message"] for d in after]


def test_disabled_diagnostics_publish_an_empty_list() -> None:
    assert published(SOURCE, settings=Settings(diagnostics_enabled=False)) == []
