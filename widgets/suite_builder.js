// SuiteBuilder: a paged grid editor for a benchwork suite (anywidget front end).
//
// State lives in traitlets: `settings` and `cases` (editable text forms of the suite), the
// `errors` the Python side computes with the suite loader, `preview` (Suite.messages of the
// selected case) and `pending_cases` for review. Field edits set `cases`/`settings`, stamped
// with the `generation` of the list they were made against (see setLocal); actions
// (add, duplicate, delete, move, import, upload, save, accept, reject) are messages to Python.
// Only one page of rows is in the DOM at a time.

const ROLES = ["system", "user", "assistant", "tool", "developer"];
const CASE_FIELDS = ["id", "input", "vars", "expected", "tags", "metadata", "tools"];

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(className, text, title, onClick) {
  const b = h("button", `benchwork-sb-button ${className}`, text);
  b.type = "button";
  if (title) b.title = title;
  b.addEventListener("click", onClick);
  return b;
}

function clone(value) {
  return JSON.parse(JSON.stringify(value));
}

// A text control that calls `commit(value)` a moment after typing stops, and at once on change.
function textControl(tag, className, key, value, commit, placeholder) {
  const node = h(tag, className);
  node.dataset.key = key;
  node.value = value ?? "";
  if (placeholder) node.placeholder = placeholder;
  if (tag === "textarea") {
    node.rows = Math.min(6, Math.max(2, String(value ?? "").split("\n").length));
    node.spellcheck = false;
  }
  let timer = null;
  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (!node.isConnected) return; // a re-render replaced it: its edit is of rows now gone
    commit(node.value);
  };
  node.addEventListener("input", () => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(flush, 300);
  });
  node.addEventListener("change", flush);
  return node;
}

function select(className, key, options, value, onChange) {
  const node = h("select", className);
  node.dataset.key = key;
  for (const [v, label] of options) {
    const o = h("option", "", label);
    o.value = v;
    node.append(o);
  }
  node.value = value;
  node.addEventListener("change", () => onChange(node.value));
  return node;
}

function splitTags(text) {
  return text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t);
}

// One labelled cell with its error slot; errors are filled in by `showErrors`.
function cell(field, errorKey, ...controls) {
  const node = h("div", `benchwork-sb-cell benchwork-sb-cell-${field}`);
  node.dataset.field = field;
  node.append(...controls);
  const err = h("div", "benchwork-sb-error");
  err.dataset.errorKey = errorKey;
  node.append(err);
  return node;
}

