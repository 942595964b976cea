// Pure helpers over untrusted text (no DOM), unit-tested under node by
// functions/console/src/tests.rs (`safe_next_and_csv_cells_...`).

// Where to go after logging in (`?next=`): a path on this origin, else "/". Browsers read
// `\` as `/` and drop tabs and line breaks in URLs, so `/\evil.example` and
// `/<tab>/evil.example` are `//evil.example`, another origin: a path with a backslash or
// a control character, one starting `//`, or one with a scheme (anything not starting
// with `/`) is refused, and what is left must still resolve to this origin.
export function safeNext(next) {
  if (typeof next !== "string" || !next.startsWith("/") || next.startsWith("//")) return "/";
  if (/[\\\u0000-\u001f\u007f]/.test(next)) return "/";
  // Resolved against a stand-in origin of a special scheme (one where, as for http, `\`
  // is `/`), the path must keep that host.
  try {
    return new URL(next, "ftp://origin.invalid").host === "origin.invalid" ? next : "/";
  } catch {
    return "/";
  }
}

// One cell of the audit log's CSV export. OWASP's CSV injection rule: a cell that starts
// with `=`, `+`, `-`, `@`, tab or carriage return (also after leading blanks, which some
// spreadsheets skip) is prefixed with `'` so no spreadsheet evaluates it; a cell with a
// quote, comma or line break (or the prefix) is quoted, quotes doubled.
export function csvCell(v) {
  const s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  const formula = /^[\t\r]/.test(s) || /^\s*[=+\-@]/.test(s);
  const t = formula ? `'${s}` : s;
  return formula || /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}
