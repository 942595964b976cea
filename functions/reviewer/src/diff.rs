//! Pure diff work: which files are reviewed, which new-side lines of a unified patch can
//! carry an inline comment, and the line-numbered rendering the model reads.

use std::collections::{BTreeSet, HashMap};

/// One changed file of a pull request, as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    pub path: String,
    /// `added`, `modified`, `removed`, `renamed`, …
    pub status: String,
    /// The unified-diff hunks (`@@ -a,b +c,d @@` …); `None` for binary or too-large files.
    pub patch: Option<String>,
    /// The path before a rename.
    pub old_path: Option<String>,
}

/// Lock files and generated files: never worth a reviewer's (or a model's) attention.
const IGNORED_NAMES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "Gemfile.lock",
    "poetry.lock",
    "Pipfile.lock",
    "composer.lock",
    "go.sum",
    "flake.lock",
    "packages.lock.json",
    "mix.lock",
    "pubspec.lock",
    "Podfile.lock",
    "uv.lock",
];
const IGNORED_SUFFIXES: &[&str] = &[
    ".lock", ".min.js", ".min.css", ".map", ".pb.go", "_pb2.py", ".pb.cc", ".pb.h", ".snap", ".svg",
];
const IGNORED_DIRS: &[&str] = &[
    "node_modules/",
    "vendor/",
    "dist/",
    "build/",
    "__generated__/",
    "generated/",
];

/// Is `path` left out of the review (lock/generated files, or a configured pattern:
/// `dir/` (a directory anywhere), `*.ext` (a suffix), or an exact path or file name)?
pub fn is_ignored(path: &str, extra: &[String]) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let in_dir = |dir: &str| path.starts_with(dir) || path.contains(&format!("/{dir}"));
    if IGNORED_NAMES.contains(&name)
        || IGNORED_SUFFIXES.iter().any(|s| name.ends_with(s))
        || name.contains(".generated.")
        || IGNORED_DIRS.iter().any(|d| in_dir(d))
    {
        return true;
    }
    extra.iter().any(|p| {
        if p.ends_with('/') {
            in_dir(p)
        } else if let Some(suffix) = p.strip_prefix('*') {
            path.ends_with(suffix)
        } else {
            path == p || name == p
        }
    })
}

/// A patch rendered for the prompt: every new-side line carries its line number, and the
/// set of lines a comment may point at (added and context lines on the new side).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderedPatch {
    pub text: String,
    pub lines: BTreeSet<u32>,
    /// The patch did not fit and was cut (at a line boundary).
    pub truncated: bool,
}

/// Renders `patch` into at most `budget` bytes.
pub fn render_patch(patch: &str, budget: usize) -> RenderedPatch {
    let mut out = RenderedPatch {
        text: String::with_capacity(patch.len().min(budget) + patch.len() / 8),
        ..RenderedPatch::default()
    };
    let mut new_line: u32 = 0;
    for raw in patch.lines() {
        // A numbered line's number takes 6 columns up to 999,999 and more past it.
        let numbered = !raw.starts_with("@@") && matches!(raw.as_bytes().first(), Some(b'+' | b' '));
        let wide = if numbered {
            digits(new_line).saturating_sub(6)
        } else {
            0
        };
        let rendered_len = raw.len() + 8 + wide;
        if out.text.len() + rendered_len > budget {
            out.truncated = true;
            break;
        }
        if let Some(header) = raw.strip_prefix("@@") {
            new_line = hunk_new_start(header).unwrap_or(0);
            out.text.push_str(raw);
            out.text.push('\n');
            continue;
        }
        match raw.as_bytes().first() {
            Some(b'+') | Some(b' ') => {
                if new_line > 0 {
                    out.lines.insert(new_line);
                }
                push_numbered(&mut out.text, new_line, raw);
                new_line = new_line.saturating_add(1);
            }
            Some(b'-') => {
                out.text.push_str("       ");
                out.text.push_str(raw);
                out.text.push('\n');
            }
            // "\ No newline at end of file" and anything unexpected: shown, not numbered.
            _ => {
                out.text.push_str("       ");
                out.text.push_str(raw);
                out.text.push('\n');
            }
        }
    }
    out
}

