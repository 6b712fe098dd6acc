"""Provider modes: what each endpoint and model was seen to refuse, and what works instead.

Folded from :class:`~promptd.daemon.events.ProviderModeLearned`. The LLM engine reads it at
start, so a restarted daemon does not ask a model with ``json_schema`` again after the
endpoint refused it once (a refusal costs a failed request, and on some servers a retry).
The key is the provider, the redacted base URL, the model and the feature: another base URL
or another model starts from the default and learns again.

Table:

* ``provider_modes``  ``provider \\0 base_url \\0 model \\0 feature`` -> :class:`ModeEntry`
"""

from __future__ import annotations

import msgspec

from ..events import ProviderModeLearned, Record
from .base import Projection, Reader, State, Table, on


class ModeEntry(msgspec.Struct, array_like=True):
    provider: str
    base_url: str
    model: str
    feature: str
    mode: str
    refused: str
    reason: str
    seq: int
    ts_ns: int


MODES = Table("provider_modes", ModeEntry)


def mode_key(provider: str, base_url: str, model: str, feature: str) -> bytes:
    return "\0".join((provider, base_url, model, feature)).encode("utf-8")


class ProviderModesProjection(Projection):
    name = "provider_modes"
    version = 1
    tables = (MODES,)

    @on(ProviderModeLearned)
    def learned(self, state: State, rec: Record, ev: ProviderModeLearned) -> None:
        state.put(
            MODES,
            mode_key(ev.provider, ev.base_url, ev.model, ev.feature),
            ModeEntry(
                provider=ev.provider,
                base_url=ev.base_url,
                model=ev.model,
                feature=ev.feature,
                mode=ev.mode,
                refused=ev.refused,
                reason=ev.reason,
                seq=rec.seq,
                ts_ns=rec.ts_ns,
            ),
        )


class ProviderModesView:
    """``view.provider_modes``: the modes learned per endpoint and model."""

    def __init__(self, reader: Reader) -> None:
        self._r = reader

    def learned(
        self, provider: str, base_url: str, feature: str = "response_format"
    ) -> dict[str, ModeEntry]:
        """Model -> what was learned for ``feature`` at this provider and (redacted) URL."""
        prefix = "\0".join((provider, base_url)).encode("utf-8") + b"\0"
        out = {}
        for _, entry in self._r.scan(MODES, prefix):
            if entry.feature == feature:
                out[entry.model] = entry
        return out

    def all(self) -> list[ModeEntry]:
        """Every learned mode, in key order."""
        return [entry for _, entry in self._r.scan(MODES, b"")]
