"""Template rendering for prompts: ``{{ name }}`` placeholders filled from a case's vars.

Single braces are left alone, so JSON in a prompt is safe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from benchwork.errors import SuiteError

__all__ = ["render_template"]

_VAR = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")


def render_template(text: str, variables: Mapping[str, Any], *, case_id: str | None = None) -> str:
    """Replace each ``{{ name }}`` in *text* with its value; single braces stay, so JSON is safe.

    Lists and mappings are inserted as JSON; an unknown name raises SuiteError naming the case.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            known = ", ".join(sorted(variables)) or "none"
            raise SuiteError(
                f"template variable {name!r} is not defined in vars (defined: {known})",
                case_id=case_id,
                field="vars",
            )
        v = variables[name]
        if isinstance(v, str):
            return v
        if isinstance(v, dict | list):
            return json.dumps(v, ensure_ascii=False)
        return str(v)

    return _VAR.sub(value, text)
