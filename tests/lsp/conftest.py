"""Fixtures of the language-server tests that talk to a real daemon."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lsp.harness import promptd


@pytest.fixture
def daemon() -> Iterator[None]:
    """A real daemon (offline engine) in the test's PROMPTD_HOME, stopped after the test."""
    promptd("start")
    yield
    promptd("stop")
