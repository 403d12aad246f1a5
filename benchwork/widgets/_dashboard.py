"""``Dashboard``: live per-target statistics of one or more runs, each with its own Cancel.

Why: ``RunProgress`` shows counts; the dashboard shows what a run measures while it runs —
done/total, errors by type and HTTP status, running p50 TTFT and tok/s with sparklines, cost
so far (unknown stays unknown) and an ETA — for several runs at once. Each call's record is
folded into per-target aggregates as its event arrives (a few dict updates and a heap push);
the front end gets the aggregates at most ``max_updates_per_s`` times a second (the first and
the last state always), so watching does not slow the run. One widget per run id:
``Dashboard.of(handle)`` returns the widget already following the run.

    h1 = bw.start(suite, targets_a, progress=False)
    h2 = bw.start(suite, targets_b)
    dash = Dashboard(h1, h2)      # display it; the cell returns while the runs go on
    dash.add(h3)                  # a third run in the same widget
    Dashboard.of(h1) is dash      # True: show it again, never a second display
"""

from __future__ import annotations

import asyncio
import heapq
import html
import math
import random
import time
import weakref
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import anywidget
import traitlets

from benchwork.runner import Event, RunHandle
from benchwork.widgets._assets import asset_text
from benchwork.widgets._kernel import in_current_cell

__all__ = ["Dashboard", "RunningMedian", "eta_s", "sparkline_svg"]

#: how many recent values each sparkline gets
SPARK_POINTS = 30
#: a push waits its throttle interval plus up to this share of one more, at random
JITTER = 0.25


class RunningMedian:
    """The median of a growing list of numbers, O(log n) per value (two heaps).

    The median of an even count is the mean of the two middle values (as ``statistics.median``
    and Polars' linear 0.5 quantile).
    """

    __slots__ = ("_hi", "_lo")

    def __init__(self) -> None:
        self._lo: list[float] = []  # the lower half, negated (a max-heap)
        self._hi: list[float] = []  # the upper half (a min-heap)

    def add(self, x: float) -> None:
        """Add one value (NaN and infinities are refused: they have no place in a median)."""
        if not math.isfinite(x):
            raise ValueError(f"RunningMedian.add: a finite number is needed, not {x!r}")
        if self._lo and x > -self._lo[0]:
            heapq.heappush(self._hi, x)
        else:
            heapq.heappush(self._lo, -x)
        if len(self._lo) > len(self._hi) + 1:
            heapq.heappush(self._hi, -heapq.heappop(self._lo))
        elif len(self._hi) > len(self._lo):
            heapq.heappush(self._lo, -heapq.heappop(self._hi))

    def __len__(self) -> int:
        return len(self._lo) + len(self._hi)

    @property
    def value(self) -> float | None:
        """The median so far, None before the first value."""
        if not self._lo:
            return None
        if len(self._lo) > len(self._hi):
            return -self._lo[0]
        return (-self._lo[0] + self._hi[0]) / 2


def eta_s(seen: int, remaining: int, elapsed_s: float) -> float | None:
    """Seconds left at the average rate so far: ``remaining * elapsed_s / seen``.

    0 when nothing remains; None (unknown) before the first call has finished.
    """
    if remaining <= 0:
        return 0.0
    if seen <= 0 or elapsed_s <= 0:
        return None
    return remaining * elapsed_s / seen


def _get(record: Any, name: str) -> Any:
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)


