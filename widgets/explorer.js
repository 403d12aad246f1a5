// Explorer: a run's results case by case (anywidget front end).
//
// Python sends one page of cases ("rows": id, short input, flags, one heatmap cell per target)
// and the open case ("case": input, expected, per call output/diff/status/scores). The browser
// only sets traits back: filter, search, page, score, case_id and focus_target.

const FILTER_LABELS = {
  all: "all",
  failed: "failed",
  disagree: "scorers disagree",
  split: "judges split",
  regressed: "regressed",
};

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function fmt(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  return Number(v.toPrecision(3)).toString();
}

// score 0..1 -> a red-to-green background (null: grey, failed call: dark red hatch by CSS)
function cellColour(v) {
  if (v === null || v === undefined) return "";
  const x = Math.max(0, Math.min(1, v));
  const hue = Math.round(120 * x);
  return `hsl(${hue}, 60%, 55%)`;
}

function diffNode(ops) {
  const pre = h("pre", "benchwork-ex-diff");
  for (const [op, text] of ops || []) {
    if (op === "-") pre.append(h("del", null, text));
    else if (op === "+") pre.append(h("ins", null, text));
    else pre.append(document.createTextNode(text));
  }
  return pre;
}

export function render({ model, el }) {
  const root = h("div", "benchwork-explorer");

  // -- header: run id, baseline, score picker
  const header = h("div", "benchwork-ex-header");
  const title = h("span", "benchwork-ex-title", "benchwork explorer");
  const runId = h("code", "benchwork-ex-run-id");
  const baseline = h("span", "benchwork-ex-baseline");
  const spacer = h("span", "benchwork-ex-spacer");
  const scoreLabel = h("label", "benchwork-ex-score-label", "colour by ");
  const scoreSelect = h("select", "benchwork-ex-score");
  scoreLabel.append(scoreSelect);
  header.append(title, runId, baseline, spacer, scoreLabel);

  // -- filters and search
  const bar = h("div", "benchwork-ex-filters");
  const search = h("input", "benchwork-ex-search");
  search.type = "search";
  search.placeholder = "search id, input, outputs…";
  const note = h("div", "benchwork-ex-note");

  // -- case list as a heatmap, pager
  const grid = h("table", "benchwork-ex-grid");
  const pager = h("div", "benchwork-ex-pager");
  const prev = h("button", "benchwork-ex-prev", "‹ prev");
  const next = h("button", "benchwork-ex-next", "next ›");
  prev.type = next.type = "button";
  const pageText = h("span", "benchwork-ex-page");
  pager.append(prev, pageText, next);

  const left = h("div", "benchwork-ex-list");
  left.append(bar, search, grid, pager);
  const detail = h("div", "benchwork-ex-detail");
  const body = h("div", "benchwork-ex-body");
  body.append(left, detail);
  root.append(header, note, body);
  el.append(root);

  function set(values) {
    for (const [k, v] of Object.entries(values)) model.set(k, v);
    model.save_changes();
  }

  scoreSelect.addEventListener("change", () => set({ score: scoreSelect.value }));
  prev.addEventListener("click", () => set({ page: Math.max(0, (model.get("page") || 0) - 1) }));
  next.addEventListener("click", () => set({ page: (model.get("page") || 0) + 1 }));
  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => set({ search: search.value }), 200);
  });

  function renderHeader() {
    runId.textContent = model.get("run_id") || "";
    const b = model.get("baseline_id") || "";
    baseline.textContent = b ? `vs baseline ${b}` : "";
    const scores = model.get("scores") || [];
    const current = model.get("score") || "";
    scoreSelect.replaceChildren(
      ...scores.map((s) => {
        const o = h("option", null, s);
        o.value = s;
        o.selected = s === current;
        return o;
      }),
    );
    scoreLabel.hidden = scores.length === 0;
    const n = model.get("note") || "";
    note.textContent = n;
    note.hidden = !n;
  }

  function renderFilters() {
    const counts = model.get("counts") || {};
    const filters = model.get("filters") || {};
    const active = model.get("filter") || "all";
    bar.replaceChildren(
      ...Object.entries(filters).map(([name, help]) => {
        const btn = h("button", "benchwork-ex-filter");
        btn.type = "button";
        btn.dataset.filter = name;
        btn.title = help;
        btn.append(
          h("span", "benchwork-ex-filter-name", FILTER_LABELS[name] || name),
          h("span", "benchwork-ex-count", String(counts[name] ?? 0)),
        );
        btn.classList.toggle("benchwork-ex-active", name === active);
        btn.addEventListener("click", () => set({ filter: name }));
        return btn;
      }),
    );
    if (document.activeElement !== search && search.value !== (model.get("search") || "")) {
      search.value = model.get("search") || "";
    }
  }

  function renderGrid() {
    const targets = model.get("targets") || [];
    const rows = model.get("rows") || [];
    const open = model.get("case_id") || "";
    const focus = model.get("focus_target") || "";
    const head = h("tr");
    head.append(h("th", "benchwork-ex-id-head", "case"));
    for (const t of targets) {
      const th = h("th", "benchwork-ex-target-head", t);
      th.title = t;
      th.classList.toggle("benchwork-ex-focus", t === focus);
      head.append(th);
    }
    head.append(h("th", null, "input"));
    const out = [head];
    for (const row of rows) {
      const tr = h("tr", "benchwork-ex-row");
      tr.dataset.case = row.id;
      tr.classList.toggle("benchwork-ex-open", row.id === open);
      const idCell = h("td", "benchwork-ex-id");
      const idBtn = h("button", "benchwork-ex-case", row.id);
      idBtn.type = "button";
      idBtn.addEventListener("click", () => set({ case_id: row.id, focus_target: "" }));
      idCell.append(idBtn);
      for (const flag of row.flags || []) idCell.append(h("span", `benchwork-ex-flag benchwork-ex-flag-${flag}`, "•"));
      idCell.title = (row.flags || []).join(", ");
      tr.append(idCell);
      (row.cells || []).forEach((cell, i) => {
        const td = h("td", "benchwork-ex-cell");
        td.dataset.target = targets[i];
        td.dataset.case = row.id;
        if (cell.err) td.classList.add("benchwork-ex-cell-err");
        if (cell.none) td.classList.add("benchwork-ex-cell-none");
        td.style.background = cellColour(cell.v);
        td.textContent = cell.err ? "err" : fmt(cell.v);
        td.title = `${row.id} × ${targets[i]}: ${cell.err ? "failed" : fmt(cell.v)}`;
        td.addEventListener("click", () => set({ case_id: row.id, focus_target: targets[i] }));
        tr.append(td);
      });
      const input = h("td", "benchwork-ex-input", row.input || "");
      input.title = row.input || "";
      tr.append(input);
      out.push(tr);
    }
    grid.replaceChildren(...out);
    const page = model.get("page") || 0;
    const pages = model.get("pages") || 1;
    pageText.textContent = `page ${page + 1} of ${pages} · ${model.get("matches") || 0} cases`;
    prev.disabled = page <= 0;
    next.disabled = page >= pages - 1;
  }

  function scoreNode(s) {
    const box = h("div", "benchwork-ex-score-box");
    const head = h("div", "benchwork-ex-score-head");
    const v = h("span", "benchwork-ex-score-value", fmt(s.value));
    if (s.pass === true) v.classList.add("benchwork-ex-pass");
    if (s.pass === false) v.classList.add("benchwork-ex-fail");
    head.append(h("span", "benchwork-ex-score-name", s.name), v);
    if (s.agreement !== null && s.agreement !== undefined) {
      const a = h("span", "benchwork-ex-agreement", `agreement ${fmt(s.agreement)}`);
      if (s.agreement < 1) a.classList.add("benchwork-ex-split");
      head.append(a);
    }
    if (s.baseline !== null && s.baseline !== undefined) {
      head.append(h("span", "benchwork-ex-was", `was ${fmt(s.baseline)}`));
    }
    box.append(head);
    if (s.explanation) box.append(h("div", "benchwork-ex-explanation", s.explanation));
    return box;
  }

  function renderDetail() {
    const c = model.get("case") || {};
    const focus = model.get("focus_target") || "";
    if (!c.id) {
      detail.replaceChildren(h("div", "benchwork-ex-empty", "no case open"));
      return;
    }
    const head = h("div", "benchwork-ex-case-head");
    head.append(h("span", null, "case "), h("b", "benchwork-ex-case-id", c.id));
    for (const flag of c.flags || []) head.append(h("span", `benchwork-ex-tag benchwork-ex-flag-${flag}`, FILTER_LABELS[flag] || flag));
    const parts = [head];
    if (c.input) {
      parts.push(h("div", "benchwork-ex-label", "input"), h("pre", "benchwork-ex-input-text", c.input));
    }
    if ((c.expected || []).length) {
      parts.push(h("div", "benchwork-ex-label", "expected"), h("pre", "benchwork-ex-expected", c.expected.join(" | ")));
    }
    const calls = h("div", "benchwork-ex-calls");
    for (const call of c.calls || []) {
      const col = h("div", "benchwork-ex-call");
      col.dataset.target = call.target;
      col.classList.toggle("benchwork-ex-focus", call.target === focus);
      const name = call.repeat ? `${call.target} #${call.repeat}` : call.target;
      const top = h("div", "benchwork-ex-call-head");
      top.append(h("b", "benchwork-ex-call-target", name));
      const st = h("span", `benchwork-ex-status benchwork-ex-status-${call.status === "ok" ? "ok" : "err"}`, call.status);
      top.append(st);
      if (call.latency_s !== null && call.latency_s !== undefined) top.append(h("span", "benchwork-ex-latency", `${fmt(call.latency_s)} s`));
      col.append(top);
      if (call.error) col.append(h("div", "benchwork-ex-error", call.error));
      col.append(h("div", "benchwork-ex-label", "output"));
      if (call.output === null || call.output === undefined) col.append(h("div", "benchwork-ex-no-output", "no output"));
      else col.append(h("pre", "benchwork-ex-output", call.output));
      if (call.diff) col.append(h("div", "benchwork-ex-label", "diff vs expected"), diffNode(call.diff));
      for (const s of call.scores || []) col.append(scoreNode(s));
      calls.append(col);
    }
    parts.push(calls);
    detail.replaceChildren(...parts);
  }

  function update() {
    renderHeader();
    renderFilters();
    renderGrid();
    renderDetail();
  }

  model.on("change", update);
  update();
  return () => {
    clearTimeout(typing);
    model.off("change", update);
  };
}

export default { render };
