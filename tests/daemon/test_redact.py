"""Credentials in a URL never reach the screen or the log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from promptd.daemon.cli import cli
from promptd.daemon.redact import redact_url, redact_urls
from promptd.daemon.server.logs import LineFormatter, SecretFilter

SECRET_URL = "https://alice:hunter2pass@llm.example.com:8443/v1?api_key=sk-abc123&region=eu"


def test_userinfo_and_secret_params_are_masked() -> None:
    shown = redact_url(SECRET_URL)
    assert "alice" not in shown and "hunter2pass" not in shown and "sk-abc123" not in shown
    assert shown == "https://***@llm.example.com:8443/v1?api_key=***&region=eu"
    assert redact_url("http://127.0.0.1:11434/v1") == "http://127.0.0.1:11434/v1"
    assert redact_url("http://[::1]:8080/v1?token=t0k") == "http://[::1]:8080/v1?token=***"


def test_models_does_not_print_the_credentials(promptd_home: Path) -> None:
    (promptd_home / "config.toml").write_text(
        f'[provider]\nkind = "openai"\nmodel = "m"\nbase_url = "{SECRET_URL}"\n'
    )
    for args in (["models"], ["models", "--json"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert "hunter2pass" not in result.output and "sk-abc123" not in result.output
        assert "llm.example.com" in result.output
    note = json.loads(CliRunner().invoke(cli, ["models", "--json"]).stdout)["note"]
    assert "https://***@llm.example.com:8443/v1?api_key=***&region=eu" in note


def test_the_log_masks_urls() -> None:
    record = logging.LogRecord(
        "promptd", logging.WARNING, __file__, 1, "cannot reach %s", (SECRET_URL,), None
    )
    assert SecretFilter().filter(record)
    line = LineFormatter().format(record)
    assert "hunter2pass" not in line and "sk-abc123" not in line and "llm.example.com" in line


@given(
    user=st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=12),
    password=st.text(st.characters(categories=["L", "N"]), min_size=6, max_size=20),
)
def test_no_password_survives(user: str, password: str) -> None:
    url = f"https://{user}:{password}@host.example/v1"
    text = redact_urls(f"error at {url} (ConnectError)")
    assert text == "error at https://***@host.example/v1 (ConnectError)"
