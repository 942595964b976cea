use super::*;

fn get(path: &str) -> Response<Body> {
    respond(&Method::GET, path, None)
}

fn body_text(resp: &Response<Body>) -> String {
    match resp.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8(b.clone()).unwrap(),
        Body::Empty => String::new(),
        _ => String::new(),
    }
}

fn header<'a>(resp: &'a Response<Body>, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing {name}"))
        .to_str()
        .unwrap()
}

const PAGES: &[&str] = &[
    "/",
    "/login",
    "/signup",
    "/forgot-password",
    "/account",
    "/invite/abc_DEF-123",
    "/verify-email/tok",
    "/reset-password/tok",
    "/orgs/new",
    "/orgs/acme",
    "/orgs/acme/members",
    "/orgs/acme/webhooks",
    "/orgs/acme/repos/r-1",
    "/admin/orgs",
];

#[test]
fn every_console_page_is_the_shell_with_security_headers_and_no_store() {
    for path in PAGES {
        let resp = get(path);
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&resp, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&resp, "cache-control"), "no-store", "{path}");
        assert_eq!(header(&resp, "content-security-policy"), CSP);
        assert_eq!(header(&resp, "x-frame-options"), "DENY");
        assert_eq!(header(&resp, "referrer-policy"), "same-origin");
        assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
        assert!(body_text(&resp).contains(r#"<script type="module" src="/assets/app.js"></script>"#));
    }
}

#[test]
fn the_policy_allows_no_inline_script_and_no_other_origin() {
    assert!(CSP.contains("script-src 'self';"));
    assert!(CSP.contains("frame-ancestors 'none'"));
    assert!(!CSP.contains("unsafe"), "no unsafe-inline / unsafe-eval");
    assert!(!CSP.contains("http"), "no other origin");
    assert!(!CSP.contains('*'));
}

#[test]
fn the_shell_has_no_inline_script_or_style_and_loads_only_same_origin_assets() {
    let shell = body_text(&get("/login"));
    for (i, _) in shell.match_indices("<script") {
        let tag = &shell[i..i + shell[i..].find('>').unwrap()];
        assert!(tag.contains("src=\"/assets/"), "inline script: {tag}");
        assert!(
            shell[i..].starts_with(&format!("{tag}></script>")),
            "script with a body"
        );
    }
    assert!(!shell.contains("<style"));
    assert!(!shell.contains("style="));
    assert!(!shell.contains("http://") && !shell.contains("https://"));
    for (i, _) in shell.match_indices("/assets/") {
        let name = &shell[i + 8..i + 8 + shell[i + 8..].find('"').unwrap()];
        assert!(
            ASSETS.iter().any(|a| a.name == name),
            "shell references missing asset {name}"
        );
    }
}

#[test]
fn assets_are_served_with_their_type_and_revalidated_by_etag() {
    for asset in ASSETS {
        let resp = get(&format!("/assets/{}", asset.name));
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(header(&resp, "content-type"), asset.content_type);
        assert_eq!(header(&resp, "cache-control"), "no-cache");
        assert_eq!(header(&resp, "content-security-policy"), CSP);
        let etag = header(&resp, "etag").to_owned();
        let again = respond(&Method::GET, &format!("/assets/{}", asset.name), Some(&etag));
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(matches!(again.body(), Body::Empty));
        let stale = respond(&Method::GET, &format!("/assets/{}", asset.name), Some("\"0\""));
        assert_eq!(stale.status(), StatusCode::OK);
    }
    assert_eq!(get("/assets/nope.js").status(), StatusCode::NOT_FOUND);
    assert_eq!(get("/assets/../src/lib.rs").status(), StatusCode::NOT_FOUND);
}

