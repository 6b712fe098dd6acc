"""The daemon as a real process: start, stop, status, auto-start, signals, many clients."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptd.daemon import api, process, wire
from promptd.daemon.client import DaemonClient
from promptd.daemon.events import (
    DaemonStopped,
    OptimizationCompleted,
    OptimizationFailed,
    OptimizationRequested,
    Record,
)
from promptd.daemon.paths import Paths, resolve
from promptd.daemon.projections import open_log
from tests.waiting import wait_until

PROMPT = "please kindly write some stuff about dogs for {audience}, make it good!!!"


def _promptd() -> str:
    return str(Path(sys.executable).with_name("promptd"))


def promptd(
    *args: str, stdin: str | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_promptd(), *args], input=stdin, capture_output=True, text=True, timeout=timeout
    )


def stop_daemon(paths: Paths) -> None:
    """Teardown: ask politely, then with SIGTERM, then SIGKILL; with deadlines."""
    pid = process.running_pid(paths)
    if pid is None:
        return
    subprocess.run([_promptd(), "stop", "--timeout", "10"], capture_output=True, timeout=20)
    if process.running_pid(paths) == pid:
        os.kill(pid, signal.SIGKILL)
        process.wait_exit(paths, pid, 5)


@pytest.fixture
def paths(promptd_home: Path) -> Iterator[Paths]:
    p = resolve()
    yield p
    stop_daemon(p)


def events(paths: Paths) -> list[object]:
    log = open_log(paths.events, readonly=True)
    try:
        return [rec.event for rec in log.read()]
    finally:
        log.close()


def test_start_status_stop(paths: Paths) -> None:
    started = promptd("start")
    assert started.returncode == 0, started.stderr
    pid = process.running_pid(paths)
    assert pid is not None and f"pid {pid}" in started.stdout

    again = promptd("start")
    assert again.returncode == 0
    assert f"already running (pid {pid})" in again.stdout

    status = promptd("status", "--json")
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    for key in (
        "running",
        "pid",
        "version",
        "home",
        "engine",
        "provider",
        "events",
        "cache",
        "spend",
        "backups",
        "inbox",
    ):
        assert key in doc
    assert doc["running"] is True and doc["pid"] == pid and doc["engine"] == "offline"
    assert set(doc["provider"]) >= {"name", "model", "circuit"}
    assert set(doc["events"]) >= {"count", "last_seq", "bytes"}
    assert set(doc["cache"]) >= {"entries", "hit_rate"}
    assert set(doc["spend"]) >= {
        "today_usd",
        "month_usd",
        "daily_budget_usd",
        "monthly_budget_usd",
        "forecast_30d_usd",
    }
    assert set(doc["backups"]) >= {"count", "last_at", "next_at"}
    assert set(doc["inbox"]) >= {"path", "pending", "batches"}

    stopped = promptd("stop")
    assert stopped.returncode == 0 and f"stopped (pid {pid})" in stopped.stdout
    assert process.running_pid(paths) is None
    assert not paths.socket.exists() and not paths.pid_file.exists()
    assert isinstance(events(paths)[-1], DaemonStopped)

    offline = promptd("status")
    assert offline.returncode == 0 and "not running (read from the event log)" in offline.stdout
    assert json.loads(promptd("status", "--json").stdout)["running"] is False


def test_optimize_starts_the_daemon_and_pipes(paths: Paths) -> None:
    assert process.running_pid(paths) is None
    result = promptd("optimize", "-", stdin=PROMPT)
    assert result.returncode == 0, result.stderr
    assert "{audience}" in result.stdout  # the optimized prompt, on stdout
    assert "score" in result.stderr and "→" in result.stderr  # the summary, on stderr
    assert process.running_pid(paths) is not None

    as_json = json.loads(promptd("optimize", PROMPT, "--json").stdout)
    for key in (
        "id",
        "original",
        "optimized",
        "prompt_type",
        "engine",
        "model",
        "score_before",
        "score_after",
        "findings",
        "changes",
        "placeholders",
        "cost_usd",
        "cached",
        "degraded",
        "duration_ms",
    ):
        assert key in as_json
    assert as_json["cached"] is True and as_json["placeholders"] == ["{audience}"]

    history = json.loads(promptd("history", "--json").stdout)
    assert history["items"][0]["id"] == as_json["id"]
    shown = json.loads(promptd("show", as_json["id"][:10], "--json").stdout)
    assert shown["optimization"]["id"] == as_json["id"]


def test_a_stale_pid_and_socket_after_sigkill_are_cleaned_up(paths: Paths) -> None:
    assert promptd("start").returncode == 0
    pid = process.running_pid(paths)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert process.wait_exit(paths, pid, 5)
    assert paths.pid_file.exists() and paths.socket.exists()  # what a killed daemon leaves

    status = promptd("status")
    assert "not running (read from the event log)" in status.stdout
    restarted = promptd("start")
    assert restarted.returncode == 0, restarted.stderr
    assert "stale" in restarted.stderr
    new_pid = process.running_pid(paths)
    assert new_pid is not None and new_pid != pid


def test_a_bad_config_is_named_and_nothing_starts(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text("[daemon]\nshutdown_grace = 3\n")
    result = promptd("start")
    assert result.returncode == 2
    assert "daemon.shutdown_grace" in result.stderr and "Traceback" not in result.stderr
    assert process.running_pid(paths) is None


def _json_line(sock: socket.socket, line: bytes) -> dict[str, object]:
    sock.sendall(line)
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        assert chunk, "the daemon closed the connection"
        data += chunk
    value = json.loads(data)
    assert isinstance(value, dict)
    return value


def test_malformed_input_to_the_real_daemon(paths: Paths) -> None:
    assert promptd("start").returncode == 0
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(10)
    sock.connect(str(paths.socket))
    try:
        assert _json_line(sock, b"}{\n")["error"]["code"] == wire.PARSE_ERROR  # type: ignore[index]
        wrong = _json_line(sock, b'{"jsonrpc":"2.0","id":1,"method":"optimize","params":{}}\n')
        assert wrong["error"]["code"] == wire.INVALID_PARAMS  # type: ignore[index]
        empty = _json_line(
            sock, b'{"jsonrpc":"2.0","id":2,"method":"optimize","params":{"text":"  "}}\n'
        )
        assert empty["error"]["code"] == wire.INPUT_ERROR  # type: ignore[index]
        ok = _json_line(sock, b'{"jsonrpc":"2.0","id":3,"method":"status"}\n')
        assert ok["result"]["running"] is True  # type: ignore[index]
    finally:
        sock.close()


async def test_twenty_clients_optimize_at_once(paths: Paths) -> None:
    assert promptd("start").returncode == 0
    clients = [await DaemonClient.connect(paths) for _ in range(20)]
    try:
        results = await asyncio.gather(
            *(
                c.call(
                    "optimize",
                    api.OptimizeParams(text=f"{PROMPT} variant {i}", no_cache=True),
                    result_type=api.OptimizeResult,
                )
                for i, c in enumerate(clients)
            )
        )
    finally:
        for c in clients:
            await c.close()
    assert len({r.id for r in results}) == 20
    assert [r.original for r in results] == [f"{PROMPT} variant {i}" for i in range(20)]


async def test_subscribers_get_status_pushes(paths: Paths) -> None:
    assert promptd("start").returncode == 0
    client = await DaemonClient.connect(paths)
    pushed: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    client.on_notification = lambda method, params: pushed.put_nowait((method, params))
    try:
        await client.call("subscribe", api.SubscribeParams(topics=["status"]))
        await client.call("budget.set", api.BudgetSetParams(daily_usd=3.0))
        method, params = await asyncio.wait_for(pushed.get(), 5)
    finally:
        await client.close()
    notice = json.loads(params)
    assert method == "status" and notice["daily_budget_usd"] == 3.0
    assert notice["engine"] == "offline"


def _sigterm_with_work(
    paths: Paths, grace: float, n: int, latency_s: float
) -> tuple[list[object], int]:
    """Send the daemon ``n`` optimizations on the llm engine, whose provider (a loopback
    server) takes ``latency_s`` per call, and SIGTERM it once the provider has a call in hand:
    work is in flight at the signal by construction, not by a sleep that hopes so. The
    answers, and the time (ns) of the signal."""
    from tests.daemon.providers.loopback import LoopbackServer

    with LoopbackServer(latency_s=latency_s) as server:
        _provider_config(paths, server.base_url)
        with paths.config_file.open("a") as fh:
            fh.write(f"[daemon]\nshutdown_grace_s = {grace}\n")
        assert promptd("start").returncode == 0
        pid = process.running_pid(paths)
        assert pid is not None

        async def flood() -> list[object]:
            client = await DaemonClient.connect(paths)
            calls = [
                asyncio.ensure_future(
                    client.call(
                        "optimize",
                        api.OptimizeParams(text=f"{PROMPT} number {i}", no_cache=True),
                    )
                )
                for i in range(n)
            ]
            deadline = asyncio.get_running_loop().time() + 30
            while not server.bodies:
                assert asyncio.get_running_loop().time() < deadline, "no provider call came"
                await asyncio.sleep(0.01)
            sent.append(time.time_ns())
            os.kill(pid, signal.SIGTERM)
            out = await asyncio.gather(*calls, return_exceptions=True)
            await client.close()
            return out

        sent: list[int] = []
        answers = asyncio.run(flood())
        assert process.wait_exit(paths, pid, 30)
    return answers, sent[0]


def records(paths: Paths) -> list[Record]:
    log = open_log(paths.events, readonly=True)
    try:
        return list(log.read())
    finally:
        log.close()


def test_sigterm_lets_work_in_flight_finish(paths: Paths) -> None:
    answers, signalled_ns = _sigterm_with_work(paths, grace=10.0, n=4, latency_s=0.2)
    recs = records(paths)
    evs = [r.event for r in recs]
    stopped = [e for e in evs if isinstance(e, DaemonStopped)]
    assert stopped and stopped[-1].reason == "signal" and stopped[-1].interrupted == 0
    done = [r for r in recs if isinstance(r.event, OptimizationCompleted)]
    assert len(done) == sum(1 for a in answers if isinstance(a, dict))
    # work was in flight at the signal, and it finished after it
    assert any(r.ts_ns > signalled_ns for r in done)
    requested = {e.opt_id for e in evs if isinstance(e, OptimizationRequested)}
    assert requested == {r.event.opt_id for r in done}  # type: ignore[attr-defined]
    assert not any(isinstance(e, OptimizationFailed) and e.interrupted for e in evs)


def test_sigterm_records_work_cut_off_as_interrupted(paths: Paths) -> None:
    answers, _ = _sigterm_with_work(paths, grace=0.0, n=4, latency_s=30.0)
    evs = events(paths)
    stopped = [e for e in evs if isinstance(e, DaemonStopped)][-1]
    interrupted = [e for e in evs if isinstance(e, OptimizationFailed) and e.interrupted]
    assert stopped.interrupted >= 1
    assert len(interrupted) >= 1
    refused = [a for a in answers if isinstance(a, Exception)]
    assert refused  # clients were told: interrupted, or shutting down


def test_foreground_runs_until_ctrl_c(paths: Paths) -> None:
    from promptd.daemon.client import answers

    proc = subprocess.Popen(
        [_promptd(), "start", "--foreground"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: answers(paths) or proc.poll() is not None, 20, "the daemon to answer")
        assert proc.poll() is None, proc.communicate()
        assert process.running_pid(paths) == proc.pid
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "running (pid" in out and "Ctrl-C" in out and "promptd stopped" in out
    assert "Traceback" not in err
    assert process.running_pid(paths) is None and not paths.socket.exists()


def test_sighup_reloads_the_config_and_a_bad_one_is_refused(paths: Paths) -> None:
    from promptd.daemon.events import ConfigReloaded

    assert promptd("start").returncode == 0
    pid = process.running_pid(paths)
    assert pid is not None
    paths.config_file.write_text("[budget]\ndaily_usd = 4.0\n")
    os.kill(pid, signal.SIGHUP)
    wait_until(
        lambda: json.loads(promptd("budget", "--json").stdout)["daily_budget_usd"] == 4.0,
        10,
        "the reloaded budget",
        interval=0.1,
    )

    paths.config_file.write_text("[budget]\ndaly_usd = 1.0\n")
    os.kill(pid, signal.SIGHUP)
    wait_until(
        lambda: "config not reloaded" in paths.log_file.read_text(), 10, "the bad config in the log"
    )
    assert "budget.daly_usd" in paths.log_file.read_text()
    assert process.running_pid(paths) == pid  # still running, on the old config
    assert json.loads(promptd("budget", "--json").stdout)["daily_budget_usd"] == 4.0
    promptd("stop")
    assert any(isinstance(e, ConfigReloaded) for e in events(paths))


def _provider_config(paths: Paths, base_url: str) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(
        "[provider]\n"
        'kind = "openai"\n'
        f'base_url = "{base_url}"\n'
        'model = "grok-4.3"\n'
        "retries = 1\n"
        "timeout_s = 5\n"
        "connect_timeout_s = 1\n"
    )


def test_a_failing_provider_gives_a_degraded_answer_that_is_not_cached(paths: Paths) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    _provider_config(paths, f"http://127.0.0.1:{port}/v1")
    first = json.loads(promptd("optimize", PROMPT, "--json").stdout)
    assert first["degraded"] is True and first["engine"] == "offline"
    assert "answered by the offline engine" in first["degraded_reason"]
    second = json.loads(promptd("optimize", PROMPT, "--json").stdout)
    assert second["cached"] is False and second["degraded"] is True
    status = json.loads(promptd("status", "--json").stdout)
    assert status["engine"] == "llm" and status["provider"]["name"] == "openai"


def test_the_llm_engine_through_the_daemon_books_its_cost(paths: Paths) -> None:
    from tests.daemon.providers.loopback import LoopbackServer

    with LoopbackServer() as server:
        _provider_config(paths, server.base_url)
        first = json.loads(promptd("optimize", PROMPT, "--json").stdout)
        assert first["engine"] == "llm" and first["degraded"] is False
        assert first["model"] == "grok-4.3" and first["cost_usd"] > 0
        again = json.loads(promptd("optimize", PROMPT, "--json").stdout)
        assert again["cached"] is True and again["cost_usd"] == 0
        calls = len(server.bodies)
        assert calls >= 2
        costs = json.loads(promptd("costs", "--json").stdout)
        assert costs["total_usd"] == pytest.approx(first["cost_usd"])
        assert [row["key"] for row in costs["by_model"]] == ["grok-4.3"]
        shown = json.loads(promptd("show", first["id"], "--json").stdout)
        assert len(shown["calls"]) == calls
        assert sum(c["cost_usd"] for c in shown["calls"]) == pytest.approx(first["cost_usd"])


async def test_a_refused_budget_is_pushed_to_subscribers_as_a_message(paths: Paths) -> None:
    from tests.daemon.providers.loopback import LoopbackServer

    with LoopbackServer() as server:
        _provider_config(paths, server.base_url)
        assert promptd("start").returncode == 0
        client = await DaemonClient.connect(paths)
        notices: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        client.on_notification = lambda method, params: notices.put_nowait(json.loads(params))
        try:
            await client.call("subscribe", api.SubscribeParams(topics=["status"]))
            await client.call("budget.set", api.BudgetSetParams(daily_usd=0.0000001))
            result = await client.call(
                "optimize", api.OptimizeParams(text=PROMPT), result_type=api.OptimizeResult
            )
            assert result.degraded and "budget" in result.degraded_reason
            deadline = asyncio.get_running_loop().time() + 10
            while True:
                notice = await asyncio.wait_for(notices.get(), 10)
                if notice["message"]:
                    break
                assert asyncio.get_running_loop().time() < deadline
        finally:
            await client.close()
        assert server.bodies == []  # the call never went out
    assert notice["level"] == "warning" and notice["event"] == "budget.refused"
    assert "budget is used up" in str(notice["message"])


def test_a_daemon_that_cannot_start_says_why(paths: Paths) -> None:
    paths.events.parent.mkdir(parents=True, exist_ok=True)
    paths.events.write_text("not an LMDB folder")  # the event log cannot be opened
    result = promptd("start")
    assert result.returncode == 1
    assert "the daemon exited while starting" in result.stderr
    assert str(paths.events) in result.stderr and "Traceback" not in result.stderr
    assert process.running_pid(paths) is None


async def test_optimize_reports_progress_per_agent_step(paths: Paths) -> None:
    assert promptd("start").returncode == 0
    client = await DaemonClient.connect(paths)
    seen: list[api.Progress] = []
    try:
        result = await client.call(
            "optimize",
            api.OptimizeParams(text=PROMPT, no_cache=True),
            result_type=api.OptimizeResult,
            on_progress=seen.append,
        )
    finally:
        await client.close()
    agents = [p.agent for p in seen]
    # a short prompt takes the fast route: its analysis is offline and instant, unreported
    assert "designer" in agents and "evaluator" in agents
    assert all(p.kind == "optimize" and p.opt_id == result.id and p.total == 4 for p in seen)


def test_costs_and_budget_json_have_their_fields(paths: Paths) -> None:
    costs = json.loads(promptd("costs", "--json").stdout)
    assert set(costs) >= {
        "today_usd",
        "month_usd",
        "total_usd",
        "forecast_30d_usd",
        "by_day",
        "by_model",
        "by_source",
    }
    budget = promptd("budget", "--daily", "2.5", "--monthly", "none", "--json")
    assert budget.returncode == 0, budget.stderr
    doc = json.loads(budget.stdout)
    assert doc["daily_budget_usd"] == 2.5 and doc["monthly_budget_usd"] is None
    assert set(doc) >= {"alert_pct", "today_usd", "month_usd", "reserved_usd"}
    shown = json.loads(promptd("budget", "--json").stdout)
    assert shown["daily_budget_usd"] == 2.5
