"""Settings from editors: nested or dotted keys, bad values reported and ignored."""

from __future__ import annotations

from lsprotocol import types

from promptd.lsp.features.settings import Settings, parse


def test_nested_and_dotted_keys_under_the_promptd_section() -> None:
    nested = parse({"promptd": {"diagnostics": {"enabled": False, "severity": "hint"}}})
    dotted = parse({"promptd": {"diagnostics.enabled": False, "diagnostics.severity": "hint"}})
    assert nested == dotted
    assert nested.diagnostics_enabled is False
    assert nested.diagnostics_severity == types.DiagnosticSeverity.Hint


def test_missing_keys_keep_the_current_values() -> None:
    base = parse({"promptd": {"codeLens": False, "detection": {"minWords": 5}}})
    updated = parse({"promptd": {"engine": "llm", "model": "grok-4"}}, base)
    assert (updated.code_lens, updated.min_words) == (False, 5)
    assert (updated.engine, updated.model) == ("llm", "grok-4")


def test_bad_values_say_what_is_wrong_and_keep_the_default() -> None:
    result = parse({"promptd": {"detection": {"minWords": "ten"}, "engin": "llm"}})
    assert result.min_words == Settings().min_words
    assert any("promptd.detection.minWords must be a whole number" in p for p in result.problems)
    assert any("unknown setting promptd.engin" in p for p in result.problems)


def test_no_settings_is_the_defaults() -> None:
    assert parse(None) == Settings()
    assert parse({"other": {"x": 1}}) == Settings()
