"""Keep secrets (API keys) out of everything benchwork writes to disk.

The runner builds one :class:`Redactor` from the targets' ``api_key_env`` names and hands it to
the cache and the run store, which pass every string they write through it. Providers echo
keys back in error messages more often than one would hope, so this is not paranoia.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from benchwork._util.env import getenv

__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "Redactor",
    "header_secrets",
    "safe_headers",
    "safe_url",
    "url_secrets",
]

#: What a secret is replaced with.
MASK = "***"
#: Values shorter than this are ignored: masking "abc" everywhere would mangle ordinary text.
MIN_SECRET_LENGTH = 6


class Redactor:
    """Replaces every exact occurrence of a registered secret with ``***``.

    Cheap when empty: :meth:`scrub` and :meth:`scrub_obj` return their argument untouched.
    """

    __slots__ = ("_pattern", "_secrets")

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for value in secrets:
            self.add(value)

    @classmethod
    def from_env_names(cls, names: Iterable[str]) -> Redactor:
        """A redactor holding the current values of the named variables (env, then ``.env``)."""
        return cls(getenv(name) for name in names if name)

    def add(self, value: str | None) -> None:
        """Register a secret; ``None``, empty and short (< 6 chars) values are ignored."""
        if not value or not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
            return
        if value in self._secrets:
            return
        self._secrets.add(value)
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def scrub(self, text: str) -> str:
        """``text`` with every occurrence of every secret replaced by ``***``."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def scrub_obj(self, obj: Any) -> Any:
        """Scrub strings inside dicts (keys and values), lists and tuples, recursively.

        Returns a new container when there are secrets; other values are returned as they are.
        """
        if self._pattern is None:
            return obj
        return self._walk(obj)

    def _walk(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self._pattern.sub(MASK, obj) if obj else obj  # type: ignore[union-attr]
        if isinstance(obj, dict):
            return {
                (self._walk(k) if isinstance(k, str) else k): self._walk(v) for k, v in obj.items()
            }
        if isinstance(obj, list | tuple):
            return [self._walk(v) for v in obj]
        return obj

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __len__(self) -> int:
        return len(self._secrets)

    def __repr__(self) -> str:  # never shows the secrets themselves
        return f"Redactor({len(self._secrets)} secret{'s' if len(self._secrets) != 1 else ''})"


# -- secrets a target carries outside api_key_env ---------------------------------------------
#: query parameters and headers whose values are credentials (``?api-key=``, ``Authorization``)
_SECRET_NAME = re.compile(r"key|token|secret|sig|pass|auth|cookie|credential", re.IGNORECASE)


def _split(url: str) -> Any:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url)
    except ValueError:
        return None


def url_secrets(url: str | None) -> list[str]:
    """Credentials inside a URL: userinfo (``user:key@``) and secret-named query values."""
    from urllib.parse import parse_qsl, unquote

    parts = _split(url) if url else None
    if parts is None:
        return []
    found = [unquote(v) for v in (parts.username, parts.password) if v]
    found += [v for k, v in parse_qsl(parts.query) if _SECRET_NAME.search(k) and v]
    found += [v for v in (parts.username, parts.password) if v]  # as written (still quoted)
    return found


def safe_url(url: str | None, *, mark: bool = True) -> str | None:
    """*url* with userinfo replaced by ``***@`` (dropped when not *mark*) and secret-named
    query values by ``***``: what a manifest may hold, or (``mark=False``) a cache key."""
    from urllib.parse import parse_qsl, urlencode, urlunsplit

    parts = _split(url) if url else None
    if parts is None:
        return url
    _userinfo, at, netloc = parts.netloc.rpartition("@")
    if at and mark:
        netloc = f"{MASK}@{netloc}"
    query = urlencode(
        [(k, MASK if _SECRET_NAME.search(k) else v) for k, v in parse_qsl(parts.query)],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def header_secrets(headers: Any) -> list[str]:
    """Values of secret-named headers (``Authorization``, ``api-key``, ``X-Api-Key``, ...)."""
    if not isinstance(headers, dict):
        return []
    out: list[str] = []
    for k, v in headers.items():
        if isinstance(v, str) and _SECRET_NAME.search(str(k)):
            out.append(v)
            out.extend(  # "Bearer <key>": the key alone too, but not the scheme word
                part for part in v.split()[1:] if len(part) >= MIN_SECRET_LENGTH
            )
    return out


def safe_headers(headers: Any) -> Any:
    """*headers* with secret-named values replaced by ``***`` (other values kept)."""
    if not isinstance(headers, dict):
        return headers
    return {k: (MASK if _SECRET_NAME.search(str(k)) else v) for k, v in headers.items()}
