//! What a pull request touches in the graph (docs/review-engine.md, "Graph context"): the
//! symbols whose line ranges meet its hunks, and the code around them — callers up to a
//! number of hops, callees one hop — ranked for a prompt, and the impact of each change.
//!
//! The base commit's graph is the map; the head versions of the changed files (parsed at
//! review time) say which symbols the new-side lines belong to. A head symbol is the same
//! symbol as a base one when its file (or the file it was renamed from) holds a symbol of
//! the same qualified name, else when exactly one base symbol has that qualified name (code
//! moved between files). Callers and callees are read in the base graph: the repository as
//! it stands, the code the change can break.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::calls::CallIndex;
use crate::graph::{Graph, SymbolId};
use crate::model::{FileIndex, RefKind, Symbol, SymbolKind};

/// One changed file, as the pull request's diff and the review's parse of its head see it.
#[derive(Debug, Clone, Default)]
pub struct FileChange<'a> {
    pub path: &'a str,
    /// Where the file was before a rename.
    pub old_path: Option<&'a str>,
    /// New-side lines added or modified.
    pub added: Vec<u32>,
    /// Old-side lines removed.
    pub removed: Vec<u32>,
    /// Old-side lines each hunk covers (its context included): where changes land when the
    /// head version could not be read or parsed.
    pub old_span: Vec<u32>,
    /// The head version, parsed (`None`: deleted, not a language the index knows, or not
    /// read).
    pub head: Option<&'a FileIndex>,
}

/// How a symbol changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    Added,
    Modified,
    Removed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Modified => "modified",
            Change::Removed => "removed",
        }
    }
}

/// A symbol the pull request changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedSymbol {
    pub name: String,
    pub qualified: String,
    pub kind: SymbolKind,
    /// The head path (the base path for a removed symbol).
    pub path: String,
    /// Its first line, head side (base side for a removed symbol).
    pub line: u32,
    pub signature: String,
    pub change: Change,
    /// The same symbol in the base graph.
    pub base: Option<SymbolId>,
}

/// How a neighbour relates to a changed symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Calls it, `distance` calls away (1: directly).
    Caller { distance: u32 },
    /// It calls this one directly.
    Callee,
}

/// A symbol of the base graph near a change.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    pub id: SymbolId,
    pub relation: Relation,
    /// The changed symbol (an index into [`Blast::changed`]) it was found from.
    pub of: usize,
    pub fan_in: u32,
    /// In the changed symbol's directory.
    pub same_module: bool,
    /// In a test file.
    pub test: bool,
    /// Found by a unique short name only (a new symbol's call, resolved at review time).
    pub by_name: bool,
}

/// The changed symbols and their neighbours, most relevant first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Blast {
    pub changed: Vec<ChangedSymbol>,
    pub related: Vec<Related>,
}

/// How far to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// Caller hops (2 at `standard` depth, 1 at `fast`).
    pub caller_hops: u32,
    /// At most this many changed symbols are followed (the rest are listed, not followed).
    pub max_changed: usize,
    /// At most this many neighbours per changed symbol.
    pub max_related_per_symbol: usize,
}

impl Default for Reach {
    fn default() -> Self {
        Reach {
            caller_hops: 2,
            max_changed: 40,
            max_related_per_symbol: 60,
        }
    }
}

/// Is `path` a test file (by the common conventions of the index's languages)?
pub fn is_test_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let dirs = &lower[..lower.len() - name.len()];
    let in_test_dir = dirs
        .split('/')
        .any(|d| matches!(d, "test" | "tests" | "__tests__" | "spec" | "specs" | "testing"));
    let stem = name.split('.').next().unwrap_or(name);
    in_test_dir
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
        || stem.ends_with("test") && name.ends_with(".java")
        || stem.ends_with("tests") && name.ends_with(".cs")
        || name.contains(".test.")
        || name.contains(".spec.")
}

fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

/// The innermost symbol (shortest range) of `symbols` containing `line`.
fn innermost(symbols: &[Symbol], line: u32) -> Option<usize> {
    symbols
        .iter()
        .enumerate()
        .filter(|(_, s)| s.start_line <= line && line <= s.end_line)
        .min_by_key(|(i, s)| (s.end_line - s.start_line, Reverse(*i)))
        .map(|(i, _)| i)
}

struct Finder<'g> {
    graph: &'g Graph,
    by_qualified: Option<HashMap<&'g str, Vec<SymbolId>>>,
    by_name: Option<HashMap<&'g str, Vec<SymbolId>>>,
}

impl<'g> Finder<'g> {
    fn new(graph: &'g Graph) -> Self {
        Finder {
            graph,
            by_qualified: None,
            by_name: None,
        }
    }

