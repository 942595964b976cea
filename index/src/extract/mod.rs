//! The extractor: one iterative walk over a tree-sitter tree (a [`TreeCursor`] and an
//! explicit scope stack, so no recursion proportional to the tree's depth), with one visitor
//! per language deciding what each node defines, imports or references.

mod cfamily;
mod go;
mod js;
mod python;
mod rust;
mod text;

use std::collections::HashSet;
use std::time::Instant;

use tree_sitter::{Node, Tree};

use crate::lang::Lang;
use crate::model::{FileIndex, Import, RawRef, RefKind, Symbol, SymbolKind};
use crate::Limits;

pub(crate) use go::default_name as go_default;
pub(crate) use text::{count_lines, module_of};

/// Whether the walk descends into a node's children.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Walk {
    Descend,
    Skip,
}

/// A lexical scope: a symbol's body, or a namespace / `impl` block that only qualifies names.
struct Scope {
    /// Cursor depth of the node that opened it; it closes at the next node at this depth or above.
    depth: usize,
    sym: Option<u32>,
    qual: String,
    /// Rust `impl` blocks: the implementing type, the parent of the methods (resolved at the end).
    owner: Option<String>,
    class_like: bool,
}

/// A definition to record (see [`Ctx::define`]).
pub(crate) struct Def<'t> {
    pub node: Node<'t>,
    pub name: String,
    pub kind: SymbolKind,
    pub body: Option<Node<'t>>,
    pub doc: Option<String>,
    /// Qualified name override (Go methods: `pkg.Recv.Method`) and the receiver type, the
    /// parent to find in this file at the end.
    pub qualified: Option<(String, String)>,
}

pub(crate) struct Ctx<'a> {
    pub src: &'a [u8],
    pub lang: Lang,
    pub limits: &'a Limits,
    pub module: String,
    symbols: Vec<Symbol>,
    imports: Vec<Import>,
    refs: Vec<RawRef>,
    seen: HashSet<(RefKind, String, u32)>,
    scopes: Vec<Scope>,
    depth: usize,
    /// The field name of the node being visited in its parent (`name`, `body`, …).
    pub field: Option<&'a str>,
    /// Go: the receiver name of the method being walked (`s` in `func (s *Server) …`), so
    /// `s.x()` is recorded as `self.x`.
    pub receiver: Option<String>,
    /// Symbols whose parent is a type named later in the file (Go receivers, Rust `impl`s).
    pending_parents: Vec<(u32, String)>,
    /// References whose `from` is such a type (Rust `impl Trait for Type`).
    pending_refs: Vec<(RefKind, String, u32, String)>,
}

impl<'a> Ctx<'a> {
    pub fn text(&self, node: Node) -> String {
        text::slice(self.src, node.start_byte(), node.end_byte())
    }

    /// The comment directly above `anchor` (see [`text::preceding_comment`]). Looking at
    /// siblings costs tree-sitter a descent from the root, so below depth 256 (never in real
    /// code, always in adversarial input) there is no doc.
    pub fn doc_above(&self, anchor: Node) -> Option<String> {
        (self.depth <= 256).then(|| text::preceding_comment(self.src, anchor, self.limits.max_doc_chars)).flatten()
    }

    /// Whether the visited node is its parent's `name` (a declaration, not a reference).
    pub fn is_name(&self) -> bool {
        self.field == Some("name")
    }

    pub fn line(node: Node) -> u32 {
        u32::try_from(node.start_position().row).unwrap_or(u32::MAX - 1).saturating_add(1)
    }

    /// The innermost enclosing symbol.
    pub fn current(&self) -> Option<u32> {
        self.scopes.iter().rev().find_map(|s| s.sym)
    }

    /// The kind of the innermost enclosing symbol.
    pub fn current_kind(&self) -> Option<SymbolKind> {
        self.current().and_then(|i| self.symbols.get(i as usize)).map(|s| s.kind)
    }

    /// Whether the innermost scope is a class-like body (so a function there is a method).
    pub fn in_class(&self) -> bool {
        self.scopes.last().is_some_and(|s| s.class_like)
    }

    fn qualify(&self, name: &str) -> String {
        match self.scopes.last() {
            Some(scope) if !scope.qual.is_empty() => format!("{}{}{name}", scope.qual, self.lang.sep()),
            Some(_) => name.to_owned(),
            None if self.module.is_empty() => name.to_owned(),
            None if self.lang.family() == Lang::JavaScript.family() => format!("{}:{name}", self.module),
            None => format!("{}{}{name}", self.module, self.lang.sep()),
        }
    }

