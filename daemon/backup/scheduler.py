"""When backups run: APScheduler's daily job, plus catch-up for the runs it cannot see.

* The daily job (``backup.time``, local, default 03:00) is an APScheduler 3.x cron job on an
  ``AsyncIOScheduler`` with ``coalesce=True`` (many missed runs are one run),
  ``misfire_grace_time=None`` (a late run still runs) and ``max_instances=1``.
* APScheduler sleeps on the event loop's monotonic clock, which stops while the machine is
  suspended, and its memory job store forgets missed runs across restarts. So at start, and
  every ``backup.check_interval_s`` seconds, :meth:`BackupScheduler.check` runs one catch-up
  backup when the last one is older than ``backup.interval_h``. A home with no backup at all
  gets its first one from the first periodic check (a few minutes after start), not in the
  first second of a brand-new daemon.
* A failed backup is retried by the next check, waiting longer after each failure in a row
  (one check interval, then 2, 4... up to ``interval_h``), so a full disk is not hammered
  every five minutes; the daily job always tries.

The clock is injected (``clock()`` gives an aware local ``datetime``), so a test can say
"the last backup was two days ago" without waiting two days.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..config import BackupConfig
from ..errors import ConfigError

__all__ = ["BackupScheduler", "local_now", "parse_time"]

log = logging.getLogger("promptd.backup")

DAILY_JOB = "backup-daily"
CHECK_JOB = "backup-check"

Clock = Callable[[], datetime]
RunBackup = Callable[[], Awaitable[Any]]  # a scheduled backup; raises when it fails


def local_now() -> datetime:
    """Now, time zone aware, in the machine's local zone."""
    return datetime.now().astimezone()


def parse_time(text: str) -> tuple[int, int]:
    """``HH:MM`` (24-hour) -> (hour, minute), or a :class:`ConfigError` saying how to write it."""
    hour_text, sep, minute_text = text.strip().partition(":")
    if sep and hour_text.isdigit() and minute_text.isdigit() and len(minute_text) == 2:
        hour, minute = int(hour_text), int(minute_text)
        if 0 <= hour < 24 and 0 <= minute < 60:
            return hour, minute
    raise ConfigError(
        f'backup.time = {text!r} is not a time of day; write it as HH:MM, e.g. "03:00"'
    )


class BackupScheduler:
    """Runs ``run_backup`` daily and whenever the last backup is older than the interval."""

    def __init__(
        self,
        config: BackupConfig,
        run_backup: RunBackup,
        last_backup_at: Callable[[], datetime | None],
        *,
        clock: Clock = local_now,
    ) -> None:
        self.config = config
        self._run_backup = run_backup
        self._last_backup_at = last_backup_at
        self._clock = clock
        self._scheduler: AsyncIOScheduler | None = None
        self._failures = 0
        self._retry_after: datetime | None = None
        self.startup_check: asyncio.Task[bool] | None = None

    # --- decisions (pure, given the clock) -----------------------------------------------

    def due(self, *, at_start: bool = False) -> bool:
        """True when a catch-up backup should run now."""
        now = self._clock()
        if self._retry_after is not None and now < self._retry_after:
            return False
        last = self._last_backup_at()
        if last is None:
            return not at_start
        return now - last >= timedelta(hours=self.config.interval_h)

    def _failed(self) -> None:
        self._failures += 1
        wait = self.config.check_interval_s * 2 ** (self._failures - 1)
        wait = min(wait, self.config.interval_h * 3600)
        self._retry_after = self._clock() + timedelta(seconds=wait)

    def _succeeded(self) -> None:
        self._failures = 0
        self._retry_after = None

    # --- runs ----------------------------------------------------------------------------

    async def _run(self, why: str) -> bool:
        log.info("backup: starting the %s backup", why)
        try:
            await self._run_backup()
        except Exception as exc:  # recorded as BackupFailed by run_backup; never kill the job
            self._failed()
            log.error(
                "backup: the %s backup failed: %s (next try after %s)", why, exc, self._retry_after
            )
            return False
        self._succeeded()
        return True

    async def daily(self) -> None:
        """The cron job: back up, whatever the last backup's age."""
        await self._run("daily")

    async def check(self, at_start: bool = False) -> bool:
        """Catch up when the last backup is older than the interval; True when one ran."""
        if not self.due(at_start=at_start):
            return False
        return await self._run("catch-up")

    # --- life ----------------------------------------------------------------------------

    def next_at(self) -> datetime | None:
        """When the daily job runs next (None: not scheduled)."""
        if self._scheduler is None or not self._scheduler.running:
            return None
        job = self._scheduler.get_job(DAILY_JOB)
        return None if job is None else job.next_run_time

    async def start(self) -> None:
        """Schedule the jobs and run the start-up catch-up check in the background."""
        if not self.config.enabled:
            log.info("backup: scheduled backups are off (backup.enabled = false)")
            return
        hour, minute = parse_time(self.config.time)
        tz = self._clock().tzinfo
        if tz is None or isinstance(tz, timezone):
            tz = None  # a fixed offset would not follow daylight saving: APScheduler's local zone
        scheduler = AsyncIOScheduler(timezone=tz, event_loop=asyncio.get_running_loop())
        scheduler.add_job(
            self.daily,
            CronTrigger(hour=hour, minute=minute, timezone=tz),
            id=DAILY_JOB,
            name="daily backup",
            coalesce=True,
            misfire_grace_time=None,
            max_instances=1,
        )
        scheduler.add_job(
            self.check,
            IntervalTrigger(seconds=max(1, self.config.check_interval_s), timezone=tz),
            id=CHECK_JOB,
            name="backup catch-up check",
            coalesce=True,
            misfire_grace_time=None,
            max_instances=1,
        )
        scheduler.start()
        self._scheduler = scheduler
        self.startup_check = asyncio.get_running_loop().create_task(
            self.check(at_start=True), name="backup catch-up at start"
        )
        log.info("backup: daily at %02d:%02d; next %s", hour, minute, self.next_at())

    async def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
        task, self.startup_check = self.startup_check, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def reschedule(self, config: BackupConfig) -> None:
        """Apply a reloaded config."""
        await self.stop()
        self.config = config
        await self.start()
