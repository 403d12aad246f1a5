"""The model's own tokenizer, installed locally: exact output counts when a server sends none.

``Target(tokenizer=PATH)`` names it: a ``.gguf`` model file (read vocabulary-only by
llama-cpp-python, no weights loaded) or a Hugging Face ``tokenizer.json`` (the ``tokenizers``
package). Loaded once per path; counting happens after the timed stream, like every other
token source (see ``_tokens``). Output text only: the chat template the server applies to the
input is not known here, so input counts keep coming from the server or its usage probe.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["local_counter"]


@functools.cache
def local_counter(path: str) -> Callable[[str], int]:
    """A function counting the tokens of a text (no BOS, no special tokens) with *path*."""
    suffix = Path(path).suffix.lower()
    if suffix == ".gguf":
        import llama_cpp

        with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
            model = llama_cpp.Llama(path, vocab_only=True, verbose=False)
        # freed before the interpreter tears llama_cpp down (its __del__ then fails noisily)
        atexit.register(model.close)

        def count_gguf(text: str) -> int:
            return len(model.tokenize(text.encode("utf-8"), add_bos=False, special=False))

        return count_gguf
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(path)

    def count_json(text: str) -> int:
        return len(tok.encode(text, add_special_tokens=False).ids)

    return count_json
