"""Model profiles for the simulated provider: timing, accuracy, prices and faults.

A profile is the ground truth a benchmark is checked against, so every field is plain data
and a YAML file can describe the same thing (``load_models``).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchwork.sim.tools import check_tool_behavior

__all__ = [
    "DEMO_MODELS",
    "FAULT_KINDS",
    "TOKENIZERS",
    "TOOL_DEMO_MODELS",
    "Fault",
    "PromptRule",
    "SimModel",
    "load_models",
]

FAULT_KINDS: tuple[str, ...] = ("429", "500", "401", "cut", "hang", "malformed")
#: Local servers whose tokenizer endpoints the simulator can mimic.
TOKENIZERS: tuple[str, ...] = ("llama.cpp", "llama-cpp-python", "vllm")


@dataclass
class Fault:
    """A failure injected into some requests to one model.

    ``kind``: ``"429"`` / ``"500"`` (OpenAI-style error body), ``"401"`` (an auth error whose
    message echoes the credential the request carried, as careless providers do: for testing
    that keys never reach disk), ``"cut"`` (some tokens, then the
    connection is dropped), ``"hang"`` (nothing is ever sent), ``"malformed"`` (some tokens, then
    a line that is not JSON and the end of the stream, without ``[DONE]``).
    ``rate`` is the probability per request (seeded, so reruns agree); ``first`` limits the fault
    to the model's first N requests; ``retry_after`` is the 429 ``Retry-After`` header (seconds,
    None for no header); ``after_tokens`` is how many content tokens precede a cut or a bad line.
    """

    kind: str
    rate: float = 1.0
    first: int | None = None
    retry_after: float | None = 1
    after_tokens: int = 3

    def __post_init__(self) -> None:
        self.kind = str(self.kind)
        if self.kind not in FAULT_KINDS:
            raise ValueError(
                f"fault kind must be one of {', '.join(FAULT_KINDS)}, not {self.kind!r}"
            )
        _check_number("rate", self.rate, 0.0, 1.0)
        if self.first is not None and (not _is_int(self.first) or self.first < 0):
            raise ValueError(
                f"fault 'first' must be a whole number >= 0 or null, not {self.first!r}"
            )
        if self.retry_after is not None:
            _check_number("retry_after", self.retry_after, 0.0, math.inf)
        if not _is_int(self.after_tokens) or self.after_tokens < 0:
            raise ValueError(
                f"fault 'after_tokens' must be a whole number >= 0, not {self.after_tokens!r}"
            )


@dataclass
class PromptRule:
    """A model that reacts to the prompt: when the conversation contains ``contains``
    (case-insensitive, anywhere: system prompt, template text, question), its accuracy becomes
    ``accuracy``; with ``only_cases`` (a regex on the question) only for the questions that
    match, which makes a prompt that helps a dev split and nothing else (tuning tests)."""

    contains: str
    accuracy: float
    only_cases: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.contains, str) or not self.contains.strip():
            raise ValueError(
                f"prompt rule 'contains' must be non-empty text, not {self.contains!r}"
            )
        _check_number("prompt rule accuracy", self.accuracy, 0.0, 1.0)
        if self.only_cases is not None:
            try:
                re.compile(self.only_cases)
            except re.error as e:
                raise ValueError(f"prompt rule 'only_cases' is not a regex: {e}") from None

    def applies(self, conversation: str, question: str) -> bool:
        if self.contains.casefold() not in conversation.casefold():
            return False
        return self.only_cases is None or re.search(self.only_cases, question) is not None


@dataclass
class SimModel:
    """A simulated model: when its tokens go out, how often it is right, what it costs.

    Content token ``i`` (0-based) is sent at ``ttft_s + i * itl_s`` after the request arrived,
    each gap moved by a seeded uniform ``±jitter_s``. ``tokens`` is the length of the filler reply
    to a prompt with no known answer; ``accuracy`` the chance of a right answer to a known one.
    Prices are advertised USD per million tokens (None when unknown). ``tool_behavior`` says
    what it does when a request offers tools (see ``benchwork.sim.tools``). ``role="judge"``
    makes it grade instead of answer, with ``malformed_rate`` and ``position_bias`` (see
    ``benchwork.sim.judge``); ``role="rewriter"`` makes it a tuner's meta-model and a case
    generator, with junk replies at ``malformed_rate`` (see ``benchwork.sim.rewriter``).
    ``sends_usage=False`` ignores ``include_usage``, like servers that never report token
    counts in streams (clients must then find them elsewhere).

    Local-server modes (see ``benchwork.sim.tokenize``): ``tokens_per_chunk`` groups that many
    tokens into one stream chunk (1, like llama.cpp); ``body_usage=False`` leaves ``usage``
    out of non-streamed answers too; ``tokenizer`` (``"llama.cpp"``, ``"llama-cpp-python"`` or
    ``"vllm"``) serves that server's tokenizer endpoints for this model and makes its usage
    count the chat-templated prompt with a BOS token, as those servers do.
    ``context_window`` rejects a request whose prompt plus ``max_tokens`` exceeds it, with
    llama-cpp-python's 400 message; a ``vllm`` model also lists it as ``max_model_len``.
    """

    name: str
    ttft_s: float = 0.2
    itl_s: float = 0.02
    jitter_s: float = 0.0
    tokens: int = 50
    accuracy: float = 1.0
    input_per_mtok: float | None = None
    output_per_mtok: float | None = None
    faults: list[Fault] = field(default_factory=list)
    seed: int = 0
    tool_behavior: str | dict[str, float] = "right"
    role: str = "chat"
    malformed_rate: float = 0.0
    position_bias: float = 0.0
    sends_usage: bool = True
    tokens_per_chunk: int = 1
    body_usage: bool = True
    tokenizer: str | None = None
    context_window: int | None = None
    #: accuracy that depends on the prompt (see ``PromptRule``): the last rule that applies wins
    prompt_rules: list[PromptRule] = field(default_factory=list)

    def accuracy_for(self, conversation: str, question: str) -> float:
        """This model's accuracy for a request whose messages read ``conversation``."""
        accuracy = self.accuracy
        for rule in self.prompt_rules:
            if rule.applies(conversation, question):
                accuracy = rule.accuracy
        return accuracy

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"model 'name' must be a non-empty string, not {self.name!r}")
        for name in ("ttft_s", "itl_s", "jitter_s"):
            _check_number(name, getattr(self, name), 0.0, math.inf)
        _check_number("accuracy", self.accuracy, 0.0, 1.0)
        for name in ("input_per_mtok", "output_per_mtok"):
            if getattr(self, name) is not None:
                _check_number(name, getattr(self, name), 0.0, math.inf)
        if not _is_int(self.tokens) or self.tokens < 0:
            raise ValueError(f"'tokens' must be a whole number >= 0, not {self.tokens!r}")
        if not _is_int(self.seed):
            raise ValueError(f"'seed' must be a whole number, not {self.seed!r}")
        self.faults = [f if isinstance(f, Fault) else Fault(**f) for f in self.faults]
        self.prompt_rules = [
            r if isinstance(r, PromptRule) else PromptRule(**r) for r in self.prompt_rules
        ]
        self.tool_behavior = check_tool_behavior(self.tool_behavior)
        if self.role not in ("chat", "judge", "rewriter"):
            raise ValueError(f"'role' must be 'chat', 'judge' or 'rewriter', not {self.role!r}")
        _check_number("malformed_rate", self.malformed_rate, 0.0, 1.0)
        _check_number("position_bias", self.position_bias, 0.0, 1.0)
        if not _is_int(self.tokens_per_chunk) or self.tokens_per_chunk < 1:
            raise ValueError(
                f"'tokens_per_chunk' must be a whole number >= 1, not {self.tokens_per_chunk!r}"
            )
        if self.context_window is not None and (
            not _is_int(self.context_window) or self.context_window < 1
        ):
            raise ValueError(
                f"'context_window' must be a whole number >= 1 or null, not {self.context_window!r}"
            )
        if self.tokenizer is not None and self.tokenizer not in TOKENIZERS:
            raise ValueError(
                f"'tokenizer' must be one of {', '.join(TOKENIZERS)} or null, not {self.tokenizer!r}"
            )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_number(name: str, value: Any, low: float, high: float) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
    if not ok:
        bounds = f"between {low:g} and {high:g}" if high != math.inf else f">= {low:g}"
        raise ValueError(f"'{name}' must be a number {bounds}, not {value!r}")


