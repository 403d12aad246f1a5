"""Call cache: every successful model call on disk (diskcache), keyed by what shapes the answer.

The key is a sha256 over an allowlist (model, normalised api_base, messages, tools, output-
affecting params, repeat, key version); never secrets, timeouts or concurrency. ``CallCache``
stores and looks up; ``CachePolicy`` decides, by mode (use, refresh, off, replay), which of
the two happen, for the runner and the LLM judges alike, and shares identical calls in flight.
"""

from benchwork.cache._cache import (
    CACHE_MODES,
    CallCache,
    check_mode,
    default_cache_dir,
    open_run_cache,
)
from benchwork.cache._key import (
    KEY_VERSION,
    OUTPUT_PARAMS,
    cache_key,
    canonical_json,
    key_for_components,
    normalize_api_base,
)
from benchwork.cache._policy import CacheMode, CachePolicy
from benchwork.cache._why import CacheWhy, diff_components

__all__ = [
    "CACHE_MODES",
    "KEY_VERSION",
    "OUTPUT_PARAMS",
    "CacheMode",
    "CachePolicy",
    "CacheWhy",
    "CallCache",
    "cache_key",
    "canonical_json",
    "check_mode",
    "default_cache_dir",
    "diff_components",
    "key_for_components",
    "normalize_api_base",
    "open_run_cache",
]
