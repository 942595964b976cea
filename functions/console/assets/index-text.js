// The sentences the console shows about a repository's code index
// (`GET /api/repos/{id}/index/status`). Pure (no DOM): unit-tested under node by
// functions/console/src/tests.rs (`index_sentences_...`). The pages insert them as text.

const NUMBER = new Intl.NumberFormat("en-US");

// 12345 -> "12,345"; anything that is not a finite number -> "0".
export function count(n) {
  return NUMBER.format(Number.isFinite(n) ? n : 0);
}

// "1 file", "12 files".
export function plural(n, one, many) {
  return `${count(n)} ${n === 1 ? one : many}`;
}

export const STATUS_LABELS = {
  queued: "Queued",
  indexing: "Indexing",
  ready: "Ready",
  failed: "Failed",
};

const PHASES = {
  parsing: "parsing files",
  graph: "building the dependency graph",
  embeddings: "computing embeddings",
};

// Still being built: the console polls the status while this holds.
export function inProgress(index) {
  return !!index && (index.status === "queued" || index.status === "indexing");
}

export function statusLabel(index) {
  if (!index) return "Not indexed";
  return STATUS_LABELS[index.status] || String(index.status);
}

// The live line under a queued or running index: the phase, then the files parsed (of how
// many, when the total is known yet).
export function progressLine(index) {
  if (!index) return "Not indexed yet.";
  if (index.status === "queued") return "Queued: waiting for an indexer to pick it up…";
  if (index.status !== "indexing") return `${statusLabel(index)}.`;
  const phase = PHASES[index.phase] || "starting";
  const p = index.progress || {};
  const done = Number.isFinite(p.filesDone) ? p.filesDone : 0;
  const files = Number.isFinite(p.filesTotal) && p.filesTotal > 0
    ? `${count(done)} of ${plural(p.filesTotal, "file", "files")} parsed (${Math.min(100, Math.floor((done * 100) / p.filesTotal))}%)`
    : `${plural(done, "file", "files")} parsed`;
  return `Indexing: ${phase}, ${files}…`;
}

// "1,234 symbols indexed, 56 files, 789 dependencies (edges)", then ", 1,000 symbols
// embedded" when the index holds embeddings (docs/index.md, "Embeddings").
export function statsSentence(stats) {
  if (!stats) return "";
  const vectors = Number(stats.vectors) > 0 ? `, ${plural(stats.vectors, "symbol", "symbols")} embedded` : "";
  return `${plural(stats.symbols, "symbol", "symbols")} indexed, ${plural(stats.files, "file", "files")}, `
    + `${plural(stats.edges, "dependency", "dependencies")} (edges)${vectors}`;
}

const LANGUAGES = {
  python: "Python",
  javascript: "JavaScript",
  typescript: "TypeScript",
  tsx: "TSX",
  go: "Go",
  rust: "Rust",
  java: "Java",
  kotlin: "Kotlin",
  csharp: "C#",
  c: "C",
  cpp: "C++",
  ruby: "Ruby",
  php: "PHP",
  swift: "Swift",
  scala: "Scala",
};

// {"python": 12, "go": 3} -> "Python (12 files), Go (3 files)": most files first.
export function languagesLine(languages) {
  const entries = Object.entries(languages || {}).filter(([, n]) => Number.isFinite(n) && n > 0);
  if (!entries.length) return "";
  entries.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return entries.map(([k, n]) => `${LANGUAGES[k] || k} (${plural(n, "file", "files")})`).join(", ");
}

// 1536 -> "1.5 KB" (powers of 1024).
export function size(bytes) {
  if (!Number.isFinite(bytes) || bytes < 1024) return plural(Number.isFinite(bytes) ? bytes : 0, "byte", "bytes");
  const units = ["KB", "MB", "GB", "TB"];
  let v = bytes;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ${units[u]}`;
}

// "12,345 lines, 1.2 MB; 3 files skipped".
export function sizeLine(stats) {
  if (!stats) return "";
  const skipped = Number.isFinite(stats.skipped) && stats.skipped > 0 ? `; ${plural(stats.skipped, "file", "files")} skipped` : "";
  return `${plural(stats.lines, "line", "lines")}, ${size(stats.bytes)}${skipped}`;
}

// The first 7 characters of a commit.
export function shortCommit(sha) {
  return typeof sha === "string" && sha ? sha.slice(0, 7) : "—";
}

const FAILURES = {
  too_large: "The repository is too large to index.",
  archive_invalid: "The provider's archive of the repository could not be read.",
  token_invalid: "The provider refused the repository's access token: connect the repository again with a valid token.",
  installation_removed: "The GitHub App installation this repository was connected through was removed: connect the repository again.",
  provider_unavailable: "The provider could not be reached. Try again later.",
};

// Why an index failed: the server's sentence, else one for its code.
export function failureReason(error) {
  if (error && typeof error.message === "string" && error.message.trim()) return error.message;
  if (error && FAILURES[error.code]) return FAILURES[error.code];
  return "The index could not be built.";
}

export const DIFF_ONLY = "Reviews still run, on the diff alone, until an index is ready.";

// What reviews use while this index is not (yet) ready: the last ready index (the record
// keeps its commit and stats through a re-index), else the diff alone.
export function fallbackLine(index) {
  if (index && index.commit && index.stats) return `Reviews keep using the last ready index (commit ${shortCommit(index.commit)}) until a new one is ready.`;
  return DIFF_ONLY;
}
