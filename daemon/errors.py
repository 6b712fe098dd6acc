"""promptd's exceptions. Every error a person can see is one of these, with a message that
says what is wrong and what to do next.

    PromptdError
    ├── ConfigError                 config.toml or environment is invalid
    ├── StoreError                  the event log cannot be opened, read or written
    │   └── CorruptStoreError       a record does not decode, or sequences have gaps
    ├── EngineError                 the optimization engine cannot produce a result
    │   ├── InputError              the prompt itself is unusable (empty, too large, binary)
    │   └── GuardError              a rewrite broke a guard (placeholders, intent, size)
    ├── ProviderError               an LLM provider call failed
    │   ├── AuthError               the API key was refused
    │   ├── CircuitOpenError        the provider's breaker is open: failing fast
    │   ├── InvalidAnswerError      the model's answer did not validate
    │   └── RateLimitError          429 after all retries
    ├── BudgetError                 a call does not fit the daily or monthly budget
    ├── DaemonError                 the daemon cannot be started, reached or stopped
    │   └── RPCError                the daemon answered a request with an error
    ├── BackupError                 a backup cannot be made, verified or restored
    └── InboxError                  an inbox file cannot be parsed (the message says how to fix it)
"""

from __future__ import annotations


class PromptdError(Exception):
    """Base of every promptd error; ``str(err)`` is the one line shown to a person."""

    exit_code = 1


class ConfigError(PromptdError):
    exit_code = 2


class StoreError(PromptdError):
    pass


class CorruptStoreError(StoreError):
    pass


class EngineError(PromptdError):
    pass


class InputError(EngineError):
    exit_code = 2


class GuardError(EngineError):
    pass


class ProviderError(PromptdError):
    pass


class AuthError(ProviderError):
    pass


class CircuitOpenError(ProviderError):
    pass


class InvalidAnswerError(ProviderError):
    pass


class RateLimitError(ProviderError):
    pass


class BudgetError(PromptdError):
    pass


class DaemonError(PromptdError):
    pass


class RPCError(DaemonError):
    """An error answer from the daemon, with its JSON-RPC ``code`` and optional ``data``."""

    def __init__(self, code: int, message: str, data: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.data = data


class BackupError(PromptdError):
    pass


class InboxError(PromptdError):
    pass
