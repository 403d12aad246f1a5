"""Model discovery: what a server offers (its OpenAI-style ``/models``), and what litellm knows.

``list_models(api_base)`` asks any OpenAI-compatible base (OpenAI, vLLM, llama.cpp, Ollama's
``/v1``, LM Studio) for its models, with the context window where the server says it
(``max_model_len``, ``context_length``, ``meta.n_ctx_train``); a server without the endpoint, or
one that is not running, is a one-line error saying so. ``known_models()`` lists litellm's
bundled table (read, never fetched): chat models with their price and context window.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import polars as pl

from benchwork.errors import BenchworkError

__all__ = ["known_models", "list_models", "list_models_sync"]

_SCHEMA = {
    "id": pl.String,
    "owned_by": pl.String,
    "context_window": pl.Int64,
    "input_per_mtok": pl.Float64,
    "output_per_mtok": pl.Float64,
}


def _window(entry: dict[str, Any]) -> int | None:
    for key in ("max_model_len", "context_length", "context_window", "max_context_length"):
        if isinstance(entry.get(key), int):
            return entry[key]
    meta = entry.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("n_ctx_train"), int):
        return meta["n_ctx_train"]
    return None


async def list_models(
    api_base: str, *, api_key_env: str | None = None, timeout_s: float = 10.0
) -> pl.DataFrame:
    """The models an OpenAI-compatible server lists at ``{api_base}/models``, one row each."""
    from benchwork._util.env import getenv

    url = api_base.rstrip("/") + "/models"
    headers = {}
    key = getenv(api_key_env) if api_key_env else None
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session,
            session.get(url, headers=headers) as resp,
        ):
            if resp.status == 404:
                raise BenchworkError(
                    f"{url}: this server has no /models endpoint (HTTP 404); name the model "
                    "yourself, or check that api_base ends where the API starts (often /v1)"
                )
            if resp.status in (401, 403):
                hint = f" (api_key_env={api_key_env})" if api_key_env else "; set api_key_env"
                raise BenchworkError(
                    f"{url}: the server refused the key (HTTP {resp.status}){hint}"
                )
            if resp.status >= 400:
                raise BenchworkError(f"{url}: HTTP {resp.status}")
            body = await resp.json(content_type=None)
    except aiohttp.ClientConnectorError:
        raise BenchworkError(f"cannot reach {url}: is the server running?") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise BenchworkError(f"{url}: {type(exc).__name__}: {exc}") from None
    except ValueError:
        raise BenchworkError(f"{url}: the answer is not JSON") from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise BenchworkError(f"{url}: not an OpenAI-style model list (no 'data' list)")
    rows = []
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        raw_pricing = entry.get("pricing")
        pricing: dict[str, Any] = raw_pricing if isinstance(raw_pricing, dict) else {}
        rows.append(
            {
                "id": entry["id"],
                "owned_by": entry.get("owned_by")
                if isinstance(entry.get("owned_by"), str)
                else None,
                "context_window": _window(entry),
                "input_per_mtok": pricing.get("input_per_mtok"),
                "output_per_mtok": pricing.get("output_per_mtok"),
            }
        )
    return pl.DataFrame(rows, schema=_SCHEMA)


def list_models_sync(
    api_base: str, *, api_key_env: str | None = None, timeout_s: float = 10.0
) -> pl.DataFrame:
    """Blocking ``list_models``."""
    from benchwork._util.sync import run_blocking

    return run_blocking(lambda: list_models(api_base, api_key_env=api_key_env, timeout_s=timeout_s))


def known_models(provider: str | None = None) -> pl.DataFrame:
    """litellm's chat models (optionally one provider's): price per million tokens, window."""
    from benchwork._util.litellm import get_litellm

    rows = []
    for model, info in get_litellm().model_cost.items():
        if not isinstance(info, dict) or info.get("mode") != "chat":
            continue
        who = info.get("litellm_provider")
        if provider is not None and who != provider:
            continue
        cin, cout = info.get("input_cost_per_token"), info.get("output_cost_per_token")
        rows.append(
            {
                "model": model,
                "provider": who,
                "input_per_mtok": cin * 1e6 if isinstance(cin, int | float) else None,
                "output_per_mtok": cout * 1e6 if isinstance(cout, int | float) else None,
                "context_window": info.get("max_input_tokens")
                if isinstance(info.get("max_input_tokens"), int)
                else None,
            }
        )
    schema = {"model": pl.String, "provider": pl.String, "input_per_mtok": pl.Float64,
              "output_per_mtok": pl.Float64, "context_window": pl.Int64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema).sort("provider", "model")
