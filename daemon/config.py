"""``config.toml``: settings, read with msgspec.

Every section is a Struct with ``forbid_unknown_fields``, so a typo is an error that names
the key. Environment overrides (DESIGN.md "Provider settings"): ``PROMPTD_PROVIDER``,
``PROMPTD_BASE_URL``, ``PROMPTD_MODEL``, ``PROMPTD_INBOX_POLLING``. API keys are never read
into the config: only the *name* of the variable that holds one.
"""

from __future__ import annotations

import os
import re
import typing
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from .errors import ConfigError

ProviderKind = Literal["offline", "xai", "openai"]


class _Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


class ProviderConfig(_Section):
    kind: ProviderKind | None = None  # None: xai when XAI_API_KEY is set, else offline
    model: str = ""  # "" = the provider's default (xai: grok-4.3)
    fast_model: str = ""
    quality_model: str = ""
    base_url: str = ""
    api_key_env: str = ""  # "" = XAI_API_KEY for xai, OPENAI_API_KEY for openai
    timeout_s: float = 120.0  # read timeout: reasoning models are slow
    connect_timeout_s: float = 10.0
    max_concurrency: int = 16  # LLM calls in flight (over one HTTP/2 pool), batches included
    max_output_tokens: int = 4096  # a cap: each agent asks for what its answer needs
    context_tokens: int = 0  # the model's context window; 0 = the price table's, else 4096
    json_schema: bool = True  # False: the endpoint only knows json_object
    retries: int = 3
    breaker_failures: int = 5
    breaker_cooldown_s: float = 30.0


class BudgetConfig(_Section):
    daily_usd: float | None = None
    monthly_usd: float | None = None
    alert_pct: int = 80
    fast_below_pct: int = 20  # under this much budget left, the router picks the fast model


class CacheConfig(_Section):
    optimization_ttl_s: int = 24 * 3600
    response_ttl_s: int = 3600
    lint_ttl_s: int = 2 * 3600
    max_entries: int = 10_000
    warm: bool = True  # analyse library and editor prompts in the background (LLM engine)


class EngineConfig(_Section):
    max_input_chars: int = 100_000
    growth_ratio: float = 3.0
    header_allowance_tokens: int = 80
    # the model family `optimize` writes for when no --for is given (promptd optimize --for)
    target: Literal["grok", "gpt", "claude", "llama", "generic"] = "generic"


class DaemonConfig(_Section):
    shutdown_grace_s: float = 10.0
    max_message_bytes: int = 8 * 1024 * 1024
    log_level: str = "INFO"
    log_max_bytes: int = 5 * 1024 * 1024
    log_backups: int = 3


class BackupConfig(_Section):
    enabled: bool = True
    time: str = "03:00"  # local time of the daily backup, HH:MM
    interval_h: int = 24
    keep_daily: int = 30
    keep_weekly: int = 8
    keep_monthly: int = 12
    check_interval_s: int = 300
    # age public keys ("age1..."): backups and exports are encrypted to them (backup/crypto.py)
    encrypt_to: str | list[str] = ""


class InboxConfig(_Section):
    enabled: bool = True
    polling: bool = False
    stable_s: float = 1.0
    concurrency: int = 4
    max_file_bytes: int = 20 * 1024 * 1024
    scan_interval_s: int = 60


class LspConfig(_Section):
    min_words: int = 8
    diagnostics: bool = True
    severity: Literal["error", "warning", "information", "hint"] = "information"
    code_lens: bool = True
    debounce_ms: int = 300


class DashboardConfig(_Section):
    """The web dashboard the daemon serves on 127.0.0.1 (``promptd dashboard``)."""

    enabled: bool = True
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0  # 0: a free port, written to run/


class LibraryConfig(_Section):
    enabled: bool = True
    paths: list[str] = msgspec.field(default_factory=list)  # folders of the user's prompt files
    xai_collections: list[str] = msgspec.field(default_factory=list)  # opt-in Collections search
    related: int = 3  # similar prompts shown with an optimization
    min_similarity: int = 50  # 0-100 word overlap for a prompt to count as similar
    examples_tokens: int = 1500  # what the LLM Designer is given as examples and context
    retrieve_timeout_ms: int = 250  # the most an optimization waits for the local library
    max_file_bytes: int = 256 * 1024


class ModelPrice(_Section):
    """USD per million tokens; ``above_200k`` prices apply past 200k prompt tokens."""

    input: float
    cached_input: float
    output: float
    reasoning: float | None = None  # None: billed at the output rate
    context: int = 0
    input_above_200k: float | None = None
    output_above_200k: float | None = None


