//! Resolution: raw references to edges. Builds the repository-wide name tables once, then
//! resolves each file's imports into bindings and each reference in order: the enclosing
//! scopes and class, the file's imports, qualified names, and a unique short name last
//! (docs/index.md, "Resolution order").

mod bindings;
mod modules;
mod scoped;

use std::collections::HashMap;

use crate::graph::{Edge, EdgeKind, FileEdge, Resolution, ResolveMode, SymbolId};
use crate::lang::Lang;
use crate::model::{FileIndex, RefKind, SymbolKind};

pub(crate) use modules::Modules;

/// A lookup key: language family, scope (Rust crate directory, Go package directory, else
/// empty) and the qualified name with `::` and `:` read as `.`.
pub(crate) fn key(family: u8, scope: &str, qualified: &str) -> String {
    let mut key = String::with_capacity(qualified.len() + scope.len() + 4);
    key.push(char::from(b'0' + family));
    key.push('\u{1}');
    key.push_str(scope);
    key.push('\u{1}');
    key.push_str(&normalize(qualified));
    key
}

/// `a::b:c` → `a.b.c`.
pub(crate) fn normalize(qualified: &str) -> String {
    if qualified.contains(':') { qualified.replace("::", ".").replace(':', ".") } else { qualified.to_owned() }
}

/// The scope of a file's qualified names: the crate directory (above `src/`) for Rust, the
/// package directory for Go, nothing otherwise (their qualified names are global).
pub(crate) fn scope_of(file: &FileIndex) -> &str {
    match file.lang {
        Lang::Rust => match file.path.rfind("/src/") {
            Some(i) => &file.path[..i],
            None => "",
        },
        Lang::Go => modules::dir_of(&file.path),
        _ => "",
    }
}

/// Whether a symbol of `kind` can be the target of a reference of `ref_kind`.
pub(crate) fn accepts(ref_kind: RefKind, kind: SymbolKind) -> bool {
    match ref_kind {
        RefKind::Call => kind.is_callable(),
        RefKind::Inherits | RefKind::Implements | RefKind::Reference => kind.is_type(),
    }
}

pub(crate) fn edge_kind(kind: RefKind) -> EdgeKind {
    match kind {
        RefKind::Call => EdgeKind::Calls,
        RefKind::Inherits => EdgeKind::Inherits,
        RefKind::Implements => EdgeKind::Implements,
        RefKind::Reference => EdgeKind::References,
    }
}

/// The repository-wide tables.
pub(crate) struct Tables<'g> {
    pub files: &'g [FileIndex],
    /// [`key`] of each symbol's qualified name → symbols.
    pub by_qual: HashMap<String, Vec<SymbolId>>,
    /// (family, short name) → symbols.
    pub by_name: HashMap<(u8, &'g str), Vec<SymbolId>>,
    /// [`key`] of a namespace / package / module → the files declaring something in it.
    pub ns_files: HashMap<String, Vec<u32>>,
    pub modules: Modules<'g>,
}

impl<'g> Tables<'g> {
    fn new(files: &'g [FileIndex]) -> Self {
        let mut tables = Tables {
            files,
            by_qual: HashMap::new(),
            by_name: HashMap::new(),
            ns_files: HashMap::new(),
            modules: Modules::new(files),
        };
        for (f, file) in files.iter().enumerate() {
            let f = f as u32;
            let family = file.lang.family();
            let scope = scope_of(file);
            let mut namespaces = vec![normalize(&file.module)];
            for (s, symbol) in file.symbols.iter().enumerate() {
                let id = SymbolId { file: f, symbol: s as u32 };
                let qualified = normalize(&symbol.qualified);
                tables.by_qual.entry(key(family, scope, &qualified)).or_default().push(id);
                tables.by_name.entry((family, symbol.name.as_str())).or_default().push(id);
                if let Some((ns, _)) = qualified.rsplit_once('.') {
                    namespaces.push(ns.to_owned());
                }
            }
            namespaces.sort();
            namespaces.dedup();
            for ns in namespaces {
                let files = tables.ns_files.entry(key(family, scope, &ns)).or_default();
                if files.last() != Some(&f) {
                    files.push(f);
                }
            }
        }
        tables
    }

    pub fn qual(&self, family: u8, scope: &str, qualified: &str) -> &[SymbolId] {
        self.by_qual.get(&key(family, scope, qualified)).map_or(&[], Vec::as_slice)
    }

    pub fn sym(&self, id: SymbolId) -> &'g crate::model::Symbol {
        &self.files[id.file as usize].symbols[id.symbol as usize]
    }
}

/// Resolves every file's references and imports.
pub(crate) fn resolve(files: &[FileIndex], mode: ResolveMode) -> (Vec<Edge>, Vec<FileEdge>) {
    let tables = Tables::new(files);
    let mut resolver = scoped::Resolver::new(&tables);
    let mut file_edges = Vec::new();
    for f in 0..files.len() as u32 {
        for to in resolver.file_targets(f) {
            if to != f {
                file_edges.push(FileEdge { from: f, to });
            }
        }
    }
    file_edges.sort();
    file_edges.dedup();
    let mut edges = Vec::new();
    match mode {
        ResolveMode::Scoped => resolver.all_edges(&mut edges),
        ResolveMode::BareNameOnly => bare_name_only(&tables, &mut edges),
    }
    // The best resolution of duplicate edges wins (Local < Import < Qualified < BareName).
    edges.sort_by_key(|e| (e.from, e.to, e.kind, e.resolution));
    edges.dedup_by_key(|e| (e.from, e.to, e.kind));
    (edges, file_edges)
}

/// The short name of a reference: its last path segment.
pub(crate) fn short(name: &str) -> &str {
    name.rsplit(['.', ':']).next().unwrap_or(name)
}

/// Every symbol with the reference's short name (and a fitting kind), in its family.
fn bare_name_only(tables: &Tables, edges: &mut Vec<Edge>) {
    for (f, file) in tables.files.iter().enumerate() {
        for r in &file.refs {
            let Some(from) = r.from else { continue };
            let from = SymbolId { file: f as u32, symbol: from };
            let Some(targets) = tables.by_name.get(&(file.lang.family(), short(&r.name))) else { continue };
            for &to in targets.iter().filter(|&&t| accepts(r.kind, tables.sym(t).kind)) {
                edges.push(Edge { from, to, kind: edge_kind(r.kind), resolution: Resolution::BareName });
            }
        }
    }
}
