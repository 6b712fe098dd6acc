"""The language server's error answers: what the editor shows when a request cannot be done.

::

    pygls.exceptions.JsonRpcException
    ├── Failed          RequestFailed (-32803): the request was understood but cannot be done
    │                   (no prompt here, the daemon is down, the document changed meanwhile)
    └── JsonRpcInvalidParams (-32602)
        └── BadArguments   a command's arguments are not what it takes

Each message says what is wrong and what to do.
"""

from __future__ import annotations

from typing import Final

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

REQUEST_FAILED: Final = -32803  # LSP RequestFailed


class Failed(JsonRpcException):
    """An error answer the editor shows as is (the message says what to do)."""

    CODE = REQUEST_FAILED


class BadArguments(JsonRpcInvalidParams):
    """A command's arguments are wrong (InvalidParams; the message says what it needs)."""
