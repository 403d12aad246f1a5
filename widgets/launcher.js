// Launcher: discover models, pick targets and parameters, see the cost, start a run.
//
// The widget holds no logic of its own: every button sends a custom message that calls a
// method of the Python Launcher (discover, add_discovered, set_param, launch, ...), and
// everything shown is a traitlet the Python side computed (models, picks, issues, estimate).

const STANDARD = ["temperature", "top_p", "max_tokens", "seed"];
const PLACEHOLDER = { temperature: "0–2", top_p: "0–1", max_tokens: "≥1", seed: "int" };

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(className, text, title) {
  const b = h("button", `benchwork-launcher-button ${className}`, text);
  b.type = "button";
  if (title) b.title = title;
  return b;
}

function input(className, placeholder, title) {
  const i = h("input", `benchwork-launcher-input ${className}`);
  i.type = "text";
  i.placeholder = placeholder || "";
  if (title) i.title = title;
  i.spellcheck = false;
  return i;
}

// an edit counts when the field loses focus or on Enter (never on every keystroke)
function onCommit(node, fn) {
  let last = node.value;
  const commit = () => {
    if (node.value !== last) {
      last = node.value;
      fn(node.value);
    }
  };
  node.addEventListener("change", commit);
  node.addEventListener("keydown", (e) => e.key === "Enter" && commit());
  return (value) => {
    last = value;
  };
}

function money(v) {
  return typeof v === "number" ? `$${v < 0.01 && v > 0 ? v.toPrecision(2) : v.toFixed(4)}` : "unknown";
}

function perMtok(inp, out) {
  if (typeof inp !== "number" && typeof out !== "number") return "—";
  const f = (v) => (typeof v === "number" ? `$${v}` : "?");
  return `${f(inp)} / ${f(out)}`;
}

function count(v) {
  return typeof v === "number" ? v.toLocaleString("en-US") : "—";
}

