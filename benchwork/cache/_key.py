"""The cache key: sha256 over canonical JSON of an allowlist of what changes a model's output.

Kept apart from :mod:`benchwork.cache._cache` so the key can be computed (and tested) without
opening a cache, and so its rules sit in one short file.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchwork._util.canonical import canonical_json
from benchwork._util.redact import safe_url

__all__ = [
    "KEY_VERSION",
    "OUTPUT_PARAMS",
    "cache_key",
    "canonical_json",
    "key_for_components",
    "normalize_api_base",
]

#: Bump when the key's inputs or encoding change; old entries then simply stop matching.
KEY_VERSION = 1

#: Sampling parameters that change what a model returns. Anything else a target carries
#: (api_key, timeout, num_retries, concurrency, rpm, stream_options, unknown extras) is left out
#: of the key: it changes how or whether the call happens, not the answer.
OUTPUT_PARAMS: frozenset[str] = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "n",
        "logprobs",
        "top_logprobs",
        "reasoning_effort",
        "min_p",
        "repetition_penalty",
    }
)

_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=256)  # called once per planned call with a handful of URLs
def normalize_api_base(url: str | None) -> str | None:
    """Lowercase scheme and host, drop a default port and trailing ``/``; keep the path.

    ``localhost`` and ``127.0.0.1`` stay distinct (they can be different servers), and ``/v1``
    is kept: ``http://h/v1`` and ``http://h`` may route to different APIs.
    """
    if url is None:
        return None
    url = url.strip()
    if not url:
        return None
    if "://" not in url:  # "localhost:8000/v1": no scheme to parse, only trim
        return url.rstrip("/") or None
    # a credential in the URL (user:key@, ?api-key=) is never part of a key
    url = safe_url(url, mark=False) or url
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host
    if parts.username is not None:
        auth = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{auth}@{host}"
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def key_for_components(components: dict[str, Any]) -> str:
    """The sha256 hex digest of ``components`` as canonical JSON."""
    return hashlib.sha256(canonical_json(components).encode("utf-8")).hexdigest()


def cache_key(
    *,
    model: str,
    api_base: str | None,
    messages: list[dict[str, Any]],
    params: dict[str, Any],
    tools: Any = None,
    tool_choice: Any = None,
    response_format: Any = None,
    repeat: int,
) -> tuple[str, dict[str, Any]]:
    """Return ``(sha256 hex, components)`` for one call.

    In the key, because each changes the answer:

    - ``key_version``: lets a future format change invalidate old entries cleanly;
    - ``model`` (the litellm id) and the normalized ``api_base``: a different model or server;
    - ``messages``, ``tools``, ``tool_choice``, ``response_format``: the request itself;
    - ``params`` filtered to :data:`OUTPUT_PARAMS` (``None`` values dropped, as unset);
    - ``repeat``: repeats are distinct samples, each cached on its own.

    Out of the key, because they change how the call is made, not its answer: ``api_key``
    (also a secret), ``timeout``, ``num_retries``, ``concurrency``/``rpm``, ``stream_options``
    and any parameter not on the allowlist (an unknown extra must not silently split the cache).
    """
    components: dict[str, Any] = {
        "key_version": KEY_VERSION,
        "model": model,
        "api_base": normalize_api_base(api_base),
        "messages": messages,
        "params": {k: v for k, v in (params or {}).items() if k in OUTPUT_PARAMS and v is not None},
        "tools": tools,
        "tool_choice": tool_choice,
        "response_format": response_format,
        "repeat": repeat,
    }
    return key_for_components(components), components
