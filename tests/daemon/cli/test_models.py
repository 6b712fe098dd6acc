"""``promptd models``: prices, tiers and typical cost for the configured provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from promptd.daemon.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["models", *args])
    return result.exit_code, result.stdout, result.stderr


def test_offline_shows_the_xai_table_and_says_so() -> None:
    code, out, _ = run("--json")
    assert code == 0
    data = json.loads(out)
    assert data["engine"] == "offline" and data["provider"] == "xai"
    assert "offline" in data["note"]
    rows = {m["model"]: m for m in data["models"]}
    grok = rows["grok-4.3"]
    assert (grok["input_usd_per_m"], grok["cached_input_usd_per_m"], grok["output_usd_per_m"]) == (
        1.25,
        0.2,
        2.5,
    )
    assert grok["context"] == 1_000_000 and grok["default"] and grok["tiers"] == ["quality"]
    assert "grok-4-1-fast-reasoning" in grok["aliases"]
    assert 0 < grok["typical_optimization_usd"] < 0.1
    assert rows["grok-4.20-0309-non-reasoning"]["tiers"] == ["fast"]


def test_human_table(promptd_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XAI_API_KEY", "k")
    code, out, err = run()
    assert code == 0
    assert "grok-4.3 (default)" in out and "$1.25" in out and "quality" in out
    assert "Billed as grok-4.3:" in out and "grok-code-fast-1" in out
    assert "offline" not in err


def test_openai_endpoint_with_price_override(promptd_home: Path) -> None:
    (promptd_home / "config.toml").write_text(
        '[provider]\nkind = "openai"\nmodel = "qwen2.5"\nbase_url = "http://127.0.0.1:8080/v1"\n'
        '[prices."qwen2.5"]\ninput = 0.1\ncached_input = 0.01\noutput = 0.2\ncontext = 32768\n'
    )
    code, out, _ = run("--json")
    data = json.loads(out)
    assert code == 0 and data["provider"] == "openai" and "127.0.0.1:8080" in data["note"]
    [qwen] = [m for m in data["models"] if m["model"] == "qwen2.5"]
    assert qwen["input_usd_per_m"] == 0.1 and qwen["context"] == 32768
    assert sorted(qwen["tiers"]) == ["fast", "quality"] and qwen["default"]
