// Dashboard: live per-target statistics of one or more benchwork runs (anywidget front end).
//
// Everything shown comes from the synced `runs` list, which the Python side aggregates from
// the runs' events and sends at most a few times a second. The only message sent back is
// {type: "cancel", run_id}, which cancels that run (and only that one).
// Formatting follows benchwork/widgets/_dashboard.py (static_html), so an exported notebook
// reads the same.

const ACTIVE = new Set(["pending", "running"]);
const SVG = "http://www.w3.org/2000/svg";

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function num(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function fmtMs(s) {
  const v = num(s);
  return v === null ? "—" : `${(v * 1000).toFixed(0)} ms`;
}

function fmtTps(t) {
  const v = num(t);
  return v === null ? "—" : `${v.toFixed(1)} tok/s`;
}

// unknown when any call's cost is unknown: never the known part shown as the total
function fmtCost(cost, unpriced, detail = true) {
  if (Number.isInteger(unpriced) && unpriced > 0) {
    return detail ? `unknown (${unpriced} unpriced)` : "unknown";
  }
  const c = num(cost);
  if (c === null) return "—";
  if (c > 0 && c < 0.0001) return "<$0.0001"; // spent, but below the shown precision
  return c < 1 ? `$${c.toFixed(4)}` : `$${c.toFixed(2)}`;
}

function fmtEta(eta, status) {
  if (!ACTIVE.has(status)) return "—";
  const e = num(eta);
  if (e === null) return "…";
  return e < 60 ? `${e.toFixed(0)} s` : `${Math.floor(e / 60)} min ${Math.round(e % 60)} s`;
}

function fmtSeconds(s) {
  const v = num(s);
  if (v === null) return "";
  return v < 60 ? `${v.toFixed(1)} s` : `${Math.floor(v / 60)} min ${Math.round(v % 60)} s`;
}

function errorParts(t) {
  const parts = [];
  for (const [key, n] of Object.entries(t.errors_by_status || {})) {
    parts.push({
      cls: "benchwork-dash-err-status",
      text: `${key === "none" ? "no HTTP status" : `HTTP ${key}`} ×${n}`,
    });
  }
  for (const [key, n] of Object.entries(t.errors_by_type || {})) {
    parts.push({ cls: "benchwork-dash-err-type", text: `${key} ×${n}` });
  }
  return parts;
}

function sparkline(values, width = 64, height = 16) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "benchwork-spark");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const pts = (values || []).filter((v) => num(v) !== null);
  svg.dataset.points = String(pts.length);
  if (pts.length < 2) return svg;
  const lo = Math.min(...pts) / 2; // halves: hi - lo cannot overflow to Infinity
  const hi = Math.max(...pts) / 2;
  const span = hi - lo || 1;
  const step = (width - 2) / (pts.length - 1);
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute(
    "points",
    pts
      .map((v, i) => `${(1 + i * step).toFixed(1)},${(height - 1 - ((v / 2 - lo) / span) * (height - 2)).toFixed(1)}`)
      .join(" "),
  );
  svg.append(line);
  return svg;
}

const COLUMNS = ["target", "done", "errors", "p50 TTFT", "p50 tok/s", "cost", "ETA"];

