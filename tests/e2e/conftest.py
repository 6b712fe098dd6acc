"""Fixtures of the end-to-end language-server tests: a real daemon, the server over stdio
(pytest-lsp), and an editor profile on it. A module that needs another kind defines its own
fixture of the same name."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp.harness import PROFILES, SERVER_COMMAND, Editor, promptd, stop_server

from .neovim_harness import editor_env, running_daemon


@pytest.fixture
def daemon() -> Iterator[None]:
    """A real daemon (offline engine) in the test's PROMPTD_HOME, stopped after the test."""
    promptd("start")
    yield
    promptd("stop")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The Neovim tests' environment, with one daemon (offline engine) for the module:
    starting it once keeps a module fast; each test has its own project folder."""
    home = tmp_path_factory.mktemp("nv")  # short: the socket path is limited to ~107 bytes
    environment = editor_env(home, tmp_path_factory.mktemp("nvim-state"))
    with running_daemon(environment):
        yield environment


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND))
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    yield
    await stop_server(lsp_client)


@pytest.fixture(params=PROFILES)
async def ed(
    client: LanguageClient, daemon: None, request: pytest.FixtureRequest
) -> AsyncIterator[Editor]:
    """The server started as each client profile, with the daemon running."""
    editor = Editor(client)
    await editor.start(request.param)
    yield editor
    await client.shutdown_session()