class _TargetStats:
    """One target's aggregates, updated per record; ``state()`` is what the front end gets."""

    def __init__(self, name: str, total: int) -> None:
        self.name = name
        self.total = total
        self.done = self.errors = self.cached = 0
        self.seen = 0  # calls finished since the dashboard started watching (for the ETA)
        self.by_type: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()
        self.ttft = {True: RunningMedian(), False: RunningMedian()}  # live?, -> median
        self.tps = {True: RunningMedian(), False: RunningMedian()}
        self.recent_ttft: deque[float] = deque(maxlen=SPARK_POINTS)
        self.recent_tps: deque[float] = deque(maxlen=SPARK_POINTS)
        self.cost = 0.0
        self.priced = 0
        self.unpriced = 0

    def add(self, record: Any, *, seen: bool) -> None:
        self.done += 1
        self.seen += seen
        cached = bool(_get(record, "cached"))
        self.cached += cached
        if _get(record, "status") != "ok":
            self.errors += 1
            status = _get(record, "http_status")
            self.by_type[str(_get(record, "error_type") or "unknown")] += 1
            self.by_status[str(status) if status is not None else "none"] += 1
            return
        if _get(record, "warmup"):  # warm-ups are not measured (as in the run's totals)
            return
        ttft, tps = _get(record, "ttft_s"), _get(record, "output_tps")
        if isinstance(ttft, int | float) and math.isfinite(ttft):
            self.ttft[not cached].add(ttft)
            self.recent_ttft.append(round(ttft, 4))
        if isinstance(tps, int | float) and math.isfinite(tps):
            self.tps[not cached].add(tps)
            self.recent_tps.append(round(tps, 2))
        cost = _get(record, "cost_usd")
        if cost is None:
            self.unpriced += 1
        else:
            self.cost += cost
            self.priced += 1

    def cost_usd(self) -> float | None:
        """Cost of the measured ok calls so far; None when any is unknown or there are none."""
        return None if self.unpriced or not self.priced else self.cost

    def state(self, elapsed_s: float) -> dict[str, Any]:
        live = len(self.ttft[True]) > 0 or len(self.tps[True]) > 0
        cached = len(self.ttft[False]) > 0 or len(self.tps[False]) > 0
        eta = eta_s(self.seen, self.total - self.done, elapsed_s)
        return {
            "name": self.name,
            "total": self.total,
            "done": self.done,
            "errors": self.errors,
            "cached": self.cached,
            "errors_by_type": dict(self.by_type.most_common()),
            "errors_by_status": dict(self.by_status.most_common()),
            "ttft_p50_s": self.ttft[live].value if live or cached else None,
            "tps_p50": self.tps[live].value if live or cached else None,
            "speed_from": "live" if live else ("cached" if cached else "none"),
            "ttft_recent": list(self.recent_ttft),
            "tps_recent": list(self.recent_tps),
            "cost_usd": self.cost_usd(),
            "unpriced": self.unpriced,
            "eta_s": None if eta is None else round(eta, 1),
        }


class _RunWatch:
    """One run followed by a dashboard: its handle, targets' aggregates and subscription."""

    def __init__(self, handle: RunHandle, on_event: Callable[[Event], None]) -> None:
        self.handle = handle
        self.started = time.perf_counter()
        self.status: str | None = None  # set from run_finished
        self.final: dict[str, Any] | None = None  # the state once the run is over (frozen)
        self.targets: dict[str, _TargetStats] = {
            name: _TargetStats(name, c["total"]) for name, c in handle.by_target().items()
        }
        for row in handle.results.iter_rows(named=True):  # rows finished before we watched
            self._stats(row["target"]).add(row, seen=False)
        self.inbox: list[Any] = []  # records not yet counted (counted when a state is made)
        self.unsubscribe: Callable[[], None] | None = (
            None if handle.done() else handle.subscribe(on_event)
        )

    def _stats(self, name: str) -> _TargetStats:
        stats = self.targets.get(name)
        if stats is None:
            stats = self.targets[name] = _TargetStats(name, 0)
        return stats

    def add(self, record: Any) -> None:
        """Queue a finished call's record: O(1) on the run's loop, counted at the next state."""
        self.inbox.append(record)

    def _drain(self) -> None:
        inbox, self.inbox = self.inbox, []
        for record in inbox:
            self._stats(record.target).add(record, seen=True)

    def stop(self) -> None:
        if self.unsubscribe is not None:
            self.unsubscribe()
            self.unsubscribe = None

    def state(self) -> dict[str, Any]:
        """The run's state for the front end; frozen once the run is over (elapsed stops)."""
        if self.final is not None:
            return self.final
        self._drain()
        handle = self.handle
        p = handle.progress
        status = self.status or handle.status
        elapsed = time.perf_counter() - self.started
        targets = [t.state(elapsed) for t in self.targets.values()]
        etas = [t["eta_s"] for t in targets]
        unpriced = sum(t.unpriced for t in self.targets.values())
        priced = sum(t.priced for t in self.targets.values())
        finished = status not in ("pending", "running")
        state = {
            "run_id": handle.run_id,
            "status": status,
            "total": p.total,
            "done": p.done,
            "errors": p.errors,
            "cached": p.cached,
            "elapsed_s": round(p.elapsed_s, 1) if status != "pending" else 0.0,
            # targets run side by side: the run ends with its slowest target
            "eta_s": 0.0 if finished else (None if None in etas else max(etas, default=0.0)),
            "cost_usd": None
            if unpriced or not priced
            else sum(t.cost for t in self.targets.values()),
            "unpriced": unpriced,
            "targets": targets,
        }
        if finished and (self.status is not None or handle.done()):  # run_finished: all in
            self.final = state
        return state


