"""Backups and exports at rest, encrypted with age (https://age-encryption.org) via pyrage.

Configure one or more recipients (public keys) and every new backup and export is encrypted
to them::

    [backup]
    encrypt_to = "age1..."            # or ["age1...", "age1..."]

promptd never stores, logs or asks for the identity (the secret key) except to read an
encrypted file back: ``promptd backup verify|restore ID --identity FILE`` and ``promptd
import FILE --identity FILE``, or ``PROMPTD_AGE_IDENTITY=FILE``. FILE is an age identity file
(``age-keygen -o key.txt``: ``AGE-SECRET-KEY-1...`` lines, ``#`` comments). A missing or wrong
identity is refused with a :class:`~promptd.daemon.errors.BackupError` that says what to give.

pyrage is imported only here, and only when a file is encrypted or decrypted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..errors import BackupError, ConfigError

if TYPE_CHECKING:
    from ..config import Config

MAGIC: Final = b"age-encryption.org/v1"
SUFFIX: Final = ".age"
IDENTITY_ENV: Final = "PROMPTD_AGE_IDENTITY"


def recipient_strings(config: Config) -> list[str]:
    """The configured ``[backup] encrypt_to`` keys (empty: backups are not encrypted)."""
    value = config.backup.encrypt_to
    items = [value] if isinstance(value, str) else list(value)
    return [s.strip() for s in items if s.strip()]


def check_recipients(keys: Sequence[str]) -> None:
    """Raise :class:`ConfigError` for a key that is not an age public key."""
    for key in keys:
        if key.startswith("age1") and len(key) >= 40:
            continue
        if key.upper().startswith("AGE-SECRET-KEY"):  # never echo a secret
            raise ConfigError(
                "backup.encrypt_to holds a secret key (AGE-SECRET-KEY-1...); give its public "
                "key (age-keygen -y FILE prints it) and keep the secret one out of config.toml"
            )
        shown = key if len(key) <= 24 else key[:20] + "..."
        raise ConfigError(
            f"backup.encrypt_to: {shown!r} is not an age public key; give keys like "
            "age1... (age-keygen prints one as 'Public key:')"
        )


def recipients(config: Config) -> list[Any]:
    """The configured recipients as pyrage objects (empty: no encryption)."""
    return parse_recipients(recipient_strings(config))


def parse_recipients(keys: Sequence[str]) -> list[Any]:
    """age public keys as pyrage recipients (a :class:`ConfigError` for a bad one)."""
    if not keys:
        return []
    check_recipients(keys)
    from pyrage import x25519

    out = []
    for key in keys:
        try:
            out.append(x25519.Recipient.from_str(key))
        except Exception as exc:  # pyrage.RecipientError
            raise ConfigError(
                f"backup.encrypt_to: {key[:20]}... is not a valid age key ({exc})"
            ) from None
    return out


def is_encrypted(path: Path) -> bool:
    """True when ``path`` starts like an age file."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def identity_file(
    given: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None
) -> Path | None:
    """The identity file from ``--identity`` or ``PROMPTD_AGE_IDENTITY`` (None: neither)."""
    chosen = (
        given if given is not None else (env if env is not None else os.environ).get(IDENTITY_ENV)
    )
    return Path(chosen).expanduser() if chosen else None


def load_identities(path: Path | None, what: str) -> list[Any]:
    """The identities in ``path``, for decrypting ``what``; a clear error when there are none."""
    if path is None:
        raise BackupError(
            f"{what} is encrypted (age); give the identity that opens it: --identity FILE or "
            f"{IDENTITY_ENV}=FILE (an age identity file, as age-keygen writes)"
        )
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise BackupError(f"cannot read the identity file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError:
        raise BackupError(f"{path} is not an age identity file (not text)") from None
    from pyrage import x25519

    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            found.append(x25519.Identity.from_str(line))
        except Exception:  # pyrage.IdentityError; never echo the line: it may be a secret
            raise BackupError(
                f"{path} holds a line that is not an age identity (AGE-SECRET-KEY-1...); "
                "give the file age-keygen wrote"
            ) from None
    if not found:
        raise BackupError(f"{path} holds no age identity (AGE-SECRET-KEY-1... lines)")
    return found


def encrypt_file(src: Path, dest: Path, to: Sequence[Any]) -> None:
    """Encrypt ``src`` into ``dest`` (created 0600) for the recipients ``to``."""
    import pyrage

    from ..paths import open_private

    os.close(open_private(dest))  # born private, then filled
    try:
        pyrage.encrypt_file(str(src), str(dest), list(to))
    except pyrage.EncryptError as exc:
        dest.unlink(missing_ok=True)
        raise BackupError(f"cannot encrypt {src.name}: {exc}") from exc


def decrypt_file(src: Path, dest: Path, identities: Sequence[Any], what: str) -> None:
    """Decrypt ``src`` into ``dest`` (0600); a wrong identity is a clear :class:`BackupError`."""
    import pyrage

    from ..paths import open_private

    os.close(open_private(dest))
    try:
        pyrage.decrypt_file(str(src), str(dest), list(identities))
    except pyrage.DecryptError as exc:
        dest.unlink(missing_ok=True)
        reason = str(exc) or "no identity matched"
        raise BackupError(
            f"the identity given does not open {what} ({reason}); give the identity whose "
            "public key is in [backup] encrypt_to when it was made"
        ) from None
