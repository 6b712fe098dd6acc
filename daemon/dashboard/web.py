"""The dashboard's HTTP routes (aiohttp), each a few lines over :mod:`.data`.

``GET /`` the page (its CSRF token in a ``<meta>``), streamed: the markup up to the
overview goes out at once so the browser fetches the script while the overview is read and
drawn, which follows in the same answer as HTML with its charts in SVG (:mod:`.page`), then
the first answers of the other sections (a JSON data block: the script draws them without a
request); ``GET /api/overview.html`` the overview's HTML again, for live updates.
``/assets/VERSION/app.js`` the script (:mod:`.assets`: from memory, cached for good);
``/static/...`` the source files as they are; JSON under ``/api/``:
``overview``, ``history``, ``optimizations/ID``, ``batches``, ``audit``, ``backups``;
``POST /api/backups`` (back up now) and
``POST /api/backups/ID/verify``; ``GET /api/live`` the Server-Sent Events stream of new
events. Every route is behind :class:`~.security.Guard`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from aiohttp import web

from .. import api
from ..errors import BackupError, PromptdError, RPCError
from . import data, page
from .assets import CACHE_FOREVER
from .security import HEADERS

if TYPE_CHECKING:
    from .dashboard_service import DashboardService

T = TypeVar("T")
log = logging.getLogger("promptd.dashboard")
STATIC = Path(str(resources.files("promptd.daemon").joinpath("data/dashboard")))
_KEEPALIVE_S = 15.0

SERVICE: web.AppKey[DashboardService] = web.AppKey("service")


def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(value), status=status, content_type="application/json"
    )


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


def _service(request: web.Request) -> DashboardService:
    return request.app[SERVICE]


async def _read(build: Callable[[], T]) -> T:
    """Run a read of the store off the event loop (LMDB readers work on any thread)."""
    return await asyncio.to_thread(build)


def embedded(value: Any) -> bytes:
    """``value`` as the page's JSON data block (``<`` escaped: no ``</script>`` inside; a
    ``<script type="application/json">`` is data, which the CSP does not run)."""
    data = msgspec.json.encode(value).replace(b"<", b"\\u003c")
    return b'<script type="application/json" id="first-answers">' + data + b"</script>"


async def index(request: web.Request) -> web.StreamResponse:
    svc = _service(request)
    head, tail = svc.page
    response = web.StreamResponse(
        headers={
            **HEADERS,
            "Content-Security-Policy": svc.page_csp,
            "Content-Type": "text/html; charset=utf-8",
        }
    )
    await response.prepare(request)
    with contextlib.suppress(ConnectionResetError):  # the browser went away
        await response.write(head)
        try:
            body = await _read(svc.overview_html)
        except Exception:  # the status line is sent: the page must still come whole
            log.exception("the dashboard could not draw the overview for the page")
            body = page.unreadable("an internal error; the daemon's log has the details")
        await response.write(body.encode())  # the first screen, while the rest is read
        try:
            answers: Any = await _read(svc.first_answers)
        except Exception:  # as above; the page asks for its sections itself
            log.exception("the dashboard could not read the sections for the page")
            answers = {}
        await response.write(embedded(answers) + tail)
        await response.write_eof()
    return response


async def asset(request: web.Request) -> web.Response:
    assets = _service(request).assets
    found = assets and assets.get(request.match_info["version"], request.match_info["name"])
    if not found:
        return _error(404, "no such file in this daemon's dashboard; reload the page")
    headers = {"ETag": found.etag, "Cache-Control": CACHE_FOREVER}
    if found.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=found.body, content_type=found.content_type, headers=headers)


async def overview(request: web.Request) -> web.Response:
    svc = _service(request)
    return _json(await _read(svc.overview))


async def overview_html(request: web.Request) -> web.Response:
    """The Overview section's body, as the page has it (the page swaps it in on a live
    event)."""
    body = await _read(_service(request).overview_html)
    return web.Response(text=body, content_type="text/html", headers=HEADERS)


async def history(request: web.Request) -> web.Response:
    try:
        query = msgspec.convert(dict(request.query), data.HistoryQuery, strict=False)
        for day in (query.since, query.until):
            if day:
                dt.date.fromisoformat(day)
    except (msgspec.ValidationError, ValueError) as exc:
        return _error(400, f"bad filter: {exc}; dates are YYYY-MM-DD, limit a number")
    svc = _service(request)

    def build() -> Any:
        with svc.store().view() as view:
            return data.history(view, query)

    return _json(await _read(build))


async def optimization(request: web.Request) -> web.Response:
    svc = _service(request)
    opt_id = request.match_info["opt_id"]

    def build() -> Any:
        with svc.store().view() as view:
            return data.detail(view, opt_id)

    try:
        return _json(await _read(build))
    except RPCError as exc:
        return _error(404 if exc.code == api.NOT_FOUND else 400, str(exc))


async def batches(request: web.Request) -> web.Response:
    svc = _service(request)

    def build() -> Any:
        with svc.store().view() as view:
            return data.batches(view, svc.paths.inbox)

    return _json(await _read(build))


async def audit(request: web.Request) -> web.Response:
    svc = _service(request)
    try:
        before = int(request.query.get("before", "0") or 0)
        limit = int(request.query.get("limit", "100") or 100)
    except ValueError:
        return _error(400, "before and limit are whole numbers")
    kind = request.query.get("kind", "")
    store = svc.store()

    def build() -> Any:
        return data.audit(store.read, store.last_seq(), kind=kind, before=before, limit=limit)

    return _json(await _read(build))


async def backups(request: web.Request) -> web.Response:
    svc = _service(request)
    try:
        return _json(await asyncio.to_thread(data.backups, svc.paths.backups))
    except BackupError as exc:
        return _error(500, str(exc))


async def backup_now(request: web.Request) -> web.Response:
    svc = _service(request)
    try:
        info = await svc.backup_now()
    except PromptdError as exc:
        return _error(409, str(exc))
    return _json(info, 201)


async def backup_verify(request: web.Request) -> web.Response:
    svc = _service(request)
    try:
        result = await svc.verify_backup(request.match_info["backup_id"])
    except BackupError as exc:
        return _error(404, str(exc))
    return _json(result)


async def live(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: ``record`` for each new event of the log, as it is committed."""
    svc = _service(request)
    response = web.StreamResponse(
        headers={**HEADERS, "Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    queue = svc.hub.join()
    try:
        await response.write(f"retry: 1000\nevent: hello\ndata: {svc.last_seq()}\n\n".encode())
        while True:
            try:  # not asyncio.wait_for, which loses a cancel that meets an item on 3.11
                async with asyncio.timeout(_KEEPALIVE_S):
                    item = await queue.get()
            except TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            if item is None:  # the daemon is stopping
                break
            await response.write(item)
    except (ConnectionResetError, RuntimeError):
        pass  # the page went away
    finally:
        svc.hub.leave(queue)
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await response.write_eof()
    return response


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Our errors (the log is not open yet, a restore runs...) as JSON saying what is wrong."""
    try:
        response: web.StreamResponse = await handler(request)
    except PromptdError as exc:
        return _error(503, str(exc))
    return response


def make_app(service: DashboardService) -> web.Application:
    app = web.Application(
        middlewares=[service.guard.middleware, _errors], client_max_size=64 * 1024
    )
    app[SERVICE] = service
    app.router.add_get("/", index)
    app.router.add_get("/assets/{version}/{name}", asset)
    app.router.add_get("/api/overview", overview)
    app.router.add_get("/api/overview.html", overview_html)
    app.router.add_get("/api/history", history)
    app.router.add_get("/api/optimizations/{opt_id}", optimization)
    app.router.add_get("/api/batches", batches)
    app.router.add_get("/api/audit", audit)
    app.router.add_get("/api/backups", backups)
    app.router.add_post("/api/backups", backup_now)
    app.router.add_post("/api/backups/{backup_id}/verify", backup_verify)
    app.router.add_get("/api/live", live)
    app.router.add_static("/static/", STATIC, follow_symlinks=False, append_version=False)
    return app
