"""The daemon's log: structured lines, rotation, and never an API key."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptd.daemon.server import logs


def test_lines_have_time_level_and_fields(tmp_path: Path) -> None:
    log_file = tmp_path / "daemon.log"
    logger = logs.setup(log_file)
    logger.info("started", extra=logs.fields(pid=42, socket="/a b/s"))
    text = log_file.read_text()
    assert ' INFO  promptd started pid=42 socket="/a b/s"' in text
    assert text[:4].isdigit() and "Z " in text


def test_api_keys_never_reach_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XAI_API_KEY", "xai-very-secret-key")
    monkeypatch.setenv("MY_KEY", "custom-secret-value")
    log_file = tmp_path / "daemon.log"
    logger = logs.setup(log_file, level="DEBUG", key_vars=["MY_KEY"])
    logger.debug("header Authorization: Bearer %s", "xai-very-secret-key")
    logger.error("failed", extra=logs.fields(key="custom-secret-value"))
    text = log_file.read_text()
    assert "very-secret" not in text and "custom-secret" not in text
    assert text.count("***") == 2


def test_the_log_rotates_by_size(tmp_path: Path) -> None:
    log_file = tmp_path / "daemon.log"
    logger = logs.setup(log_file, max_bytes=2000, backups=2)
    for i in range(200):
        logger.info("line %d", i)
    assert (tmp_path / "daemon.log.1").exists()
    assert not (tmp_path / "daemon.log.3").exists()
    assert log_file.stat().st_size <= 2000