    fn table(graph: &'g Graph, key: fn(&Symbol) -> &str) -> HashMap<&'g str, Vec<SymbolId>> {
        let mut map: HashMap<&str, Vec<SymbolId>> = HashMap::new();
        for (f, file) in graph.files.iter().enumerate() {
            for (s, symbol) in file.symbols.iter().enumerate() {
                map.entry(key(symbol)).or_default().push(SymbolId {
                    file: f as u32,
                    symbol: s as u32,
                });
            }
        }
        map
    }

    /// The base symbol `symbol` (of `head`, the file now at `path`, once at `old`) is.
    fn counterpart(&mut self, path: &str, old: Option<&str>, head: &FileIndex, symbol: &Symbol) -> Option<SymbolId> {
        let name = local(&symbol.qualified, &head.module);
        for p in [old, Some(path)].into_iter().flatten() {
            if let Some(f) = self.graph.file_index(p) {
                let file = &self.graph.files[f as usize];
                if let Some(s) = file
                    .symbols
                    .iter()
                    .position(|b| local(&b.qualified, &file.module) == name && b.kind == symbol.kind)
                {
                    return Some(SymbolId {
                        file: f,
                        symbol: s as u32,
                    });
                }
            }
        }
        let graph = self.graph;
        let table = self
            .by_qualified
            .get_or_insert_with(|| Self::table(graph, |s| s.qualified.as_str()));
        match table.get(symbol.qualified.as_str()).map(Vec::as_slice) {
            Some([one]) => Some(*one),
            _ => None,
        }
    }

    /// The base symbol a call by short name means, when exactly one callable has it.
    fn callable_named(&mut self, name: &str) -> Option<SymbolId> {
        let graph = self.graph;
        let table = self
            .by_name
            .get_or_insert_with(|| Self::table(graph, |s| s.name.as_str()));
        let callables: Vec<SymbolId> = table
            .get(name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|id| graph.symbol(*id).kind.is_callable())
            .collect();
        match callables.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }
}

/// A qualified name without its file's module: the name inside the file (a renamed file's
/// symbols keep it).
fn local<'a>(qualified: &'a str, module: &str) -> &'a str {
    match qualified.strip_prefix(module) {
        Some(rest) if !module.is_empty() => rest.trim_start_matches(['.', ':']),
        _ => qualified,
    }
}

fn changed_from(symbol: &Symbol, path: &str, change: Change, base: Option<SymbolId>) -> ChangedSymbol {
    ChangedSymbol {
        name: symbol.name.clone(),
        qualified: symbol.qualified.clone(),
        kind: symbol.kind,
        path: path.to_owned(),
        line: symbol.start_line,
        signature: symbol.signature.clone(),
        change,
        base,
    }
}