class Dashboard(anywidget.AnyWidget):
    """Live statistics of one or more runs started with ``bw.start``: a table per run with a
    row per target and a Cancel button per run.

    ``Dashboard(h1, h2)``, ``dash.add(h3)``, ``Dashboard.of(h1)`` (the widget already following
    the run, or a new one). One widget per run id: adding a run that another dashboard follows
    moves it here (the other drops it). Attaching hides the handle's automatic progress line.
    """

    _esm = asset_text("dashboard.js")
    _css = asset_text("dashboard.css")

    _bw_widget = traitlets.Unicode("Dashboard").tag(sync=True)
    #: one dict per run: run_id, status, total, done, errors, cached, elapsed_s, eta_s,
    #: cost_usd, unpriced, targets (one dict per target, see ``_TargetStats.state``)
    runs = traitlets.List(traitlets.Dict()).tag(sync=True)

    #: run id -> the dashboard following it (one widget per run)
    _registry: ClassVar[weakref.WeakValueDictionary[str, Dashboard]] = weakref.WeakValueDictionary()

    def __init__(self, *handles: RunHandle, max_updates_per_s: float = 5.0, **kwargs: Any):
        if not (isinstance(max_updates_per_s, int | float) and max_updates_per_s > 0):
            raise ValueError(
                f"Dashboard: max_updates_per_s must be a number > 0, not {max_updates_per_s!r}"
            )
        super().__init__(**kwargs)
        self.min_interval_s = 1.0 / max_updates_per_s
        self._watches: dict[str, _RunWatch] = {}
        self._last_push = 0.0
        self._pending: asyncio.TimerHandle | None = None
        self._jitter = random.Random()
        self.pushes = 0  # how many states went to the front end (the benchmark reads it)
        self.on_msg(self._on_msg)
        for handle in handles:
            self.add(handle)

    # -- runs ------------------------------------------------------------------------------
    @classmethod
    def of(cls, *handles: RunHandle) -> Dashboard:
        """The dashboard already following the first of *handles* that has one (the others
        are added to it), else a new one with all of them."""
        for handle in handles:
            _check_handle(handle, "Dashboard.of")
        found = next((d for h in handles if (d := cls._registry.get(h.run_id)) is not None), None)
        if found is None:
            return cls(*handles)
        for handle in handles:
            found.add(handle)
        return found

    def add(self, handle: RunHandle) -> Dashboard:
        """Follow *handle*'s run too (moved here if another dashboard follows it)."""
        _check_handle(handle, "Dashboard.add")
        run_id = handle.run_id
        current = self._watches.get(run_id)
        if current is not None and current.handle is handle:
            self._push()
            return self
        other = type(self)._registry.get(run_id)
        if other is not None and other is not self:
            other.remove(run_id)
        if current is not None:
            current.stop()
        handle.hide_progress()  # this widget shows the run: no second display
        self._watches[run_id] = _RunWatch(handle, lambda e: self._on_event(run_id, e))
        type(self)._registry[run_id] = self
        self._push()
        return self

    def remove(self, run: RunHandle | str) -> None:
        """Stop following a run (by handle or id) and drop it from the display."""
        run_id = run if isinstance(run, str) else run.run_id
        watch = self._watches.pop(run_id, None)
        if watch is None:
            raise KeyError(f"Dashboard.remove: run {run_id!r} is not on this dashboard")
        watch.stop()
        if type(self)._registry.get(run_id) is self:
            del type(self)._registry[run_id]
        self._push()

    @property
    def handles(self) -> list[RunHandle]:
        """The handles of the runs shown, in order."""
        return [w.handle for w in self._watches.values()]

    def cancel(self, run_id: str) -> None:
        """What a run's Cancel button does: cancel that run only (finished rows are kept)."""
        watch = self._watches.get(run_id)
        if watch is None:
            raise KeyError(f"Dashboard.cancel: run {run_id!r} is not on this dashboard")
        if not watch.handle.done():
            watch.handle.cancel()

    def close(self) -> None:
        """Stop following every run and close the widget."""
        watches: dict[str, _RunWatch] = getattr(self, "_watches", {})  # a failed __init__
        for run_id in list(watches):
            watches.pop(run_id).stop()
            if type(self)._registry.get(run_id) is self:
                del type(self)._registry[run_id]
        if getattr(self, "_pending", None) is not None:
            self._pending.cancel()  # type: ignore[union-attr]
            self._pending = None
        super().close()

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "cancel":
            run_id = content.get("run_id")
            if isinstance(run_id, str) and run_id in self._watches:
                self.cancel(run_id)

    # -- events → aggregates → (throttled) traitlets ---------------------------------------
    def _on_event(self, run_id: str, event: Event) -> None:
        """Runs on the run's event loop between its calls, so it only queues: the record waits
        in the run's inbox and is counted when the next (throttled, timer-driven) state is
        made, away from the burst of calls that start as others finish."""
        watch = self._watches.get(run_id)
        if watch is None:
            return
        if event.kind == "call_finished" and event.record is not None:
            watch.add(event.record)
        elif event.kind != "run_finished" and event.kind != "run_started":
            return  # call_started, call_retry: nothing shown changes
        if event.kind == "run_finished":
            watch.status = event.status
            watch.stop()
            self._push()  # the last state always goes out
            return
        if self._pending is None:
            # a random part of an interval on top: a fixed period phase-locks with a regular
            # workload (same TTFT every call, as local servers give) and lands every push on
            # the moment the next wave's first tokens arrive (measured: 1.11x TTFT error at a
            # 200 ms TTFT with a 200 ms period, 0.98x at 213 ms)
            wait = max(self._last_push + self.min_interval_s - time.monotonic(), 0.0)
            wait += self._jitter.uniform(0.0, JITTER) * self.min_interval_s
            try:  # flush the held-back state even if no further event comes soon
                self._pending = asyncio.get_running_loop().call_later(wait, self._push)
            except RuntimeError:  # no loop here (events fed by hand): show it now
                self._push()

    def _push(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self._last_push = time.monotonic()
        self.pushes += 1
        # sent as part of the cell executing now, so an executed notebook keeps the last state
        in_current_cell(setattr, self, "runs", [w.state() for w in self._watches.values()])

    # -- display -----------------------------------------------------------------------------
    def __repr__(self) -> str:
        runs = ", ".join(
            f"{r['run_id']!r} {r['status']} {r['done']}/{r['total']}" for r in self.runs
        )
        return f"Dashboard([{runs}])"

    @classmethod
    def static_html(cls, state: dict[str, Any]) -> str:
        """The last state as static HTML: per run a header and a per-target table, with the
        sparklines as inline SVG (no scripts, no external resources)."""
        runs = state.get("runs")
        runs = [r for r in runs if isinstance(r, dict)] if isinstance(runs, list) else []
        if not runs:
            return f'<div class="benchwork-dashboard" style="{_S_BOX}">no runs</div>'
        return (
            f'<div class="benchwork-dashboard" style="{_S_BOX}">'
            + "".join(_static_run(r) for r in runs)
            + "</div>"
        )


def _check_handle(handle: Any, where: str) -> None:
    if not isinstance(handle, RunHandle):
        raise TypeError(
            f"{where}: expected a RunHandle from bw.start(...), not {type(handle).__name__}; "
            "start the run with h = bw.start(suite, targets) and pass h"
        )


# -- formatting shared by static_html (the JS has the same rules) ------------------------------
_S_BOX = (
    "font-family:system-ui,sans-serif;font-size:13px;color:#1f2328;max-width:900px;"
    "border:1px solid #d8dee4;border-radius:8px;padding:8px 12px"
)
_S_CELL = "padding:3px 8px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:middle"


def _num(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def fmt_ms(seconds: Any) -> str:
    s = _num(seconds)
    return "—" if s is None else f"{s * 1000:.0f} ms"


def fmt_tps(tps: Any) -> str:
    v = _num(tps)
    return "—" if v is None else f"{v:.1f} tok/s"


def fmt_cost(cost: Any, unpriced: Any, *, detail: bool = True) -> str:
    """Unknown when any call's cost is unknown: never the known part shown as the total."""
    if isinstance(unpriced, int) and unpriced > 0:
        return f"unknown ({unpriced} unpriced)" if detail else "unknown"
    c = _num(cost)
    if c is not None and 0 < c < 0.0001:  # spent, but below the shown precision: never "$0"
        return "<$0.0001"
    return "—" if c is None else f"${c:.4f}" if c < 1 else f"${c:.2f}"


def fmt_eta(eta: Any, status: Any = "running") -> str:
    if status not in ("pending", "running"):
        return "—"
    e = _num(eta)
    if e is None:
        return "…"
    return f"{e:.0f} s" if e < 60 else f"{int(e // 60)} min {round(e % 60)} s"


def fmt_errors(target: Mapping[str, Any]) -> str:
    parts = []
    by_status = target.get("errors_by_status")
    by_type = target.get("errors_by_type")
    for key, n in by_status.items() if isinstance(by_status, dict) else []:
        parts.append(f"{'no HTTP status' if key == 'none' else 'HTTP ' + str(key)} ×{n}")
    for key, n in by_type.items() if isinstance(by_type, dict) else []:
        parts.append(f"{key} ×{n}")
    return ", ".join(parts)


def sparkline_svg(values: Any, *, width: int = 64, height: int = 16) -> str:
    """An inline SVG polyline of *values* (empty SVG for fewer than two finite values)."""
    points = [v for v in (values if isinstance(values, list) else []) if _num(v) is not None]
    head = (
        f'<svg class="benchwork-spark" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    )
    if len(points) < 2:
        return head + "</svg>"
    lo, hi = min(points) / 2, max(points) / 2  # halves: hi - lo cannot overflow to inf
    span = hi - lo or 1.0
    step = (width - 2) / (len(points) - 1)
    coords = " ".join(
        f"{1 + i * step:.1f},{height - 1 - (v / 2 - lo) / span * (height - 2):.1f}"
        for i, v in enumerate(points)
    )
    return (
        head + f'<polyline fill="none" stroke="#1976d2" stroke-width="1.5" points="{coords}"/>'
        "</svg>"
    )


def _static_run(run: Mapping[str, Any]) -> str:
    e = html.escape
    status = str(run.get("status", ""))
    head = (
        f'<div style="margin:6px 0"><b>benchwork run</b> <code>{e(str(run.get("run_id", "")))}'
        f"</code> <span>{e(status)}</span> · {e(str(run.get('done', 0)))}/"
        f"{e(str(run.get('total', 0)))} calls · {e(str(run.get('errors', 0)))} errors · cost "
        f"{e(fmt_cost(run.get('cost_usd'), run.get('unpriced')))}"
        f" · ETA {e(fmt_eta(run.get('eta_s'), status))}</div>"
    )
    cols = ("target", "done", "errors", "p50 TTFT", "", "p50 tok/s", "", "cost", "ETA")
    rows = []
    targets = run.get("targets")
    for t in targets if isinstance(targets, list) else []:
        if not isinstance(t, dict):
            continue
        errors = fmt_errors(t)
        cells = (
            e(str(t.get("name", ""))),
            e(f"{t.get('done', 0)}/{t.get('total', 0)}"),
            e(str(t.get("errors", 0))) + (f" <small>({e(errors)})</small>" if errors else ""),
            e(fmt_ms(t.get("ttft_p50_s"))),
            sparkline_svg(t.get("ttft_recent")),
            e(fmt_tps(t.get("tps_p50"))),
            sparkline_svg(t.get("tps_recent")),
            e(fmt_cost(t.get("cost_usd"), t.get("unpriced"), detail=False)),
            e(fmt_eta(t.get("eta_s"), status)),
        )
        rows.append("<tr>" + "".join(f'<td style="{_S_CELL}">{c}</td>' for c in cells) + "</tr>")
    header = "".join(f'<th style="{_S_CELL}">{c}</th>' for c in cols)
    return (
        f'{head}<table style="border-collapse:collapse;margin-bottom:8px">'
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
