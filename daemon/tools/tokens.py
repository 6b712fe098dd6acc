"""Token counts with a model's real tokenizer, offline (the ``bpe-openai`` vocabularies).

OpenAI models use their own encoding (``o200k_base`` or ``cl100k_base``). For a model whose
tokenizer is not public (grok, Claude) or not bundled (Llama, Mistral...), ``o200k_base``
is the estimate and :func:`encoding_for` says so.
"""

from __future__ import annotations

import functools
import re
import warnings
from typing import Any, Final, Protocol

_DEFAULT: Final = "o200k_base"
# OpenAI families newer than the library's model table: all o200k_base (tiktoken's table).
_O200K: Final = re.compile(r"^(?:gpt-5|gpt-4\.1|gpt-4o|gpt-4\.5|o\d|chatgpt-4o|gpt-oss)", re.I)
_NOT_PUBLIC: Final = (("grok", "grok"), ("claude", "Claude"), ("gemini", "Gemini"))


class Encoder(Protocol):
    def encode(self, text: str) -> list[int]: ...


@functools.cache
def _bpe() -> Any:
    """The ``bpe_openai`` module, imported quietly: 0.1.4 loads its vocabularies with
    ``importlib.resources.open_binary``, which warns (DeprecationWarning) on Python 3.11+."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import bpe_openai

        return bpe_openai


@functools.cache
def _encoding(name: str) -> Encoder:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        encoder: Encoder = _bpe().get_encoding(name)
    return encoder


def encoding_for(model: str) -> tuple[str, str]:
    """(encoding name, estimate note) for ``model``; the note is empty when it is exact."""
    model = model.strip()
    if not model:
        return _DEFAULT, "no model given, an estimate"
    bare = model.rsplit("/", 1)[-1]
    try:
        name: str = _bpe().encoding_name_for_model(bare)
    except KeyError:
        pass
    else:
        return name, ""
    if _O200K.match(bare):
        return _DEFAULT, ""
    low = bare.lower()
    for key, family in _NOT_PUBLIC:
        if key in low:
            return _DEFAULT, f"{_DEFAULT}, {family}'s tokenizer is not public"
    return _DEFAULT, f"{_DEFAULT}, {model}'s tokenizer is not bundled with promptd"


def count(text: str, encoding: str = _DEFAULT) -> int:
    """The number of tokens ``text`` encodes to in ``encoding``."""
    return len(_encoding(encoding).encode(text))
