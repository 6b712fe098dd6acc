"""xAI: the OpenAI-compatible provider with xAI's URL, default model and accounting.

What differs from the shared implementation is declared, not coded: the endpoint
(``https://api.x.ai/v1/chat/completions``), the default model (``grok-4.3``), a key is
required (``XAI_API_KEY`` unless the config names another variable), reasoning tokens are
reported OUTSIDE ``completion_tokens``, and the answer carries ``usage.cost_in_usd_ticks``.
"""

from __future__ import annotations

from typing import ClassVar

from .openai_compat import OpenAICompatProvider

XAI_BASE_URL = "https://api.x.ai/v1"
XAI_DEFAULT_MODEL = "grok-4.3"


class XAIProvider(OpenAICompatProvider):
    name: ClassVar[str] = "xai"
    default_base_url: ClassVar[str] = XAI_BASE_URL
    default_model: ClassVar[str] = XAI_DEFAULT_MODEL
    needs_key: ClassVar[bool] = True
    supports_json_schema: ClassVar[bool] = True
    reasoning_in_completion: ClassVar[bool] = False
    reports_cost: ClassVar[bool] = True
