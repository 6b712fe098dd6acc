"""`promptd backup list|verify|restore`, `export` and `import` through click, no daemon."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from promptd.daemon.backup import snapshot
from promptd.daemon.cli import main
from promptd.daemon.events import BackupCreated, BackupRestored
from promptd.daemon.paths import Paths
from promptd.daemon.projections import open_log

from .samples import history, optimization
from .test_verify import flip_byte


def run(*args: str) -> tuple[int, str, str]:
    """Run ``promptd ARGS`` as the console script does (errors become exit codes)."""
    with CliRunner().isolation() as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        return code, out.getvalue().decode(), err.getvalue().decode()


def backed_up(paths: Paths, when: datetime) -> str:
    with open_log(paths.events) as log:
        if log.last_seq() == 0:
            log.append(history(2))
        return snapshot.take(log, paths.backups, now=when).id


def test_list_shows_backups_newest_first(paths: Paths) -> None:
    code, out, _ = run("backup", "list")
    assert code == 0 and "No backups in" in out and "promptd backup now" in out
    first = backed_up(paths, datetime(2026, 11, 26, 3, tzinfo=UTC))
    second = backed_up(paths, datetime(2026, 11, 27, 3, tzinfo=UTC))
    code, out, _ = run("backup", "list", "--json")
    assert code == 0
    doc = json.loads(out)
    assert [b["id"] for b in doc["backups"]] == [second, first]
    assert doc["backups"][0]["events"] == 10 and doc["backups"][0]["verified"] is False
    code, out, _ = run("backup", "list")
    assert out.index(second) < out.index(first) and "not yet" in out


def test_verify_says_good_or_names_the_damage(paths: Paths) -> None:
    backup_id = backed_up(paths, datetime(2026, 11, 27, 3, tzinfo=UTC))
    code, out, _ = run("backup", "verify", "latest")
    assert code == 0
    assert f"Backup {backup_id} is good: 10 events." in out
    assert "ok  log decodes gaplessly: sequences 1..10" in out
    code, out, _ = run("backup", "list")
    assert "yes" in out

    flip_byte(paths.backups / backup_id / "events.mdb.gz")
    code, out, err = run("backup", "verify", backup_id[:8])
    assert code == 1
    assert f"promptd: backup {backup_id} failed verification: its SHA-256 is" in err
    code, out, _ = run("backup", "list")
    assert "FAILED" in out

    code, _, err = run("backup", "verify", "nope")
    assert code == 1 and "no backup 'nope'" in err


def test_restore_without_a_daemon(paths: Paths) -> None:
    backup_id = backed_up(paths, datetime(2026, 11, 27, 3, tzinfo=UTC))
    with open_log(paths.events) as log:
        log.append(optimization(7))
    code, out, err = run("backup", "restore", backup_id)
    assert code == 0, err
    assert f"Restored backup {backup_id}: 10 events (the store had 14)." in out
    assert "events.before-restore-" in out
    assert "verifying backup" in err and "starting the daemon" not in err
    with open_log(paths.events, readonly=True) as log:
        records = list(log.read())
    assert len(records) == 11 and isinstance(records[-1].event, BackupRestored)


def test_restore_refuses_a_corrupt_backup(paths: Paths) -> None:
    backup_id = backed_up(paths, datetime(2026, 11, 27, 3, tzinfo=UTC))
    flip_byte(paths.backups / backup_id / "events.mdb.gz")
    code, _, err = run("backup", "restore", backup_id)
    assert code == 1
    assert "failed verification" in err and "the store is unchanged" in err


def test_export_formats_from_the_suffix_or_the_flag(paths: Paths, tmp_path: Path) -> None:
    backed_up(paths, datetime(2026, 11, 27, 3, tzinfo=UTC))
    code, out, _ = run("export", "--output", str(tmp_path / "h.zip"))
    assert code == 0 and "Exported 2 optimizations (10 events) as zip" in out
    assert zipfile.is_zipfile(tmp_path / "h.zip")
    code, out, _ = run("export", "--format", "csv", "-o", str(tmp_path / "h.txt"), "--json")
    assert code == 0 and json.loads(out)["optimizations"] == 2
    assert (tmp_path / "h.txt").read_text().startswith("id,at,source,")
    code, _, err = run("export", "--output", str(tmp_path / "h.dat"))
    assert code == 2 and "add --format json|jsonl|csv|zip" in err


def test_export_of_a_home_without_a_log_says_so(paths: Paths, tmp_path: Path) -> None:
    code, _, err = run("export", "--output", str(tmp_path / "h.jsonl"))
    assert code == 1 and "nothing to export" in err


def test_import_without_a_daemon_twice(paths: Paths, tmp_path: Path) -> None:
    other = tmp_path / "other"
    with open_log(other / "events") as log:
        log.append(history(3))
    code, _, _ = run("--home", str(other), "export", "-o", str(tmp_path / "x.jsonl"))
    assert code == 0
    code, out, _ = run("import", str(tmp_path / "x.jsonl"))
    assert code == 0
    assert out.strip() == (
        "Imported 12 of 14 events from x.jsonl "
        "(skipped: 2 about the other home's backups/budget/breaker)."
    )
    code, out, _ = run("import", str(tmp_path / "x.jsonl"), "--json")
    assert json.loads(out)["imported"] == 0
    code, out, _ = run("history", "--json")
    assert code == 0 and len(json.loads(out)["items"]) == 3


def test_import_refuses_a_bad_file_with_line_and_reason(paths: Paths, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"ts_ns": 1}\n')
    code, _, err = run("import", str(bad))
    assert code == 1
    assert "bad.jsonl, line 1: object missing required field `origin`" in err


def test_status_after_a_restore_counts_the_backups_on_disk(paths: Paths) -> None:
    """The restored log predates the newer backups; status still shows what `backup list` does."""
    taken = []
    for day in (25, 26, 27):
        with open_log(paths.events) as log:
            if log.last_seq() == 0:
                log.append(history(2))
            manifest = snapshot.take(log, paths.backups, now=datetime(2026, 11, day, 3, tzinfo=UTC))
            log.append(
                BackupCreated(
                    backup_id=manifest.id,
                    file_name=manifest.file_name,
                    last_seq=manifest.last_seq,
                    event_count=manifest.event_count,
                    size_bytes=manifest.size_bytes,
                    sha256=manifest.sha256,
                )
            )
        taken.append(manifest)
    code, _, err = run("backup", "restore", taken[0].id)
    assert code == 0, err
    code, out, _ = run("backup", "list", "--json")
    assert len(json.loads(out)["backups"]) == 3
    code, out, err = run("status", "--json")
    assert code == 0, err
    backups = json.loads(out)["backups"]
    assert backups["count"] == 3
    assert backups["last_at"] == "2026-11-27T03:00:00Z"
