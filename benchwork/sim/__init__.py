"""A simulated LLM provider: OpenAI-compatible streaming chat completions on 127.0.0.1.

Its models have a set timing schedule (TTFT, inter-token gap, jitter), answer accuracy, prices
and injectable faults, so it is the ground truth for benchwork's timing tests and the built-in
provider of the demo::

    with SimServer(DEMO_MODELS, answers={"2+2?": "4"}) as sim:
        ...  # point an OpenAI client at sim.base_url, model "fast-small"
"""

from benchwork.sim._demo import (
    DEMO_PORT,
    DEMO_SUITE_PATH,
    TOOLS_SUITE_PATH,
    demo_judge,
    demo_scorers,
    demo_targets,
)
from benchwork.sim.judge import DEMO_JUDGE
from benchwork.sim.models import (
    DEMO_MODELS,
    FAULT_KINDS,
    TOOL_DEMO_MODELS,
    Fault,
    PromptRule,
    SimModel,
    load_models,
)
from benchwork.sim.process import SimProcess
from benchwork.sim.server import SimServer

__all__ = [
    "DEMO_JUDGE",
    "DEMO_MODELS",
    "DEMO_PORT",
    "DEMO_SUITE_PATH",
    "FAULT_KINDS",
    "TOOLS_SUITE_PATH",
    "TOOL_DEMO_MODELS",
    "Fault",
    "PromptRule",
    "SimModel",
    "SimProcess",
    "SimServer",
    "demo_judge",
    "demo_scorers",
    "demo_targets",
    "load_models",
]