#[test]
fn modules_import_only_embedded_same_origin_modules() {
    for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
        let src = std::str::from_utf8(asset.body).unwrap();
        for line in src.lines() {
            if let Some(i) = line.find("from \"") {
                let spec = &line[i + 6..i + 6 + line[i + 6..].find('"').unwrap()];
                let name = spec
                    .strip_prefix("./")
                    .unwrap_or_else(|| panic!("{}: bare import {spec}", asset.name));
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "{} imports missing {spec}",
                    asset.name
                );
            }
            assert!(
                !line.contains("http://") && !line.contains("https://"),
                "{}: other origin in {line}",
                asset.name
            );
            for banned in [
                ".innerHTML",
                ".outerHTML",
                "insertAdjacentHTML",
                "eval(",
                "new Function",
                "document.write",
            ] {
                assert!(!line.contains(banned), "{}: {banned} in {line}", asset.name);
            }
        }
    }
}

#[test]
fn other_methods_and_paths_are_refused() {
    let post = respond(&Method::POST, "/login", None);
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&post, "allow"), "GET, HEAD");
    assert_eq!(get("/nowhere").status(), StatusCode::NOT_FOUND);
    assert_eq!(get("/api/auth/me").status(), StatusCode::NOT_FOUND);
    let head = respond(&Method::HEAD, "/login", None);
    assert_eq!(head.status(), StatusCode::OK);
    assert!(matches!(head.body(), Body::Empty));
}

#[test]
fn logs_name_the_kind_of_path_never_a_token() {
    assert_eq!(kind("/invite/secret-token"), "token-page");
    assert_eq!(kind("/reset-password/x"), "token-page");
    assert_eq!(kind("/assets/app.js"), "asset");
    assert_eq!(kind("/orgs/acme"), "page");
}