// The editor of one case state (grid row or pending card); `commit(newState)` saves it.
function caseEditor(state, prefix, commit, openMore) {
  const draft = clone(state);
  const save = () => commit(clone(draft));
  const key = (f) => `${prefix}:${f}`;
  const set = (field) => (v) => {
    draft[field] = v;
    save();
  };

  const id = textControl("input", "benchwork-sb-id", key("id"), draft.id, set("id"), "id");

  const inputBox = h("div", "benchwork-sb-input-box");
  const kind = select(
    "benchwork-sb-input-kind",
    key("input_kind"),
    [
      ["text", "text"],
      ["chat", "chat"],
    ],
    draft.input_kind,
    (v) => {
      if (v === "chat" && !(draft.messages || []).length) {
        draft.messages = [{ role: "user", content: draft.input || "", extra: "" }];
      }
      if (v === "text" && !draft.input) {
        const users = (draft.messages || []).filter((m) => m.role === "user" && m.content);
        draft.input = users.length ? users[users.length - 1].content : "";
      }
      draft.input_kind = v;
      save();
      fillInput();
    },
  );
  function fillInput() {
    inputBox.replaceChildren(kind);
    if (draft.input_kind !== "chat") {
      inputBox.append(
        textControl("textarea", "benchwork-sb-input", key("input"), draft.input, set("input"), "prompt text; {{ var }} fills in vars"),
      );
      return;
    }
    const list = h("div", "benchwork-sb-messages");
    draft.messages.forEach((m, i) => {
      const row = h("div", "benchwork-sb-message");
      const role = select(
        "benchwork-sb-role",
        key(`role.${i}`),
        ROLES.map((r) => [r, r]),
        m.role,
        (v) => {
          m.role = v;
          save();
        },
      );
      if (!ROLES.includes(m.role)) role.value = "";
      row.append(role);
      if (m.content !== null) {
        row.append(
          textControl("textarea", "benchwork-sb-content", key(`content.${i}`), m.content, (v) => {
            m.content = v;
            save();
          }),
        );
      }
      if (m.content === null || m.extra) {
        row.append(
          textControl("input", "benchwork-sb-extra", key(`extra.${i}`), m.extra, (v) => {
            m.extra = v;
            save();
          }, "extra fields (JSON)"),
        );
      }
      row.append(
        button("benchwork-sb-remove-message", "✕", "Remove this message", () => {
          draft.messages.splice(i, 1);
          save();
          fillInput();
        }),
      );
      list.append(row);
    });
    const add = button("benchwork-sb-add-message", "+ message", "Add a chat message", () => {
      draft.messages.push({ role: "user", content: "", extra: "" });
      save();
      fillInput();
    });
    inputBox.append(list, add);
  }
  fillInput();

  const vars = textControl("textarea", "benchwork-sb-vars", key("vars"), draft.vars, set("vars"), '{"name": "value"}');
  const expectedKind = select(
    "benchwork-sb-expected-kind",
    key("expected_kind"),
    [
      ["none", "none"],
      ["text", "text"],
      ["json", "JSON"],
    ],
    draft.expected_kind,
    (v) => {
      draft.expected_kind = v;
      save();
      expected.disabled = v === "none";
    },
  );
  const expected = textControl("textarea", "benchwork-sb-expected", key("expected"), draft.expected, set("expected"), "expected answer");
  expected.disabled = draft.expected_kind === "none";
  const tags = textControl("input", "benchwork-sb-tags", key("tags"), (draft.tags || []).join(", "), (v) => {
    draft.tags = splitTags(v);
    save();
  }, "tag, tag");

  const more = h("details", "benchwork-sb-more");
  if (openMore && openMore.has(prefix)) more.open = true;
  more.addEventListener("toggle", () => {
    if (!openMore) return;
    if (more.open) openMore.add(prefix);
    else openMore.delete(prefix);
  });
  const summary = h("summary", "", "metadata · tools");
  if (draft.metadata || draft.tools) summary.textContent += " ●";
  more.append(
    summary,
    cell("metadata", key("metadata"), textControl("textarea", "benchwork-sb-metadata", key("metadata"), draft.metadata, set("metadata"), '{"key": "value"}')),
    cell("tools", key("tools"), textControl("textarea", "benchwork-sb-tools", key("tools"), draft.tools, set("tools"), "[OpenAI tool schemas] (JSON)")),
  );

  return [
    cell("id", key("id"), id),
    cell("input", key("input"), inputBox),
    cell("vars", key("vars"), vars),
    cell("expected", key("expected"), expectedKind, expected),
    cell("tags", key("tags"), tags),
    cell("more", key("*"), more),
  ];
}

function caseSummary(state) {
  if (state.input_kind === "chat") {
    return (state.messages || []).map((m) => `${m.role}: ${m.content ?? m.extra}`).join("\n");
  }
  return state.input || "";
}

