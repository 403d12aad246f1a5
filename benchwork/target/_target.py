"""Targets: a model plus the settings it is called with.

A target holds the NAME of the environment variable with the API key (``api_key_env``),
never the key itself, so targets can be saved in manifests and reports safely.
"""

from __future__ import annotations

import importlib.util
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchwork._util.env import getenv
from benchwork._util.redact import MASK, header_secrets, safe_headers, safe_url, url_secrets
from benchwork.errors import TargetError

__all__ = ["OPENAI_COMPATIBLE", "ResolvedTarget", "Target", "load_targets"]

#: litellm provider prefixes whose endpoints speak the OpenAI chat-completions protocol; these
#: are streamed and timed on benchwork's own lean HTTP path.
OPENAI_COMPATIBLE: frozenset[str] = frozenset(
    {
        "openai",
        "custom_openai",
        "openai_like",
        "hosted_vllm",
        "groq",
        "together_ai",
        "openrouter",
        "deepseek",
        "mistral",
        "xai",
        "lm_studio",
        "llamafile",
        "fireworks_ai",
        "deepinfra",
        "perplexity",
        "cerebras",
        "nvidia_nim",
        "sambanova",
        "ollama_openai",
    }
)

#: Providers resolved without importing litellm (~4 s): base URL and key variable.
_DEFAULTS = {"openai": ("https://api.openai.com/v1", "OPENAI_API_KEY")}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _redacted_url(url: str) -> str:
    """*url* for an error message, without userinfo or query (either may hold a key)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # unparseable: keep what precedes a query, and drop any userinfo
        scheme, _, rest = url.split("?")[0].rpartition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}" if scheme else rest.rpartition("@")[2]
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _check_number(
    target: str | None, name: str, value: object, *, positive: bool, optional: bool
) -> None:
    """A finite real number (not a bool, not NaN), > 0 when *positive*, else >= 0."""
    if value is None and optional:
        return
    bound = "> 0" if positive else ">= 0"
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > 0 if positive else value >= 0)
    )
    if not ok:
        raise TargetError(f"target {target!r}: {name!r} must be a number {bound}, got {value!r}")


@dataclass
class Target:
    """A model to evaluate: litellm id (``openai/gpt-4o-mini``), display name and call settings."""

    model: str
    name: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    api_base: str | None = None
    api_key_env: str | None = None
    input_per_mtok: float | None = None
    output_per_mtok: float | None = None
    concurrency: int = 8
    rpm: float | None = None
    timeout_s: float = 120.0
    #: stands in for ``api_base`` in cache keys, e.g. for a local server whose port changes
    #: between sessions (the demo's sim): its answers stay cached under a stable name
    cache_endpoint: str | None = None
    #: this target's retry settings over the run's (``RetryPolicy`` fields), e.g.
    #: ``{"max_attempts": 8, "max_wait_s": 600}`` for a busy provider
    retry: dict[str, Any] | None = None
    #: the model's own tokenizer, installed locally (a .gguf file or a tokenizer.json): exact
    #: output token counts when the server sends no usage and has no tokenizer endpoint
    tokenizer: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise TargetError(
                "target: 'model' must be a non-empty string such as 'openai/gpt-4o-mini'"
            )
        if self.name is None:
            self.name = self.model
        if not isinstance(self.params, dict):
            raise TargetError(f"target {self.name!r}: 'params' must be a mapping")
        if "api_key" in self.params:
            raise TargetError(
                f"target {self.name!r}: do not put an API key in params; "
                "set api_key_env to the NAME of the environment variable that holds it"
            )
        if self.api_key_env is not None and not _ENV_NAME.match(str(self.api_key_env)):
            # the value is not echoed: it is most likely the key itself, pasted by mistake
            raise TargetError(
                f"target {self.name!r}: api_key_env must be the NAME of an environment variable "
                "(letters, digits, '_', e.g. OPENAI_API_KEY), not the key itself"
            )
        for text in ("name", "api_base", "cache_endpoint"):
            value = getattr(self, text)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise TargetError(
                    f"target {self.name!r}: {text!r} must be a non-empty string, got {value!r}"
                )
        if self.api_base is not None:
            try:
                parts = urlsplit(self.api_base.strip())
                host, _ = parts.hostname, parts.port  # .port raises on a bad port
            except ValueError:
                host, parts = None, urlsplit("")
            if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in host):
                raise TargetError(
                    f"target {self.name!r}: 'api_base' must be an http(s) URL with a host, "
                    f"e.g. http://127.0.0.1:8000/v1; got {_redacted_url(self.api_base)!r}"
                )
        if self.tokenizer is not None:
            path = Path(str(self.tokenizer)).expanduser()
            if path.suffix.lower() not in (".gguf", ".json") or not path.is_file():
                raise TargetError(
                    f"target {self.name!r}: 'tokenizer' must be an existing .gguf model file or "
                    f"tokenizer.json, got {self.tokenizer!r}"
                )
            package = "llama_cpp" if path.suffix.lower() == ".gguf" else "tokenizers"
            if importlib.util.find_spec(package) is None:
                pip = "llama-cpp-python" if package == "llama_cpp" else "tokenizers"
                raise TargetError(
                    f"target {self.name!r}: reading {path.name} needs {pip}: pip install {pip}"
                )
            self.tokenizer = str(path)
        if self.retry is not None:
            allowed = ("max_attempts", "backoff_s", "max_backoff_s", "jitter", "max_wait_s")
            if not isinstance(self.retry, dict) or set(self.retry) - set(allowed):
                raise TargetError(
                    f"target {self.name!r}: 'retry' must be a mapping of {', '.join(allowed)}; "
                    f"got {self.retry!r}"
                )
            attempts = self.retry.get("max_attempts", 1)
            if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
                raise TargetError(
                    f"target {self.name!r}: 'retry.max_attempts' must be an integer >= 1, "
                    f"got {attempts!r}"
                )
            for key, value in self.retry.items():
                _check_number(
                    self.name, f"retry.{key}", value, positive=key == "max_attempts", optional=False
                )
        if isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int):
            raise TargetError(
                f"target {self.name!r}: 'concurrency' must be an integer >= 1, "
                f"got {self.concurrency!r}"
            )
        if self.concurrency < 1:
            raise TargetError(f"target {self.name!r}: 'concurrency' must be an integer >= 1")
        _check_number(self.name, "rpm", self.rpm, positive=True, optional=True)
        _check_number(self.name, "timeout_s", self.timeout_s, positive=True, optional=False)
        for price in ("input_per_mtok", "output_per_mtok"):
            _check_number(self.name, price, getattr(self, price), positive=False, optional=True)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for manifests; holds no secret: only the key variable's name, and
        ``api_base``/``extra_headers`` with any credential in them replaced by ``***``."""
        out = asdict(self)
        out["api_base"] = safe_url(self.api_base)
        if "extra_headers" in self.params:
            out["params"]["extra_headers"] = safe_headers(self.params["extra_headers"])
        return out

    def secrets(self) -> list[str]:
        """Credentials this target carries outside ``api_key_env`` (userinfo or a key in
        ``api_base``'s query, secret-named ``extra_headers``): masked wherever benchwork writes."""
        return [*url_secrets(self.api_base), *header_secrets(self.params.get("extra_headers"))]

    @property
    def holds_masked_secret(self) -> bool:
        """True for a target read back from a manifest whose credentials were masked."""
        headers = self.params.get("extra_headers")
        masked_header = isinstance(headers, dict) and MASK in headers.values()
        return masked_header or (
            self.api_base is not None and (MASK in self.api_base or "%2A%2A%2A" in self.api_base)
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> Target:
        """Build from a mapping, rejecting unknown fields by name (catches typos)."""
        where = f"{source}: " if source else ""
        if not isinstance(data, Mapping):
            raise TargetError(f"{where}a target must be a mapping, got {type(data).__name__}")
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - allowed)
        if unknown:
            label = data.get("name") or data.get("model") or "?"
            raise TargetError(
                f"{where}target {label!r}: unknown field(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        if "model" not in data:
            raise TargetError(f"{where}target: 'model' is missing")
        try:
            return cls(**data)
        except TargetError as exc:
            raise TargetError(f"{where}{exc}") from None
        except TypeError as exc:
            raise TargetError(f"{where}{exc}") from None

    @property
    def provider(self) -> str | None:
        """The litellm provider prefix (``openai`` in ``openai/gpt-4o``), if any."""
        prefix, sep, _ = self.model.partition("/")
        return prefix if sep else None

    def resolve(self) -> ResolvedTarget:
        """Decide the client path, base URL and key variable; asks litellm only when needed.

        With an explicit ``api_base`` no key is attached unless ``api_key_env`` names one, so
        a provider's real key is never sent to some other server by default.
        """
        provider = self.provider
        model_name = self.model.split("/", 1)[1] if provider else self.model
        lean = provider in OPENAI_COMPATIBLE or (provider is None and self.api_base is not None)
        api_base = self.api_base
        key_env = self.api_key_env
        if lean and api_base is None:
            if provider in _DEFAULTS:
                api_base, default_key = _DEFAULTS[provider]
                key_env = key_env or default_key
            else:
                info = _litellm_provider_info(self.model)
                api_base = info.get("api_base")
                key_env = key_env or info.get("key_env")
                model_name = info.get("model_name") or model_name
            if api_base is None:
                raise TargetError(
                    f"target {self.name!r}: no base URL known for provider {provider!r}; "
                    "set api_base"
                )
        return ResolvedTarget(
            target=self,
            provider=provider or ("openai" if lean else None),
            model_name=model_name if lean else self.model,
            api_base=api_base.rstrip("/") if api_base else None,
            key_env=key_env,
            lean=lean,
        )


@dataclass(frozen=True)
class ResolvedTarget:
    """A target after provider resolution: which path, which URL, which key variable."""

    target: Target
    provider: str | None
    model_name: str
    api_base: str | None
    key_env: str | None
    lean: bool

    def api_key(self) -> str | None:
        """Read the key at call time (environment, then ``./.env``); it is never stored."""
        return getenv(self.key_env) if self.key_env else None


def _litellm_provider_info(model: str) -> dict[str, Any]:
    from benchwork._util.litellm import get_litellm

    litellm = get_litellm()
    out: dict[str, Any] = {}
    try:
        model_name, provider, _key, api_base = litellm.get_llm_provider(model)
        out.update(model_name=model_name, provider=provider, api_base=api_base)
    except Exception as exc:  # litellm raises plain exceptions for unknown providers
        raise TargetError(f"model {model!r}: litellm cannot resolve its provider ({exc})") from None
    try:
        missing = litellm.validate_environment(model).get("missing_keys") or []
        present = [k for k in _known_key_names(out.get("provider")) if getenv(k)]
        out["key_env"] = (present or missing or [None])[0]
    except Exception:
        pass
    return out


def _known_key_names(provider: str | None) -> list[str]:
    return [f"{(provider or '').upper()}_API_KEY"] if provider else []


def load_targets(path: str | Path) -> list[Target]:
    """Load targets from YAML or JSON: a list of target mappings, or ``{targets: [...]}``."""
    import json

    import yaml

    p = Path(path)
    if not p.exists():
        raise TargetError(f"{p}: file not found")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TargetError(
            f"{p}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start : exc.start + 1]!r}); "
            "save the targets file as UTF-8"
        ) from None
    except OSError as exc:
        raise TargetError(f"{p}: cannot read the targets file ({exc.strerror or exc})") from None
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise TargetError(f"{p}: cannot parse ({str(exc).splitlines()[0]})") from None
    if isinstance(data, dict) and "targets" in data:
        data = data["targets"]
    if not isinstance(data, list) or not data:
        raise TargetError(f"{p}: expected a non-empty list of targets (or a 'targets:' list)")
    targets = [
        Target.from_dict(item, source=f"{p}: target #{i + 1}") for i, item in enumerate(data)
    ]
    names = [t.name for t in targets]
    dupes = sorted({str(n) for n in names if names.count(n) > 1})
    if dupes:
        raise TargetError(
            f"{p}: duplicate target name(s) {', '.join(map(repr, dupes))}; set 'name'"
        )
    return targets