    /// Records a symbol and opens its scope (closed when the walk leaves `def.node`).
    pub fn define(&mut self, def: Def) -> u32 {
        let index = u32::try_from(self.symbols.len()).unwrap_or(u32::MAX);
        let (qualified, pending) = match def.qualified {
            Some((qualified, owner)) => (qualified, Some(owner)),
            None => (self.qualify(&def.name), None),
        };
        let owner = self.scopes.last().and_then(|s| s.owner.clone());
        let parent = if pending.is_some() || owner.is_some() { None } else { self.current() };
        if let Some(owner) = pending.or(owner) {
            self.pending_parents.push((index, owner));
        }
        let end = def.node.end_position().row;
        let signature = text::signature(self.src, def.node, def.body, self.limits.max_signature_chars);
        self.symbols.push(Symbol {
            name: text::bound(&def.name, 200),
            qualified: qualified.clone(),
            kind: def.kind,
            start_line: Self::line(def.node),
            end_line: u32::try_from(end).unwrap_or(u32::MAX - 1).saturating_add(1),
            signature,
            doc: def.doc.map(|d| text::bound(&d, self.limits.max_doc_chars)).filter(|d| !d.is_empty()),
            parent,
        });
        self.scopes.push(Scope { depth: self.depth, sym: Some(index), qual: qualified, owner: None, class_like: def.kind.is_type() });
        index
    }

    /// Opens a scope that only qualifies names (a C# namespace block, a Rust `impl`).
    pub fn open_scope(&mut self, qual: String, owner: Option<String>) {
        let sym = if owner.is_some() { None } else { self.current() };
        self.scopes.push(Scope { depth: self.depth, sym, qual, owner, class_like: true });
    }

    /// The qualified name a child of the current scope would get.
    pub fn child_qual(&self, name: &str) -> String {
        self.qualify(name)
    }

    pub fn reference(&mut self, kind: RefKind, name: String, line: u32) {
        let Some(from) = self.current() else { return };
        if name.is_empty() || name == "?" {
            return;
        }
        if self.seen.insert((kind, name.clone(), from)) {
            self.refs.push(RawRef { kind, name, line, from: Some(from) });
        }
    }

    /// A reference from a type declared possibly later in the file (Rust `impl Trait for T`).
    pub fn reference_from_type(&mut self, kind: RefKind, name: String, line: u32, ty: String) {
        self.pending_refs.push((kind, name, line, ty));
    }

    pub fn import(&mut self, module: String, names: Vec<(String, String)>, line: u32) {
        if !module.is_empty() {
            self.imports.push(Import { module, names, line });
        }
    }

    /// Resolves pending parents and references against the file's top-level types.
    fn finish(&mut self) {
        let find = |symbols: &[Symbol], name: &str| {
            symbols.iter().position(|s| s.kind.is_type() && s.name == name).and_then(|i| u32::try_from(i).ok())
        };
        for (index, owner) in std::mem::take(&mut self.pending_parents) {
            let parent = find(&self.symbols, &owner);
            if let Some(symbol) = self.symbols.get_mut(index as usize) {
                symbol.parent = parent.filter(|&p| p != index);
            }
        }
        for (kind, name, line, ty) in std::mem::take(&mut self.pending_refs) {
            if let Some(from) = find(&self.symbols, &ty)
                && self.seen.insert((kind, name.clone(), from))
            {
                self.refs.push(RawRef { kind, name, line, from: Some(from) });
            }
        }
    }
}

type Visitor = for<'t> fn(&mut Ctx, Node<'t>) -> Walk;

fn visitor(lang: Lang) -> Visitor {
    match lang {
        Lang::Python => python::visit,
        Lang::TypeScript | Lang::Tsx | Lang::JavaScript => js::visit,
        Lang::Go => go::visit,
        Lang::Java => cfamily::visit_java,
        Lang::CSharp => cfamily::visit_csharp,
        Lang::Rust => rust::visit,
    }
}

/// Walks `tree` and returns the file's symbols, imports and references.
///
/// The walk stops early (keeping what it found) once `deadline` has passed.
pub(crate) fn extract<'a>(
    path: &str,
    lang: Lang,
    src: &'a [u8],
    tree: &'a Tree,
    limits: &'a Limits,
    deadline: Instant,
) -> FileIndex {
    let mut ctx = Ctx {
        src,
        lang,
        limits,
        module: module_of(path, lang),
        symbols: Vec::new(),
        imports: Vec::new(),
        refs: Vec::new(),
        seen: HashSet::new(),
        scopes: Vec::new(),
        depth: 0,
        field: None,
        receiver: None,
        pending_parents: Vec::new(),
        pending_refs: Vec::new(),
    };
    let visit = visitor(lang);
    let mut cursor = tree.walk();
    let mut visited = 0u32;
    'walk: loop {
        visited = visited.wrapping_add(1);
        if visited % 4096 == 0 && Instant::now() > deadline {
            break;
        }
        let node = cursor.node();
        ctx.field = cursor.field_name();
        while ctx.scopes.last().is_some_and(|s| s.depth >= ctx.depth) {
            ctx.scopes.pop();
        }
        if visit(&mut ctx, node) == Walk::Descend && cursor.goto_first_child() {
            ctx.depth += 1;
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
            ctx.depth -= 1;
        }
    }
    ctx.finish();
    FileIndex {
        path: path.to_owned(),
        lang,
        module: ctx.module,
        lines: text::count_lines(src),
        bytes: u32::try_from(src.len()).unwrap_or(u32::MAX),
        symbols: ctx.symbols,
        imports: ctx.imports,
        refs: ctx.refs,
    }
}
