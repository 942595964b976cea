// Tiny DOM helpers: elements are built from text nodes, never parsed from markup, so data from
// the API can never become markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled field: <label for> + control (+ hint, tied with aria-describedby).
export function field(label, control, hint) {
  const id = control.id || nextId("f");
  control.id = id;
  const parts = [h("label", { for: id }, label), control];
  if (hint) {
    const hid = `${id}-hint`;
    control.setAttribute("aria-describedby", hid);
    parts.push(h("p", { class: "hint", id: hid }, hint));
  }
  return h("div", { class: "field" }, parts);
}

export function input(attrs) {
  return h("input", { type: "text", ...attrs });
}

export function select(name, options, value, attrs = {}) {
  return h(
    "select",
    { name, ...attrs },
    options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)),
  );
}

// A button that is disabled says why, next to it (and to screen readers).
export function button(label, onclick, { reason, kind = "", type = "button", name } = {}) {
  const b = h("button", { type, class: kind, onclick, disabled: !!reason, name });
  b.append(label);
  if (!reason) return b;
  const rid = nextId("why");
  b.setAttribute("aria-describedby", rid);
  return h("span", { class: "with-reason" }, b, h("span", { class: "reason", id: rid }, reason));
}

export function when(ts) {
  if (ts === null || ts === undefined) return "—";
  const d = new Date(ts * 1000);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function timeEl(ts) {
  if (ts === null || ts === undefined) return "—";
  return h("time", { datetime: new Date(ts * 1000).toISOString() }, when(ts));
}

export function notice(kind, ...children) {
  return h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, children);
}

// Status line of a form: where its outcome (or error) is announced.
export function statusLine() {
  return h("p", { class: "status-line", role: "status", "aria-live": "polite" });
}

export function showError(line, err) {
  line.className = "status-line error";
  line.textContent = err && err.message ? err.message : String(err);
}

export function showOk(line, msg) {
  line.className = "status-line ok";
  line.textContent = msg;
}

// A value with a copy button (secrets shown once, URLs, links).
export function copyable(value, label, { secret = false } = {}) {
  const code = h("code", { class: secret ? "secret" : "" }, value);
  const done = h("span", { class: "copied", role: "status", "aria-live": "polite" });
  const b = h(
    "button",
    {
      type: "button",
      class: "small",
      "aria-label": `Copy ${label}`,
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(value);
          done.textContent = "Copied";
        } catch {
          done.textContent = "Select the text and copy it";
        }
      },
    },
    "Copy",
  );
  return h("div", { class: "copyable" }, code, b, done);
}

export function table(caption, headers, rows) {
  const body = h("tbody", {}, rows);
  // On a phone each row becomes a card of "label: value" lines (app.css): every cell
  // carries its column's name, shown before it there.
  const labels = headers.map((t) => (t instanceof Node ? t.textContent : String(t)));
  for (const row of body.rows) {
    [...row.cells].forEach((cell, i) => {
      if (labels[i] && !cell.hasAttribute("colspan")) cell.dataset.label = labels[i];
    });
  }
  return h(
    "div",
    // Focusable and scrollable, so the keyboard can still scroll an unusually wide cell.
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h(
      "table",
      {},
      h("caption", { class: "sr-only" }, caption),
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
      body,
    ),
  );
}

export function section(title, ...children) {
  const id = nextId("s");
  return h("section", { "aria-labelledby": id, class: "card" }, h("h2", { id }, title), children);
}

// Reloads the current page (after a change), keeping the scroll position.
export function reload(ctx) {
  ctx.navigate(location.pathname + location.search, { replace: true });
}

// A form's submit handler: the submit button is disabled while `fn` runs; an error goes to
// `line`.
export function onSubmit(f, line, fn) {
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const submit = f.querySelector("button[type=submit]");
    if (submit) submit.disabled = true;
    try {
      await fn(new FormData(f));
    } catch (err) {
      showError(line, err);
    } finally {
      if (submit && submit.isConnected) submit.disabled = false;
    }
  });
  return f;
}
