"""``Launcher``: discover models, pick targets and their parameters, see the cost, start a run.

Everything the widget shows is synced state computed here, so the Python API works without a
browser: ``discover(api_base)`` lists a server's ``/models``, ``search_known(query, provider)``
filters litellm's priced models, ``add_target``/``set_param``/``set_other`` build the picks,
each pick is checked against its provider's supported parameters before any call (``issues``),
``estimate()`` prices the run (an unknown price stays unknown, never 0), and ``launch()``
starts it in the background (``benchwork.runner.start``) and keeps the handle. The buttons in
``widgets/launcher.js`` call these methods through custom messages.

    launcher = Launcher(suite, api_base=sim.base_url, on_start=lambda h: RunProgress(h))
    launcher                       # discover, pick, set parameters, Start
    await launcher.handle          # the Run started by the last click
"""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import anywidget
import polars as pl
import traitlets

from benchwork.errors import BenchworkError, SuiteError
from benchwork.widgets._assets import asset_text
from benchwork.widgets._kernel import call_on, in_current_cell, running_loop
from benchwork.widgets._launcher_params import (
    OWN_FIELDS,
    STANDARD_PARAMS,
    parse_other,
    parse_value,
    value_problem,
)
from benchwork.widgets._suite_builder import SuiteBuilder

#: how many of litellm's known models are sent to the browser at once
KNOWN_LIMIT = 200

__all__ = ["KNOWN_LIMIT", "Launcher"]


