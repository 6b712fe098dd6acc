"""Backups and exports encrypted with age when ``[backup] encrypt_to`` names recipients.

The key pair is made in-process with pyrage; promptd is given only the public key (config)
and, to read a file back, the identity file (``--identity`` / ``PROMPTD_AGE_IDENTITY``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyrage import x25519

from promptd.daemon.backup import catalog
from promptd.daemon.backup.backup_service import BackupService
from promptd.daemon.backup.crypto import MAGIC
from promptd.daemon.events import BackupRestored
from promptd.daemon.paths import Paths
from promptd.daemon.projections import open_log

from .samples import history, optimization
from .test_cli import run


class Keys:
    def __init__(self, folder: Path, name: str) -> None:
        self.identity = x25519.Identity.generate()
        self.public = str(self.identity.to_public())
        self.secret = str(self.identity)
        self.file = folder / f"{name}.txt"
        self.file.write_text(f"# created: in a test\n# public key: {self.public}\n{self.secret}\n")


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return Keys(tmp_path, "key")


@pytest.fixture
def other(tmp_path: Path) -> Keys:
    return Keys(tmp_path, "other")


@pytest.fixture
def encrypted_home(paths: Paths, keys: Keys, tmp_path: Path) -> Iterator[Paths]:
    second = Keys(tmp_path, "second")
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(f'[backup]\nencrypt_to = ["{keys.public}", "{second.public}"]\n')
    with open_log(paths.events) as log:
        log.append(history(3))
    yield paths


def _no_secret_anywhere(root: Path, secret: str) -> None:
    for dirpath, _, files in os.walk(root):
        for name in files:
            data = (Path(dirpath) / name).read_bytes()
            assert secret.encode() not in data, f"the identity is in {name}"


def _backup_now(paths: Paths) -> str:
    """A backup made through the CLI's daemon path would need a daemon; use the service's
    snapshot with the configured recipients, as the daemon does."""
    from datetime import UTC, datetime

    from promptd.daemon.backup import snapshot
    from promptd.daemon.backup.crypto import recipient_strings
    from promptd.daemon.config import load

    with open_log(paths.events) as log:
        manifest = snapshot.take(
            log,
            paths.backups,
            now=datetime.now(UTC),
            encrypt_to=recipient_strings(load(paths.config_file)),
        )
    return manifest.id


def test_an_encrypted_backup_holds_no_plain_text_and_needs_the_identity(
    encrypted_home: Paths, keys: Keys, other: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = encrypted_home
    backup_id = _backup_now(paths)
    entry = catalog.find(paths.backups, backup_id)
    assert entry.manifest.encrypted and entry.data_file.name.endswith(".gz.age")
    assert entry.data_file.read_bytes().startswith(MAGIC)
    assert sorted(p.name for p in entry.folder.iterdir()) == [
        entry.manifest.file_name,
        "manifest.json",
    ]
    assert entry.manifest.file_name.endswith(".gz.age")
    assert keys.public in entry.manifest.recipients

    code, _, err = run("backup", "verify", backup_id)
    assert code == 1 and "is encrypted (age)" in err and "--identity FILE" in err
    code, _, err = run("backup", "verify", backup_id, "--identity", str(other.file))
    assert code == 1 and "does not open backup" in err
    code, out, _ = run("backup", "verify", backup_id, "--identity", str(keys.file))
    assert code == 0 and f"Backup {backup_id} is good: 14 events." in out
    monkeypatch.setenv("PROMPTD_AGE_IDENTITY", str(keys.file))
    code, out, _ = run("backup", "verify", "latest")
    assert code == 0 and "is good" in out
    _no_secret_anywhere(paths.home or paths.events.parent, keys.secret)


def test_restore_of_an_encrypted_backup(encrypted_home: Paths, keys: Keys, other: Keys) -> None:
    paths = encrypted_home
    backup_id = _backup_now(paths)
    with open_log(paths.events) as log:
        log.append(optimization(99))
        before = log.last_seq()
    for args, needs in (
        ((), "is encrypted (age)"),
        (("--identity", str(other.file)), "does not open backup"),
    ):
        code, _, err = run("backup", "restore", backup_id, *args)
        assert code == 1 and needs in err and "the store is unchanged" in err
        with open_log(paths.events, readonly=True) as log:
            assert log.last_seq() == before
    code, out, err = run("backup", "restore", backup_id, "--identity", str(keys.file))
    assert code == 0, err
    assert f"Restored backup {backup_id}: 14 events" in out
    with open_log(paths.events, readonly=True) as log:
        assert isinstance(list(log.read())[-1].event, BackupRestored)
    _no_secret_anywhere(paths.home or paths.events.parent, keys.secret)


@pytest.mark.parametrize("fmt", ["jsonl", "zip", "json", "csv"])
def test_an_encrypted_export_imports_with_the_identity(
    encrypted_home: Paths, keys: Keys, other: Keys, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"history.{fmt}.age"
    code, said, err = run("export", "--output", str(out))
    assert code == 0, err
    assert "encrypted with age" in said
    data = out.read_bytes()
    assert data.startswith(MAGIC) and b"prompt" not in data
    assert out.stat().st_mode & 0o777 == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no plain temporary
    if fmt == "csv":
        return  # csv is for spreadsheets; import reads jsonl, json and zip
    fresh = tmp_path / "fresh"
    code, _, err = run("--home", str(fresh), "import", str(out))
    assert code == 1 and "is encrypted (age)" in err
    code, _, err = run("--home", str(fresh), "import", str(out), "--identity", str(other.file))
    assert code == 1 and "does not open" in err
    code, said, err = run("--home", str(fresh), "import", str(out), "--identity", str(keys.file))
    assert code == 0, err
    assert "Imported" in said
    assert not [p for p in (fresh / "run").iterdir() if p.name.startswith(".import")]
    _no_secret_anywhere(fresh, keys.secret)


def test_a_secret_key_in_the_config_is_refused_without_echoing_it(paths: Paths, keys: Keys) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(f'[backup]\nencrypt_to = "{keys.secret}"\n')
    code, _, err = run("status")
    assert code == 2 and "secret key" in err and "age-keygen -y" in err
    assert keys.secret not in err and keys.secret[15:] not in err


def test_the_daemon_encrypts_its_backups(encrypted_home: Paths, keys: Keys) -> None:
    import asyncio

    from promptd.daemon.config import load
    from promptd.daemon.server.main import build

    paths = encrypted_home

    async def once() -> str:
        daemon = build(paths, load(paths.config_file))
        service = next(s for s in daemon.services if isinstance(s, BackupService))
        task = asyncio.create_task(daemon.run())
        try:
            deadline = asyncio.get_running_loop().time() + 20
            while daemon.core.store is None:
                assert asyncio.get_running_loop().time() < deadline and not task.done()
                await asyncio.sleep(0.02)
            entry = await service.run()
            return entry.id
        finally:
            daemon.request_stop()
            await asyncio.wait_for(task, 30)

    backup_id = asyncio.run(once())
    entry = catalog.find(paths.backups, backup_id)
    assert entry.manifest.encrypted and entry.verified  # sealed check at making time
    code, out, _ = run("backup", "verify", backup_id, "--identity", str(keys.file))
    assert code == 0 and "is good" in out
    _no_secret_anywhere(paths.home or paths.events.parent, keys.secret)
