"""``promptd batch`` against a daemon running in this process."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from promptd.daemon.api import BatchSubmitParams
from promptd.daemon.cli import cli
from promptd.daemon.client import Client
from promptd.daemon.errors import PromptdError
from promptd.daemon.events import BatchCompleted
from tests.waiting import until

from .harness import events, running_daemon


async def run_cli(*args: str) -> Result:
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, cli, list(args))


def said(result: Result) -> str:
    """What the person sees: the output, or the one-line error ``promptd`` prints."""
    if isinstance(result.exception, PromptdError):
        return f"promptd: {result.exception}"
    return result.output


async def test_batch_writes_the_result_beside_the_input(promptd_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "work.json"
    source.write_text(json.dumps([{"prompt": "write a poem about rain", "id": "r1"}, "summarize"]))
    async with running_daemon(promptd_home):
        result = await run_cli("batch", str(source), "--type", "creative")
        assert result.exit_code == 0, result.output
        out = tmp_path / "work.optimized.json"
        assert result.stdout.strip() == str(out)
        rows = json.loads(out.read_text())
        assert rows[0]["id"] == "r1" and rows[0]["status"] == "ok"
        assert rows[1]["prompt"] == "summarize" and rows[1]["optimized"]

        custom = tmp_path / "elsewhere.json"
        result = await run_cli("batch", str(source), "--output", str(custom), "--json")
        assert result.exit_code == 0, result.output
        info = json.loads(result.stdout)
        assert info["state"] == "completed" and info["output_path"] == str(custom)
        assert custom.exists()


async def test_a_file_name_with_brackets_is_printed_as_it_is(
    promptd_home: Path, tmp_path: Path
) -> None:
    source = tmp_path / "work[v2].txt"
    source.write_text("write a poem about rain")
    async with running_daemon(promptd_home):
        result = await run_cli("batch", str(source))
        assert result.exit_code == 0, result.output
        assert "work[v2].txt: 1/1 prompts, $0.00" in result.output


async def test_batch_usage_errors(promptd_home: Path, tmp_path: Path) -> None:
    (tmp_path / "x.docx").write_text("x")
    result = await run_cli("batch", str(tmp_path / "x.docx"))
    assert result.exit_code == 2 and "use one of .txt" in result.output
    result = await run_cli("batch", str(tmp_path / "missing.csv"))
    assert result.exit_code == 2 and "no such file" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("text\nhello\n")
    async with running_daemon(promptd_home):
        result = await run_cli("batch", str(bad))
        assert 'promptd: bad.csv: the CSV has no "prompt" column' in said(result)
        good = tmp_path / "good.txt"
        good.write_text("write a poem")
        result = await run_cli("batch", str(good), "--output", str(good))
        assert "the output would overwrite the input" in said(result)
        assert good.read_text() == "write a poem"
        result = await run_cli("batch", "--cancel", "b_nope")
        assert "no batch 'b_nope'" in said(result)


async def test_ctrl_c_detaches_and_the_batch_goes_on(
    promptd_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import promptd.daemon.cli.batch as batch_cli

    real = batch_cli.submit_and_follow

    def interrupted(client: Client, params: BatchSubmitParams, bar: Any) -> Any:
        keep = bar.update

        def stop_at_first(progress: Any) -> None:  # Ctrl-C once the daemon named the batch
            keep(progress)
            raise KeyboardInterrupt

        bar.update = stop_at_first
        return real(client, params, bar)

    monkeypatch.setattr(batch_cli, "submit_and_follow", interrupted)
    source = tmp_path / "go.txt"
    source.write_text("write a story about a lighthouse keeper")
    async with running_daemon(promptd_home) as daemon:
        result = await run_cli("batch", str(source))
        assert result.exit_code == 0
        assert "detached: batch b_" in result.output and "promptd status" in result.output
        await until(lambda: events(daemon, BatchCompleted), what="the batch to finish")
        assert (tmp_path / "go.optimized.txt").exists()
