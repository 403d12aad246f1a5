"""The built-in default: three simulated models that differ in speed, accuracy and price."""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING, Any

from benchwork.sim.judge import DEMO_JUDGE
from benchwork.sim.models import DEMO_MODELS
from benchwork.target import Target

if TYPE_CHECKING:
    from benchwork.sim import SimModel

__all__ = [
    "DEMO_PORT",
    "DEMO_SUITE_PATH",
    "TOOLS_SUITE_PATH",
    "demo_judge",
    "demo_scorers",
    "demo_targets",
]

#: Port the demo's sim listens on when free (the cache key includes the base URL).
DEMO_PORT = 18765

#: The bundled demo suite (24 short factual questions with expected answers).
DEMO_SUITE_PATH = str(files("benchwork") / "data" / "demo_suite.yaml")

#: The bundled tool-calling suite (6 cases with function schemas and mock tool results).
TOOLS_SUITE_PATH = str(files("benchwork") / "data" / "tools_suite.yaml")


#: The demo's cache keys name the sim, not its URL: when DEMO_PORT is taken the demo's sim
#: takes another port, and its second run must still come from the cache.
DEMO_CACHE_ENDPOINT = "benchwork-demo-sim"


def demo_targets(base_url: str, models: list[SimModel] | None = None) -> list[Target]:
    """Targets for the sim's ``models`` (default DEMO_MODELS), priced as the sim advertises."""

    return [
        Target(
            f"openai/{m.name}",
            name=m.name,
            api_base=base_url,
            input_per_mtok=m.input_per_mtok,
            output_per_mtok=m.output_per_mtok,
            params={"temperature": 0},
            concurrency=8,
            cache_endpoint=DEMO_CACHE_ENDPOINT,
        )
        for m in (DEMO_MODELS if models is None else models)
    ]


def demo_judge(base_url: str) -> dict[str, Any]:
    """The sim's DEMO_JUDGE as a judge target (a plain dict, so the manifest can keep it)."""

    return {
        "model": f"openai/{DEMO_JUDGE.name}",
        "name": DEMO_JUDGE.name,
        "api_base": base_url,
        "input_per_mtok": DEMO_JUDGE.input_per_mtok,
        "output_per_mtok": DEMO_JUDGE.output_per_mtok,
        "params": {"temperature": 0},
        "cache_endpoint": DEMO_CACHE_ENDPOINT,
    }


def demo_scorers(base_url: str) -> list[Any]:
    """The Q&A demo's scorers: exact match, and the simulated LLM judge's rubric score."""
    return ["exact", {"type": "judge", "judge": demo_judge(base_url)}]
