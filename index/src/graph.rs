//! The resolved graph of a repository: its files, symbol edges and file import edges, with
//! the queries the review engine asks.

use std::collections::{BTreeMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::model::{FileIndex, Symbol};

/// A symbol: indices into [`Graph::files`] and that file's [`FileIndex::symbols`].
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymbolId {
    pub file: u32,
    pub symbol: u32,
}

/// What an edge means. `Imports` is the kind of [`Graph::file_edges`] (file to file); symbol
/// edges are calls, inheritance, implementation and type references.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EdgeKind {
    Calls,
    Imports,
    Inherits,
    Implements,
    References,
}

/// How an edge's target was found (docs/index.md, "Resolution order").
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resolution {
    /// The enclosing scopes, the same class (`self`/`this`, and its resolved bases) or file.
    Local,
    /// Through the file's imports.
    Import,
    /// A qualified name matched (same package / namespace / module in another file, a fully
    /// qualified or `crate::` path).
    Qualified,
    /// The last resort: the only symbol of that short name in the repository (in its language
    /// family). In [`ResolveMode::BareNameOnly`] every edge is this.
    BareName,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    pub from: SymbolId,
    pub to: SymbolId,
    pub kind: EdgeKind,
    pub resolution: Resolution,
}

/// An import between two files of the repository (kind [`EdgeKind::Imports`]).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileEdge {
    pub from: u32,
    pub to: u32,
}

/// How references become edges.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ResolveMode {
    /// Scopes, then imports, then qualified names; a unique short name as the last resort.
    #[default]
    Scoped,
    /// Every symbol with the reference's short name (the baseline to compare against).
    BareNameOnly,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Graph {
    /// Sorted by path, one per path.
    pub files: Vec<FileIndex>,
    /// Sorted, one per `(from, to, kind)`.
    pub edges: Vec<Edge>,
    pub file_edges: Vec<FileEdge>,
    /// The mode the edges were resolved in (kept for [`Graph::update`]).
    pub mode: ResolveMode,
}

/// Counts for a status page.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub files: u32,
    pub symbols: u32,
    /// Symbol edges plus file edges.
    pub edges: u32,
    pub lines: u64,
    /// Language name → file count.
    pub languages: BTreeMap<String, u32>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Graph {
    /// Sorts the files by path (the last of duplicate paths wins) and resolves their references.
    pub fn build(files: Vec<FileIndex>, mode: ResolveMode) -> Graph {
        let mut graph = Graph { files: Vec::new(), edges: Vec::new(), file_edges: Vec::new(), mode };
        graph.set_files(files);
        graph.resolve();
        graph
    }

    fn set_files(&mut self, files: Vec<FileIndex>) {
        let mut by_path: BTreeMap<String, FileIndex> = std::mem::take(&mut self.files).into_iter().map(|f| (f.path.clone(), f)).collect();
        for file in files {
            by_path.insert(file.path.clone(), file);
        }
        self.files = by_path.into_values().collect();
    }

    fn resolve(&mut self) {
        let (edges, file_edges) = crate::resolve::resolve(&self.files, self.mode);
        self.edges = edges;
        self.file_edges = file_edges;
    }

    /// Replaces or adds `changed` files, drops `removed` paths and resolves again. Edges are
    /// recomputed for the whole graph (resolution is a fast in-memory pass; parsing, the
    /// costly part, is only redone for the changed files by the caller), so the result equals
    /// a fresh [`Graph::build`] of the same files.
    pub fn update(&mut self, changed: Vec<FileIndex>, removed: &[String]) {
        let removed: HashSet<&str> = removed.iter().map(String::as_str).collect();
        self.files.retain(|f| !removed.contains(f.path.as_str()));
        self.set_files(changed);
        self.resolve();
    }

    pub fn stats(&self) -> Stats {
        let mut languages = BTreeMap::new();
        for file in &self.files {
            *languages.entry(file.lang.name().to_owned()).or_insert(0) += 1;
        }
        Stats {
            files: count(self.files.len()),
            symbols: count(self.files.iter().map(|f| f.symbols.len()).sum()),
            edges: count(self.edges.len() + self.file_edges.len()),
            lines: self.files.iter().map(|f| u64::from(f.lines)).sum(),
            languages,
        }
    }

    /// The index of the file at `path`.
    pub fn file_index(&self, path: &str) -> Option<u32> {
        self.files.binary_search_by(|f| f.path.as_str().cmp(path)).ok().and_then(|i| u32::try_from(i).ok())
    }

    /// The symbols of `path` whose line range contains `line`, innermost (shortest range) first.
    pub fn find(&self, path: &str, line: u32) -> Vec<SymbolId> {
        let Some(file) = self.file_index(path) else { return Vec::new() };
        let mut found: Vec<(u32, SymbolId)> = self.files[file as usize]
            .symbols
            .iter()
            .enumerate()
            .filter(|(_, s)| s.start_line <= line && line <= s.end_line)
            .map(|(i, s)| (s.end_line - s.start_line, SymbolId { file, symbol: count(i) }))
            .collect();
        found.sort();
        found.into_iter().map(|(_, id)| id).collect()
    }

    /// Who calls `id`, transitively up to `hops` calls away, with the distance (1 = direct),
    /// nearest first (breadth-first over reversed `Calls` edges; `id` itself is not listed).
    pub fn callers(&self, id: SymbolId, hops: u32) -> Vec<(SymbolId, u32)> {
        let mut reverse: BTreeMap<SymbolId, Vec<SymbolId>> = BTreeMap::new();
        for edge in self.edges.iter().filter(|e| e.kind == EdgeKind::Calls) {
            reverse.entry(edge.to).or_default().push(edge.from);
        }
        let mut seen = HashSet::from([id]);
        let mut queue = VecDeque::from([(id, 0u32)]);
        let mut out = Vec::new();
        while let Some((at, distance)) = queue.pop_front() {
            if distance >= hops {
                continue;
            }
            for &caller in reverse.get(&at).into_iter().flatten() {
                if seen.insert(caller) {
                    out.push((caller, distance + 1));
                    queue.push_back((caller, distance + 1));
                }
            }
        }
        out
    }

    /// What `id` calls directly.
    pub fn callees(&self, id: SymbolId) -> Vec<SymbolId> {
        let mut out: Vec<SymbolId> =
            self.edges.iter().filter(|e| e.kind == EdgeKind::Calls && e.from == id).map(|e| e.to).collect();
        out.dedup();
        out
    }

    /// The symbol `id` names. Panics on an id not from this graph (ids from its edges,
    /// [`Graph::find`] and a decoded graph — whose indices [`Graph::decode`] checks — are valid).
    pub fn symbol(&self, id: SymbolId) -> &Symbol {
        &self.files[id.file as usize].symbols[id.symbol as usize]
    }

    /// The path of the file holding `id`.
    pub fn path(&self, id: SymbolId) -> &str {
        &self.files[id.file as usize].path
    }
}
