"""The server's settings: parsed from initializationOptions or didChangeConfiguration.

Settings come from editors, so a bad value never stops the server: it is reported (the
problems list says what is wrong and what is used instead) and the default is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from lsprotocol import types

from .. import protocol

SEVERITIES: dict[str, types.DiagnosticSeverity] = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}
ENGINES = ("", "offline", "llm")


@dataclass(frozen=True, slots=True)
class Settings:
    engine: str = ""  # "": the daemon's configured engine
    model: str = ""
    diagnostics_enabled: bool = True
    # None: by the finding's own severity, mapped down (error/warning -> Information,
    # info/hint -> Hint); a fixed value puts every finding at that severity.
    diagnostics_severity: types.DiagnosticSeverity | None = None
    min_words: int = 12
    code_lens: bool = True
    target: str = ""  # "": the daemon's default; else one of protocol.TARGET_MODELS
    trim_max_tokens: int = 0  # 0: cut everything trim can cut safely
    client_commands: frozenset[str] = frozenset()  # client-side commands the editor has
    problems: tuple[str, ...] = field(default=(), compare=False)


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            _flatten(name, item, out)
    else:
        out[prefix] = value


def _section(raw: Any) -> Mapping[str, Any] | None:
    """The ``promptd`` section of a settings object (or the object itself if it is one)."""
    if not isinstance(raw, Mapping):
        return None
    inner = raw.get(protocol.SETTINGS_SECTION)
    if isinstance(inner, Mapping):
        return inner
    known = {name.split(".")[0] for name in protocol.SETTINGS + protocol.TOOL_SETTINGS}
    if any(str(key).split(".")[0] in known for key in raw):
        return raw
    return None


def parse(raw: Any, base: Settings | None = None) -> Settings:
    """Settings from an editor's JSON (nested or dotted keys), over ``base``.

    Keys that are absent keep ``base``'s value; bad values keep it too and add a line to
    ``problems``. Unknown keys are reported so a typo does not go unnoticed.
    """
    current = base or Settings()
    section = _section(raw)
    if section is None:
        return replace(current, problems=())
    flat: dict[str, Any] = {}
    _flatten("", section, flat)
    problems: list[str] = []
    changes: dict[str, Any] = {}

    def bad(key: str, expected: str, value: Any, kept: Any) -> None:
        problems.append(f"setting promptd.{key} must be {expected} (got {value!r}); using {kept!r}")

    for key, value in flat.items():
        if key == protocol.SETTING_ENGINE:
            if value is None:
                value = ""
            if isinstance(value, str) and value in ENGINES:
                changes["engine"] = value
            else:
                bad(key, "one of offline, llm or empty", value, current.engine)
        elif key == protocol.SETTING_MODEL:
            if value is None:
                value = ""
            if isinstance(value, str):
                changes["model"] = value.strip()
            else:
                bad(key, "a model name", value, current.model)
        elif key == protocol.SETTING_DIAGNOSTICS_ENABLED:
            if isinstance(value, bool):
                changes["diagnostics_enabled"] = value
            else:
                bad(key, "true or false", value, current.diagnostics_enabled)
        elif key == protocol.SETTING_DIAGNOSTICS_SEVERITY:
            if value in (None, "", "auto"):
                changes["diagnostics_severity"] = None
            elif isinstance(value, str) and value.lower() in SEVERITIES:
                changes["diagnostics_severity"] = SEVERITIES[value.lower()]
            else:
                bad(key, "one of error, warning, information, hint, auto", value, "auto")
        elif key == protocol.SETTING_DETECTION_MIN_WORDS:
            if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10_000:
                changes["min_words"] = value
            else:
                bad(key, "a whole number from 1 to 10000", value, current.min_words)
        elif key == protocol.SETTING_CODE_LENS:
            if isinstance(value, bool):
                changes["code_lens"] = value
            else:
                bad(key, "true or false", value, current.code_lens)
        elif key in protocol.TOOL_SETTINGS:
            _tool_setting(key, value, current, changes, bad)
        else:
            known = ", ".join(protocol.SETTINGS + protocol.TOOL_SETTINGS[:-1])
            problems.append(f"unknown setting promptd.{key} (known: {known}); ignored")
    return replace(current, problems=tuple(problems), **changes)


def _tool_setting(
    key: str,
    value: Any,
    current: Settings,
    changes: dict[str, Any],
    bad: Callable[[str, str, Any, Any], None],
) -> None:
    """The prompt tools' settings: target model, trim budget, the client's own commands."""
    if key == protocol.SETTING_TARGET_MODEL:
        if value is None:
            value = ""
        if isinstance(value, str) and value.strip().lower() in ("", *protocol.TARGET_MODELS):
            changes["target"] = value.strip().lower()
        else:
            models = ", ".join(protocol.TARGET_MODELS)
            bad(key, f"one of {models} or empty", value, current.target)
    elif key == protocol.SETTING_TRIM_MAX_TOKENS:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1_000_000:
            changes["trim_max_tokens"] = value
        else:
            bad(key, "a whole number from 0 to 1000000 (0: cut all filler)", value, 0)
    elif key == protocol.INIT_CLIENT_COMMANDS:
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            changes["client_commands"] = frozenset(value)
        else:
            bad(key, "a list of command ids", value, sorted(current.client_commands))
