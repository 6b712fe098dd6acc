"""Where promptd keeps its files, and who may read them.

``--home DIR`` or ``PROMPTD_HOME`` puts everything under one folder (DESIGN.md "State");
without either, the XDG folders from platformdirs are used.

Everything promptd writes is 0600 (files) or 0700 (folders), whatever the umask: the CLI and
the daemon call :func:`private_umask` first thing (so LMDB, the log, backups and exports are
born private), the creation points pass their modes too, and :func:`tighten` fixes what an
older version or a loose umask left at the daemon's start.
"""

from __future__ import annotations

import errno
import os
import stat
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


PRIVATE_UMASK = 0o077
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_FULL_TEXTS = (*(os.strerror(n) for n in _FULL_ERRNOS), "is the disk full?")


def disk_full(exc: BaseException | None) -> bool:
    """True when ``exc`` (or an error behind it) says the disk or quota is full, as an
    OSError's errno or as the text LMDB and our store wrap it in."""
    seen = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _FULL_ERRNOS:
            return True
        if any(text in str(seen) for text in _FULL_TEXTS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def private_umask() -> int:
    """Make every file this process creates owner-only; the previous umask."""
    return os.umask(PRIVATE_UMASK)


def open_private(path: str | os.PathLike[str], *, exclusive: bool = False) -> int:
    """A new (or truncated) file for writing, 0600 whatever the umask; never through a link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags | (os.O_EXCL if exclusive else 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _tighten_one(path: Path, st: os.stat_result) -> bool:
    want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
    if stat.S_IMODE(st.st_mode) & ~want:
        os.chmod(path, stat.S_IMODE(st.st_mode) & want, follow_symlinks=False)
        return True
    return False


def tighten(paths: Paths) -> list[Path]:
    """Take group and other access off every folder and file promptd keeps (a pre-existing
    0777 ``events/``, a 0644 ``data.mdb`` or backup); the paths that were changed.

    Symlinks are neither followed nor changed, and the inbox's own files (the user's drops)
    are left alone: only its folders and what promptd moved into done/ and failed/.
    """
    changed: list[Path] = []
    roots = [paths.events, paths.backups, paths.outbox, paths.run]
    if paths.home is not None:
        roots.insert(0, paths.home)
    folders_only = {paths.inbox}
    walk = [*roots, paths.inbox / "done", paths.inbox / "failed"]
    for top in [*walk, *folders_only]:
        try:
            st = top.lstat()
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode):
            continue
        try:
            if _tighten_one(top, st):
                changed.append(top)
        except OSError:
            continue
        if top in folders_only or top == paths.home or not stat.S_ISDIR(st.st_mode):
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            for name in [*dirnames, *filenames]:
                path = Path(dirpath) / name
                try:
                    st = path.lstat()
                    if not stat.S_ISLNK(st.st_mode) and _tighten_one(path, st):
                        changed.append(path)
                except OSError:
                    continue
    return changed
