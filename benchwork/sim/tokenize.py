"""Local servers' tokenizer endpoints and chat template, as the simulator mimics them.

For testing how a client counts tokens when a stream carries no usage. The simulator's
tokenizer is words (``replies.count_words``); a ``tokenizer`` model (see ``SimModel``)
counts its prompt over a chat template plus one BOS token, as real local servers do::

    <|user|> What is 2+2? <|end|> <|assistant|>      (2 words per message + 1, then BOS)

Endpoints, each shaped like the real server's answer:

- llama.cpp: ``POST /tokenize {"content", "add_special"}`` -> ``{"tokens": [...]}``;
  ``POST /apply-template {"messages"}`` -> ``{"prompt"}``.
- llama-cpp-python: ``POST /extras/tokenize/count {"input", "model"}`` -> ``{"count"}``
  (BOS added, no template: the real one's behaviour, measured).
- vLLM: ``POST /tokenize {"model", "prompt" | "messages", "add_special_tokens"}`` ->
  ``{"count", "tokens", "max_model_len"}`` (a ``messages`` request is templated).
"""

from __future__ import annotations

import hashlib
from typing import Any

from benchwork.sim.models import SimModel
from benchwork.sim.replies import count_words, message_text

__all__ = ["chat_template", "prompt_tokens", "tokenize_answer"]

_MAX_MODEL_LEN = 32_768


def chat_template(messages: list[Any]) -> str:
    """The simulator's chat template: each turn wrapped in role markers, then the reply's."""
    turns = [
        f"<|{m.get('role', 'user')}|> {message_text(m.get('content'))} <|end|>"
        for m in messages
        if isinstance(m, dict)
    ]
    return " ".join([*turns, "<|assistant|>"])


def prompt_tokens(model: SimModel, messages: list[Any]) -> int:
    """What the model's usage reports as ``prompt_tokens``: templated + BOS for local servers."""
    if model.tokenizer is None:
        return sum(count_words(m.get("content")) for m in messages if isinstance(m, dict))
    return count_words(chat_template(messages)) + 1


def _ids(text: str, bos: bool) -> list[int]:
    """Fake token ids: one per word, stable (sha256), with BOS id 2 first when asked."""
    words = [int.from_bytes(hashlib.sha256(w.encode()).digest()[:2], "big") for w in text.split()]
    return [2, *words] if bos else words


def tokenize_answer(path: str, body: Any, models: dict[str, SimModel]) -> dict[str, Any] | None:
    """The answer of a tokenizer endpoint at ``path``; None when no served model offers it."""
    if not isinstance(body, dict):
        return None
    name = body.get("model")
    model = models.get(name) if isinstance(name, str) else None
    kinds = {m.tokenizer for m in models.values()}
    if path == "/extras/tokenize/count":
        if model is None or model.tokenizer != "llama-cpp-python":
            return None
        return {"count": len(_ids(str(body.get("input", "")), bos=True))}
    if path == "/apply-template":
        if "llama.cpp" not in kinds or not isinstance(body.get("messages"), list):
            return None
        return {"prompt": chat_template(body["messages"])}
    if path == "/tokenize":
        if model is not None and model.tokenizer == "vllm":
            messages = body.get("messages")
            if isinstance(messages, list):
                ids = _ids(chat_template(messages), bos=True)
            else:
                ids = _ids(str(body.get("prompt", "")), bos=body.get("add_special_tokens", True))
            return {"count": len(ids), "tokens": ids, "max_model_len": _MAX_MODEL_LEN}
        if "llama.cpp" in kinds:  # llama.cpp's /tokenize knows no model and ignores other keys
            content = body.get("content")
            text = content if isinstance(content, str) else ""
            return {"tokens": _ids(text, bos=body.get("add_special", False) is True)}
    return None
