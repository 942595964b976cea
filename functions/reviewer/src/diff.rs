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
        let rendered_len = raw.len() + 8;
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

#[cfg(test)]
mod tests {
    use super::*;

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
            },
            ChangedFile {
                path: "Cargo.lock".into(),
                status: "modified".into(),
                patch: Some(PATCH.into()),
            },
            ChangedFile {
                path: "img.png".into(),
                status: "added".into(),
                patch: None,
            },
            ChangedFile {
                path: "src/big.rs".into(),
                status: "added".into(),
                patch: Some(big),
            },
            ChangedFile {
                path: "src/c.rs".into(),
                status: "modified".into(),
                patch: Some(PATCH.into()),
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