fn asset_url(name: &str) -> String {
    format!("file://{}/assets/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `checks` (an ES module calling `check(got, want, what)`) under node (Debian's
/// `nodejs`; scripts/test.sh installs it) and fails with every mismatch it reports.
fn node_checks(checks: &str) {
    let script = format!(
        r#"
const failures = [];
const check = (got, want, what) => {{ if (got !== want) failures.push(`${{what}}: got ${{JSON.stringify(got)}}, want ${{JSON.stringify(want)}}`); }};
{checks}
if (failures.length) {{ console.error(failures.join("\n")); process.exit(1); }}
"#
    );
    let out = std::process::Command::new("node")
        .args(["--input-type=module", "-e", &script])
        .output()
        .expect("node runs the console's pure helpers (apt-get install nodejs)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `assets/safe.js` under node (Debian's `nodejs`; scripts/test.sh installs it): `?next=`
/// stays on this origin whatever browsers make of `\`, tabs or schemes, and no CSV cell
/// of the audit export can start a spreadsheet formula (OWASP's CSV injection list:
/// `=`, `+`, `-`, `@`, tab, carriage return, also after leading blanks).
#[test]
fn safe_next_and_csv_cells_refuse_what_browsers_and_spreadsheets_misread() {
    let module = asset_url("safe.js");
    let script = format!(
        r#"
import {{ safeNext, csvCell }} from "{module}";
for (const ok of ["/", "/orgs/acme", "/orgs/acme/audit?x=1#y", "/a/b//c", "/%5Cevil.example"]) check(safeNext(ok), ok, `next ${{JSON.stringify(ok)}}`);
for (const bad of ["/\\evil.example", "/\\/evil.example", "\\\\evil.example", "//evil.example", "/\t/evil.example",
                   "/\n/evil.example", "https://evil.example", "javascript:alert(1)", "/.\\evil", "", null, undefined, 7])
  check(safeNext(bad), "/", `next ${{JSON.stringify(bad)}}`);
const cells = [
  ["plain", "plain"], ["", ""], [null, ""], [42, "42"], [{{ a: 1 }}, '"{{""a"":1}}"'],
  ['a,"b"', '"a,""b"""'], ["=1+1", `"'=1+1"`], ["+1", `"'+1"`], ["-2+3", `"'-2+3"`], ["@SUM(A1)", `"'@SUM(A1)"`],
  ["\t=cmd|' /C calc'!A0", `"'\t=cmd|' /C calc'!A0"`], ["\r=1+1", `"'\r=1+1"`], ["\tplain", `"'\tplain"`],
  ["\r", `"'\r"`], ["  =1+1", `"'  =1+1"`], ["\n@x", `"'\n@x"`],
];
for (const [v, want] of cells) check(csvCell(v), want, `cell ${{JSON.stringify(v)}}`);
"#
    );
    node_checks(&script);
}

/// `assets/index-text.js` under node: the lines the console shows about a repository's
/// code index (progress while building, with or without a known file total; the stats
/// sentence; languages, most files first; sizes; the failure reason, the server's sentence
/// first).
#[test]
fn index_sentences_say_progress_stats_and_failures_in_words() {
    let module = asset_url("index-text.js");
    let script = format!(
        r#"
import * as t from "{module}";
const idx = (status, phase, filesDone, filesTotal) => ({{ status, phase, progress: {{ filesDone, filesTotal }} }});
check(t.progressLine(null), "Not indexed yet.", "never indexed");
check(t.progressLine(idx("queued", null, 0, null)), "Queued: waiting for an indexer to pick it up…", "queued");
check(t.progressLine(idx("indexing", "parsing", 12, null)), "Indexing: parsing files, 12 files parsed…", "total unknown");
check(t.progressLine(idx("indexing", "parsing", 1, null)), "Indexing: parsing files, 1 file parsed…", "one file");
check(t.progressLine(idx("indexing", "parsing", 1234, 4000)), "Indexing: parsing files, 1,234 of 4,000 files parsed (30%)…", "total known");
check(t.progressLine(idx("indexing", "graph", 40, 40)), "Indexing: building the dependency graph, 40 of 40 files parsed (100%)…", "graph");
check(t.progressLine(idx("indexing", "embeddings", 50, 40)), "Indexing: computing embeddings, 50 of 40 files parsed (100%)…", "never over 100%");
check(t.progressLine(idx("indexing", null, null, 0)), "Indexing: starting, 0 files parsed…", "no phase yet");
check(t.progressLine({{ status: "indexing", phase: "parsing", progress: null }}), "Indexing: parsing files, 0 files parsed…", "no progress yet");
check(t.progressLine({{ status: "ready" }}), "Ready.", "ready");
check(t.inProgress(idx("queued")) && t.inProgress(idx("indexing")), true, "queued and indexing poll");
check(t.inProgress(idx("ready")) || t.inProgress(idx("failed")) || t.inProgress(null), false, "ready, failed, none stop");
check(t.statusLabel(null), "Not indexed", "label none");
check(t.statusLabel({{ status: "failed" }}), "Failed", "label failed");
const stats = {{ files: 56, symbols: 1234, edges: 789, bytes: 1258291, lines: 12345, languages: {{ go: 3, python: 50, rust: 3, shell: 0 }}, skipped: 2 }};
check(t.statsSentence(stats), "1,234 symbols indexed, 56 files, 789 dependencies (edges)", "stats");
check(t.statsSentence({{ files: 1, symbols: 1, edges: 1 }}), "1 symbol indexed, 1 file, 1 dependency (edges)", "singular stats");
check(t.statsSentence(null), "", "no stats");
check(t.statsSentence({{ ...stats, vectors: 1000 }}), "1,234 symbols indexed, 56 files, 789 dependencies (edges), 1,000 symbols embedded", "embedded symbols");
check(t.statsSentence({{ ...stats, vectors: 0 }}), "1,234 symbols indexed, 56 files, 789 dependencies (edges)", "no embeddings");
check(t.languagesLine(stats.languages), "Python (50 files), Go (3 files), Rust (3 files)", "languages");
check(t.languagesLine({{ cobol: 1 }}), "cobol (1 file)", "unknown language by its key");
check(t.languagesLine(null), "", "no languages");
check(t.sizeLine(stats), "12,345 lines, 1.2 MB; 2 files skipped", "size and skipped");
check(t.sizeLine({{ lines: 1, bytes: 900, skipped: 0 }}), "1 line, 900 bytes", "small, none skipped");
check(t.size(15 * 1024 * 1024), "15 MB", "MB");
check(t.shortCommit("0123456789abcdef"), "0123456", "short commit");
check(t.shortCommit(null), "—", "no commit");
check(t.failureReason({{ code: "too_large", message: "The repository has 2.1 GB of source; the limit is 1 GB." }}), "The repository has 2.1 GB of source; the limit is 1 GB.", "server sentence");
check(t.failureReason({{ code: "token_invalid", message: "" }}), "The provider refused the repository's access token: connect the repository again with a valid token.", "code sentence");
check(t.failureReason({{ code: "something_new" }}), "The index could not be built.", "unknown code");
check(t.failureReason(null), "The index could not be built.", "no error");
check(t.fallbackLine({{ status: "failed", commit: null, stats: null }}), "Reviews still run, on the diff alone, until an index is ready.", "no index to fall back on");
check(t.fallbackLine({{ status: "failed", commit: "89abcdef0123", stats }}), "Reviews keep using the last ready index (commit 89abcde) until a new one is ready.", "the last ready index");
"#
    );
    node_checks(&script);
}

/// `assets/review-report.js` under node: a review's dropped comments in words, by reason,
/// nothing when none was dropped; its graph context (or why it was diff-only) and each changed
/// symbol's callers in words (the walkthrough and symbols are text nodes in the browser).
#[test]
fn dropped_comments_are_said_by_reason() {
    let module = asset_url("review-report.js");
    let script = format!(
        r#"
import * as r from "{module}";
check(r.droppedText({{ lowConfidence: 2, unverified: 0, invalidAnchor: 1, belowSeverity: 0, duplicate: 0, overCap: 0 }}),
      "3 not posted: 2 low confidence, 1 outside the diff", "counts by reason");
check(r.droppedText({{ unverified: 1 }}), "1 not posted: 1 lowered by the verifier", "verifier");
check(r.droppedText({{ lowConfidence: 0 }}), null, "none dropped");
check(r.droppedText(undefined), null, "an older job");
check(r.answerText({{ truncated: true, salvaged: 1, retriedSmaller: false }}), "Answer cut short at the token limit; 1 comment salvaged", "salvaged");
check(r.answerText({{ truncated: true, retriedSmaller: true }}), "Answer cut short at the token limit; asked again with a smaller request", "asked again");
check(r.answerText({{ truncated: false, salvaged: 0, retriedSmaller: false }}), "0 comments salvaged", "trailing text cut");
check(r.answerText(undefined), null, "an older job's answer");
check(r.contextText({{ mode: "graph", indexCommit: "89abcdef0123", changed: [{{}}, {{}}], related: 3, tokens: 420 }}),
      "Graph context: 2 changed symbols, 3 related, ~420 tokens (index 89abcde)", "graph context");
check(r.contextText({{ mode: "diff_only", reason: "no_index", changed: [] }}), "Diff only: no codebase index was ready", "diff only");
check(r.contextText({{ mode: "diff_only", reason: "index_not_configured", changed: [] }}), null, "no index in this deployment");
check(r.contextText(undefined), null, "an older job's context");
check(r.impactText({{ name: "pkg.util.helper", path: "pkg/util.py", change: "modified", callers: 3, callerFiles: 2,
        topFiles: [{{ path: "pkg/app.py", callers: ["App.run", "App.size"] }}, {{ path: "tests/t.py", callers: ["test_x"] }}] }}),
      "pkg.util.helper (pkg/util.py) — 3 callers in 2 files: pkg/app.py (App.run, App.size), tests/t.py (test_x)", "impact");
check(r.impactText({{ name: "f", path: "a.py", change: "added", callers: 0 }}), "f (a.py) (new) — no callers in the index", "no callers");
"#
    );
    node_checks(&script);
}
