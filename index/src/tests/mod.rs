//! Fixture tests per language (symbols, docs, and resolved edges through each resolution
//! step), graph updates and queries, and robustness on arbitrary input.

mod blast;
mod cfamily;
mod go;
mod graph;
mod js;
mod python;
mod robust;
mod rust;
mod window;

use crate::{EdgeKind, FileIndex, Graph, Limits, Resolution, ResolveMode, Symbol, SymbolId, parse_file};

pub(crate) fn parse(path: &str, source: &str) -> FileIndex {
    parse_file(path, source.as_bytes(), &Limits::default()).expect("supported language")
}

pub(crate) fn build(files: &[(&str, &str)], mode: ResolveMode) -> Graph {
    Graph::build(files.iter().map(|(p, s)| parse(p, s)).collect(), mode)
}

/// The symbol with this qualified name (panics, listing what exists, when absent).
pub(crate) fn id(graph: &Graph, qualified: &str) -> SymbolId {
    for (f, file) in graph.files.iter().enumerate() {
        if let Some(s) = file.symbols.iter().position(|s| s.qualified == qualified) {
            return SymbolId {
                file: f as u32,
                symbol: s as u32,
            };
        }
    }
    let all: Vec<&str> = graph
        .files
        .iter()
        .flat_map(|f| f.symbols.iter().map(|s| s.qualified.as_str()))
        .collect();
    panic!("no symbol {qualified}; have {all:?}")
}

pub(crate) fn sym<'g>(graph: &'g Graph, qualified: &str) -> &'g Symbol {
    graph.symbol(id(graph, qualified))
}

/// How the edge `from → to` of `kind` was resolved, if there is one.
pub(crate) fn edge(graph: &Graph, from: &str, to: &str, kind: EdgeKind) -> Option<Resolution> {
    let (from, to) = (id(graph, from), id(graph, to));
    graph
        .edges
        .iter()
        .find(|e| e.from == from && e.to == to && e.kind == kind)
        .map(|e| e.resolution)
}

/// All edges of `kind` from `from`, as target qualified names.
pub(crate) fn targets(graph: &Graph, from: &str, kind: EdgeKind) -> Vec<String> {
    let from = id(graph, from);
    let mut out: Vec<String> = graph
        .edges
        .iter()
        .filter(|e| e.from == from && e.kind == kind)
        .map(|e| graph.symbol(e.to).qualified.clone())
        .collect();
    out.sort();
    out
}
