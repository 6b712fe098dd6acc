"""Verifying backups: a damaged one is named as damaged, with the reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from promptd.daemon.backup import catalog, snapshot
from promptd.daemon.backup.verify import verify
from promptd.daemon.errors import BackupError
from promptd.daemon.paths import Paths
from promptd.daemon.store import EventLog

NOON = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def flip_byte(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if offset is None else offset
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def entry(paths: Paths, store: EventLog) -> catalog.BackupEntry:
    manifest = snapshot.take(store, paths.backups, now=NOON)
    return catalog.find(paths.backups, manifest.id)


def test_a_good_backup_verifies_and_says_so_in_the_list(
    paths: Paths, entry: catalog.BackupEntry
) -> None:
    result = verify(entry, work_root=paths.backups)
    assert result.ok and result.reason == ""
    assert (result.events, result.last_seq) == (22, 22)
    assert result.checks == [
        "size and SHA-256 match the manifest; it decompresses",
        "opens as an event log",
        "log decodes gaplessly: sequences 1..22",
        "every projection rebuilds, equal to the stored ones",
    ]
    [listed], _ = catalog.list_backups(paths.backups)
    assert listed.verified and listed.mark is not None and listed.mark.events == 22
    assert not [p for p in paths.backups.iterdir() if p.name.startswith(".")]


def test_a_flipped_byte_fails_verification(paths: Paths, entry: catalog.BackupEntry) -> None:
    flip_byte(entry.data_file)
    result = verify(entry, work_root=paths.backups)
    assert not result.ok
    assert "its SHA-256 is" in result.reason and "the manifest says" in result.reason
    [listed], _ = catalog.list_backups(paths.backups)
    assert not listed.verified and listed.mark is not None and not listed.mark.ok
    assert not [p for p in paths.backups.iterdir() if p.name.startswith(".")]


def test_a_truncated_backup_fails_verification(paths: Paths, entry: catalog.BackupEntry) -> None:
    data = entry.data_file.read_bytes()
    entry.data_file.write_bytes(data[: len(data) // 2])
    result = verify(entry, work_root=paths.backups)
    assert not result.ok
    assert f"its size is {len(data) // 2} bytes" in result.reason
    assert "it does not decompress" in result.reason


def test_a_manifest_that_does_not_match_the_log_fails(
    paths: Paths, entry: catalog.BackupEntry
) -> None:
    manifest_file = entry.folder / "manifest.json"
    doc = json.loads(manifest_file.read_text())
    doc["event_count"] = 23
    manifest_file.write_text(json.dumps(doc))
    result = verify(catalog.find(paths.backups, entry.id), work_root=paths.backups)
    assert not result.ok
    assert result.reason == "it holds 22 events up to 22, the manifest says 23 up to 22"


def test_backups_are_found_by_id_prefix_or_latest_and_broken_folders_are_named(
    paths: Paths, store: EventLog, entry: catalog.BackupEntry
) -> None:
    later = snapshot.take(store, paths.backups, now=datetime(2026, 11, 28, tzinfo=UTC))
    assert catalog.find(paths.backups, "latest").id == later.id
    assert catalog.find(paths.backups, "20261127").id == entry.id
    with pytest.raises(BackupError, match="matches several backups"):
        catalog.find(paths.backups, "2026112")
    with pytest.raises(BackupError, match="no backup '1999'; 'promptd backup list' shows"):
        catalog.find(paths.backups, "1999")
    (paths.backups / "20261129T000000Z").mkdir()
    entries, problems = catalog.list_backups(paths.backups)
    assert [e.id for e in entries] == [entry.id, later.id]
    assert problems == ["20261129T000000Z: no manifest.json; this is not a whole backup"]
    (entry.folder / "manifest.json").write_text("{garbage")
    _, problems = catalog.list_backups(paths.backups)
    assert any("is damaged" in p and "cannot be trusted" in p for p in problems)


def test_no_backups_says_how_to_make_one(paths: Paths) -> None:
    with pytest.raises(BackupError, match="make one with 'promptd backup now'"):
        catalog.find(paths.backups, "latest")
