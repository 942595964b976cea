// Pure helpers over untrusted text (no DOM), unit-tested under node by
// functions/console/src/tests.rs (`safe_next_and_csv_cells_...`).

// Where to go after logging in (`?next=`): a path on this origin, else "/".
export function safeNext(next) {
  next = typeof next === "string" ? next : "";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

// One cell of the audit log's CSV export.
export function csvCell(v) {
  const s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""').replace(/^([=+\-@])/, "'$1")}"` : s;
}
