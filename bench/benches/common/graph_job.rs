//! The graph context of one review over a real repository (`benches/graph.rs`,
//! `examples/graph_tokens.rs`; BENCHMARKS.md, "Graph context"): a base graph built from a
//! source tree on disk (Django 5.2.8, or the ~1M-line standard library + Django, as
//! scripts/bench-sources.sh fetches them), stored and read back as the reviewer reads it
//! from S3 (`Graph::encode` → `Graph::decode`), and a pull request of [`CHANGES`]: one line
//! changed at the end of each named function's body, its head version and its patch
//! (unified, 3 lines of context), as the provider would serve them.
//!
//! [`job`] is the reviewer's own work for that pull request once the bytes are in memory
//! (functions/reviewer/src/graph_context.rs without its I/O): the patches' lines, the head
//! files parsed where they touch them, `CallIndex::new`, `blast`, `impact`, the excerpts of the top neighbours out
//! of their (already read) files, `render_prompt` and `render_impact`.

use std::collections::HashMap;
use std::path::PathBuf;

use agnus_bench::corpus::Corpus;
use agnus_index::blast::{self, Blast, FileChange, Reach};
use agnus_index::{CallIndex, FileIndex, Graph, Limits, ResolveMode, parse_changed, parse_file};
use agnus_reviewer::graph_prompt::{self, HunkLines, Rendered};

/// The functions the benchmark's pull request changes (Django 5.2.8 paths and qualified
/// names): five files of 208–834 lines, 2,303 in all, everyday utilities with callers
/// across the framework.
pub const CHANGES: [(&str, &str); 5] = [
    ("django/utils/text.py", "django.utils.text.slugify"),
    ("django/utils/html.py", "django.utils.html.escape"),
    ("django/http/request.py", "django.http.request.HttpRequest.get_host"),
    ("django/utils/encoding.py", "django.utils.encoding.force_str"),
    ("django/urls/base.py", "django.urls.base.reverse"),
];

/// The commit the index was built at (rendered in the prompt).
pub const COMMIT: &str = "4c3e1f0a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e";
/// Neighbours with a body excerpt (graph_context.rs's `EXCERPTS`).
pub const EXCERPTS: usize = 3;
/// The default context budget (review settings), in tokens.
pub const DEFAULT_BUDGET: usize = 1_500;

/// One changed file of the pull request.
pub struct Changed {
    pub path: String,
    pub head: Vec<u8>,
    pub patch: String,
}

pub struct Fixture {
    pub label: String,
    pub lines: u64,
    pub encoded: Vec<u8>,
    /// `Graph::decode(encoded)`, what the reviewer holds after reading S3.
    pub graph: Graph,
    /// Base versions of every file, split in lines (what the excerpt reads fetch).
    pub base_lines: HashMap<String, Vec<String>>,
    pub changes: Vec<Changed>,
}

/// The source roots: `AGNUS_BENCH_DJANGO` (the directory holding the `django` package) and,
/// for the 1M-line input, `AGNUS_BENCH_STDLIB` (CPython's `Lib`, tests included).
pub fn roots(with_stdlib: bool) -> Option<Vec<(PathBuf, String)>> {
    let django = PathBuf::from(std::env::var_os("AGNUS_BENCH_DJANGO")?);
    let mut roots = vec![(django.join("django"), "django".to_owned())];
    if with_stdlib {
        roots.insert(
            0,
            (PathBuf::from(std::env::var_os("AGNUS_BENCH_STDLIB")?), String::new()),
        );
    }
    Some(roots)
}

impl Fixture {
    /// Indexes `roots` (`.py` files, the index's skip rules) and makes the pull request.
    pub fn new(label: &str, roots: Vec<(PathBuf, String)>) -> Fixture {
        let corpus = Corpus {
            roots,
            exclude: Vec::new(),
            extensions: vec!["py".to_owned()],
        };
        let limits = Limits::default();
        let mut parsed = Vec::new();
        let mut base_lines = HashMap::new();
        for source in corpus.files().0 {
            let Ok(bytes) = std::fs::read(&source.disk) else {
                continue;
            };
            parsed.extend(parse_file(&source.path, &bytes, &limits));
            let text = String::from_utf8_lossy(&bytes);
            base_lines.insert(source.path, text.lines().map(str::to_owned).collect());
        }
        let built = Graph::build(parsed, ResolveMode::Scoped);
        let encoded = built.encode();
        let graph = Graph::decode(&encoded, 1 << 30).expect("the graph decodes");
        let changes = CHANGES
            .iter()
            .map(|(path, qualified)| change(&graph, &base_lines, path, qualified))
            .collect();
        Fixture {
            label: label.to_owned(),
            lines: graph.stats().lines,
            encoded,
            graph,
            base_lines,
            changes,
        }
    }

