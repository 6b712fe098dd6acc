"""The analytics dashboard: a local web page served by the daemon (DESIGN.md "Dashboard").

* :mod:`.dashboard_service` :class:`~.dashboard_service.DashboardService`: listens on
  127.0.0.1, writes ``run/dashboard.json``, pushes new events to the open pages
* :mod:`.security` the guard every request passes: Host, token/cookie, CSRF, CSP
* :mod:`.web` the routes (aiohttp): the page, its static files, the JSON API, the live stream
* :mod:`.data` what each section shows, built from the projections (pure reads)

The page itself is ``promptd/daemon/data/dashboard/`` (HTML, one script, one style sheet and
the vendored uPlot): no build step, no outside request.
"""

from __future__ import annotations
