"""What importing a client loads: the wire protocol and the process helpers, never the server.

The CLI and the language server talk to the daemon through :mod:`promptd.daemon.wire` and
start it through :mod:`promptd.daemon.process`; importing the daemon's server package (the
listener, the dispatcher, the services) or the engine would make every command and every
editor start pay for it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SERVER = "promptd.daemon.server"
ENGINE = "promptd.daemon.engine"
HEAVY = ("asyncio", "lmdb", "httpx")
DAEMON = Path(__file__).resolve().parents[2] / "daemon"


def _loaded_by(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(run.stdout.split())


def _of(mods: set[str], package: str) -> set[str]:
    return {m for m in mods if m == package or m.startswith(package + ".")}


@pytest.mark.parametrize("module", ["promptd.daemon.client", "promptd.daemon.wire"])
def test_the_client_loads_neither_the_server_nor_the_engine_nor_asyncio(module: str) -> None:
    mods = _loaded_by(module)
    assert not _of(mods, SERVER)
    assert not _of(mods, ENGINE)
    assert not set(HEAVY) & mods
    assert "promptd.daemon.process" in mods or module.endswith("wire")


def test_the_language_server_loads_neither_the_daemon_server_nor_the_engine() -> None:
    mods = _loaded_by("promptd.lsp.server")
    assert not _of(mods, SERVER)
    assert not _of(mods, ENGINE)
    assert not {"lmdb", "httpx"} & mods
    # what it does load to reach the daemon: the wire protocol and the process helpers
    assert {"promptd.daemon.wire", "promptd.daemon.process", "promptd.daemon.client"} <= mods


def _runtime_imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports at run time, at any depth (function
    level too); imports under ``if TYPE_CHECKING:`` are for the type checker and skipped."""
    package = "promptd.daemon." + ".".join(path.relative_to(DAEMON).parent.parts)
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rstrip(".").split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


@pytest.mark.parametrize("folder", ["backup", "inbox", "library"])
def test_the_services_do_not_import_the_server(folder: str) -> None:
    """The daemon loads its services by name and hands them what they need; they import
    the wire protocol for their methods, never the server package, not even inside a
    function (no hidden cycle server <-> backup, server <-> inbox)."""
    for path in sorted((DAEMON / folder).glob("*.py")):
        assert not _of(_runtime_imports(path), SERVER), path.name
