// TuningView: a prompt tuner's candidates (anywidget front end).
//
// Everything shown comes from traitlets the Python side computes (candidates with their dev
// intervals and word diffs, per-generation summaries, the winner and its held-out check).
// The front end sets `selected` when a candidate is clicked and sends {type: "use", candidate}
// for "Use this prompt"; Python looks the prompt up and sets `chosen` / `chosen_prompt`.
// With a tuner attached (`can_tune`, from TuningView.tuner) a bar of controls edits the knobs
// (`tune_options`: mode, k, population, generations, budget_calls) and sends {type: "start"}
// for Tune and {type: "cancel"} for Cancel; Python runs the tuning and reports `run_status`
// and `run_message`.

const SVG = "http://www.w3.org/2000/svg";

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function s(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

function num(x) {
  return typeof x === "number" && Number.isFinite(x);
}

function fmt(x, digits = 3) {
  return num(x) ? x.toFixed(digits) : "–";
}

function signed(x) {
  return num(x) ? (x >= 0 ? "+" : "") + x.toFixed(3) : "–";
}

function confirmationText(c) {
  if (!c || !Object.keys(c).length) return "";
  let text = `held-out, winner − original: ${signed(c.diff)} [${fmt(c.diff_lo)}, ${fmt(c.diff_hi)}]`;
  if (num(c.p_holm)) text += `, p (Holm) = ${Number(c.p_holm.toPrecision(3))}`;
  if (num(c.n_pairs)) text += `, ${c.n_pairs} pairs`;
  text += ` → ${c.verdict || "not compared"}`;
  return text + (c.confirmed ? " (confirmed)" : " (not confirmed)");
}

function diffNode(diff) {
  const box = h("div", "benchwork-tuning-diff");
  for (const [op, text] of diff || []) {
    if (op === "+") box.append(h("ins", "", text));
    else if (op === "-") box.append(h("del", "", text));
    else box.append(document.createTextNode(text));
  }
  return box;
}

function whisker(c, scale, width = 160) {
  const [lo, hi] = scale && scale.length === 2 ? scale : [0, 1];
  const span = hi - lo || 1;
  const x = (v) => 4 + ((width - 8) * (v - lo)) / span;
  const svg = s("svg", {
    class: "benchwork-tuning-whisker",
    width,
    height: 14,
    viewBox: `0 0 ${width} 14`,
  });
  svg.append(s("line", { class: "benchwork-tuning-axis", x1: 4, y1: 7, x2: width - 4, y2: 7 }));
  if (num(c.dev_lo) && num(c.dev_hi)) {
    const [a, b] = [x(c.dev_lo), x(c.dev_hi)];
    svg.append(s("line", { class: "benchwork-tuning-ci", x1: a, y1: 7, x2: b, y2: 7 }));
    svg.append(s("line", { class: "benchwork-tuning-ci-end", x1: a, y1: 3, x2: a, y2: 11 }));
    svg.append(s("line", { class: "benchwork-tuning-ci-end", x1: b, y1: 3, x2: b, y2: 11 }));
  }
  if (num(c.dev_mean)) {
    svg.append(s("circle", { class: "benchwork-tuning-mean", cx: x(c.dev_mean), cy: 7, r: 3.5 }));
  }
  const title = s("title");
  title.textContent = `${fmt(c.dev_mean)} [${fmt(c.dev_lo)}, ${fmt(c.dev_hi)}]`;
  svg.append(title);
  return svg;
}

function chart(generations, scale) {
  const [w, ht, pad] = [320, 120, 24];
  const [lo, hi] = scale && scale.length === 2 ? scale : [0, 1];
  const gens = generations.map((g) => g.generation);
  const [g0, g1] = [Math.min(...gens), Math.max(...gens)];
  const px = (g) => pad + ((w - 2 * pad) * (g - g0)) / (g1 - g0 || 1);
  const py = (v) => ht - pad - ((ht - 2 * pad) * (v - lo)) / (hi - lo || 1);
  const svg = s("svg", { class: "benchwork-tuning-chart", width: w, height: ht, viewBox: `0 0 ${w} ${ht}` });
  svg.append(s("line", { class: "benchwork-tuning-axis", x1: pad, y1: ht - pad, x2: w - pad, y2: ht - pad }));
  for (const key of ["mean", "best"]) {
    const pts = generations.filter((g) => num(g[key])).map((g) => [px(g.generation), py(g[key])]);
    if (!pts.length) continue;
    svg.append(
      s("polyline", {
        class: `benchwork-tuning-line benchwork-tuning-line-${key}`,
        points: pts.map((p) => p.join(",")).join(" "),
      }),
    );
    for (const [a, b] of pts) {
      svg.append(s("circle", { class: `benchwork-tuning-dot benchwork-tuning-line-${key}`, cx: a, cy: b, r: 3 }));
    }
  }
  for (const g of gens) {
    const t = s("text", { class: "benchwork-tuning-tick", x: px(g), y: ht - 8, "text-anchor": "middle" });
    t.textContent = String(g);
    svg.append(t);
  }
  const legend = [
    ["best", pad],
    ["mean", pad + 34],
  ];
  for (const [key, x] of legend) {
    const t = s("text", { class: `benchwork-tuning-legend benchwork-tuning-line-${key}`, x, y: 12 });
    t.textContent = key;
    svg.append(t);
  }
  return svg;
}

const KNOBS = [
  // [knob, label, evolve only, empty allowed (no limit)]
  ["k", "rewrites k", false, false],
  ["population", "population", true, false],
  ["generations", "generations", true, false],
  ["budget_calls", "budget (calls)", true, true],
];

function controls(model) {
  const bar = h("div", "benchwork-tuning-controls");
  const mode = h("select", "benchwork-tuning-mode");
  mode.title = "quick: k rewrites of the original; evolve: a population bred over generations";
  for (const m of ["quick", "evolve"]) {
    const opt = h("option", "", m);
    opt.value = m;
    mode.append(opt);
  }
  const label = h("label", "benchwork-tuning-knob-label", "mode ");
  label.append(mode);
  bar.append(label);
  // knobs go to Python as custom messages: the front end holds state updates back while a
  // cell runs (say, one awaiting view.task), custom messages go at once
  const set = (key, value) => model.send({ type: "knob", key, value });
  const knobValue = (input) => {
    const raw = input.value.trim();
    return raw === "" ? null : Number(raw); // sent as typed; Python checks it at Tune
  };
  mode.addEventListener("change", () => {
    set("mode", mode.value);
    update();
  });
  const inputs = {};
  for (const [key, text, evolveOnly, emptyOk] of KNOBS) {
    const input = h("input", "benchwork-tuning-knob");
    input.type = "number";
    input.min = "1";
    input.step = "1";
    input.dataset.knob = key;
    if (emptyOk) input.placeholder = "no limit";
    input.addEventListener("change", () => set(key, knobValue(input)));
    const wrap = h("label", "benchwork-tuning-knob-label", `${text} `);
    wrap.dataset.knob = key;
    wrap.dataset.evolveOnly = String(evolveOnly);
    wrap.append(input);
    bar.append(wrap);
    inputs[key] = input;
  }
  const tune = h("button", "benchwork-tuning-tune", "Tune");
  tune.type = "button";
  tune.title = "Run tune_prompt in the kernel (view.task, view.result)";
  const cancel = h("button", "benchwork-tuning-cancel", "Cancel");
  cancel.type = "button";
  tune.addEventListener("click", () => {
    tune.disabled = true; // until Python says how it went
    const options = { mode: mode.value };
    for (const [key] of KNOBS) options[key] = knobValue(inputs[key]);
    model.send({ type: "start", options });
  });
  cancel.addEventListener("click", () => model.send({ type: "cancel" }));
  const runStatus = h("span", "benchwork-tuning-run-status");
  const runMessage = h("span", "benchwork-tuning-run-message");
  bar.append(tune, cancel, runStatus, runMessage);

  function update() {
    const opts = model.get("tune_options") || {};
    const st = model.get("run_status") || "";
    const running = st === "running";
    bar.hidden = !model.get("can_tune");
    if (document.activeElement !== mode && opts.mode) mode.value = opts.mode;
    const evolve = mode.value === "evolve";
    for (const [key, , evolveOnly] of KNOBS) {
      const input = inputs[key];
      input.parentElement.hidden = evolveOnly ? !evolve : evolve;
      if (document.activeElement !== input) input.value = opts[key] == null ? "" : String(opts[key]);
      input.disabled = running;
    }
    mode.disabled = running;
    tune.disabled = running;
    cancel.disabled = !running;
    runStatus.textContent = st;
    runStatus.className = `benchwork-tuning-run-status benchwork-tuning-run-${st || "none"}`;
    runMessage.textContent = model.get("run_message") || "";
    runMessage.classList.toggle("benchwork-tuning-run-error", st === "error");
    bar.dataset.runStatus = st;
  }
  return { bar, update };
}

export function render({ model, el }) {
  const root = h("div", "benchwork-tuning");
  const header = h("div", "benchwork-tuning-header");
  const title = h("span", "benchwork-tuning-title", "prompt tuning");
  const status = h("span", "benchwork-tuning-status");
  const summary = h("span", "benchwork-tuning-summary");
  header.append(title, status, summary);
  const tuner = controls(model);
  const confirm = h("div", "benchwork-tuning-confirm");
  const chartBox = h("div", "benchwork-tuning-chart-box");
  const body = h("div", "benchwork-tuning-body");
  const list = h("div", "benchwork-tuning-list");
  const detail = h("div", "benchwork-tuning-detail");
  body.append(list, detail);
  root.append(header, tuner.bar, confirm, chartBox, body);
  el.append(root);

  function select(name) {
    model.set("selected", name);
    model.save_changes();
    update();
  }

  function renderList(candidates, generations, scale, winner, selected, chosen) {
    list.replaceChildren();
    const byGen = new Map(generations.map((g) => [g.generation, g]));
    let group = null;
    let groupGen = null;
    for (const c of candidates) {
      if (group === null || c.generation !== groupGen) {
        groupGen = c.generation;
        const g = byGen.get(c.generation) || {};
        group = h("div", "benchwork-tuning-gen");
        group.dataset.generation = String(c.generation);
        const head = h(
          "div",
          "benchwork-tuning-gen-head",
          `generation ${c.generation} · ${g.n ?? "?"} candidate${g.n === 1 ? "" : "s"} · ` +
            `best ${fmt(g.best)} · mean ${fmt(g.mean)}`,
        );
        group.append(head);
        list.append(group);
      }
      const row = h("div", "benchwork-tuning-row");
      row.dataset.candidate = c.candidate;
      row.dataset.generation = String(c.generation);
      row.tabIndex = 0;
      row.classList.toggle("benchwork-tuning-winner", !!winner && c.candidate === winner);
      row.classList.toggle("benchwork-tuning-selected", c.candidate === selected);
      row.classList.toggle("benchwork-tuning-chosen", !!chosen && c.candidate === chosen);
      const name = h("span", "benchwork-tuning-name", c.candidate);
      name.title = c.prompt;
      if (winner && c.candidate === winner) name.append(h("span", "benchwork-tuning-badge", "winner"));
      const score = h(
        "span",
        "benchwork-tuning-score",
        `${fmt(c.dev_mean)} [${fmt(c.dev_lo)}, ${fmt(c.dev_hi)}]` + (num(c.dev_n) ? ` n=${c.dev_n}` : ""),
      );
      const change = h(
        "span",
        "benchwork-tuning-change",
        c.is_original ? "original" : `+${c.added} −${c.removed} words`,
      );
      row.append(name, score, whisker(c, scale), change);
      row.addEventListener("click", () => select(c.candidate));
      row.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          select(c.candidate);
        }
      });
      group.append(row);
    }
  }

  function renderDetail(candidates, selected, chosen, chosenPrompt) {
    detail.replaceChildren();
    const c = candidates.find((x) => x.candidate === selected);
    detail.hidden = !c;
    if (!c) return;
    const head = h("div", "benchwork-tuning-detail-head");
    head.append(h("b", "benchwork-tuning-detail-name", c.candidate));
    let meta = ` · generation ${c.generation}`;
    if (c.parent) meta += ` · from ${c.parent}`;
    meta += ` · dev ${fmt(c.dev_mean)} [${fmt(c.dev_lo)}, ${fmt(c.dev_hi)}]`;
    head.append(h("span", "benchwork-tuning-detail-meta", meta));
    const use = h("button", "benchwork-tuning-use", "Use this prompt");
    use.type = "button";
    use.title = "Set view.chosen_prompt in Python to this prompt";
    use.addEventListener("click", () => model.send({ type: "use", candidate: c.candidate }));
    const note = h("span", "benchwork-tuning-chosen-note");
    const isChosen = chosen === c.candidate && chosenPrompt === c.prompt;
    note.textContent = isChosen ? "✓ in Python as view.chosen_prompt" : "";
    const actions = h("div", "benchwork-tuning-actions");
    actions.append(use, note);
    detail.append(
      head,
      h("div", "benchwork-tuning-label", "prompt"),
      h("pre", "benchwork-tuning-prompt", c.prompt),
      h("div", "benchwork-tuning-label", c.is_original ? "the original" : "against the original"),
      diffNode(c.diff),
      actions,
    );
  }

  function update() {
    const candidates = model.get("candidates") || [];
    const generations = model.get("generations") || [];
    const scale = model.get("scale") || [0, 1];
    const winner = model.get("winner") || "";
    const selected = model.get("selected") || "";
    const chosen = model.get("chosen") || "";
    const st = model.get("status") || "empty";

    tuner.update();
    root.dataset.status = st;
    status.textContent = st;
    status.className = `benchwork-tuning-status benchwork-tuning-status-${st}`;
    const best = generations.reduce((b, g) => (num(g.best) && (!b || g.best > b.best) ? g : b), null);
    let text = `${candidates.length} candidate${candidates.length === 1 ? "" : "s"} · ` +
      `${generations.length} generation${generations.length === 1 ? "" : "s"}`;
    if (best) text += ` · best dev ${fmt(best.best)} (${best.best_candidate})`;
    if (winner) text += ` · winner: ${winner}`;
    summary.textContent = text;

    const conf = model.get("confirmation") || {};
    confirm.textContent = confirmationText(conf);
    confirm.hidden = !confirm.textContent;
    confirm.classList.toggle("benchwork-tuning-confirmed", !!conf.confirmed);

    chartBox.replaceChildren();
    chartBox.hidden = generations.length < 2;
    if (generations.length >= 2) chartBox.append(chart(generations, scale));

    renderList(candidates, generations, scale, winner, selected, chosen);
    renderDetail(candidates, selected, chosen, model.get("chosen_prompt") || "");
  }

  model.on("change", update);
  update();
  return () => model.off("change", update);
}

export default { render };
