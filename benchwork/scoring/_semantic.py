"""Semantic scorer: cosine similarity of embeddings (``litellm.aembedding``)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from benchwork._util.redact import safe_url
from benchwork.scoring._fuzzy import check_threshold
from benchwork.scoring._registry import register_scorer
from benchwork.scoring._score import (
    NO_EXPECTED,
    AsyncBaseScorer,
    Score,
    as_text,
    clip,
    expected_texts,
)

__all__ = ["EMBEDDING_MODEL_ENV", "MAX_SEMANTIC_CHARS", "Semantic", "cosine"]

EMBEDDING_MODEL_ENV = "BENCHWORK_EMBEDDING_MODEL"
#: Texts are cut to this many characters before embedding (models have input limits).
MAX_SEMANTIC_CHARS = 32_000
NO_MODEL = (
    f"semantic scorer: no embedding model configured; pass model=... or set {EMBEDDING_MODEL_ENV}"
)


def cosine(a: list[float], b: list[float]) -> float:
    """Cosine similarity of two vectors (0 when either is all zeros)."""
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def _vectors(response: Any) -> list[list[float]]:
    data = response["data"] if isinstance(response, Mapping) else response.data
    items = sorted(
        data, key=lambda d: (d.get("index", 0) if isinstance(d, Mapping) else d.index) or 0
    )
    return [list(d["embedding"] if isinstance(d, Mapping) else d.embedding) for d in items]


class Semantic(AsyncBaseScorer):
    """Embedding cosine similarity to the expected text (best of a list), clipped to 0..1.

    ``model`` defaults to ``$BENCHWORK_EMBEDDING_MODEL``; without either the score is skipped.
    ``api_key_env`` names the variable holding the key (never the key itself).
    """

    default_name = "semantic"

    def __init__(
        self,
        *,
        model: str | None = None,
        threshold: float | None = None,
        api_base: str | None = None,
        api_key_env: str | None = None,
        name: str | None = None,
        expected: Any = None,
    ) -> None:
        super().__init__(name=name, expected=expected)
        self.model, self.api_base, self.api_key_env = model, api_base, api_key_env
        self.threshold = check_threshold(threshold, "semantic")
        self._cache: dict[tuple[str, str], list[float]] = {}

    def config_options(self) -> dict[str, Any]:
        """A key in ``api_base`` (userinfo, query) is masked: keys are never stored."""
        options = super().config_options()
        if options.get("api_base"):
            options["api_base"] = safe_url(options["api_base"])
        return options

    async def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:  # type: ignore[override]
        model = self.model or os.environ.get(EMBEDDING_MODEL_ENV)
        if not model:
            return Score.skipped(NO_MODEL)
        answers = expected_texts(expected, self.name, drop_empty=True)
        if not answers:
            return Score.skipped(NO_EXPECTED)
        if not output.strip():
            return self._verdict(0.0, "(output is empty)")
        cut = len(output) > MAX_SEMANTIC_CHARS
        texts = [t[:MAX_SEMANTIC_CHARS] for t in [output, *answers]]
        vectors = await self._embed(model, texts)
        sims = [max(0.0, min(1.0, cosine(vectors[0], v))) for v in vectors[1:]]
        best = max(range(len(sims)), key=sims.__getitem__)
        note = f" (embedded the first {MAX_SEMANTIC_CHARS} chars)" if cut else ""
        return self._verdict(sims[best], f"to {clip(answers[best])} ({model}){note}")

    def _verdict(self, sim: float, detail: str) -> Score:
        if self.threshold is None:
            return Score(sim, None, f"cosine {sim:.3f} {detail}")
        ok = sim >= self.threshold
        sign = "≥" if ok else "<"
        return Score.passed(ok, f"cosine {sim:.3f} {sign} {self.threshold:g} {detail}")

    async def _embed(self, model: str, texts: list[str]) -> list[list[float]]:
        # Expected texts repeat across calls: embed each once per scorer.
        todo = [t for t in dict.fromkeys(texts[1:]) if (model, t) not in self._cache]
        batch = [texts[0], *todo]
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        kwargs: dict[str, Any] = {"model": model, "input": [as_text(t) for t in batch]}
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.api_key_env and os.environ.get(self.api_key_env):
            kwargs["api_key"] = os.environ[self.api_key_env]
        vectors = _vectors(await litellm.aembedding(**kwargs))
        if len(self._cache) > 4096:
            self._cache.clear()
        for t, v in zip(todo, vectors[1:], strict=True):
            self._cache[(model, t)] = v
        return [vectors[0], *(self._cache[(model, t)] for t in texts[1:])]


register_scorer("semantic", Semantic)