/// The symbols `changes` touch, in file then line order.
pub fn changed_symbols(base: &Graph, changes: &[FileChange<'_>]) -> Vec<ChangedSymbol> {
    let mut finder = Finder::new(base);
    let mut out = Vec::new();
    for change in changes {
        let before = change.old_path.unwrap_or(change.path);
        let base_file = base.file_index(before).map(|f| &base.files[f as usize]);
        let mut head_names = BTreeSet::new();
        let mut seen_base = BTreeSet::new();
        if let Some(head) = change.head {
            let touched: BTreeSet<usize> = change
                .added
                .iter()
                .filter_map(|&line| innermost(&head.symbols, line))
                .collect();
            head_names.extend(head.symbols.iter().map(|s| local(&s.qualified, &head.module)));
            for i in touched {
                let symbol = &head.symbols[i];
                let counterpart = finder.counterpart(change.path, change.old_path, head, symbol);
                let kind = if counterpart.is_some() {
                    Change::Modified
                } else {
                    Change::Added
                };
                seen_base.extend(counterpart);
                out.push(changed_from(symbol, change.path, kind, counterpart));
            }
        }
        let Some((f, file)) = base.file_index(before).zip(base_file) else {
            continue;
        };
        // Old-side lines: removed ones; all of the hunks' when the head was not parsed.
        let old_lines = if change.head.is_some() {
            &change.removed
        } else {
            &change.old_span
        };
        let touched: BTreeSet<usize> = old_lines.iter().filter_map(|&l| innermost(&file.symbols, l)).collect();
        for s in touched {
            let id = SymbolId {
                file: f,
                symbol: s as u32,
            };
            if seen_base.contains(&id) {
                continue;
            }
            let symbol = &file.symbols[s];
            let kind = if change.head.is_some() && !head_names.contains(local(&symbol.qualified, &file.module)) {
                Change::Removed
            } else {
                Change::Modified
            };
            seen_base.insert(id);
            out.push(changed_from(symbol, before, kind, Some(id)));
        }
    }
    out
}

/// The changed symbols of `changes` and their ranked neighbours in `base`.
pub fn blast(base: &Graph, calls: &CallIndex, changes: &[FileChange<'_>], reach: Reach) -> Blast {
    let changed = changed_symbols(base, changes);
    let mut finder = Finder::new(base);
    let own: BTreeSet<SymbolId> = changed.iter().filter_map(|c| c.base).collect();
    // Best (lowest) rank key per neighbour.
    let mut best: BTreeMap<SymbolId, Related> = BTreeMap::new();
    let heads: HashMap<&str, &FileIndex> = changes.iter().filter_map(|c| c.head.map(|h| (c.path, h))).collect();
    for (of, symbol) in changed.iter().enumerate().take(reach.max_changed) {
        let dir = dir_of(&symbol.path);
        let mut found: Vec<(SymbolId, Relation, bool)> = Vec::new();
        if let Some(id) = symbol.base {
            found.extend(
                calls
                    .callers(id, reach.caller_hops)
                    .into_iter()
                    .map(|(c, distance)| (c, Relation::Caller { distance }, false)),
            );
            if symbol.change != Change::Removed {
                found.extend(calls.callees(id).into_iter().map(|c| (c, Relation::Callee, false)));
            }
        } else if let Some(head) = heads.get(symbol.path.as_str()) {
            // A new symbol: what its calls name, when one callable has that name.
            let index = head.symbols.iter().position(|s| s.qualified == symbol.qualified);
            let names: BTreeSet<&str> = head
                .refs
                .iter()
                .filter(|r| r.kind == RefKind::Call && r.from.map(|f| f as usize) == index && index.is_some())
                .map(|r| r.name.rsplit(['.', ':']).next().unwrap_or(&r.name))
                .collect();
            found.extend(
                names
                    .into_iter()
                    .filter_map(|n| finder.callable_named(n))
                    .map(|c| (c, Relation::Callee, true)),
            );
        }
        let mut taken = 0;
        for (id, relation, by_name) in found {
            if own.contains(&id) {
                continue;
            }
            if taken == reach.max_related_per_symbol {
                break;
            }
            taken += 1;
            let path = base.path(id);
            let candidate = Related {
                id,
                relation,
                of,
                fan_in: calls.fan_in(id),
                same_module: dir_of(path) == dir,
                test: is_test_path(path),
                by_name,
            };
            match best.get(&id) {
                Some(kept) if rank_key(base, kept) <= rank_key(base, &candidate) => {}
                _ => {
                    best.insert(id, candidate);
                }
            }
        }
    }
    let mut related: Vec<Related> = best.into_values().collect();
    related.sort_by(|a, b| rank_key(base, a).cmp(&rank_key(base, b)));
    Blast { changed, related }
}

fn distance(r: &Related) -> u32 {
    match r.relation {
        Relation::Caller { distance } => distance,
        Relation::Callee => 1,
    }
}

/// Tests last; then nearer first; the changed symbol's module first; more callers first;
/// callers before callees at the same distance; then by place.
fn rank_key<'g>(graph: &'g Graph, r: &Related) -> (bool, u32, bool, Reverse<u32>, bool, &'g str, u32) {
    (
        r.test,
        distance(r),
        !r.same_module,
        Reverse(r.fan_in),
        matches!(r.relation, Relation::Callee),
        graph.path(r.id),
        graph.symbol(r.id).start_line,
    )
}

/// One changed symbol's direct callers, for the posted impact line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impact {
    /// Index into [`Blast::changed`].
    pub of: usize,
    pub callers: u32,
    pub files: u32,
    /// The files with the most callers (then by path), each with its callers' qualified
    /// names (their short form: the part after the module), at most `top_files` files and
    /// `names_per_file` names.
    pub top: Vec<(String, Vec<String>)>,
}

/// The direct callers of each changed symbol, for the posted impact line (symbols without
/// callers are left out).
pub fn impact(base: &Graph, calls: &CallIndex, blast: &Blast, top_files: usize, names_per_file: usize) -> Vec<Impact> {
    let mut out = Vec::new();
    for (of, symbol) in blast.changed.iter().enumerate() {
        let Some(id) = symbol.base else { continue };
        let direct = calls.callers(id, 1);
        if direct.is_empty() {
            continue;
        }
        let mut by_file: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (caller, _) in &direct {
            by_file
                .entry(base.path(*caller))
                .or_default()
                .push(short_name(base, *caller));
        }
        let files = by_file.len() as u32;
        let mut ranked: Vec<(&str, Vec<String>)> = by_file.into_iter().collect();
        ranked.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        let top = ranked
            .into_iter()
            .take(top_files)
            .map(|(path, mut names)| {
                names.sort();
                names.dedup();
                names.truncate(names_per_file);
                (path.to_owned(), names)
            })
            .collect();
        out.push(Impact {
            of,
            callers: direct.len() as u32,
            files,
            top,
        });
    }
    out
}

/// A symbol's name with its enclosing symbols (`Session.rebuild_auth`), without the module.
pub fn short_name(graph: &Graph, id: SymbolId) -> String {
    let file = &graph.files[id.file as usize];
    let mut parts = vec![file.symbols[id.symbol as usize].name.as_str()];
    let mut at = file.symbols[id.symbol as usize].parent;
    let mut guard = 0;
    while let Some(p) = at {
        let Some(parent) = file.symbols.get(p as usize) else {
            break;
        };
        parts.push(parent.name.as_str());
        at = parent.parent;
        guard += 1;
        if guard > 16 {
            break;
        }
    }
    parts.reverse();
    parts.join(".")
}