export function render({ model, el }) {
  const root = h("div", "benchwork-suite-builder");
  el.append(root);
  const openMore = new Set();
  const editing = new Set(); // pending cards open for editing (by position)
  let localEdit = false; // our own model.set: no re-render (the focused input stays)

  // Python bumps a list's generation ("cases", "pending_cases", "settings") each time it
  // replaces it, in the same message as the new value. Each editor remembers the generation
  // it was drawn for; `drawn` is the generation each part shows now.
  const generation = (name) => (model.get("generation") || {})[name] || 0;
  const drawn = {};

  // An edit goes out with the next edit count (`rev`); an action message carries the count it
  // follows, so Python runs it only after that edit arrived (state updates can be held back).
  // It is stamped with the generation its editor was drawn for: an edit of rows that Python
  // has replaced since (an upload, a delete, ...) is dropped here, and by Python if it crosses
  // the replacement on the wire, rather than written by position over the case now there.
  function setLocal(name, value, stamp) {
    if (stamp !== generation(name)) return;
    localEdit = true;
    try {
      model.set(name, value);
      model.set("edit_generation", { ...(model.get("edit_generation") || {}), [name]: stamp });
      model.set("rev", (model.get("rev") || 0) + 1);
      model.save_changes();
    } finally {
      localEdit = false;
    }
  }

  function send(content, buffers) {
    model.send({ ...content, rev: model.get("rev") || 0 }, undefined, buffers);
  }

  // -- toolbar: import, upload, save, status ------------------------------------------------
  const toolbar = h("div", "benchwork-sb-toolbar");
  const title = h("span", "benchwork-sb-title", "Suite builder");
  const importPath = h("input", "benchwork-sb-import-path");
  importPath.placeholder = "path/to/suite.yaml";
  const append = h("input", "benchwork-sb-append");
  append.type = "checkbox";
  const appendLabel = h("label", "benchwork-sb-append-label");
  appendLabel.append(append, document.createTextNode(" append"));
  const importButton = button("benchwork-sb-import", "Import", "Read YAML, JSON, JSONL or CSV from the kernel's disk", () => {
    send({ type: "import", path: importPath.value, append: append.checked });
  });
  const upload = h("input", "benchwork-sb-upload");
  upload.type = "file";
  upload.accept = ".yaml,.yml,.json,.jsonl,.csv";
  upload.title = "Upload a suite file";
  upload.addEventListener("change", async () => {
    for (const file of upload.files || []) {
      const buffer = await file.arrayBuffer();
      send({ type: "upload", name: file.name, append: append.checked }, [buffer]);
    }
    upload.value = "";
  });
  const savePath = h("input", "benchwork-sb-save-path");
  savePath.placeholder = "suite.yaml or cases.jsonl";
  const saveButton = button("benchwork-sb-save", "Save", "Write the suite with the suite writer", () => {
    send({ type: "save", path: savePath.value });
  });
  toolbar.append(title, importPath, appendLabel, importButton, upload, savePath, saveButton);
  const status = h("div", "benchwork-sb-status");

  // -- suite settings --------------------------------------------------------------------------
  const settingsBox = h("div", "benchwork-sb-settings");
  const scorerList = h("datalist", "");
  scorerList.id = `benchwork-sb-scorers-${Math.random().toString(36).slice(2)}`;

  function renderSettings() {
    const s = clone(model.get("settings") || {});
    const stamp = (drawn.settings = generation("settings"));
    const commit = () => setLocal("settings", clone(s), stamp);
    const text = (field, tag, placeholder, nullable) =>
      cell(
        field,
        `suite:${field}`,
        h("label", "benchwork-sb-label", field),
        textControl(tag, `benchwork-sb-setting benchwork-sb-setting-${field}`, `suite:${field}`, s[field], (v) => {
          s[field] = nullable && v === "" ? null : v;
          commit();
        }, placeholder),
      );
    const scorers = h("div", "benchwork-sb-scorers");
    (s.scorers || []).forEach((row, i) => {
      const line = h("div", "benchwork-sb-scorer");
      const kindSel = select("benchwork-sb-scorer-kind", `suite:scorer-kind.${i}`, [["name", "name"], ["json", "JSON"]], row.kind, (v) => {
        row.kind = v;
        commit();
      });
      const input = textControl("input", "benchwork-sb-scorer-text", `suite:scorer.${i}`, row.text, (v) => {
        row.text = v;
        commit();
      }, row.kind === "name" ? "exact" : '{"type": "numeric", "tolerance": 0.01}');
      input.setAttribute("list", scorerList.id);
      const remove = button("benchwork-sb-remove-scorer", "✕", "Remove this scorer", () => {
        s.scorers.splice(i, 1);
        commit();
        renderSettings();
      });
      line.append(kindSel, input, remove);
      scorers.append(line);
    });
    scorers.append(
      button("benchwork-sb-add-scorer", "+ scorer", "Add a scorer", () => {
        s.scorers = [...(s.scorers || []), { kind: "name", text: "" }];
        commit();
        renderSettings();
      }),
    );
    settingsBox.replaceChildren(
      text("name", "input", "suite name", false),
      text("version", "input", "", true),
      text("description", "input", "", true),
      text("system", "textarea", "system prompt (optional)", true),
      text("template", "textarea", "template with {{ input }} (optional)", true),
      cell("scorers", "suite:scorers", h("label", "benchwork-sb-label", "scorers"), scorers),
      text("metadata", "textarea", '{"key": "value"}', false),
      cell("cases", "suite:cases"),
    );
    scorerList.replaceChildren(...(model.get("scorer_names") || []).map((n) => {
      const o = h("option");
      o.value = n;
      return o;
    }));
  }

  // -- problems, review, grid, pager, preview ------------------------------------------------
  const problems = h("div", "benchwork-sb-problems");
  const review = h("div", "benchwork-sb-review");
  const grid = h("div", "benchwork-sb-grid");
  const header = h("div", "benchwork-sb-row benchwork-sb-header");
  for (const name of ["#", "id", "input", "vars", "expected", "tags", "", ""]) header.append(h("div", "benchwork-sb-head", name));
  const rows = h("div", "benchwork-sb-rows");
  grid.append(header, rows);
  const pager = h("div", "benchwork-sb-pager");
  const prev = button("benchwork-sb-prev", "‹ Prev", "Previous page", () => goPage(model.get("page") - 1));
  const next = button("benchwork-sb-next", "Next ›", "Next page", () => goPage(model.get("page") + 1));
  const pageLabel = h("span", "benchwork-sb-page-label");
  const addButton = button("benchwork-sb-add", "+ Add case", "Append a blank case", () => send({ type: "add" }));
  pager.append(prev, pageLabel, next, h("span", "benchwork-sb-spacer"), addButton);
  const previewBox = h("div", "benchwork-sb-preview");
  root.append(toolbar, status, settingsBox, scorerList, problems, review, grid, pager, previewBox);

  function pages() {
    const size = Math.max(1, model.get("page_size") || 50);
    return { size, count: Math.max(1, Math.ceil((model.get("cases") || []).length / size)) };
  }

  function goPage(p) {
    const { count } = pages();
    const page = Math.max(0, Math.min(count - 1, p));
    if (page !== model.get("page")) {
      model.set("page", page);
      model.save_changes();
    }
  }

  function commitCase(index, state, stamp) {
    if (stamp !== generation("cases")) return; // drawn for cases Python has replaced since
    const list = (model.get("cases") || []).slice();
    if (index >= list.length) return;
    list[index] = state;
    setLocal("cases", list, stamp);
  }

  function renderRows() {
    const cases = model.get("cases") || [];
    const { size, count } = pages();
    const page = Math.min(model.get("page") || 0, count - 1);
    const start = page * size;
    const end = Math.min(cases.length, start + size);
    const selected = model.get("selected");
    const stamp = (drawn.cases = generation("cases"));
    const out = [];
    for (let i = start; i < end; i++) {
      const row = h("div", "benchwork-sb-row benchwork-sb-case");
      row.dataset.index = String(i);
      row.dataset.caseId = cases[i].id;
      row.classList.toggle("benchwork-sb-selected", i === selected);
      row.append(h("div", "benchwork-sb-num", String(i + 1)));
      row.append(...caseEditor(cases[i], `case:${i}`, (s) => commitCase(i, s, stamp), openMore));
      const actions = h("div", "benchwork-sb-actions");
      actions.append(
        button("benchwork-sb-up", "↑", "Move up", () => send({ type: "move", index: i, to: i - 1 })),
        button("benchwork-sb-down", "↓", "Move down", () => send({ type: "move", index: i, to: i + 1 })),
        button("benchwork-sb-duplicate", "⊕", "Duplicate", () => send({ type: "duplicate", index: i })),
        button("benchwork-sb-delete", "✕", "Delete", () => send({ type: "delete", index: i })),
      );
      row.append(actions);
      row.addEventListener("focusin", () => {
        if (model.get("selected") !== i) {
          model.set("selected", i);
          model.save_changes();
          for (const r of rows.children) r.classList.toggle("benchwork-sb-selected", r === row);
        }
      });
      out.push(row);
    }
    rows.replaceChildren(...out);
    if (!cases.length) rows.append(h("div", "benchwork-sb-empty", "No cases yet: add one, or import a file."));
    prev.disabled = page <= 0;
    next.disabled = page >= count - 1;
    pageLabel.textContent = cases.length
      ? `Page ${page + 1} of ${count} · cases ${start + 1}–${end} of ${cases.length}`
      : "Page 1 of 1 · 0 cases";
  }

  function renderReview() {
    const pending = model.get("pending_cases") || [];
    const stamp = (drawn.pending_cases = generation("pending_cases"));
    review.hidden = !pending.length;
    const cards = pending.map((state, i) => {
      const card = h("div", "benchwork-sb-pending");
      card.dataset.index = String(i);
      card.dataset.caseId = state.id;
      const head = h("div", "benchwork-sb-pending-head");
      head.append(h("code", "benchwork-sb-pending-id", state.id));
      head.append(h("span", "benchwork-sb-provenance", state.provenance || ""));
      head.append(h("span", "benchwork-sb-spacer"));
      head.append(
        button("benchwork-sb-accept", "Accept", "Add this case to the suite", () => send({ type: "accept", index: i })),
        button("benchwork-sb-edit", editing.has(i) ? "Done" : "Edit", "Edit before accepting", () => {
          if (editing.has(i)) editing.delete(i);
          else editing.add(i);
          renderReview();
          showErrors();
        }),
        button("benchwork-sb-reject", "Reject", "Drop this case", () => send({ type: "reject", index: i })),
      );
      card.append(head);
      if (editing.has(i)) {
        const body = h("div", "benchwork-sb-row benchwork-sb-pending-editor");
        body.append(...caseEditor(state, `pending:${i}`, (s) => {
          if (stamp !== generation("pending_cases")) return;
          const list = (model.get("pending_cases") || []).slice();
          list[i] = { ...s, provenance: state.provenance };
          setLocal("pending_cases", list, stamp);
        }));
        card.append(body);
      } else {
        const body = h("div", "benchwork-sb-pending-summary");
        body.append(h("div", "benchwork-sb-pending-input", caseSummary(state)));
        if (state.expected_kind !== "none") body.append(h("div", "benchwork-sb-pending-expected", `expected: ${state.expected}`));
        const err = h("div", "benchwork-sb-error");
        err.dataset.errorKey = `pending:${i}:*`;
        body.append(err);
        card.append(body);
      }
      return card;
    });
    const title = h("div", "benchwork-sb-review-title", `${pending.length} case${pending.length === 1 ? "" : "s"} to review`);
    review.replaceChildren(title, ...cards);
  }

  // Put each loader message next to its field (or the row's slot when no field matches).
  function showErrors() {
    const slots = new Map();
    for (const node of root.querySelectorAll("[data-error-key]")) {
      node.textContent = "";
      slots.set(node.dataset.errorKey, node);
    }
    const place = (prefix, field, message) => {
      const slot = slots.get(`${prefix}:${field}`) || slots.get(`${prefix}:*`) || slots.get(`${prefix}:id`);
      if (slot) slot.textContent = slot.textContent ? `${slot.textContent}\n${message}` : message;
    };
    const errors = model.get("errors") || [];
    const { size } = pages();
    problems.replaceChildren();
    for (const e of errors) {
      if (e.index === null || e.index === undefined) {
        place("suite", e.field || "cases", e.message);
      } else {
        place(`case:${e.index}`, CASE_FIELDS.includes(e.field) ? e.field : "*", e.message);
      }
    }
    for (const e of model.get("pending_errors") || []) {
      place(`pending:${e.index}`, CASE_FIELDS.includes(e.field) ? e.field : "*", e.message);
    }
    for (const row of rows.children) {
      const i = Number(row.dataset.index);
      row.classList.toggle("benchwork-sb-invalid", errors.some((e) => e.index === i));
    }
    if (!errors.length) {
      problems.append(h("span", "benchwork-sb-ok", "✓ the suite is valid"));
      return;
    }
    problems.append(h("span", "benchwork-sb-problem-count", `${errors.length} problem${errors.length === 1 ? "" : "s"}:`));
    for (const e of errors.slice(0, 20)) {
      const where = e.index === null || e.index === undefined ? e.field || "suite" : `case #${e.index + 1}`;
      const item = button("benchwork-sb-problem", `${where}: ${e.message}`, "Show it", () => {
        if (e.index !== null && e.index !== undefined) {
          goPage(Math.floor(e.index / size));
          model.set("selected", e.index);
          model.save_changes();
        }
      });
      problems.append(item);
    }
  }

  function renderStatus() {
    const st = model.get("status") || {};
    status.textContent = st.text || "";
    status.className = `benchwork-sb-status benchwork-sb-status-${st.kind || "none"}`;
    status.hidden = !st.text;
  }

  function renderPreview() {
    const p = model.get("preview") || {};
    previewBox.replaceChildren(h("div", "benchwork-sb-preview-title", p.case_id ? `Preview of case '${p.case_id}'` : "Preview"));
    if (p.error) {
      previewBox.append(h("div", "benchwork-sb-preview-error", p.error));
      return;
    }
    for (const m of p.messages || []) {
      const line = h("div", "benchwork-sb-preview-message");
      line.append(h("span", "benchwork-sb-preview-role", m.role));
      const content = typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? m, null, 1);
      line.append(h("pre", "benchwork-sb-preview-content", content));
      previewBox.append(line);
    }
  }

  // Re-render a part without losing the focused field (e.g. when Python changed the state).
  function keepFocus(fn) {
    const active = document.activeElement;
    const key = active && root.contains(active) ? active.dataset.key : undefined;
    const range = key && "selectionStart" in active ? [active.selectionStart, active.selectionEnd] : null;
    fn();
    if (!key) return;
    const again = root.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (!again) return;
    again.focus();
    if (range) {
      try {
        again.setSelectionRange(range[0], range[1]);
      } catch (_) {
        /* not a text control */
      }
    }
  }

  const onCases = () => {
    if (!localEdit) keepFocus(renderRows);
    showErrors();
  };
  const onSettings = () => {
    if (!localEdit) keepFocus(renderSettings);
    showErrors();
  };
  const onPending = () => {
    if (!localEdit) {
      editing.clear();
      keepFocus(renderReview);
    }
    showErrors();
  };
  const onPage = () => {
    keepFocus(renderRows);
    showErrors();
  };
  // A generation Python bumped without a visible change (its new value equalled ours): redraw
  // that part, so its editors carry the current generation.
  const onGeneration = () => {
    if (generation("settings") !== drawn.settings) keepFocus(renderSettings);
    if (generation("cases") !== drawn.cases) keepFocus(renderRows);
    if (generation("pending_cases") !== drawn.pending_cases) {
      editing.clear();
      keepFocus(renderReview);
    }
    showErrors();
  };
  const onSelected = () => {
    const i = model.get("selected");
    for (const r of rows.children) r.classList.toggle("benchwork-sb-selected", Number(r.dataset.index) === i);
  };
  model.on("change:cases", onCases);
  model.on("change:settings", onSettings);
  model.on("change:pending_cases", onPending);
  model.on("change:page", onPage);
  model.on("change:page_size", onPage);
  model.on("change:selected", onSelected);
  model.on("change:generation", onGeneration);
  model.on("change:errors", showErrors);
  model.on("change:pending_errors", showErrors);
  model.on("change:status", renderStatus);
  model.on("change:preview", renderPreview);

  renderSettings();
  renderReview();
  renderRows();
  showErrors();
  renderStatus();
  renderPreview();

  return () => {
    model.off("change:cases", onCases);
    model.off("change:settings", onSettings);
    model.off("change:pending_cases", onPending);
    model.off("change:page", onPage);
    model.off("change:page_size", onPage);
    model.off("change:selected", onSelected);
    model.off("change:generation", onGeneration);
    model.off("change:errors", showErrors);
    model.off("change:pending_errors", showErrors);
    model.off("change:status", renderStatus);
    model.off("change:preview", renderPreview);
  };
}

export default { render };
