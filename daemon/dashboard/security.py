"""The dashboard's guard: one aiohttp middleware that every request passes.

In order, for every request (static files and the live stream included):

1. **Host** must be ``127.0.0.1:PORT`` or ``localhost:PORT``, else 403 (a DNS-rebinding page
   names its own host).
2. **Token**: ``?token=T`` with the right token is answered with a redirect to the same
   URL without it, setting the token as an ``HttpOnly; SameSite=Strict`` cookie named for
   the port (so it
   leaves the address bar and the history); after that the cookie must carry it. A wrong
   or missing token: 403.
3. **POST** (the buttons that change something) must carry the CSRF token in the
   ``X-Promptd-CSRF`` header (the page reads it from its ``<meta>``; another site cannot),
   and an ``Origin``, when sent, of the dashboard itself. Else 403.
4. Every answer gets a strict Content-Security-Policy (nothing but this origin: no inline
   script, no outside requests; the page's one inline style sheet allowed by its digest),
   ``nosniff``, ``no-referrer``, no framing, ``no-store``. No
   ``Cross-Origin-Opener-Policy``: it makes the browser start a new renderer process for
   every load of the page (50-60 ms of each load in headless Chromium here), and what it
   guards against, another site's window holding a handle on this one, gets that site a
   403 here (no token, and the cookie is ``SameSite=Strict``).

Tokens are compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

COOKIE = "promptd_dashboard"  # + "_PORT": browsers share cookies between a host's ports
CSRF_HEADER = "X-Promptd-CSRF"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def page_csp(style: str) -> str:
    """The page's policy: :data:`CSP`, with the one ``<style>`` the page carries allowed by
    its digest (no other inline style, and no inline script at all)."""
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    return CSP.replace("style-src 'self'", f"style-src 'self' 'sha256-{digest}'")


HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def csrf_for(token: str) -> str:
    """The CSRF token that goes with a session token (derived: nothing more to keep)."""
    return hmac.new(token.encode(), b"promptd-dashboard-csrf", hashlib.sha256).hexdigest()


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


def _refuse(reason: str) -> web.Response:
    return web.Response(
        status=403,
        text=f"403 forbidden: {reason}\n",
        headers=HEADERS,
    )


class Guard:
    """Holds the token and the port; :meth:`middleware` goes first in the app."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.csrf = csrf_for(token)
        self.port = 0  # set once the server listens

    @property
    def cookie(self) -> str:
        """The cookie's name: one per port, so two homes' dashboards do not log each other
        out."""
        return f"{COOKIE}_{self.port}"

    def hosts(self) -> tuple[str, str]:
        return f"127.0.0.1:{self.port}", f"localhost:{self.port}"

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host", "")
        if host not in self.hosts():
            return _refuse(
                "the Host header must be 127.0.0.1 or localhost with the dashboard's port; "
                "open the URL `promptd dashboard` prints"
            )
        given = request.query.get("token")
        if given is not None:
            if not _same(given, self.token):
                return _refuse(
                    "this token is not the daemon's (it changes at every start); "
                    "run `promptd dashboard` for a fresh URL"
                )
            query = request.rel_url.query.copy()
            del query["token"]
            target = request.rel_url.with_query(query)
            moved = web.Response(status=303, headers={**HEADERS, "Location": str(target)})
            moved.set_cookie(
                self.cookie, self.token, httponly=True, samesite="Strict", path="/", secure=False
            )
            return moved
        if not _same(request.cookies.get(self.cookie), self.token):
            return _refuse("no valid token; open the dashboard with `promptd dashboard`")
        if request.method not in ("GET", "HEAD"):
            if not _same(request.headers.get(CSRF_HEADER), self.csrf):
                return _refuse(f"a change needs the {CSRF_HEADER} header the page sends")
            origin = request.headers.get("Origin")
            if origin is not None and origin not in {f"http://{h}" for h in self.hosts()}:
                return _refuse("a change must come from the dashboard's own page")
        response = await handler(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
