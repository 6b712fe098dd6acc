"""Every test runs with its own promptd home and no provider keys from the environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

_KEYS = (
    "XAI_API_KEY",
    "OPENAI_API_KEY",
    "PROMPTD_PROVIDER",
    "PROMPTD_BASE_URL",
    "PROMPTD_MODEL",
    "PROMPTD_INBOX_POLLING",
)


@pytest.fixture(autouse=True)
def promptd_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    # A short path: Unix socket paths are limited to ~107 bytes.
    home = tmp_path_factory.mktemp("h")
    monkeypatch.setenv("PROMPTD_HOME", str(home))
    for key in _KEYS:
        monkeypatch.delenv(key, raising=False)
    umask = os.umask(0o022)  # promptd's main() sets 077 for its process: not for the next test
    os.umask(umask)
    yield home
    os.umask(umask)