class Config(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    provider: ProviderConfig = msgspec.field(default_factory=ProviderConfig)
    budget: BudgetConfig = msgspec.field(default_factory=BudgetConfig)
    cache: CacheConfig = msgspec.field(default_factory=CacheConfig)
    engine: EngineConfig = msgspec.field(default_factory=EngineConfig)
    daemon: DaemonConfig = msgspec.field(default_factory=DaemonConfig)
    backup: BackupConfig = msgspec.field(default_factory=BackupConfig)
    inbox: InboxConfig = msgspec.field(default_factory=InboxConfig)
    lsp: LspConfig = msgspec.field(default_factory=LspConfig)
    dashboard: DashboardConfig = msgspec.field(default_factory=DashboardConfig)
    library: LibraryConfig = msgspec.field(default_factory=LibraryConfig)
    prices: dict[str, ModelPrice] = msgspec.field(default_factory=dict)

    def api_key_env(self) -> str:
        """The name of the environment variable that holds the provider's key."""
        if self.provider.api_key_env:
            return self.provider.api_key_env
        return "OPENAI_API_KEY" if self.provider_kind() == "openai" else "XAI_API_KEY"

    def provider_kind(self) -> ProviderKind:
        if self.provider.kind is not None:
            return self.provider.kind
        return "xai" if os.environ.get("XAI_API_KEY") else "offline"

    def engine_name(self) -> Literal["offline", "llm"]:
        return "offline" if self.provider_kind() == "offline" else "llm"


_LOC = re.compile(r"at `\$\.?(?P<path>[^`]*)`")


def _explain(exc: msgspec.ValidationError, path: Path) -> ConfigError:
    text = str(exc)
    where = ""
    match = _LOC.search(text)
    if match:
        where = re.sub(r"\[\.\.\.\]", ".*", match.group("path"))
        where = re.sub(r"\[\"?([^\]\"]*)\"?\]", r".\1", where).lstrip(".")
    if text.startswith("Object contains unknown field"):
        key = text.split("`")[1]
        full = f"{where}.{key}" if where else key
        return ConfigError(
            f"{path}: unknown key '{full}'; check its spelling or remove it "
            "(see the README's configuration section)"
        )
    choices = _choices(where) if text.startswith("Invalid enum value") else ()
    if choices:
        return ConfigError(
            f"{path}: {text}; use one of {', '.join(choices)} (or remove it to use the default)"
        )
    return ConfigError(f"{path}: {text}; fix that value or remove it to use the default")


def _choices(where: str) -> tuple[str, ...]:
    """The values a ``section.key`` of the config may take, when it is a fixed set."""
    section, _, key = where.partition(".")
    part = getattr(Config(), section, None)
    if part is None or not key:
        return ()
    hint = typing.get_type_hints(type(part)).get(key)
    return (
        tuple(str(a) for a in typing.get_args(hint)) if typing.get_origin(hint) is Literal else ()
    )


def _env_overrides(cfg: Config) -> Config:
    prov = cfg.provider
    kind = os.environ.get("PROMPTD_PROVIDER")
    if kind:
        if kind not in ("offline", "xai", "openai"):
            raise ConfigError(
                f"PROMPTD_PROVIDER={kind!r} is not a provider; use offline, xai or openai"
            )
        prov = msgspec.structs.replace(prov, kind=kind)
    if base := os.environ.get("PROMPTD_BASE_URL"):
        prov = msgspec.structs.replace(prov, base_url=base)
    if model := os.environ.get("PROMPTD_MODEL"):
        prov = msgspec.structs.replace(prov, model=model)
    inbox = cfg.inbox
    if os.environ.get("PROMPTD_INBOX_POLLING", "") not in ("", "0", "false", "no"):
        inbox = msgspec.structs.replace(inbox, polling=True)
    return msgspec.structs.replace(cfg, provider=prov, inbox=inbox)


def parse(text: str | bytes, path: Path = Path("config.toml")) -> Config:
    """Parse config text (without environment overrides)."""
    try:
        cfg = msgspec.toml.decode(text, type=Config)
    except msgspec.ValidationError as exc:
        raise _explain(exc, path) from exc
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax") from exc
    if cfg.backup.encrypt_to:
        from .backup.crypto import check_recipients, recipient_strings

        try:
            check_recipients(recipient_strings(cfg))
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    return cfg


def load(path: Path) -> Config:
    """Read ``path`` (missing file: all defaults) and apply environment overrides."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        cfg = Config()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    else:
        cfg = parse(data, path)
    return _env_overrides(cfg)
