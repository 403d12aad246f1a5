// RunProgress: live progress of a benchwork run (anywidget front end).
//
// Everything shown here comes from traitlets the Python side sets from the run's events;
// the only thing the widget sends back is {type: "cancel"}, which calls handle.cancel().

const ACTIVE = new Set(["pending", "running"]);

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function pct(part, whole) {
  if (!whole) return 0;
  return Math.max(0, Math.min(100, (100 * part) / whole));
}

function seconds(s) {
  if (!Number.isFinite(s)) return "";
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function bar(className) {
  const track = h("div", `benchwork-bar ${className || ""}`.trim());
  const ok = h("div", "benchwork-bar-ok");
  const err = h("div", "benchwork-bar-err");
  track.append(ok, err);
  return {
    track,
    set(done, errors, total) {
      ok.style.width = `${pct(done - errors, total)}%`;
      err.style.width = `${pct(errors, total)}%`;
    },
  };
}

export function render({ model, el }) {
  const root = h("div", "benchwork-progress");

  const header = h("div", "benchwork-header");
  const title = h("span", "benchwork-title", "benchwork run");
  const runId = h("code", "benchwork-run-id");
  const status = h("span", "benchwork-status");
  const spacer = h("span", "benchwork-spacer");
  const cancel = h("button", "benchwork-cancel", "Cancel");
  cancel.type = "button";
  cancel.title = "Stop in-flight calls; finished rows are kept";
  header.append(title, runId, status, spacer, cancel);

  const main = bar("benchwork-bar-main");
  const counts = h("div", "benchwork-counts");
  const targets = h("div", "benchwork-targets");
  const lastError = h("div", "benchwork-last-error");
  root.append(header, main.track, counts, targets, lastError);
  el.append(root);

  let cancelSent = false;
  cancel.addEventListener("click", () => {
    if (cancel.disabled) return;
    cancelSent = true;
    cancel.disabled = true;
    cancel.textContent = "Cancelling…";
    model.send({ type: "cancel" });
  });

  const rows = new Map();
  function targetRow(name) {
    let row = rows.get(name);
    if (!row) {
      const node = h("div", "benchwork-target");
      const label = h("span", "benchwork-target-name", name);
      label.title = name;
      const mini = bar("benchwork-bar-mini");
      const text = h("span", "benchwork-target-counts");
      node.append(label, mini.track, text);
      targets.append(node);
      row = { node, mini, text };
      rows.set(name, row);
    }
    return row;
  }

  function update() {
    const st = model.get("status") || "pending";
    const total = model.get("total") || 0;
    const done = model.get("done") || 0;
    const errors = model.get("errors") || 0;
    const cached = model.get("cached") || 0;
    const retries = model.get("retries") || 0;

    root.dataset.status = st;
    runId.textContent = model.get("run_id") || "";
    status.textContent = st;
    status.className = `benchwork-status benchwork-status-${st}`;
    main.set(done, errors, total);

    const parts = [`${done}/${total} calls`, `${errors} errors`, `${cached} cached`];
    if (retries) parts.push(`${retries} retries`);
    parts.push(seconds(model.get("elapsed_s")));
    counts.textContent = parts.join(" · ");

    const active = ACTIVE.has(st);
    cancel.hidden = !active;
    cancel.disabled = !active || cancelSent;

    const seen = new Set();
    for (const t of model.get("targets") || []) {
      seen.add(t.name);
      const row = targetRow(t.name);
      row.mini.set(t.done, t.errors, t.total);
      let text = `${t.done}/${t.total}`;
      if (t.errors) text += ` · ${t.errors} err`;
      if (t.cached) text += ` · ${t.cached} cached`;
      row.text.textContent = text;
      row.node.classList.toggle("benchwork-target-done", t.total > 0 && t.done >= t.total);
    }
    for (const [name, row] of rows) {
      if (!seen.has(name)) {
        row.node.remove();
        rows.delete(name);
      }
    }

    const err = model.get("last_error") || "";
    lastError.textContent = err ? `last error: ${err}` : "";
    lastError.hidden = !err;
  }

  model.on("change", update);
  update();
  return () => model.off("change", update);
}

export default { render };
