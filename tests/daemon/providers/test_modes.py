"""The response-format mode an endpoint refuses is remembered across daemon restarts.

Real daemon processes against a loopback chat-completions server that answers
``response_format: json_schema`` with HTTP 500, as llama.cpp's server does.
"""

from __future__ import annotations

import json

from promptd.daemon import process
from promptd.daemon.events import ProviderModeLearned
from promptd.daemon.paths import Paths
from promptd.daemon.projections import memory_log, open_log

from .loopback import LoopbackServer
from .test_cli_llm import paths, promptd, provider_config

__all__ = ["paths"]

SHORT = "write some stuff about dogs for {audience}!!!"


def _formats(server: LoopbackServer) -> list[str]:
    return [b.get("response_format", {}).get("type", "") for b in server.bodies]


def _stop(paths: Paths) -> None:
    assert promptd("stop", "--timeout", "20").returncode == 0
    assert process.running_pid(paths) is None


def test_a_restarted_daemon_does_not_ask_json_schema_again(paths: Paths) -> None:
    with LoopbackServer(refuse_json_schema=True) as server:
        provider_config(paths, server.base_url)
        first = promptd("optimize", "--json", "--no-cache", SHORT)
        assert first.returncode == 0, first.stderr
        assert not json.loads(first.stdout)["degraded"]
        assert _formats(server)[0] == "json_schema"  # learned the hard way, once
        assert "json_object" in _formats(server)
        _stop(paths)

        server.bodies.clear()
        again = promptd("optimize", "--json", "--no-cache", SHORT + " Be brief.")
        assert again.returncode == 0, again.stderr
        assert not json.loads(again.stdout)["degraded"]
        assert _formats(server) and set(_formats(server)) == {"json_object"}
        status = json.loads(promptd("status", "--json").stdout)
        assert status["provider"]["json_mode"] == "json_object"
        assert status["provider"]["json_modes"] == {"grok-4.3": "json_object"}
        assert "json_object" in promptd("status").stdout
        _stop(paths)

        # another model at the same endpoint learns for itself
        provider_config(paths, server.base_url)
        paths.config_file.write_text(
            paths.config_file.read_text().replace('"grok-4.3"', '"grok-4.3-mini"')
        )
        server.bodies.clear()
        other = promptd("optimize", "--json", "--no-cache", SHORT + " Be kind.")
        assert other.returncode == 0, other.stderr
        assert _formats(server)[0] == "json_schema"

    with open_log(paths.events, readonly=True) as log:
        learned = [r.event for r in log.read() if isinstance(r.event, ProviderModeLearned)]
    assert [(e.model, e.mode, e.refused) for e in learned] == [
        ("grok-4.3", "json_object", "json_schema"),
        ("grok-4.3-mini", "json_object", "json_schema"),
    ]
    assert learned[0].base_url == server.base_url
    assert "json_object" in learned[0].reason


def test_the_projection_keys_by_redacted_endpoint_and_model() -> None:
    log = memory_log()
    log.append(
        [
            ProviderModeLearned(
                provider="openai", base_url="http://***@h:1/v1", model="m", reason="r"
            ),
            ProviderModeLearned(provider="openai", base_url="http://other:1/v1", model="n"),
        ]
    )
    with log.view() as view:
        here = view.provider_modes.learned("openai", "http://***@h:1/v1")
        assert set(here) == {"m"} and here["m"].mode == "json_object"
        assert view.provider_modes.learned("xai", "http://***@h:1/v1") == {}
        assert len(view.provider_modes.all()) == 2
