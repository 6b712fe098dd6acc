"""The package's exports load on first use: ``promptd lint`` does not import the pipeline."""

from __future__ import annotations

import subprocess
import sys

import promptd.daemon.engine as engine


def test_lint_alone_does_not_import_the_pipeline() -> None:
    code = (
        "import sys; from promptd.daemon.engine.lint import lint; "
        "lint('write some stuff about dogs'); "
        "print(*(m in sys.modules for m in "
        "('promptd.daemon.engine.pipeline', 'promptd.daemon.engine.offline', 'asyncio')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False", "False"]


def test_every_export_resolves() -> None:
    from promptd.daemon.engine.lint import lint

    for name in engine.__all__:
        assert getattr(engine, name) is not None, name
    assert engine.lint is lint  # the function, not the submodule of the same name
    assert set(engine.__all__) <= set(dir(engine))