fn digits(n: u32) -> usize {
    n.checked_ilog10().map_or(1, |l| l as usize + 1)
}

fn push_numbered(text: &mut String, line: u32, raw: &str) {
    use std::fmt::Write as _;
    let _ = write!(text, "{line:>6} ");
    text.push_str(raw);
    text.push('\n');
}

/// The new-side start of a hunk header's `+c,d` part (`header` is after the leading `@@`).
fn hunk_new_start(header: &str) -> Option<u32> {
    let plus = header.split_whitespace().find(|p| p.starts_with('+'))?;
    plus[1..].split(',').next()?.parse().ok()
}

/// The old-side line of a new-side line that the patch shows as context (unchanged);
/// `None` for an added line or a line the patch does not show.
pub fn old_line_of(patch: &str, wanted: u32) -> Option<u32> {
    let (mut old, mut new) = (0u32, 0u32);
    for raw in patch.lines() {
        if let Some(header) = raw.strip_prefix("@@") {
            let mut parts = header.split_whitespace();
            old = parts
                .next()
                .and_then(|p| p.strip_prefix('-'))
                .and_then(|p| p.split(',').next())
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            new = hunk_new_start(header).unwrap_or(0);
            continue;
        }
        match raw.as_bytes().first() {
            // Saturating: a hunk header may claim any line number.
            Some(b' ') => {
                if new == wanted {
                    return Some(old);
                }
                old = old.saturating_add(1);
                new = new.saturating_add(1);
            }
            Some(b'+') => {
                if new == wanted {
                    return None;
                }
                new = new.saturating_add(1);
            }
            Some(b'-') => old = old.saturating_add(1),
            _ => {}
        }
    }
    None
}

/// Splits a `git diff` (Bitbucket's `…/pullrequests/{id}/diff`) into files: paths from
/// the `---`/`+++` lines (or the `diff --git` line), the status from the extended
/// headers, the hunks from the first `@@` on (`None` for a binary file).
pub fn parse_git_diff(text: &str) -> Vec<ChangedFile> {
    let mut files = Vec::new();
    // The first chunk starts with "diff --git " itself.
    for chunk in text.split("\ndiff --git ") {
        let chunk = chunk.strip_prefix("diff --git ").unwrap_or(chunk);
        if chunk.trim().is_empty() {
            continue;
        }
        let (header, hunks) = match chunk.find("\n@@") {
            Some(at) => (&chunk[..at], Some(&chunk[at + 1..])),
            None => (chunk, None),
        };
        let mut first = header.lines().next().unwrap_or_default().split(" b/");
        let mut old_path = first.next().map(|a| a.trim_start_matches("a/").to_owned());
        let mut path = first.next().map(str::to_owned).unwrap_or_default();
        let mut status = "modified";
        for line in header.lines().skip(1) {
            if line.starts_with("new file mode") {
                status = "added";
            } else if line.starts_with("deleted file mode") {
                status = "removed";
            } else if let Some(from) = line.strip_prefix("rename from ") {
                status = "renamed";
                old_path = Some(from.to_owned());
            } else if let Some(to) = line.strip_prefix("rename to ") {
                path = to.to_owned();
            } else if let Some(b) = line.strip_prefix("+++ ") {
                if b != "/dev/null" {
                    path = b.strip_prefix("b/").unwrap_or(b).to_owned();
                }
            } else if let Some(a) = line.strip_prefix("--- ")
                && a != "/dev/null"
            {
                old_path = Some(a.strip_prefix("a/").unwrap_or(a).to_owned());
            }
        }
        if status == "removed" {
            path = old_path.clone().unwrap_or(path);
        }
        let patch = hunks.map(|h| h.trim_end_matches('\n').to_owned());
        files.push(ChangedFile {
            old_path: old_path.filter(|o| *o != path),
            path,
            status: status.to_owned(),
            patch,
        });
    }
    files
}

/// Most LCS cells a line diff may use (more: the changed middle is shown as replaced).
const MAX_DIFF_CELLS: usize = 4_000_000;