class Launcher(anywidget.AnyWidget):
    """Model discovery, target and parameter picking, a cost estimate and a Start button.

    ``Launcher(suite, api_base=..., provider="openai", on_start=fn, **run_options)``; *suite* is
    a Suite, a suite file, or a ``SuiteBuilder`` (followed live: Start runs its cases as edited
    then, and the estimate follows its edits). The run
    options (``repeats``, ``cache``, ``cache_dir``, ``home``, ``scorers``, ...) go to
    ``benchwork.runner.start``. After Start, ``handle`` is the last run's ``RunHandle`` and
    ``handles`` all of them; ``on_start(handle)`` is called with each.
    """

    _esm = asset_text("launcher.js")
    _css = asset_text("launcher.css")

    _bw_widget = traitlets.Unicode("Launcher").tag(sync=True)
    suite_name = traitlets.Unicode("").tag(sync=True)
    suite_cases = traitlets.Int(0).tag(sync=True)
    #: discovery: where to ask, the litellm provider prefix for what it lists, its key variable
    api_base = traitlets.Unicode("").tag(sync=True)
    provider = traitlets.Unicode("openai").tag(sync=True)
    api_key_env = traitlets.Unicode("").tag(sync=True)
    #: the server's models: id, owned_by, context_window, input_per_mtok, output_per_mtok
    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    discover_error = traitlets.Unicode("").tag(sync=True)
    #: litellm's known models matching known_query / known_provider (at most KNOWN_LIMIT)
    known_query = traitlets.Unicode("").tag(sync=True)
    known_provider = traitlets.Unicode("").tag(sync=True)
    known = traitlets.List(traitlets.Dict()).tag(sync=True)
    known_matches = traitlets.Int(0).tag(sync=True)
    known_providers = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: the chosen targets: name, model, api_base, api_key_env, params, input/output_per_mtok
    picks = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: per target name: what is wrong with it (unsupported or invalid parameters)
    issues = traitlets.Dict().tag(sync=True)
    #: per target name: the parameters its provider accepts (empty when litellm cannot say)
    accepted = traitlets.Dict().tag(sync=True)
    #: per target: calls, input_tokens, output_tokens, output_is_bound, cost_usd (None=unknown)
    estimate_rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: cost_usd (None when any price is unknown), priced_usd, unknown (target names)
    estimate_total = traitlets.Dict().tag(sync=True)
    #: the last action's outcome, and whether it was an error
    message = traitlets.Unicode("").tag(sync=True)
    message_is_error = traitlets.Bool(False).tag(sync=True)
    #: the runs started here: run_id, status, done, total, errors, targets
    runs = traitlets.List(traitlets.Dict()).tag(sync=True)

    def __init__(
        self,
        suite: Any = None,
        *,
        api_base: str | None = None,
        provider: str = "openai",
        api_key_env: str | None = None,
        targets: list[Any] | None = None,
        on_start: Callable[[Any], Any] | None = None,
        assumed_output: int = 256,
        **run_options: Any,
    ) -> None:
        super().__init__()
        import inspect

        from benchwork.runner import start

        allowed = set(inspect.signature(start).parameters) - {"suite", "targets"}
        unknown = sorted(set(run_options) - allowed)
        if unknown:
            raise BenchworkError(
                f"Launcher: unknown run option(s) {', '.join(map(repr, unknown))}; "
                f"benchwork.runner.start takes {', '.join(sorted(allowed))}"
            )
        self._builder: Any = None  # a SuiteBuilder whose current suite is the one to run
        self._suite: Any = None
        self.on_start = on_start
        self.run_options = dict(run_options)
        self.run_options.setdefault("progress", False)  # the launcher and on_start show it
        self.assumed_output = assumed_output
        self.handles: list[Any] = []
        self._estimates: dict[str, dict[str, Any]] = {}
        self._known_table: pl.DataFrame | None = None
        self._last_push: dict[str, float] = {}
        #: the loop the Launcher was made on (a notebook's cells): runs start there
        self._loop = running_loop()
        with self.hold_sync():
            self.suite = suite
            self.api_base = api_base or ""
            self.provider = provider
            self.api_key_env = api_key_env or ""
        for t in targets or []:
            self.add_target(t)
        self.on_msg(self._on_msg)

    # -- the suite ---------------------------------------------------------------------------
    @property
    def suite(self) -> Any:
        """The suite a Start runs: the one given, or a ``SuiteBuilder``'s suite as edited now
        (the builder's ``SuiteError`` when one of its cases is invalid)."""
        return self._builder.suite if self._builder is not None else self._suite

    @suite.setter
    def suite(self, suite: Any) -> None:
        """A Suite, a suite file's path, a SuiteBuilder (followed live), or None."""
        from benchwork.runner import coerce_suite

        if self._builder is not None:
            self._builder.unobserve(self._builder_changed, names=["cases", "settings"])
        if isinstance(suite, SuiteBuilder):
            self._builder, self._suite = suite, None
            suite.observe(self._builder_changed, names=["cases", "settings"])
        else:
            self._builder = None
            self._suite = None if suite is None else coerce_suite(suite)
        self._suite_changed()

    def _builder_changed(self, _change: Any = None) -> None:
        self._suite_changed()
        if self.picks:
            self._refresh()

    def _suite_changed(self) -> None:
        self._estimates.clear()  # keyed by target only: a new suite prices differently
        if self._builder is not None:
            name = str(self._builder.settings.get("name") or "suite builder")
            self.suite_name, self.suite_cases = name, len(self._builder.cases)
        elif self._suite is not None:
            self.suite_name, self.suite_cases = self._suite.name, len(self._suite)
        else:
            self.suite_name, self.suite_cases = "", 0

    def _current_suite(self) -> tuple[Any, str | None]:
        """(the suite now, None) or (None, why there is none to run)."""
        try:
            suite = self.suite
        except SuiteError as exc:
            return None, f"the suite builder has an invalid case: {exc}"
        if suite is None:
            return None, "no suite: create the launcher as Launcher(suite, ...)"
        if not len(suite):
            return None, "the suite has no cases"
        return suite, None

    # -- discovery ---------------------------------------------------------------------------
    def discover(
        self, api_base: str | None = None, *, api_key_env: str | None = None
    ) -> pl.DataFrame:
        """List the models at ``{api_base}/models`` (an OpenAI-compatible server) into ``models``.

        Raises ``BenchworkError`` (and shows it in the widget) when the server has no such
        endpoint or is not running.
        """
        from benchwork.client import list_models_sync

        if api_base is not None:
            self.api_base = api_base.strip()
        if api_key_env is not None:
            self.api_key_env = api_key_env.strip()
        if not self.api_base:
            self._fail_discovery(
                "no api_base: type the server's URL (e.g. http://127.0.0.1:8000/v1)"
            )
        try:
            frame = list_models_sync(self.api_base, api_key_env=self.api_key_env or None)
        except BenchworkError as exc:
            self._fail_discovery(str(exc))
        with self.hold_sync():
            self.models = frame.to_dicts()
            self.discover_error = "" if frame.height else f"{self.api_base}/models lists no models"
            self._say(f"{frame.height} model(s) at {self.api_base}")
        return frame

    def _fail_discovery(self, text: str) -> NoReturn:
        with self.hold_sync():
            self.models = []
            self.discover_error = text
            self._say(text, error=True)
        raise BenchworkError(text)

    def search_known(self, query: str = "", provider: str | None = None) -> pl.DataFrame:
        """litellm's chat models whose name contains *query* (any case), optionally one provider's.

        Sets ``known`` (the first ``KNOWN_LIMIT`` rows) and ``known_matches``; returns them all.
        """
        from benchwork.client import known_models

        if self._known_table is None:
            self._known_table = known_models()
            self.known_providers = sorted(
                p for p in self._known_table["provider"].unique().to_list() if p
            )
        frame = self._known_table
        query = query.strip()
        if provider:
            frame = frame.filter(pl.col("provider") == provider)
        if query:
            frame = frame.filter(
                pl.col("model").str.to_lowercase().str.contains(query.lower(), literal=True)
            )
        with self.hold_sync():
            self.known_query, self.known_provider = query, provider or ""
            self.known = frame.head(KNOWN_LIMIT).to_dicts()
            self.known_matches = frame.height
        return frame

    # -- picks -------------------------------------------------------------------------------
    def add_target(
        self,
        model: Any,
        *,
        name: str | None = None,
        api_base: str | None = None,
        api_key_env: str | None = None,
        params: Mapping[str, Any] | None = None,
        input_per_mtok: float | None = None,
        output_per_mtok: float | None = None,
    ) -> str:
        """Add a target (a litellm model id or a ``Target``); returns its (unique) name."""
        from benchwork.target import Target

        if isinstance(model, Target):
            pick = {
                "model": model.model, "name": model.name, "api_base": model.api_base,
                "api_key_env": model.api_key_env, "params": dict(model.params),
                "input_per_mtok": model.input_per_mtok, "output_per_mtok": model.output_per_mtok,
            }  # fmt: skip
        elif isinstance(model, str) and model.strip():
            pick = {
                "model": model.strip(), "name": name, "api_base": api_base,
                "api_key_env": api_key_env, "params": dict(params or {}),
                "input_per_mtok": input_per_mtok, "output_per_mtok": output_per_mtok,
            }  # fmt: skip
        else:
            raise BenchworkError(
                f"add_target: give a model id such as 'openai/gpt-4o-mini' or a Target, got {model!r}"
            )
        pick["name"] = self._unique_name(str(pick["name"] or pick["model"]))
        self.picks = [*self.picks, pick]
        self._refresh()
        self._say(f"added {pick['name']}")
        return pick["name"]

    def add_discovered(self, model_id: str) -> str:
        """Add one of ``models`` (the last discovery) as ``{provider}/{id}`` at ``api_base``."""
        row = next((m for m in self.models if m.get("id") == model_id), None)
        if row is None:
            raise BenchworkError(
                f"no discovered model {model_id!r} at {self.api_base or '(no api_base)'}; "
                "run discover() first or pick one of: " + ", ".join(m["id"] for m in self.models)
            )
        return self.add_target(
            f"{self.provider.strip() or 'openai'}/{model_id}",
            name=model_id,
            api_base=self.api_base,
            api_key_env=self.api_key_env or None,
            input_per_mtok=row.get("input_per_mtok"),
            output_per_mtok=row.get("output_per_mtok"),
        )

    def add_known(self, model: str, provider: str | None = None) -> str:
        """Add one of litellm's known models (its own endpoint and key variable)."""
        if provider and not model.startswith(f"{provider}/"):
            model = f"{provider}/{model}"
        return self.add_target(model, name=model.split("/", 1)[-1])

    def remove_target(self, name: str) -> None:
        """Drop the target called *name*."""
        self._pick(name)
        self.picks = [p for p in self.picks if p["name"] != name]
        self._refresh()
        self._say(f"removed {name}")

    def set_param(self, name: str, key: str, value: Any) -> None:
        """Set parameter *key* of target *name* (a string is parsed; None or '' removes it)."""
        key = key.strip()
        if not key:
            raise BenchworkError(f"target {name!r}: a parameter needs a name")
        pick = self._pick(name)
        params = dict(pick.get("params") or {})
        value = parse_value(value)
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
        self._replace(name, {**pick, "params": params})

    def set_other(self, name: str, text: str) -> None:
        """Replace target *name*'s non-standard parameters with ``key=value, ...`` from *text*."""
        pick = self._pick(name)
        try:
            other = parse_other(text)
        except BenchworkError as exc:
            self._say(f"{name}: {exc}", error=True)
            raise
        keep = {k: v for k, v in (pick.get("params") or {}).items() if k in STANDARD_PARAMS}
        self._replace(name, {**pick, "params": {**keep, **other}})

    @property
    def targets(self) -> list[Any]:
        """The picks as ``Target`` objects (an invalid pick raises ``TargetError``)."""
        from benchwork.target import Target

        return [Target(**self._target_fields(p)) for p in self.picks]

    # -- checks and cost ---------------------------------------------------------------------
    def check(self) -> dict[str, list[str]]:
        """Per target name, what is wrong (provider-unsupported or invalid parameters)."""
        return {k: list(v) for k, v in self.issues.items()}

    def estimate(self) -> pl.DataFrame:
        """The cost estimate per target (``benchwork.tuning.estimate_cost``); null = unknown."""
        self._refresh(estimate=True)
        schema = {"target": pl.String, "calls": pl.Int64, "input_tokens": pl.Int64,
                  "output_tokens": pl.Int64, "output_is_bound": pl.Boolean,
                  "cost_usd": pl.Float64}  # fmt: skip
        return pl.DataFrame(self.estimate_rows, schema=schema)

    # -- launch ------------------------------------------------------------------------------
    @property
    def handle(self) -> Any:
        """The ``RunHandle`` of the last run started here (None before the first)."""
        return self.handles[-1] if self.handles else None

    def launch(self) -> Any:
        """Start the run in the background on the launcher's event loop; returns its handle.

        Refused (``BenchworkError``, also shown in the widget) with no suite, no target, a
        target with an unsupported or invalid parameter, or no running event loop.
        """
        loop = self._launchable()
        if loop is not running_loop():
            raise BenchworkError(
                "launch() runs on the event loop the Launcher was created on; call it from "
                "there (a notebook cell), or click Start"
            )
        return self._start()

    def _launchable(self) -> asyncio.AbstractEventLoop:
        """The loop to start the run on, or ``BenchworkError`` saying why there is none."""
        self._refresh()
        loop = self._loop if self._loop is not None and self._loop.is_running() else None
        loop = loop or running_loop()
        _suite, problem = self._current_suite()
        if problem is not None:
            pass
        elif not self.picks:
            problem = "no target picked: add one from the discovered or known models"
        elif self.issues:
            problem = "; ".join(f"{n}: {', '.join(v)}" for n, v in self.issues.items())
        elif loop is None:
            problem = ("launch() starts a background run on a running event loop (a notebook "
                       "cell or async code); in a script use benchwork.run_sync")  # fmt: skip
        if problem is not None:
            self._refuse(problem)
        assert loop is not None
        return loop

    def _refuse(self, problem: str) -> NoReturn:
        """Say in the widget why the run was not started, and raise it."""
        text = f"not started: {problem}"
        self._say(text, error=True)
        raise BenchworkError(text)

    def _launch_from_ui(self) -> None:
        """The Start button: the run goes on the loop the cells run on, even when the kernel
        handles the click on another thread (JupyterLab can route comm messages to a subshell),
        so that ``await launcher.handle`` works in a later cell."""
        call_on(
            self._launchable(),
            self._start,
            lambda exc: self._say(f"not started: {type(exc).__name__}: {exc}", error=True),
        )

    def _start(self) -> Any:
        from benchwork.runner import start

        suite, problem = self._current_suite()
        if problem is not None:  # the builder changed between the check and the start
            self._refuse(problem)
        handle = start(suite, self.targets, **self.run_options)
        self.handles.append(handle)
        self.runs = [*self.runs, self._run_row(handle)]
        handle.subscribe(lambda event, h=handle: self._on_run_event(h, event))
        handle.task.add_done_callback(lambda _task, h=handle: self._update_run(h, final=True))
        self._say(f"started run {handle.run_id} ({len(self.picks)} target(s))")
        if self.on_start is not None:
            self.on_start(handle)
        return handle

    def _run_row(self, handle: Any) -> dict[str, Any]:
        p = handle.progress
        status = handle.status
        if handle.done() and status in ("pending", "running"):
            status = "cancelled" if handle.task.cancelled() else "failed"
        return {"run_id": handle.run_id, "status": status, "done": p.done, "total": p.total,
                "errors": p.errors, "rows": len(handle.results) if handle.done() else p.done}  # fmt: skip

    def _on_run_event(self, handle: Any, event: Any) -> None:
        now = time.monotonic()
        if event.kind == "run_finished" or now - self._last_push.get(handle.run_id, 0) > 0.25:
            self._update_run(handle)

    def _update_run(self, handle: Any, *, final: bool = False) -> None:
        # sent as part of the cell executing now, so papermill/nbclient keep the final state
        in_current_cell(self._push_run, handle, final)

    def _push_run(self, handle: Any, final: bool) -> None:
        self._last_push[handle.run_id] = time.monotonic()
        row = self._run_row(handle)
        with self.hold_sync():
            self.runs = [row if r["run_id"] == handle.run_id else r for r in self.runs]
            if final:
                self._say(f"run {handle.run_id} {row['status']}: {row['rows']} row(s)")

    # -- messages from the browser ---------------------------------------------------------
    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        actions: dict[str, Callable[[], Any]] = {
            "discover": lambda: self.discover(
                str(content.get("api_base", self.api_base)),
                api_key_env=str(content.get("api_key_env", self.api_key_env)),
            ),
            "known": lambda: self.search_known(
                str(content.get("query", "")), str(content.get("provider") or "") or None
            ),
            "add_discovered": lambda: self.add_discovered(str(content.get("id", ""))),
            "add_known": lambda: self.add_known(
                str(content.get("model", "")), str(content.get("provider") or "") or None
            ),
            "add": lambda: self.add_target(str(content.get("model", ""))),
            "remove": lambda: self.remove_target(str(content.get("name", ""))),
            "set_param": lambda: self.set_param(
                str(content.get("name", "")), str(content.get("key", "")), content.get("value")
            ),
            "set_other": lambda: self.set_other(
                str(content.get("name", "")), str(content.get("text", ""))
            ),
            "estimate": self.estimate,
            "start": self._launch_from_ui,
        }
        action = actions.get(str(kind))
        if action is None:
            return
        try:
            action()
        except BenchworkError as exc:  # a refusal or bad input: said in the widget
            self._say(str(exc), error=True)
        except Exception as exc:  # a bug or a bad value: shown, never a silent click
            self._say(f"{kind}: {type(exc).__name__}: {exc}", error=True)
        finally:
            self.send({"type": "done", "action": kind})

    # -- internals ---------------------------------------------------------------------------
    def _say(self, text: str, *, error: bool = False) -> None:
        with self.hold_sync():
            self.message, self.message_is_error = text, error

    def _unique_name(self, base: str) -> str:
        taken = {p["name"] for p in self.picks}
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        return name

    def _pick(self, name: str) -> dict[str, Any]:
        for p in self.picks:
            if p["name"] == name:
                return p
        known = ", ".join(p["name"] for p in self.picks) or "none yet"
        raise BenchworkError(f"no target named {name!r} (targets: {known})")

    def _replace(self, name: str, pick: dict[str, Any]) -> None:
        self.picks = [pick if p["name"] == name else p for p in self.picks]
        self._refresh()

    @staticmethod
    def _target_fields(pick: Mapping[str, Any]) -> dict[str, Any]:
        keys = ("model", "name", "params", "api_base", "api_key_env", "input_per_mtok",
                "output_per_mtok")  # fmt: skip
        return {k: pick.get(k) for k in keys if pick.get(k) not in (None, "") or k == "params"}

    def _refresh(self, *, estimate: bool | None = None) -> None:
        """Recompute issues and accepted parameters, and the estimate (when there is a suite)."""
        from benchwork.target import Target
        from benchwork.tuning import supported_params

        issues: dict[str, list[str]] = {}
        accepted: dict[str, list[str]] = {}
        good: list[Any] = []
        for pick in self.picks:
            name = pick["name"]
            found: list[str] = []
            try:
                target = Target(**self._target_fields(pick))
            except BenchworkError as exc:
                issues[name] = [str(exc)]
                continue
            allowed = supported_params(target)
            accepted[name] = sorted(allowed - OWN_FIELDS) if allowed else []
            provider = target.provider or "this provider"
            for key, value in (pick.get("params") or {}).items():
                if allowed is not None and key not in allowed and key not in OWN_FIELDS:
                    found.append(f"{key!r} is not supported by {provider}")
                problem = value_problem(key, value)
                if problem:
                    found.append(problem)
            if found:
                issues[name] = found
            good.append(target)
        with self.hold_sync():
            self.issues, self.accepted = issues, accepted
            suite, problem = self._current_suite()
            if estimate is not False and suite is not None:
                self._estimate(suite, good)
            elif self._builder is not None:  # an invalid builder: no estimate until it is fixed
                self.estimate_rows, self.estimate_total = [], {"problem": problem}

    def _estimate(self, suite: Any, targets: list[Any]) -> None:
        from benchwork.tuning import estimate_cost

        rows = []
        reps = int(self.run_options.get("repeats") or 1)
        for t in targets:
            key = json.dumps([t.name, t.model, t.params.get("max_tokens"),
                              t.params.get("max_completion_tokens"), t.input_per_mtok,
                              t.output_per_mtok, reps], default=str)  # fmt: skip
            if key not in self._estimates:
                frame = estimate_cost(suite, [t], repeats=reps,
                                      assumed_output=self.assumed_output)  # fmt: skip
                self._estimates[key] = frame.row(0, named=True)
            rows.append(self._estimates[key])
        unknown = [r["target"] for r in rows if r["cost_usd"] is None]
        priced = sum(r["cost_usd"] for r in rows if r["cost_usd"] is not None)
        self.estimate_rows = rows
        self.estimate_total = {
            "cost_usd": None if unknown or not rows else priced,
            "priced_usd": priced,
            "unknown": unknown,
            "calls": sum(r["calls"] for r in rows),
        }

    # -- static export -----------------------------------------------------------------------
    @classmethod
    def static_html(cls, state: dict[str, Any]) -> str:
        """The chosen targets, their parameters and flags, and the estimate as a static table."""
        esc = html.escape
        issues = state.get("issues") or {}
        costs = {r.get("target"): r for r in state.get("estimate_rows") or []}
        rows = []
        for p in state.get("picks") or []:
            name = str(p.get("name", ""))
            params = ", ".join(f"{k}={json.dumps(v)}" for k, v in (p.get("params") or {}).items())
            est = costs.get(name) or {}
            flags = "; ".join(map(str, issues.get(name) or []))
            rows.append(
                f"<tr><td>{esc(name)}</td><td><code>{esc(str(p.get('model', '')))}</code></td>"
                f"<td>{esc(params) or '—'}</td><td>{_int(est.get('calls'))}</td>"
                f"<td>{_int(est.get('input_tokens'))}</td><td>{_int(est.get('output_tokens'))}"
                f"{'' if est.get('output_is_bound', True) else ' (assumed)'}</td>"
                f"<td>{_usd(est.get('cost_usd'), bool(est))}</td>"
                f'<td style="color:#d32f2f">{esc(flags)}</td></tr>'
            )
        total = state.get("estimate_total") or {}
        unknown = total.get("unknown") or []
        total_text = _usd(total.get("cost_usd"), bool(total))
        if unknown:
            total_text += (f" (priced targets: {_usd(total.get('priced_usd'), True)}; no price "
                           f"for {esc(', '.join(map(str, unknown)))})")  # fmt: skip
        suite = state.get("suite_name") or ""
        head = (f"Launcher: suite <b>{esc(str(suite))}</b>, {int(state.get('suite_cases') or 0)} "
                f"cases" if suite else "Launcher")  # fmt: skip
        runs = "".join(
            f"<li><code>{esc(str(r.get('run_id', '')))}</code> {esc(str(r.get('status', '')))}, "
            f"{_int(r.get('rows'))} rows</li>"
            for r in state.get("runs") or []
        )
        td = "border:1px solid #d8dee4;padding:2px 6px;text-align:left"
        return (
            f'<div class="benchwork-launcher" style="font:13px sans-serif">'
            f"<style>.benchwork-launcher td,.benchwork-launcher th{{{td}}}</style>"
            f"<div>{head}</div>"
            '<table style="border-collapse:collapse;margin:4px 0"><tr><th>target</th>'
            "<th>model</th><th>parameters</th><th>calls</th><th>input tokens</th>"
            "<th>output tokens</th><th>cost</th><th>flags</th></tr>"
            + ("".join(rows) or '<tr><td colspan="8">no targets picked</td></tr>')
            + f'</table><div class="benchwork-launcher-total">total: {total_text}</div>'
            + (f"<ul>{runs}</ul>" if runs else "")
            + "</div>"
        )

    def __repr__(self) -> str:
        names = ", ".join(p["name"] for p in self.picks)
        return f"Launcher({self.suite_name!r}, targets=[{names}], runs={len(self.handles)})"


def _int(value: Any) -> str:
    return (
        f"{int(value):,}" if isinstance(value, int | float) and not isinstance(value, bool) else "—"
    )


def _usd(value: Any, known_row: bool) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"${value:,.4f}"
    return "unknown" if known_row else "—"
