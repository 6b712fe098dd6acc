"""``promptd optimize --instruct`` and ``--for`` against a real daemon, as a user sees them."""

from __future__ import annotations

import json
import socket

from promptd.daemon import wire
from promptd.daemon.events import OptimizationCompleted, OptimizationRequested
from promptd.daemon.paths import Paths
from tests.e2e.test_daemon import events, paths, promptd

__all__ = ["paths"]  # the fixture: a home of its own, the daemon stopped afterwards

MESSY = (
    "please kindly write some stuff about dogs for {audience}, make it good and DONT make it "
    "boring!!! Thanks in advance."
)
REVIEW = (
    "Classify the sentiment of the review below as positive, negative or neutral.\n"
    'Answer with the label only.\n\nReview: """{review}"""'
)


def test_instruct_prints_the_rewrite_and_what_was_not_honoured(paths: Paths) -> None:
    run = promptd("optimize", "--instruct", "shorter, more engaging", MESSY)
    assert run.returncode == 0, run.stderr
    assert "kindly" not in run.stdout and "Thanks in advance" not in run.stdout
    assert "{audience}" in run.stdout
    assert 'For "shorter": cut filler' in run.stderr
    assert "not honoured:" in run.stderr
    assert "more engaging: the offline rules do not know this; use --engine llm" in run.stderr

    requested = [e for e in events(paths) if isinstance(e, OptimizationRequested)]
    assert requested[-1].instruct == "shorter, more engaging"
    completed = [e for e in events(paths) if isinstance(e, OptimizationCompleted)][-1]
    assert completed.instruct_unmet == [
        "more engaging: the offline rules do not know this; use --engine llm"
    ]

    shown = promptd("show", completed.opt_id)
    assert shown.returncode == 0, shown.stderr
    assert "instruction" in shown.stdout and "shorter, more engaging" in shown.stdout
    assert "not honoured" in shown.stdout


def test_the_instruction_is_part_of_the_cache_key(paths: Paths) -> None:
    def run(*args: str) -> dict[str, object]:
        out = promptd("optimize", "--json", *args, MESSY)
        assert out.returncode == 0, out.stderr
        return dict(json.loads(out.stdout))

    first = run("--instruct", "more formal")
    assert first["cached"] is False and first["instruct"] == "more formal"
    assert run("--instruct", "more formal")["cached"] is True
    other = run("--instruct", "shorter")
    assert other["cached"] is False and other["optimized"] != first["optimized"]
    plain = run()
    assert plain["cached"] is False and plain["instruct"] == ""


def test_for_claude_in_json_and_a_wrong_family_named(paths: Paths) -> None:
    out = promptd("optimize", "--for", "claude", "--json", REVIEW)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["target"] == "claude" and result["instruct_unmet"] == []
    assert result["optimized"].startswith("<instructions>\n")
    assert "<review>\nReview: " in result["optimized"]
    assert result["placeholders"] == ["{review}"]

    bad = promptd("optimize", "--for", "bard", REVIEW)
    assert bad.returncode == 2
    assert "'bard' is not one of 'grok', 'gpt', 'claude', 'llama', 'generic'" in bad.stderr


def test_the_api_refuses_an_unknown_target_naming_the_choices(paths: Paths) -> None:
    assert promptd("start").returncode == 0
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(10)
    sock.connect(str(paths.socket))
    try:
        request = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "optimize",
            "params": {"text": REVIEW, "target": "bard", "instruct": "shorter"},
        }
        sock.sendall(json.dumps(request).encode() + b"\n")
        reply = json.loads(sock.makefile("rb").readline())
    finally:
        sock.close()
    assert reply["error"]["code"] == wire.INVALID_PARAMS
    assert (
        "unknown target 'bard'; use one of grok, gpt, claude, llama, generic"
        in (reply["error"]["message"])
    )


def test_engine_target_in_the_config_is_the_default(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text('[engine]\ntarget = "claude"\n')
    out = promptd("optimize", "--json", REVIEW)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["target"] == "claude"
    generic = json.loads(promptd("optimize", "--for", "generic", "--json", REVIEW).stdout)
    assert generic["target"] == "" and generic["optimized"] == REVIEW