/// A unified diff (hunks only, 3 lines of context) of two texts, for hosts that serve
/// file contents instead of patches (Azure DevOps).
pub fn unified_diff(old: &str, new: &str) -> String {
    const CONTEXT: usize = 3;
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = line_ops(&a, &b);
    // Each op: (kind, old index, new index); kind ' ', '-', '+'.
    let mut out = String::new();
    let mut i = 0;
    while i < ops.len() {
        if ops[i].0 == ' ' {
            i += 1;
            continue;
        }
        let start = i.saturating_sub(CONTEXT);
        let mut end = i;
        // Extend while changes are within 2·CONTEXT of each other.
        let mut last_change = i;
        while end < ops.len() {
            if ops[end].0 != ' ' {
                last_change = end;
            } else if end - last_change > 2 * CONTEXT {
                break;
            }
            end += 1;
        }
        let end = (last_change + CONTEXT + 1).min(ops.len());
        let hunk = &ops[start..end];
        let old_start = hunk.iter().find(|o| o.0 != '+').map(|o| o.1 + 1).unwrap_or(hunk[0].1);
        let new_start = hunk.iter().find(|o| o.0 != '-').map(|o| o.2 + 1).unwrap_or(hunk[0].2);
        let old_len = hunk.iter().filter(|o| o.0 != '+').count();
        let new_len = hunk.iter().filter(|o| o.0 != '-').count();
        out.push_str(&format!("@@ -{old_start},{old_len} +{new_start},{new_len} @@\n"));
        for (kind, oi, ni) in hunk {
            let text = if *kind == '+' { b[*ni] } else { a[*oi] };
            out.push(*kind);
            out.push_str(text);
            out.push('\n');
        }
        i = end;
    }
    out.trim_end_matches('\n').to_owned()
}

/// The edit script of two line lists: common prefix and suffix, an LCS of the middle
/// (or, past [`MAX_DIFF_CELLS`], the whole middle replaced).
fn line_ops(a: &[&str], b: &[&str]) -> Vec<(char, usize, usize)> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<(char, usize, usize)> = (0..prefix).map(|k| (' ', k, k)).collect();
    let (n, m) = (am.len(), bm.len());
    if n.saturating_mul(m) <= MAX_DIFF_CELLS && n > 0 && m > 0 {
        // lcs[i][j]: LCS length of am[i..] and bm[j..].
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * (m + 1) + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                ops.push((' ', prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
                // Removals before additions, as `git diff` shows a replaced line.
                ops.push(('-', prefix + i, prefix + j));
                i += 1;
            } else {
                ops.push(('+', prefix + i, prefix + j));
                j += 1;
            }
        }
    } else {
        ops.extend((0..n).map(|i| ('-', prefix + i, prefix)));
        ops.extend((0..m).map(|j| ('+', prefix + n, prefix + j)));
    }
    let (ao, bo) = (a.len() - suffix, b.len() - suffix);
    ops.extend((0..suffix).map(|k| (' ', ao + k, bo + k)));
    ops
}

/// What the prompt shows of a pull request's diff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffView {
    /// Rendered text of the files shown, in order.
    pub text: String,
    /// Commentable new-side lines per shown file.
    pub commentable: HashMap<String, BTreeSet<u32>>,
    /// Files changed but not shown because the budget ran out.
    pub omitted: Vec<String>,
    /// Files left out on purpose (lock, generated, configured patterns, binary).
    pub ignored: Vec<String>,
    /// Files not downloaded whole: over the download cap (per answer or per job).
    pub too_large: Vec<String>,
    /// The provider's list of changed files was not read to its end (over the cap).
    pub unread: bool,
    pub truncated: bool,
    pub files_shown: usize,
}

/// Builds the prompt's diff within `budget` bytes: reviewed files in the provider's order,
/// ignored files listed by name only, the file that crosses the budget cut at a line.
pub fn build_view(files: &[ChangedFile], budget: usize, extra_ignores: &[String]) -> DiffView {
    let mut view = DiffView {
        text: String::with_capacity(budget.min(1 << 20)),
        ..DiffView::default()
    };
    for file in files {
        let Some(patch) = file.patch.as_deref().filter(|_| !is_ignored(&file.path, extra_ignores)) else {
            view.ignored.push(file.path.clone());
            continue;
        };
        if file.status == "removed" {
            view.ignored.push(file.path.clone());
            continue;
        }
        let header = format!("=== FILE: {} ({}) ===\n", file.path, file.status);
        let left = budget.saturating_sub(view.text.len() + header.len());
        if view.truncated || left < 256 {
            view.truncated = true;
            view.omitted.push(file.path.clone());
            continue;
        }
        let rendered = render_patch(patch, left);
        view.text.push_str(&header);
        view.text.push_str(&rendered.text);
        if rendered.truncated {
            view.text.push_str("[… this file's diff was truncated here …]\n");
            view.truncated = true;
        }
        view.files_shown += 1;
        view.commentable.insert(file.path.clone(), rendered.lines);
    }
    view
}

