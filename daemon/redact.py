"""Hide credentials in URLs before one is shown or logged.

A ``base_url`` such as ``https://user:s3cret@host/v1?api_key=abc`` carries secrets in its
userinfo and in query parameters; :func:`redact_url` keeps what a person needs to recognise
the endpoint (scheme, host, port, path, harmless parameters) and puts ``***`` in place of the
rest. :func:`redact_urls` does the same to every URL inside a text (log lines, errors).
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK: Final = "***"
# Query parameter names that carry a credential (matched as substrings, case-insensitively).
_SECRET_PARAMS: Final = re.compile(
    r"key|token|secret|pass|pwd|auth|sig|credential|session|cookie", re.IGNORECASE
)
_URL: Final = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """``url`` with its userinfo and secret-looking query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _fallback(url)
    netloc = parts.netloc
    if "@" in netloc:
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{MASK}@{host}" + (f":{port}" if port is not None else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_PARAMS.search(k) for k, _ in pairs):
            query = urlencode(
                [(k, MASK if _SECRET_PARAMS.search(k) else v) for k, v in pairs], safe="*"
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _fallback(url: str) -> str:
    """A URL urllib cannot split: hide everything between ``://`` and the last ``@``."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest.split("/", 1)[0]:
        rest = MASK + rest[rest.rindex("@", 0, len(rest.split("/", 1)[0]) + 1) :]
    return scheme + sep + rest.split("?", 1)[0] + ("?" + MASK if "?" in rest else "")


def redact_urls(text: str) -> str:
    """``text`` with every URL in it passed through :func:`redact_url`."""
    if "://" not in text:
        return text
    return _URL.sub(lambda m: redact_url(m.group(0)), text)
