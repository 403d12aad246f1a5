"""Provider-aware parameter checks: an unsupported parameter is flagged before any call.

litellm knows, per provider and model, which OpenAI parameters it can send
(``litellm.get_supported_openai_params``); a grid that sets ``presence_penalty`` for an
Anthropic model fails here, naming the parameter, not after paying for a run.
"""

from __future__ import annotations

from collections.abc import Iterable

from benchwork.errors import BenchworkError
from benchwork.target import Target

__all__ = ["check_params", "supported_params"]

#: benchwork's own request fields, always allowed (not sent as sampling parameters)
_OWN = frozenset({"stream", "stream_options", "extra_headers"})


def supported_params(target: Target) -> frozenset[str] | None:
    """The parameters litellm says *target*'s provider accepts, or None when it cannot say."""
    from benchwork._util.litellm import get_litellm

    resolved = target.resolve()
    try:
        found = get_litellm().get_supported_openai_params(
            model=resolved.model_name, custom_llm_provider=resolved.provider
        )
    except Exception:
        return None
    return frozenset(found) if found else None


def check_params(target: Target, names: Iterable[str]) -> None:
    """Raise ``BenchworkError`` naming every parameter in *names* the provider does not accept."""
    allowed = supported_params(target)
    if allowed is None:
        return  # an unknown provider: nothing to check against (the call will tell)
    bad = sorted(set(names) - allowed - _OWN)
    if bad:
        raise BenchworkError(
            f"target {target.name!r} ({target.model}): {', '.join(map(repr, bad))} not supported "
            f"by this provider; it accepts {', '.join(sorted(allowed - _OWN))}"
        )