/// Keeps only the lines a comment may be anchored to on the pull request's own diff
/// (`own`): an incremental review shows the model what changed since the last reviewed
/// head, but comments are placed on the pull request's diff, which does not show lines
/// merged in from the base branch (GitHub refuses such a comment with 422, GitLab needs
/// the position of the merge request's diff).
pub fn anchor_to(view: &mut DiffView, own: &[ChangedFile]) {
    for (path, lines) in &mut view.commentable {
        let anchorable = own
            .iter()
            .find(|f| &f.path == path && f.status != "removed")
            .and_then(|f| f.patch.as_deref())
            .map(|p| render_patch(p, usize::MAX).lines)
            .unwrap_or_default();
        lines.retain(|l| anchorable.contains(l));
    }
}

/// Notes in the view what the download caps left out: files not downloaded whole (named
/// as such, not as ignored) and a listing that stopped short.
pub fn note_left_out(view: &mut DiffView, too_large: Vec<String>, unread: bool) {
    view.ignored.retain(|p| !too_large.contains(p));
    view.too_large = too_large;
    view.unread = unread;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_incremental_view_anchors_only_to_the_pull_requests_own_lines() {
        let file = |path: &str, patch: &str| ChangedFile {
            path: path.into(),
            status: "modified".into(),
            patch: Some(patch.into()),
            old_path: None,
        };
        // Since the last review: lines 1-3 of a.rs (2 of them merged in from the base) and
        // b.rs (entirely from the base).
        let since = [
            file("a.rs", "@@ -1,1 +1,3 @@\n+from base\n+ours\n+from base too\n"),
            file("b.rs", "@@ -1,0 +1,1 @@\n+base only\n"),
        ];
        // The pull request's own diff: a.rs line 2 only.
        let own = [file("a.rs", "@@ -1,0 +2,1 @@\n+ours\n")];
        let mut view = build_view(&since, 10_000, &[]);
        assert_eq!(view.commentable["a.rs"], BTreeSet::from([1, 2, 3]));
        anchor_to(&mut view, &own);
        assert_eq!(view.commentable["a.rs"], BTreeSet::from([2]));
        assert!(view.commentable["b.rs"].is_empty());
        assert!(view.text.contains("from base"), "the model still sees what changed");
    }

    const PATCH: &str = "@@ -1,3 +1,4 @@\n line one\n-old two\n+new two\n+added three\n line four\n@@ -10,2 +11,2 @@\n ctx\n-x\n+y\n\\ No newline at end of file";

    #[test]
    fn new_side_lines_are_numbered_and_commentable() {
        let r = render_patch(PATCH, 10_000);
        assert_eq!(r.lines, BTreeSet::from([1, 2, 3, 4, 11, 12]));
        assert!(r.text.contains("     2 +new two\n"), "{}", r.text);
        assert!(r.text.contains("       -old two\n"));
        assert!(r.text.contains("    12 +y\n"));
        assert!(!r.truncated);
    }

    #[test]
    fn a_small_budget_cuts_at_a_line_and_says_so() {
        let r = render_patch(PATCH, 40);
        assert!(r.truncated);
        assert!(r.text.len() <= 40);
        assert!(r.lines.iter().all(|l| *l <= 2));
    }

    #[test]
    fn lock_generated_and_configured_paths_are_ignored() {
        for p in [
            "Cargo.lock",
            "web/package-lock.json",
            "a/b.min.js",
            "node_modules/x/y.js",
            "api/x.pb.go",
        ] {
            assert!(is_ignored(p, &[]), "{p}");
        }
        assert!(!is_ignored("src/lib.rs", &[]));
        let extra = vec!["docs/".to_owned(), "*.md".to_owned(), "Makefile".to_owned()];
        assert!(is_ignored("docs/a.txt", &extra));
        assert!(is_ignored("README.md", &extra));
        assert!(is_ignored("tools/Makefile", &extra));
        assert!(!is_ignored("src/docs.rs", &extra));
    }

    #[test]
    fn context_lines_know_their_old_line() {
        assert_eq!(old_line_of(PATCH, 1), Some(1));
        assert_eq!(old_line_of(PATCH, 2), None, "added");
        assert_eq!(old_line_of(PATCH, 4), Some(3));
        assert_eq!(old_line_of(PATCH, 11), Some(10));
        assert_eq!(old_line_of(PATCH, 99), None);
    }

    #[test]
    fn git_diffs_split_into_files() {
        let text = "diff --git a/src/a.rs b/src/a.rs\nindex 1..2 100644\n--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,2 +1,2 @@\n x\n-y\n+z\ndiff --git a/new.txt b/new.txt\nnew file mode 100644\nindex 0..1\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hi\ndiff --git a/old.txt b/old.txt\ndeleted file mode 100644\n--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\ndiff --git a/img.png b/img.png\nindex 1..2 100644\nBinary files a/img.png and b/img.png differ\ndiff --git a/x.rs b/y.rs\nsimilarity index 90%\nrename from x.rs\nrename to y.rs\n--- a/x.rs\n+++ b/y.rs\n@@ -1 +1 @@\n-a\n+b\n";
        let files = parse_git_diff(text);
        let got: Vec<_> = files
            .iter()
            .map(|f| {
                (
                    f.path.as_str(),
                    f.status.as_str(),
                    f.old_path.as_deref(),
                    f.patch.is_some(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("src/a.rs", "modified", None, true),
                ("new.txt", "added", None, true),
                ("old.txt", "removed", None, true),
                ("img.png", "modified", None, false),
                ("y.rs", "renamed", Some("x.rs"), true),
            ]
        );
        assert_eq!(files[0].patch.as_deref(), Some("@@ -1,2 +1,2 @@\n x\n-y\n+z"));
    }

    #[test]
    fn unified_diffs_of_two_texts() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n";
        let new = "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\nl\nm\n";
        let d = unified_diff(old, new);
        assert_eq!(
            d,
            "@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n@@ -10,3 +10,4 @@\n j\n k\n l\n+m"
        );
        let r = render_patch(&d, 10_000);
        assert_eq!(r.lines.iter().copied().filter(|l| [4, 13].contains(l)).count(), 2);
        assert_eq!(unified_diff("", "x\ny"), "@@ -0,0 +1,2 @@\n+x\n+y");
        assert_eq!(unified_diff("same\n", "same\n"), "");
    }

    #[test]
    fn the_view_lists_what_it_left_out() {
        let big = format!(
            "@@ -1,1 +1,400 @@\n{}",
            "+a line of code that is long enough\n".repeat(400)
        );
        let files = vec![
            ChangedFile {
                path: "src/a.rs".into(),
                status: "modified".into(),
                patch: Some(PATCH.into()),
                old_path: None,
            },
            ChangedFile {
                path: "Cargo.lock".into(),
                status: "modified".into(),
                patch: Some(PATCH.into()),
                old_path: None,
            },
            ChangedFile {
                path: "img.png".into(),
                status: "added".into(),
                patch: None,
                old_path: None,
            },
            ChangedFile {
                path: "src/big.rs".into(),
                status: "added".into(),
                patch: Some(big),
                old_path: None,
            },
            ChangedFile {
                path: "src/c.rs".into(),
                status: "modified".into(),
                patch: Some(PATCH.into()),
                old_path: None,
            },
        ];
        let v = build_view(&files, 2_000, &[]);
        assert_eq!(v.ignored, vec!["Cargo.lock", "img.png"]);
        assert!(v.truncated);
        assert_eq!(v.omitted, vec!["src/c.rs"]);
        assert!(v.text.len() <= 2_000 + 64);
        assert!(v.commentable.contains_key("src/big.rs"));
        assert!(!v.commentable.contains_key("Cargo.lock"));
    }
}

/// Diffs come from providers (and, through them, from whoever pushed): any text, any line
/// numbers. Nothing here may panic or outgrow its budget.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn number() -> impl Strategy<Value = u32> {
        prop_oneof![
            0u32..20,
            Just(u32::MAX),
            Just(u32::MAX - 1),
            Just(999_999),
            any::<u32>()
        ]
    }

    /// Text shaped like a patch: hunk headers with any numbers, +/-/context lines of any
    /// script, stray lines.
    fn patch_like() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            (number(), number(), number(), number()).prop_map(|(a, b, c, d)| format!("@@ -{a},{b} +{c},{d} @@ fn x()")),
            "@@\\PC{0,12}",
            "[ +-]\\PC{0,24}",
            any::<String>(),
            Just("\\ No newline at end of file".to_owned()),
        ];
        prop::collection::vec(line, 0..24).prop_map(|lines| lines.join("\n"))
    }

    /// Text shaped like `git diff` output around patches.
    fn git_diff_like() -> impl Strategy<Value = String> {
        let header = prop_oneof![
            "a/\\PC{0,8} b/\\PC{0,8}".prop_map(|h| format!("diff --git {h}")),
            "(new file mode|deleted file mode|rename from|rename to|--- a/|\\+\\+\\+ b/|--- /dev/null|\\+\\+\\+ /dev/null) ?\\PC{0,8}",
            any::<String>(),
        ];
        prop::collection::vec(prop_oneof![header, patch_like()], 0..8).prop_map(|parts| parts.join("\n"))
    }

    #[test]
    fn wide_line_numbers_count_in_the_budget() {
        let patch = "@@ -1 +4294967290,2 @@\n+a\n+b";
        for budget in 0..80 {
            let r = render_patch(patch, budget);
            assert!(r.text.len() <= budget, "{} > {budget}: {:?}", r.text.len(), r.text);
        }
    }

    proptest! {
        #[test]
        fn rendering_never_panics_and_keeps_every_budget(patch in patch_like()) {
            let whole = render_patch(&patch, usize::MAX).text.len();
            for budget in 0..=whole.min(4_000) {
                let r = render_patch(&patch, budget);
                prop_assert!(r.text.len() <= budget, "{} > {budget}", r.text.len());
            }
        }

        #[test]
        fn old_lines_of_any_patch(patch in patch_like(), wanted in number()) {
            let _ = old_line_of(&patch, wanted);
        }

        #[test]
        fn git_diffs_of_any_text(text in git_diff_like()) {
            for f in parse_git_diff(&text) {
                prop_assert!(f.path.len() <= text.len());
                prop_assert!(f.patch.as_ref().is_none_or(|p| p.len() <= text.len()));
                prop_assert!(f.old_path.as_ref().is_none_or(|p| p.len() <= text.len()));
            }
        }

        #[test]
        fn unified_diffs_of_any_texts(old in "(\\PC{0,4}\n){0,16}", new in "(\\PC{0,4}\n){0,16}") {
            let d = unified_diff(&old, &new);
            let lines = old.lines().count() + new.lines().count();
            prop_assert!(d.len() <= old.len() + new.len() + lines * 2 + 48 * (lines + 1));
            // Its own patch renders, numbering only lines of the new text.
            let r = render_patch(&d, usize::MAX);
            prop_assert!(r.lines.iter().all(|l| (*l as usize) <= new.lines().count()));
        }

        #[test]
        fn views_keep_their_budget(
            files in prop::collection::vec(("\\PC{0,12}", prop::option::of(patch_like()), "(added|removed|modified|\\PC{0,6})"), 0..6),
            budget in 0usize..4_000,
            extra in prop::collection::vec("\\PC{0,6}", 0..3),
        ) {
            let files: Vec<ChangedFile> = files
                .into_iter()
                .map(|(path, patch, status)| ChangedFile { path, status, patch, old_path: None })
                .collect();
            let v = build_view(&files, budget, &extra);
            // The one truncation notice may follow the last file.
            prop_assert!(v.text.len() <= budget + "[… this file's diff was truncated here …]\n".len());
            prop_assert_eq!(v.files_shown + v.omitted.len() + v.ignored.len(), files.len());
        }
    }
}