# fmt: off
DEMO_MODELS: list[SimModel] = [
    SimModel(
        "fast-small", ttft_s=0.08, itl_s=0.008, jitter_s=0.0008, accuracy=0.6,
        input_per_mtok=0.10, output_per_mtok=0.40, seed=1,
    ),
    SimModel(
        "balanced", ttft_s=0.15, itl_s=0.015, jitter_s=0.0015, accuracy=0.8,
        input_per_mtok=0.50, output_per_mtok=1.50, seed=2,
    ),
    SimModel(
        "slow-large", ttft_s=0.3, itl_s=0.03, jitter_s=0.003, accuracy=0.95,
        input_per_mtok=3.0, output_per_mtok=15.0, seed=3,
    ),
]
# fmt: on
"""Three profiles that differ in speed, accuracy and price: the built-in demo provider."""

# fmt: off
TOOL_DEMO_MODELS: list[SimModel] = [
    SimModel(
        "tool-ace", ttft_s=0.12, itl_s=0.01, jitter_s=0.001, tool_behavior="right",
        input_per_mtok=3.0, output_per_mtok=15.0, seed=11,
    ),
    SimModel(
        "tool-mixed", ttft_s=0.06, itl_s=0.006, jitter_s=0.0006, accuracy=0.9,
        tool_behavior={"right": 0.6, "wrong_args": 0.2, "wrong_tool": 0.2},
        input_per_mtok=0.5, output_per_mtok=1.5, seed=12,
    ),
    SimModel(
        "tool-sloppy", ttft_s=0.05, itl_s=0.005, jitter_s=0.0005, tool_behavior="wrong_args",
        input_per_mtok=0.1, output_per_mtok=0.4, seed=13,
    ),
    SimModel(
        "tool-shy", ttft_s=0.04, itl_s=0.004, jitter_s=0.0004, tool_behavior="none",
        input_per_mtok=0.1, output_per_mtok=0.4, seed=14,
    ),
]
# fmt: on
"""Four profiles with different tool-calling behaviour: the provider of ``benchwork demo --tools``."""

