"""Budget alerts in the editor: which alert a pushed message is, so each shows once.

The daemon records one ``BudgetAlert`` per period and threshold and pushes its sentence
(``budget alert: the daily budget of $0.50 for 2026-12-03 is 81% used (...; alert at 80%)``).
:func:`alert_key` names the alert by period and threshold (``daily:2026-12-03:80``), so a
second push of the same alert (a daemon restart, the link reconnecting, a repeated event)
is not shown again; a message in another shape is its own key.
"""

from __future__ import annotations

import re
from typing import Final

PREFIX: Final = "promptd: "
_ALERT = re.compile(
    r"the (?P<which>\w+) budget of .*? for (?P<period>\S+) is .*?alert at (?P<pct>\d+)%"
)


def alert_key(message: str, alert_id: str = "") -> str:
    """A stable name of the alert in ``message`` (or ``alert_id`` when the daemon gives one)."""
    if alert_id:
        return alert_id
    match = _ALERT.search(message)
    if match is None:
        return strip(message)
    return f"{match['which']}:{match['period']}:{match['pct']}"


def strip(message: str) -> str:
    """The message without the ``promptd:`` prefix the daemon may already have put."""
    while message.startswith(PREFIX):
        message = message[len(PREFIX) :]
    return message
