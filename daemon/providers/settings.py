"""The provider settings a process sees, as a fingerprint that holds no secret.

A daemon keeps the provider settings of the environment it was started in; a shell where
``XAI_API_KEY`` was exported later (or ``PROMPTD_MODEL`` changed, or ``config.toml`` edited)
sees others. The daemon reports :func:`provider_settings` of its own settings in ``status``
(``provider.settings``); the CLI computes the same of its environment and
:func:`settings_drift` says what differs and how to apply it. The key itself never leaves
the process: only whether it is set and a short salted digest of it, enough to tell two keys
apart and useless to recover one.

Light on purpose (no HTTP client): ``promptd`` commands import it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

import msgspec

from ..api import ProviderSettings
from ..config import Config
from ..redact import redact_url

_SALT = b"promptd provider settings\0"


def _digest(data: bytes, size: int) -> str:
    return hashlib.sha256(_SALT + data).hexdigest()[:size]


def provider_settings(config: Config, environ: Mapping[str, str] | None = None) -> ProviderSettings:
    """The settings ``config`` and ``environ`` (default: this process's) give."""
    env = os.environ if environ is None else environ
    prov = config.provider
    kind = prov.kind or ("xai" if env.get("XAI_API_KEY") else "offline")
    default_env = "OPENAI_API_KEY" if kind == "openai" else "XAI_API_KEY"
    key_env = (prov.api_key_env or default_env) if kind != "offline" else ""
    key = env.get(key_env, "") if key_env else ""
    rest = msgspec.structs.replace(prov, kind=None, base_url="", model="", api_key_env="")
    parts = ProviderSettings(
        kind=kind,
        base_url=redact_url(prov.base_url.rstrip("/")) if prov.base_url else "",
        model=prov.model,
        key_env=key_env,
        key=_digest(key.encode("utf-8"), 12) if key else "",
        config=_digest(msgspec.json.encode(rest), 12),
    )
    whole = msgspec.json.encode(parts)
    return msgspec.structs.replace(parts, fingerprint=_digest(whole, 16))


def settings_drift(mine: ProviderSettings, daemon: ProviderSettings) -> list[str]:
    """What differs between this shell's settings and the daemon's, one phrase each."""
    if mine.fingerprint == daemon.fingerprint:
        return []
    out = []
    if mine.kind != daemon.kind:
        out.append(f"provider {mine.kind!r} here, {daemon.kind!r} in the daemon")
    if mine.base_url != daemon.base_url:
        out.append(
            f"base URL {mine.base_url or '(default)'} here, "
            f"{daemon.base_url or '(default)'} in the daemon"
        )
    if mine.model != daemon.model:
        out.append(
            f"model {mine.model or '(default)'} here, {daemon.model or '(default)'} in the daemon"
        )
    if mine.key != daemon.key and mine.kind != "offline":
        if not daemon.key:
            out.append(f"the key in {mine.key_env} is set here, not in the daemon")
        elif not mine.key:
            out.append(f"the daemon has a key in {daemon.key_env or mine.key_env}, this shell none")
        else:
            out.append(f"the key in {mine.key_env} differs from the daemon's")
    if mine.config != daemon.config:
        out.append("other [provider] settings in config.toml")
    return out or ["the provider settings differ"]