    /// The head versions, parsed where the patches touch them (`parse_changed`, as
    /// graph_context.rs does), given the patches' lines.
    pub fn parse_heads(&self, hunks: &[HunkLines]) -> Vec<FileIndex> {
        self.changes
            .iter()
            .zip(hunks)
            .filter_map(|(c, lines)| {
                let base = self.graph.file_index(&c.path).map(|i| &self.graph.files[i as usize]);
                parse_changed(&c.path, &c.head, base, lines, &Limits::default())
            })
            .collect()
    }

    /// The head versions, each parsed whole (what the reviewer did before `parse_changed`).
    pub fn parse_whole_heads(&self) -> Vec<FileIndex> {
        self.changes
            .iter()
            .filter_map(|c| parse_file(&c.path, &c.head, &Limits::default()))
            .collect()
    }

    /// The patches' lines (the first step of [`job`]).
    pub fn hunks(&self) -> Vec<HunkLines> {
        self.changes
            .iter()
            .map(|c| graph_prompt::hunk_lines(&c.patch))
            .collect()
    }

    /// `blast::FileChange`s over parsed heads and hunk lines, as graph_context.rs builds them.
    pub fn file_changes<'a>(&'a self, heads: &'a [FileIndex], hunks: &[HunkLines]) -> Vec<FileChange<'a>> {
        self.changes
            .iter()
            .zip(hunks)
            .map(|(c, lines)| FileChange {
                path: &c.path,
                old_path: None,
                added: lines.added.clone(),
                removed: lines.removed.clone(),
                old_span: lines.old_span.clone(),
                head: heads.iter().find(|h| h.path == c.path),
            })
            .collect()
    }

    /// The prompt block and impact lines of a blast, with the top neighbours' excerpts.
    pub fn render(
        &self,
        graph: &Graph,
        found: &Blast,
        calls: &CallIndex,
        budget: usize,
        hops: u32,
    ) -> (Rendered, String) {
        let impact = blast::impact(graph, calls, found, 3, 3);
        let mut excerpts = vec![None; found.related.len()];
        for i in graph_prompt::excerpt_targets(found, EXCERPTS) {
            let id = found.related[i].id;
            if let Some(lines) = self.base_lines.get(graph.path(id)) {
                excerpts[i] = graph_prompt::excerpt(lines, graph.symbol(id));
            }
        }
        let rendered = graph_prompt::render_prompt(graph, found, &excerpts, budget, COMMIT, hops);
        (rendered, graph_prompt::render_impact(found, &impact, COMMIT))
    }
}

/// Caller hops at a depth (graph_context.rs's `reach`): 1 at `fast`, 2 at `standard`/`deep`.
pub fn reach(hops: u32) -> Reach {
    Reach {
        caller_hops: hops,
        ..Reach::default()
    }
}

/// One review's graph work once the bytes are in memory; returns the output's size.
pub fn job(fx: &Fixture, budget: usize, hops: u32) -> usize {
    let hunks = fx.hunks();
    let heads = fx.parse_heads(&hunks);
    let changes = fx.file_changes(&heads, &hunks);
    let calls = CallIndex::new(&fx.graph);
    let found = blast::blast(&fx.graph, &calls, &changes, reach(hops));
    let (rendered, impact) = fx.render(&fx.graph, &found, &calls, budget, hops);
    rendered.text.len() + impact.len()
}

/// The base file changed at the last line of `qualified`'s body: its head version and patch.
fn change(graph: &Graph, base: &HashMap<String, Vec<String>>, path: &str, qualified: &str) -> Changed {
    let file = &graph.files[graph.file_index(path).unwrap_or_else(|| panic!("{path} is indexed")) as usize];
    let symbol = file
        .symbols
        .iter()
        .find(|s| s.qualified == qualified)
        .unwrap_or_else(|| panic!("{qualified} is in {path}"));
    let lines = &base[path];
    let at = symbol.end_line as usize; // 1-based
    let mut head = lines.clone();
    head[at - 1] = format!("{}  # agnus-bench: changed", lines[at - 1]);
    let first = at.saturating_sub(3).max(1);
    let last = (at + 3).min(lines.len());
    let n = last - first + 1;
    let mut patch = format!("@@ -{first},{n} +{first},{n} @@\n");
    for l in first..=last {
        if l == at {
            patch.push_str(&format!("-{}\n+{}\n", lines[l - 1], head[l - 1]));
        } else {
            patch.push_str(&format!(" {}\n", lines[l - 1]));
        }
    }
    let mut text = head.join("\n");
    text.push('\n');
    Changed {
        path: path.to_owned(),
        head: text.into_bytes(),
        patch,
    }
}
