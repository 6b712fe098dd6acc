"""The package's exports load on first use, so the forecast does not pull httpx."""

from __future__ import annotations

import importlib
import subprocess
import sys

import promptd.daemon.providers as providers


def test_forecast_alone_does_not_import_httpx() -> None:
    code = (
        "import sys, promptd.daemon.providers.forecast; "
        "print('httpx' in sys.modules, 'promptd.daemon.providers.llm_engine' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


def test_every_export_resolves_to_what_its_module_defines() -> None:
    forecast_module = importlib.import_module("promptd.daemon.providers.forecast")
    for name in providers.__all__:
        assert getattr(providers, name) is not None, name
    assert providers.forecast is forecast_module.forecast  # not shadowed by the submodule
    assert set(providers.__all__) <= set(dir(providers))
