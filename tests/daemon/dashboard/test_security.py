"""The dashboard's guard, against a real daemon: token, cookie, Host, CSRF, CSP, the switch."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path

import httpx
import pytest

from promptd.daemon.client import DaemonClient
from promptd.daemon.dashboard.dashboard_service import RUN_FILE
from promptd.daemon.dashboard.security import COOKIE, CSRF_HEADER
from promptd.daemon.errors import RPCError
from promptd.daemon.paths import resolve

from .conftest import dashboard_of, running_daemon

GUARDED = ["/", "/api/overview", "/api/history", "/api/audit", "/static/app.js", "/api/live"]


def _base(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def _cookie(token: str, port: int) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}_{port}={token}"}


def _client(port: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=_base(port), follow_redirects=False, timeout=10.0)


async def test_every_request_without_the_token_gets_403(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon, _client(dashboard_of(daemon).port) as c:
        for path in GUARDED:
            r = await c.get(path)
            assert r.status_code == 403, path
            assert "promptd dashboard" in r.text
        wrong = await c.get("/", headers=_cookie("not-the-token", dashboard_of(daemon).port))
        assert wrong.status_code == 403
        bad_query = await c.get("/?token=not-the-token")
        assert bad_query.status_code == 403 and "set-cookie" not in bad_query.headers


async def test_the_token_is_swapped_for_an_httponly_strict_cookie_and_dropped_from_the_url(
    promptd_home: Path,
) -> None:
    async with running_daemon(promptd_home) as daemon:
        dash = dashboard_of(daemon)
        async with _client(dash.port) as c:
            r = await c.get(f"/?token={dash.guard.token}")
            assert r.status_code == 303
            assert r.headers["location"] == "/"
            cookie = r.headers["set-cookie"]
            assert cookie.startswith(f"{COOKIE}_{dash.port}={dash.guard.token};")
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
            # the other query parameters survive the redirect
            deep = await c.get(f"/api/history?q=dogs&token={dash.guard.token}")
            assert deep.headers["location"] == "/api/history?q=dogs"
            # named for the port: another port's dashboard (another home) keeps its own
            other = await c.get("/", headers=_cookie(dash.guard.token, dash.port + 1))
            assert other.status_code == 403
            page = await c.get("/", headers=_cookie(dash.guard.token, dash.port))
            assert page.status_code == 200
            assert f'<meta name="promptd-csrf" content="{dash.guard.csrf}">' in page.text
            assert dash.guard.token not in page.text
            for path in GUARDED[1:-1]:
                ok = await c.get(path, headers=_cookie(dash.guard.token, dash.port))
                assert ok.status_code == 200, path


async def test_the_host_header_must_name_the_dashboard(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon:
        dash = dashboard_of(daemon)
        cookies = _cookie(dash.guard.token, dash.port)
        async with _client(dash.port) as c:
            for host, status in [
                (f"127.0.0.1:{dash.port}", 200),
                (f"localhost:{dash.port}", 200),
                (f"evil.example:{dash.port}", 403),  # DNS rebinding: the attacker's name
                ("127.0.0.1", 403),
                (f"127.0.0.1:{dash.port + 1}", 403),
                (f"localhost.evil.example:{dash.port}", 403),
            ]:
                r = await c.get("/api/overview", headers={**cookies, "Host": host})
                assert r.status_code == status, host
            rebinding = await c.get(
                f"/?token={dash.guard.token}", headers={"Host": f"evil.example:{dash.port}"}
            )
            assert rebinding.status_code == 403 and "set-cookie" not in rebinding.headers


async def test_a_post_needs_the_csrf_header_and_the_dashboards_origin(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon:
        dash = dashboard_of(daemon)
        cookies = _cookie(dash.guard.token, dash.port)
        backups = resolve(promptd_home).backups
        async with _client(dash.port) as c:
            assert (await c.post("/api/backups", headers=cookies)).status_code == 403
            wrong = await c.post("/api/backups", headers={**cookies, CSRF_HEADER: "nope"})
            assert wrong.status_code == 403
            elsewhere = await c.post(
                "/api/backups",
                headers={**cookies, CSRF_HEADER: dash.guard.csrf, "Origin": "http://evil.example"},
            )
            assert elsewhere.status_code == 403
            assert not any(p.name[0].isdigit() for p in backups.iterdir())  # nothing was made
            made = await c.post(
                "/api/backups",
                headers={
                    **cookies,
                    CSRF_HEADER: dash.guard.csrf,
                    "Origin": f"http://127.0.0.1:{dash.port}",
                },
            )
            assert made.status_code == 201, made.text
            backup_id = made.json()["id"]
            listed = (await c.get("/api/backups", headers=cookies)).json()
            assert [b["id"] for b in listed["items"]] == [backup_id]
            verified = await c.post(
                f"/api/backups/{backup_id}/verify",
                headers={**cookies, CSRF_HEADER: dash.guard.csrf},
            )
            assert verified.status_code == 200 and verified.json()["ok"] is True
            missing = await c.post(
                "/api/backups/nope/verify", headers={**cookies, CSRF_HEADER: dash.guard.csrf}
            )
            assert missing.status_code == 404 and "no backup" in missing.json()["error"]


async def test_every_answer_has_a_strict_content_security_policy(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon:
        dash = dashboard_of(daemon)
        async with _client(dash.port) as c:
            answers = [
                await c.get("/"),  # 403
                await c.get(f"/?token={dash.guard.token}"),  # 303
                await c.get("/", headers=_cookie(dash.guard.token, dash.port)),
                await c.get("/api/overview", headers=_cookie(dash.guard.token, dash.port)),
                await c.get("/static/app.js", headers=_cookie(dash.guard.token, dash.port)),
            ]
        for r in answers:
            csp = r.headers["content-security-policy"]
            assert "default-src 'none'" in csp and "script-src 'self'" in csp
            assert "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "no-referrer"


async def test_listens_on_loopback_only_with_a_fresh_private_token_per_start(
    promptd_home: Path,
) -> None:
    paths = resolve(promptd_home)
    run_file = paths.run / RUN_FILE
    tokens = []
    for _ in range(2):
        async with running_daemon(promptd_home) as daemon:
            dash = dashboard_of(daemon)
            runner = dash._runner
            assert runner is not None
            assert [a[0] for a in runner.addresses] == ["127.0.0.1"]
            assert stat.S_IMODE(run_file.stat().st_mode) == 0o600
            written = json.loads(run_file.read_text())
            assert written["port"] == dash.port and written["token"] == dash.guard.token
            assert written["url"] == f"http://127.0.0.1:{dash.port}/?token={dash.guard.token}"
            tokens.append(dash.guard.token)
            async with await DaemonClient.connect(paths) as client:
                status = await client.call("status")
                assert status["dashboard_url"] == written["url"]
        assert not run_file.exists()
    assert tokens[0] != tokens[1] and len(tokens[0]) >= 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_configured_port_is_used(promptd_home: Path) -> None:
    port = _free_port()
    async with running_daemon(promptd_home, f"[dashboard]\nport = {port}\n") as daemon:
        assert dashboard_of(daemon).port == port
        assert dashboard_of(daemon).url().startswith(f"http://127.0.0.1:{port}/?token=")


async def test_a_taken_port_leaves_the_daemon_running_and_says_what_to_do(
    promptd_home: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with running_daemon(promptd_home, f"[dashboard]\nport = {port}\n") as daemon:
            paths = resolve(promptd_home)
            async with await DaemonClient.connect(paths) as client:
                assert (await client.call("status"))["running"] is True
                with pytest.raises(RPCError, match=f"could not listen on 127.0.0.1:{port}"):
                    await client.call("dashboard.url")
            assert not (paths.run / RUN_FILE).exists()
            assert dashboard_of(daemon).port == 0


async def test_enabled_false_turns_it_off(promptd_home: Path) -> None:
    async with running_daemon(promptd_home, "[dashboard]\nenabled = false\n") as daemon:
        paths = resolve(promptd_home)
        assert dashboard_of(daemon)._runner is None
        assert not (paths.run / RUN_FILE).exists()
        async with await DaemonClient.connect(paths) as client:
            status = await client.call("status")
            assert status["dashboard_url"] == ""
            with pytest.raises(RPCError, match=r"enabled = false"):
                await client.call("dashboard.url")
