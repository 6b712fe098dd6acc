"""Where promptd keeps its files.

``--home DIR`` or ``PROMPTD_HOME`` puts everything under one folder (DESIGN.md "State");
without either, the XDG folders from platformdirs are used.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import msgspec

APP = "promptd"


class Paths(msgspec.Struct, frozen=True, kw_only=True):
    home: Path | None  # None: XDG layout
    config_file: Path
    events: Path  # the LMDB environment (a folder)
    backups: Path
    inbox: Path
    outbox: Path
    run: Path

    @property
    def library(self) -> Path:
        """The local search index (derived: ``promptd rebuild`` makes it again)."""
        return self.events.parent / "library"

    @property
    def socket(self) -> Path:
        return self.run / "promptd.sock"

    @property
    def pid_file(self) -> Path:
        return self.run / "promptd.pid"

    @property
    def log_file(self) -> Path:
        return self.run / "daemon.log"

    @property
    def display_home(self) -> str:
        return str(self.home) if self.home is not None else str(self.events.parent)


def resolve(home: str | os.PathLike[str] | None = None) -> Paths:
    """The layout for ``home`` (or ``PROMPTD_HOME``, or XDG when neither is set)."""
    chosen = home if home is not None else os.environ.get("PROMPTD_HOME") or None
    if chosen is not None:
        root = Path(chosen).expanduser().absolute()
        return Paths(
            home=root,
            config_file=root / "config.toml",
            events=root / "events",
            backups=root / "backups",
            inbox=root / "inbox",
            outbox=root / "outbox",
            run=root / "run",
        )
    import platformdirs

    dirs = platformdirs.PlatformDirs(APP, appauthor=False)
    data = Path(dirs.user_data_dir)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is not 0700; run/ is made 0700 itself.
        warnings.simplefilter("ignore")
        runtime = Path(dirs.user_runtime_dir)
    return Paths(
        home=None,
        config_file=Path(dirs.user_config_dir) / "config.toml",
        events=data / "events",
        backups=data / "backups",
        inbox=data / "inbox",
        outbox=data / "outbox",
        run=runtime,
    )


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700 for the leaf; tighten it if it exists."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path