function shown(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function otherText(params) {
  return Object.entries(params || {})
    .filter(([k]) => !STANDARD.includes(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");
}

// set an input's value unless the user is typing in it
function sync(node, value) {
  if (document.activeElement !== node && node.value !== value) {
    node.value = value;
    if (node.bwSeen) node.bwSeen(value);
  }
}

function table(className, headers) {
  const t = h("table", `benchwork-launcher-table ${className}`);
  const head = h("tr");
  for (const name of headers) head.append(h("th", "", name));
  const thead = h("thead");
  thead.append(head);
  const body = h("tbody");
  t.append(thead, body);
  return { node: t, body };
}

export function render({ model, el }) {
  const send = (msg) => model.send(msg);
  const root = h("div", "benchwork-launcher");

  // -- header ---------------------------------------------------------------------------
  const header = h("div", "benchwork-launcher-header");
  const suite = h("span", "benchwork-launcher-suite");
  header.append(h("span", "benchwork-launcher-title", "benchwork launcher"), suite);

  // -- discovery ------------------------------------------------------------------------
  const disc = h("div", "benchwork-launcher-section benchwork-launcher-discovery");
  const bar = h("div", "benchwork-launcher-row");
  const apiBase = input("benchwork-launcher-api-base", "http://127.0.0.1:8000/v1", "OpenAI-compatible base URL");
  const provider = input("benchwork-launcher-provider", "openai", "litellm provider prefix for these models");
  const keyEnv = input("benchwork-launcher-key-env", "key variable (optional)", "NAME of the environment variable with the API key");
  const discover = button("benchwork-launcher-discover", "Discover", "List the models at {api base}/models");
  bar.append(apiBase, provider, keyEnv, discover);
  const discError = h("div", "benchwork-launcher-discover-error");
  const models = table("benchwork-launcher-models", ["model", "owner", "context", "$ / Mtok in / out", ""]);
  disc.append(h("div", "benchwork-launcher-label", "Models on a server"), bar, discError, models.node);

  const send_discover = () => {
    discover.disabled = true;
    discover.textContent = "Discovering…";
    send({ type: "discover", api_base: apiBase.value, api_key_env: keyEnv.value });
  };
  discover.addEventListener("click", send_discover);
  apiBase.addEventListener("keydown", (e) => e.key === "Enter" && send_discover());
  provider.addEventListener("change", () => {
    model.set("provider", provider.value.trim() || "openai");
    model.save_changes();
  });

  // -- litellm's known models ------------------------------------------------------------
  const known = h("details", "benchwork-launcher-section benchwork-launcher-known-section");
  const summary = h("summary", "benchwork-launcher-label", "Models litellm knows (priced)");
  const kbar = h("div", "benchwork-launcher-row");
  const search = input("benchwork-launcher-search", "search, e.g. haiku", "filter by name");
  const kprov = h("select", "benchwork-launcher-input benchwork-launcher-known-provider");
  const kcount = h("span", "benchwork-launcher-muted benchwork-launcher-known-count");
  kbar.append(search, kprov, kcount);
  const knownTable = table("benchwork-launcher-known", ["model", "provider", "context", "$ / Mtok in / out", ""]);
  known.append(summary, kbar, knownTable.node);
  let timer = null;
  const askKnown = () => send({ type: "known", query: search.value, provider: kprov.value });
  known.addEventListener("toggle", () => known.open && askKnown());
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(askKnown, 250);
  });
  kprov.addEventListener("change", askKnown);

  // -- targets ----------------------------------------------------------------------------
  const picks = h("div", "benchwork-launcher-section benchwork-launcher-picks");
  const targets = table("benchwork-launcher-targets", ["target", "model", ...STANDARD, "other (key=value, …)", ""]);
  const addBar = h("div", "benchwork-launcher-row");
  const addModel = input("benchwork-launcher-add-model", "or type a litellm model id, e.g. anthropic/claude-3-5-haiku-latest");
  const addButton = button("benchwork-launcher-add-typed", "Add");
  addBar.append(addModel, addButton);
  addButton.addEventListener("click", () => {
    if (addModel.value.trim()) send({ type: "add", model: addModel.value.trim() });
    addModel.value = "";
  });
  picks.append(h("div", "benchwork-launcher-label", "Targets and parameters"), targets.node, addBar);

  // -- estimate and start ---------------------------------------------------------------
  const est = h("div", "benchwork-launcher-section benchwork-launcher-estimate-section");
  const estTable = table("benchwork-launcher-estimate", ["target", "calls", "input tokens", "output tokens", "cost"]);
  const total = h("div", "benchwork-launcher-total");
  est.append(h("div", "benchwork-launcher-label", "Cost estimate"), estTable.node, total);

  const foot = h("div", "benchwork-launcher-row benchwork-launcher-footer");
  const start = button("benchwork-launcher-start", "Start", "Start the run in the background");
  const message = h("span", "benchwork-launcher-message");
  foot.append(start, message);
  start.addEventListener("click", () => send({ type: "start" }));
  const runs = h("ul", "benchwork-launcher-runs");

  root.append(header, disc, known, picks, est, foot, runs);
  el.append(root);

  // -- rendering ------------------------------------------------------------------------
  function addCell(row, onClick) {
    const cell = h("td");
    const b = button("benchwork-launcher-add", "Add");
    b.addEventListener("click", onClick);
    cell.append(b);
    row.append(cell);
  }

  function renderModels() {
    models.body.replaceChildren();
    for (const m of model.get("models") || []) {
      const row = h("tr", "benchwork-launcher-model");
      row.dataset.id = m.id;
      row.append(
        h("td", "benchwork-launcher-model-id", m.id),
        h("td", "", m.owned_by || ""),
        h("td", "", count(m.context_window)),
        h("td", "", perMtok(m.input_per_mtok, m.output_per_mtok)),
      );
      addCell(row, () => send({ type: "add_discovered", id: m.id }));
      models.body.append(row);
    }
    const err = model.get("discover_error") || "";
    discError.textContent = err;
    discError.hidden = !err;
    models.node.hidden = !(model.get("models") || []).length;
    sync(apiBase, model.get("api_base") || "");
    sync(provider, model.get("provider") || "");
    sync(keyEnv, model.get("api_key_env") || "");
  }

  function renderKnown() {
    const wanted = model.get("known_provider") || "";
    const names = ["", ...(model.get("known_providers") || [])];
    if (kprov.options.length !== names.length) {
      kprov.replaceChildren(...names.map((n) => {
        const o = h("option", "", n || "all providers");
        o.value = n;
        return o;
      }));
    }
    if (document.activeElement !== kprov) kprov.value = wanted;
    sync(search, model.get("known_query") || "");
    knownTable.body.replaceChildren();
    const rows = model.get("known") || [];
    for (const m of rows) {
      const row = h("tr", "benchwork-launcher-known-model");
      row.dataset.model = m.model;
      row.append(
        h("td", "", m.model),
        h("td", "", m.provider || ""),
        h("td", "", count(m.context_window)),
        h("td", "", perMtok(m.input_per_mtok, m.output_per_mtok)),
      );
      addCell(row, () => send({ type: "add_known", model: m.model, provider: m.provider }));
      knownTable.body.append(row);
    }
    const n = model.get("known_matches") || 0;
    kcount.textContent = n > rows.length ? `${n} matches (first ${rows.length} shown)` : `${n} matches`;
  }

  const rowsByName = new Map();
  function targetRow(name) {
    let r = rowsByName.get(name);
    if (r) return r;
    const row = h("tr", "benchwork-launcher-target");
    row.dataset.name = name;
    const label = h("td", "benchwork-launcher-target-name", name);
    const modelCell = h("td", "benchwork-launcher-target-model");
    row.append(label, modelCell);
    const inputs = {};
    for (const key of STANDARD) {
      const cell = h("td");
      const i = input("benchwork-launcher-param", PLACEHOLDER[key], key);
      i.dataset.param = key;
      const seen = onCommit(i, (value) => send({ type: "set_param", name, key, value }));
      i.bwSeen = seen;
      cell.append(i);
      row.append(cell);
      inputs[key] = i;
    }
    const otherCell = h("td");
    const other = input("benchwork-launcher-other", "top_k=40", "more parameters: key=value, …");
    other.bwSeen = onCommit(other, (text) => send({ type: "set_other", name, text }));
    otherCell.append(other);
    const removeCell = h("td");
    const remove = button("benchwork-launcher-remove", "✕", "Remove this target");
    remove.addEventListener("click", () => send({ type: "remove", name }));
    removeCell.append(remove);
    row.append(otherCell, removeCell);
    const flagRow = h("tr", "benchwork-launcher-flag-row");
    const flagCell = h("td", "benchwork-launcher-flag");
    flagCell.colSpan = STANDARD.length + 4;
    flagRow.append(flagCell);
    r = { row, flagRow, flagCell, modelCell, inputs, other };
    rowsByName.set(name, r);
    return r;
  }

  function renderTargets() {
    const issues = model.get("issues") || {};
    const accepted = model.get("accepted") || {};
    const seen = new Set();
    const ordered = [];
    for (const p of model.get("picks") || []) {
      seen.add(p.name);
      const r = targetRow(p.name);
      r.modelCell.textContent = p.model;
      r.modelCell.title = p.api_base ? `${p.model} at ${p.api_base}` : p.model;
      for (const key of STANDARD) sync(r.inputs[key], shown((p.params || {})[key]));
      sync(r.other, otherText(p.params));
      const flags = issues[p.name] || [];
      r.flagCell.textContent = flags.join("; ");
      r.flagCell.title = (accepted[p.name] || []).length ? `accepts: ${accepted[p.name].join(", ")}` : "";
      r.flagRow.hidden = !flags.length;
      r.row.classList.toggle("benchwork-launcher-flagged", flags.length > 0);
      ordered.push(r.row, r.flagRow);
    }
    for (const [name, r] of rowsByName) {
      if (!seen.has(name)) rowsByName.delete(name);
    }
    // re-insert only when the rows changed: moving a row would blur the field being edited
    const current = Array.from(targets.body.children);
    if (current.length !== ordered.length || current.some((node, i) => node !== ordered[i])) {
      targets.body.replaceChildren(...ordered);
    }
    targets.node.hidden = !ordered.length;
    root.classList.toggle("benchwork-launcher-blocked", Object.keys(issues).length > 0);
  }

  function renderEstimate() {
    estTable.body.replaceChildren();
    const rows = model.get("estimate_rows") || [];
    for (const r of rows) {
      const row = h("tr", "benchwork-launcher-estimate-row");
      row.dataset.target = r.target;
      const cost = h("td", "benchwork-launcher-cost", money(r.cost_usd));
      cost.classList.toggle("benchwork-launcher-unknown", typeof r.cost_usd !== "number");
      row.append(
        h("td", "", r.target),
        h("td", "", count(r.calls)),
        h("td", "", count(r.input_tokens)),
        h("td", "", `${count(r.output_tokens)}${r.output_is_bound ? " (max)" : " (assumed)"}`),
        cost,
      );
      estTable.body.append(row);
    }
    const t = model.get("estimate_total") || {};
    let text = "";
    if (rows.length) {
      text = `total: ${money(t.cost_usd)} for ${count(t.calls)} calls`;
      if ((t.unknown || []).length) {
        text += ` — no price for ${t.unknown.join(", ")}; priced targets: ${money(t.priced_usd)}`;
      }
    } else if (t.problem) {
      text = t.problem;
    } else if (!model.get("suite_name")) {
      text = "no suite: the estimate needs Launcher(suite, …)";
    }
    total.textContent = text;
    estTable.node.hidden = !rows.length;
  }

  function renderFooter() {
    const name = model.get("suite_name");
    suite.textContent = name ? `${name} · ${model.get("suite_cases")} cases` : "no suite";
    const text = model.get("message") || "";
    message.textContent = text;
    message.classList.toggle("benchwork-launcher-error", !!model.get("message_is_error"));
    runs.replaceChildren(
      ...(model.get("runs") || []).map((r) => {
        const li = h("li", `benchwork-launcher-run benchwork-launcher-run-${r.status}`);
        li.dataset.runId = r.run_id;
        li.append(h("code", "", r.run_id), h("span", "benchwork-launcher-run-status", r.status),
          h("span", "benchwork-launcher-muted", `${r.done}/${r.total} calls · ${r.errors} errors`));
        return li;
      }),
    );
  }

  // Python answers each message with {type: "done"} (whatever the outcome): buttons come back
  function onCustom(msg) {
    if (msg && msg.type === "done") {
      discover.disabled = false;
      discover.textContent = "Discover";
      start.disabled = false;
    }
  }
  model.on("msg:custom", onCustom);
  start.addEventListener("click", () => {
    start.disabled = true;
  });

  const handlers = [
    ["change:models change:discover_error change:api_base change:provider change:api_key_env", renderModels],
    ["change:known change:known_matches change:known_providers change:known_query change:known_provider", renderKnown],
    ["change:picks change:issues change:accepted", renderTargets],
    ["change:estimate_rows change:estimate_total change:suite_name", renderEstimate],
    ["change:message change:message_is_error change:runs change:suite_name change:suite_cases", renderFooter],
  ];
  for (const [events, fn] of handlers) model.on(events, fn);
  renderModels();
  renderKnown();
  renderTargets();
  renderEstimate();
  renderFooter();
  return () => {
    for (const [events, fn] of handlers) model.off(events, fn);
    model.off("msg:custom", onCustom);
  };
}

export default { render };
