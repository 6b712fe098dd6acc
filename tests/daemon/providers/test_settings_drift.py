"""Settings drift: the CLI says when its provider settings differ from the daemon's, and how
to apply them; the daemon reports a fingerprint of its settings, never the key."""

from __future__ import annotations

import json
import os

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from promptd.daemon.config import parse
from promptd.daemon.paths import Paths
from promptd.daemon.providers.settings import provider_settings, settings_drift

from .test_cli_llm import LONG, paths, promptd

__all__ = ["paths"]

KEY = "xai-secret-key-0123456789abcdef"


def test_the_same_settings_agree_and_each_difference_is_named() -> None:
    cfg = parse('[provider]\nkind = "openai"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"')
    here = provider_settings(cfg, {"OPENAI_API_KEY": "k1"})
    assert settings_drift(here, provider_settings(cfg, {"OPENAI_API_KEY": "k1"})) == []
    other_key = provider_settings(cfg, {"OPENAI_API_KEY": "k2"})
    assert settings_drift(here, other_key) == [
        "the key in OPENAI_API_KEY differs from the daemon's"
    ]
    none = provider_settings(cfg, {})
    assert settings_drift(here, none) == [
        "the key in OPENAI_API_KEY is set here, not in the daemon"
    ]
    moved = parse('[provider]\nkind = "openai"\nbase_url = "http://127.0.0.1:8/v1"\nmodel = "n"')
    drift = settings_drift(here, provider_settings(moved, {"OPENAI_API_KEY": "k1"}))
    assert drift == [
        "base URL http://127.0.0.1:9/v1 here, http://127.0.0.1:8/v1 in the daemon",
        "model m here, n in the daemon",
    ]
    slower = parse(
        '[provider]\nkind = "openai"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
        "timeout_s = 5\n"
    )
    drift = settings_drift(here, provider_settings(slower, {"OPENAI_API_KEY": "k1"}))
    assert drift == ["other [provider] settings in config.toml"]


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ-_", min_size=12, max_size=64))
def test_the_settings_never_hold_the_key(key: str) -> None:
    cfg = parse('[provider]\nkind = "xai"\nbase_url = "https://u:pw@api.example/v1?api_key=s"')
    settings = provider_settings(cfg, {"XAI_API_KEY": key})
    assert key not in msgspec.json.encode(settings).decode()
    assert "pw" not in settings.base_url and "=s" not in settings.base_url
    assert len(settings.key) == 12 and len(settings.fingerprint) == 16


def test_optimize_and_status_name_a_key_the_daemon_was_started_without(paths: Paths) -> None:
    paths.config_file.write_text("[backup]\nenabled = false\n")
    env = {k: v for k, v in os.environ.items() if k not in ("XAI_API_KEY", "OPENAI_API_KEY")}
    assert promptd("start", env=env).returncode == 0  # a daemon started without a key
    shell = {**env, "XAI_API_KEY": KEY}
    done = promptd("optimize", "--engine", "llm", LONG, env=shell)
    assert done.returncode != 0
    assert "this shell's settings say provider 'xai'" in done.stderr
    assert "the key in XAI_API_KEY is set here, not in the daemon" in done.stderr
    assert "promptd stop" in done.stderr and "kill -HUP" in done.stderr
    shown = promptd("status", env=shell)
    assert "the key in XAI_API_KEY is set here, not in the daemon" in shown.stderr
    status = promptd("status", "--json", env=shell)
    assert KEY not in status.stdout
    settings = json.loads(status.stdout)["provider"]["settings"]
    assert settings["kind"] == "offline" and settings["key"] == ""
    # the shell that started it sees no drift
    assert "differ" not in promptd("status", env=env).stderr
    assert "settings say" not in promptd("status", env=env).stderr
