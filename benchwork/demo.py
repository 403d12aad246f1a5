"""The built-in default: three simulated models that differ in speed, accuracy and price."""

from __future__ import annotations

from importlib.resources import files

from benchwork.target import Target

__all__ = ["DEMO_SUITE_PATH", "demo_targets"]

#: The bundled demo suite (24 short factual questions with expected answers).
DEMO_SUITE_PATH = str(files("benchwork") / "data" / "demo_suite.yaml")


def demo_targets(base_url: str) -> list[Target]:
    """Targets for the sim's DEMO_MODELS, priced with the sim's advertised prices."""
    from benchwork.sim import DEMO_MODELS

    return [
        Target(
            f"openai/{m.name}",
            name=m.name,
            api_base=base_url,
            input_per_mtok=m.input_per_mtok,
            output_per_mtok=m.output_per_mtok,
            params={"temperature": 0},
            concurrency=8,
        )
        for m in DEMO_MODELS
    ]