_MODEL_FIELDS = {f.name for f in dataclasses.fields(SimModel)}
_FAULT_FIELDS = {f.name for f in dataclasses.fields(Fault)}


def load_models(path: str | Path) -> list[SimModel]:
    """Read model profiles from a YAML file: a list of mappings with ``SimModel``'s fields.

    ``faults`` is a list of mappings with ``Fault``'s fields. A bad file raises ``ValueError``
    naming the file, the entry and the field.
    """
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ValueError(f"{path}: cannot read: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"{path}:{where} not valid YAML: {getattr(e, 'problem', e)}") from None
    if isinstance(data, dict) and "models" in data:
        data = data["models"]
    if not isinstance(data, list) or not data:
        raise ValueError(f"{path}: expected a non-empty list of models (mappings with a 'name')")
    models: list[SimModel] = []
    for i, entry in enumerate(data):
        where = f"{path}: model {i + 1}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a mapping, not {type(entry).__name__}")
        if "name" in entry:
            where = f"{path}: model {entry['name']!r}"
        models.append(_model_from_mapping(entry, where))
    names = [m.name for m in models]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{path}: model names must be unique; repeated: {', '.join(dupes)}")
    return models


def _model_from_mapping(entry: dict[str, Any], where: str) -> SimModel:
    unknown = sorted(set(map(str, entry)) - _MODEL_FIELDS)
    if unknown:
        raise ValueError(
            f"{where}: unknown field {unknown[0]!r} (known: {', '.join(sorted(_MODEL_FIELDS))})"
        )
    if "name" not in entry:
        raise ValueError(f"{where}: field 'name' is missing")
    raw_faults = entry.get("faults") or []
    if not isinstance(raw_faults, list):
        raise ValueError(f"{where}: field 'faults' must be a list of mappings")
    faults = []
    for j, raw in enumerate(raw_faults):
        fwhere = f"{where}: fault {j + 1}"
        if not isinstance(raw, dict):
            raise ValueError(f"{fwhere}: expected a mapping, not {type(raw).__name__}")
        bad = sorted(set(map(str, raw)) - _FAULT_FIELDS)
        if bad:
            raise ValueError(
                f"{fwhere}: unknown field {bad[0]!r} (known: {', '.join(sorted(_FAULT_FIELDS))})"
            )
        if "kind" not in raw:
            raise ValueError(f"{fwhere}: field 'kind' is missing")
        try:
            faults.append(Fault(**raw))
        except ValueError as e:
            raise ValueError(f"{fwhere}: {e}") from None
    try:
        return SimModel(**{**entry, "faults": faults})
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