function runSection(model, cancelSent) {
  const section = h("section", "benchwork-dash-run");
  const header = h("div", "benchwork-dash-header");
  const title = h("span", "benchwork-dash-title", "benchwork run");
  const runId = h("code", "benchwork-dash-run-id");
  const status = h("span", "benchwork-dash-status");
  const summary = h("span", "benchwork-dash-summary");
  const spacer = h("span", "benchwork-dash-spacer");
  const cancel = h("button", "benchwork-dash-cancel", "Cancel");
  cancel.type = "button";
  cancel.title = "Cancel this run only; its finished rows are kept";
  header.append(title, runId, status, summary, spacer, cancel);

  const table = h("table", "benchwork-dash-table");
  const head = h("tr");
  for (const c of COLUMNS) head.append(h("th", "", c));
  table.append(h("thead"), h("tbody"));
  table.tHead.append(head);
  section.append(header, table);

  cancel.addEventListener("click", () => {
    const id = section.dataset.runId;
    if (cancel.disabled || !id) return;
    cancelSent.add(id);
    cancel.disabled = true;
    cancel.textContent = "Cancelling…";
    model.send({ type: "cancel", run_id: id });
  });

  const rows = new Map();
  function row(name) {
    let r = rows.get(name);
    if (!r) {
      const tr = h("tr", "benchwork-dash-target");
      tr.dataset.target = name;
      const cells = {};
      for (const key of ["name", "done", "errors", "ttft", "tps", "cost", "eta"]) {
        cells[key] = h("td", `benchwork-dash-${key}`);
        tr.append(cells[key]);
      }
      cells.name.textContent = name;
      cells.name.title = name;
      table.tBodies[0].append(tr);
      r = { tr, cells };
      rows.set(name, r);
    }
    return r;
  }

  function update(run) {
    const st = run.status || "pending";
    section.dataset.runId = run.run_id;
    section.dataset.status = st;
    runId.textContent = run.run_id;
    status.textContent = st;
    status.className = `benchwork-dash-status benchwork-dash-status-${st}`;
    const parts = [
      `${run.done || 0}/${run.total || 0} calls`,
      `${run.errors || 0} errors`,
      `cost ${fmtCost(run.cost_usd, run.unpriced)}`,
      fmtSeconds(run.elapsed_s),
    ];
    if (ACTIVE.has(st)) parts.push(`ETA ${fmtEta(run.eta_s, st)}`);
    summary.textContent = parts.filter(Boolean).join(" · ");
    const active = ACTIVE.has(st);
    cancel.hidden = !active;
    cancel.disabled = !active || cancelSent.has(run.run_id);
    if (!cancelSent.has(run.run_id)) cancel.textContent = "Cancel";

    const seen = new Set();
    for (const t of run.targets || []) {
      seen.add(t.name);
      const { tr, cells } = row(t.name);
      cells.done.textContent = `${t.done}/${t.total}`;
      tr.classList.toggle("benchwork-dash-target-done", t.total > 0 && t.done >= t.total);
      const errs = h("span", "benchwork-dash-err-count", String(t.errors || 0));
      const detail = h("span", "benchwork-dash-err-detail");
      for (const p of errorParts(t)) detail.append(h("span", p.cls, p.text));
      cells.errors.replaceChildren(errs, detail);
      cells.errors.classList.toggle("benchwork-dash-has-errors", (t.errors || 0) > 0);
      const from = t.speed_from === "cached" ? " (cached)" : "";
      cells.ttft.replaceChildren(
        h("span", "benchwork-dash-value", fmtMs(t.ttft_p50_s) + from),
        sparkline(t.ttft_recent),
      );
      cells.tps.replaceChildren(
        h("span", "benchwork-dash-value", fmtTps(t.tps_p50) + from),
        sparkline(t.tps_recent),
      );
      cells.cost.textContent = fmtCost(t.cost_usd, t.unpriced, false);
      cells.cost.title = t.unpriced ? `${t.unpriced} calls have no known price` : "";
      cells.eta.textContent = fmtEta(t.eta_s, st);
    }
    for (const [name, r] of rows) {
      if (!seen.has(name)) {
        r.tr.remove();
        rows.delete(name);
      }
    }
  }

  return { section, update };
}

export function render({ model, el }) {
  const root = h("div", "benchwork-dashboard");
  const empty = h("div", "benchwork-dash-empty", "no runs");
  root.append(empty);
  el.append(root);

  const cancelSent = new Set();
  const sections = new Map();

  function update() {
    const runs = model.get("runs") || [];
    const seen = new Set();
    runs.forEach((run, i) => {
      seen.add(run.run_id);
      let s = sections.get(run.run_id);
      if (!s) {
        s = runSection(model, cancelSent);
        sections.set(run.run_id, s);
      }
      const at = root.children[i + 1] || null; // after the "no runs" line: the model's order
      if (at !== s.section) root.insertBefore(s.section, at);
      s.update(run);
    });
    for (const [id, s] of sections) {
      if (!seen.has(id)) {
        s.section.remove();
        sections.delete(id);
      }
    }
    empty.hidden = runs.length > 0;
  }

  model.on("change:runs", update);
  update();
  return () => model.off("change:runs", update);
}

export default { render };
