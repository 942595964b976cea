//! Scoped resolution of one reference: `self`/`this` in the enclosing class and its bases,
//! the enclosing scopes up to the module (C#: up through the namespaces; Java/C#: class
//! members without `this`), the file's imports (following re-exports up to 3 files deep),
//! qualified names, then a short name unique in the language family.

use std::collections::{HashMap, HashSet, VecDeque};

use super::bindings::{self, Bindings, Target};
use super::{Tables, accepts, edge_kind, normalize, scope_of, short};
use crate::graph::{Edge, Resolution, SymbolId};
use crate::lang::Lang;
use crate::model::{RawRef, RefKind, SymbolKind};

/// How many re-exporting files an import is followed through.
const MAX_REEXPORT_DEPTH: u32 = 3;
/// How many classes a member lookup visits up an inheritance chain.
const MAX_BASES: usize = 64;

pub(crate) struct Resolver<'t, 'g> {
    t: &'t Tables<'g>,
    bindings: Vec<Bindings>,
    bases: HashMap<SymbolId, Vec<SymbolId>>,
    crates: HashMap<String, String>,
}

struct Query<'r> {
    file: u32,
    family: u8,
    scope: &'r str,
    kind: RefKind,
}

impl<'t, 'g> Resolver<'t, 'g> {
    pub fn new(t: &'t Tables<'g>) -> Self {
        let crates = bindings::rust_crates(t.files);
        let bindings = (0..t.files.len() as u32).map(|f| bindings::build(t, &crates, f)).collect();
        Resolver { t, bindings, bases: HashMap::new(), crates }
    }

    /// The files `f`'s imports resolve to.
    pub fn file_targets(&self, f: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let family = self.t.files[f as usize].lang.family();
        let targets = self.bindings[f as usize].named.values().flatten().chain(&self.bindings[f as usize].wildcards);
        for target in targets {
            match target {
                Target::Files { files, .. } => out.extend(files),
                Target::Path { scope, path } => {
                    let symbols = self.t.qual(family, scope, path);
                    if symbols.is_empty() {
                        out.extend(self.t.ns_files.get(&super::key(family, scope, path)).into_iter().flatten());
                    } else {
                        out.extend(symbols.iter().map(|s| s.file));
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Inheritance first (member lookups need the bases), then calls and references.
    pub fn all_edges(&mut self, edges: &mut Vec<Edge>) {
        for pass in [true, false] {
            for (f, file) in self.t.files.iter().enumerate() {
                for r in &file.refs {
                    let heritage = matches!(r.kind, RefKind::Inherits | RefKind::Implements);
                    if heritage != pass {
                        continue;
                    }
                    let Some(from) = r.from else { continue };
                    let from = SymbolId { file: f as u32, symbol: from };
                    let Some((targets, resolution)) = self.resolve(from, r) else { continue };
                    for to in targets {
                        if heritage && to == from {
                            continue;
                        }
                        if heritage {
                            self.bases.entry(from).or_default().push(to);
                        }
                        edges.push(Edge { from, to, kind: edge_kind(r.kind), resolution });
                    }
                }
            }
        }
    }

    fn resolve(&self, from: SymbolId, r: &RawRef) -> Option<(Vec<SymbolId>, Resolution)> {
        let file = &self.t.files[from.file as usize];
        let q = Query { file: from.file, family: file.lang.family(), scope: scope_of(file), kind: r.kind };
        let name = normalize(&r.name);
        let segments: Vec<&str> = name.split('.').collect();
        if segments.iter().all(|s| !s.is_empty()) && segments[0] != "?" {
            if let Some(found) = self.scoped(&q, from, &segments) {
                return Some(found);
            }
        }
        let candidates: Vec<SymbolId> = self
            .t
            .by_name
            .get(&(q.family, short(&name)))
            .into_iter()
            .flatten()
            .copied()
            .filter(|&id| accepts(r.kind, self.t.sym(id).kind))
            .collect();
        (candidates.len() == 1).then_some((candidates, Resolution::BareName))
    }

    fn accept(&self, q: &Query, ids: &[SymbolId]) -> Vec<SymbolId> {
        ids.iter().copied().filter(|&id| accepts(q.kind, self.t.sym(id).kind)).collect()
    }

    fn locality(&self, q: &Query, ids: Vec<SymbolId>) -> Option<(Vec<SymbolId>, Resolution)> {
        if ids.is_empty() {
            return None;
        }
        let local = ids.iter().all(|id| id.file == q.file);
        Some((ids, if local { Resolution::Local } else { Resolution::Qualified }))
    }

    fn scoped(&self, q: &Query, from: SymbolId, segs: &[&str]) -> Option<(Vec<SymbolId>, Resolution)> {
        let lang = self.t.files[from.file as usize].lang;
        if segs.len() == 2 {
            match segs[0] {
                "self" | "this" | "cls" | "Self" | "me" => {
                    let owner = self.owner(from)?;
                    let found = self.member(q, q.scope, &owner, segs[1], true);
                    return (!found.is_empty()).then_some((found, Resolution::Local));
                }
                "super" | "base" if lang != Lang::Rust => {
                    let owner = self.owner(from)?;
                    let found = self.member(q, q.scope, &owner, segs[1], false);
                    return (!found.is_empty()).then_some((found, Resolution::Local));
                }
                _ => {}
            }
        }
        if segs.len() == 1 {
            match self.lexical(q, from, segs[0]) {
                Some((ids, true)) => return Some((ids, Resolution::Local)),
                Some((ids, false)) => return self.locality(q, ids),
                None => {}
            }
        }
        let bindings = &self.bindings[from.file as usize];
        for k in (1..=segs.len()).rev() {
            let Some(targets) = bindings.named.get(&segs[..k].join(".")) else { continue };
            let found: Vec<SymbolId> = targets.iter().flat_map(|t| self.expand(q, t, &segs[k..], 0)).collect();
            if !found.is_empty() {
                return Some((found, Resolution::Import));
            }
        }
        if segs.len() > 1 {
            if let Some(heads) = self.lexical_any(q, from, segs[0]) {
                let rest = segs[1..].join(".");
                let found: Vec<SymbolId> = heads
                    .iter()
                    .flat_map(|&h| {
                        let head = normalize(&self.t.sym(h).qualified);
                        let scope = scope_of(&self.t.files[h.file as usize]);
                        self.accept(q, self.t.qual(q.family, scope, &format!("{head}.{rest}")))
                    })
                    .collect();
                if let Some(found) = self.locality(q, found) {
                    return Some(found);
                }
            }
            let paths = if lang == Lang::Rust {
                bindings::rust_paths(&self.t.files[from.file as usize], &self.crates, &segs.join("."))
            } else {
                vec![(q.scope.to_owned(), segs.join("."))]
            };
            let found: Vec<SymbolId> =
                paths.iter().flat_map(|(scope, path)| self.accept(q, self.t.qual(q.family, scope, path))).collect();
            if !found.is_empty() {
                return Some((found, Resolution::Qualified));
            }
        }
        let found: Vec<SymbolId> = bindings.wildcards.iter().flat_map(|t| self.expand(q, t, segs, 0)).collect();
        (!found.is_empty()).then_some((found, Resolution::Import))
    }

    /// The class a method belongs to (its qualified name, `.`-separated): the qualified name
    /// of the nearest enclosing method minus its last segment, else the nearest type.
    fn owner(&self, from: SymbolId) -> Option<String> {
        let symbols = &self.t.files[from.file as usize].symbols;
        let mut at = Some(from.symbol);
        let mut steps = 0;
        while let Some(i) = at {
            let symbol = symbols.get(i as usize)?;
            if symbol.kind == SymbolKind::Method {
                return normalize(&symbol.qualified).rsplit_once('.').map(|(owner, _)| owner.to_owned());
            }
            if symbol.kind.is_type() {
                return Some(normalize(&symbol.qualified));
            }
            at = symbol.parent;
            steps += 1;
            if steps > 10_000 {
                return None;
            }
        }
        None
    }

    /// `member` of the class `class` (qualified), or of its bases, breadth-first.
    fn member(&self, q: &Query, scope: &str, class: &str, member: &str, own: bool) -> Vec<SymbolId> {
        let mut queue = VecDeque::from([(scope.to_owned(), class.to_owned(), own)]);
        let mut seen = HashSet::new();
        while let Some((scope, class, look)) = queue.pop_front() {
            if !seen.insert((scope.clone(), class.clone())) || seen.len() > MAX_BASES {
                continue;
            }
            if look {
                let found = self.accept(q, self.t.qual(q.family, &scope, &format!("{class}.{member}")));
                if !found.is_empty() {
                    return found;
                }
            }
            for &cls in self.t.qual(q.family, &scope, &class) {
                for &base in self.bases.get(&cls).into_iter().flatten() {
                    let base_scope = scope_of(&self.t.files[base.file as usize]).to_owned();
                    queue.push_back((base_scope, normalize(&self.t.sym(base).qualified), true));
                }
            }
        }
        Vec::new()
    }

    /// A plain name in the enclosing scopes of `from`, innermost first, up to the file's
    /// module (C#: on through the outer namespaces). Class bodies are scopes only in Java and
    /// C# (members without `this`, including inherited ones: then the flag is true).
    fn lexical(&self, q: &Query, from: SymbolId, name: &str) -> Option<(Vec<SymbolId>, bool)> {
        let file = &self.t.files[from.file as usize];
        let implicit_this = matches!(file.lang, Lang::Java | Lang::CSharp);
        let module = normalize(&file.module);
        let mut prefix = normalize(&self.t.sym(from).qualified);
        loop {
            let here = self.t.qual(q.family, q.scope, &prefix);
            let class = here.iter().find(|&&id| self.t.sym(id).kind.is_type());
            if class.is_none() || implicit_this {
                let candidate = if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") };
                let found = self.accept(q, self.t.qual(q.family, q.scope, &candidate));
                if !found.is_empty() {
                    return Some((found, class.is_some()));
                }
                if class.is_some() {
                    let found = self.member(q, q.scope, &prefix, name, false);
                    if !found.is_empty() {
                        return Some((found, true));
                    }
                }
            }
            match prefix.rsplit_once('.') {
                Some((up, _)) if up.len() >= module.len() || file.lang == Lang::CSharp => prefix = up.to_owned(),
                _ if !prefix.is_empty() && (module.is_empty() || file.lang == Lang::CSharp) && prefix.len() > module.len() => {
                    prefix = String::new()
                }
                _ => return None,
            }
        }
    }

    /// Like [`Self::lexical`] for the head of a path, of any kind (a type, a module).
    fn lexical_any(&self, q: &Query, from: SymbolId, name: &str) -> Option<Vec<SymbolId>> {
        let any = Query { file: q.file, family: q.family, scope: q.scope, kind: RefKind::Call };
        self.lexical(&any, from, name).map(|(ids, _)| ids)
    }

    /// What an import binding plus the rest of a path (`m` + `f` of `m.f`) stands for.
    fn expand(&self, q: &Query, target: &Target, rest: &[&str], depth: u32) -> Vec<SymbolId> {
        match target {
            Target::Path { scope, path } => {
                let full = if rest.is_empty() { path.clone() } else { format!("{path}.{}", rest.join(".")) };
                let found = self.accept(q, self.t.qual(q.family, scope, &full));
                if !found.is_empty() || rest.is_empty() {
                    return found;
                }
                let (class, member) = full.rsplit_once('.').unwrap_or(("", &full));
                self.member(q, scope, class, member, false)
            }
            Target::Files { files, member, module, importer } => {
                let mut path: Vec<&str> = member.as_deref().into_iter().collect();
                path.extend(rest);
                if path.is_empty() {
                    return Vec::new();
                }
                let local = path.join(".");
                let mut found = Vec::new();
                for &t in files {
                    let target = &self.t.files[t as usize];
                    let qualified = format!("{}.{local}", normalize(&target.module));
                    found.extend(self.accept(q, self.t.qual(q.family, scope_of(target), &qualified)));
                }
                if !found.is_empty() || depth >= MAX_REEXPORT_DEPTH {
                    return found;
                }
                // Re-exports: the name imported into the target file, or its wildcards.
                for &t in files {
                    let reexports = &self.bindings[t as usize];
                    for inner in reexports.named.get(path[0]).into_iter().flatten() {
                        found.extend(self.expand(q, inner, &path[1..], depth + 1));
                    }
                    if found.is_empty() {
                        for inner in &reexports.wildcards {
                            found.extend(self.expand(q, inner, &path, depth + 1));
                        }
                    }
                }
                // Python: `from pkg import mod` / `import pkg` + `pkg.mod.f` name submodules.
                let importer = &self.t.files[*importer as usize];
                if found.is_empty() && importer.lang == Lang::Python && path.len() > 1 {
                    let sep = if module.ends_with('.') { "" } else { "." };
                    let sub = format!("{module}{sep}{}", path[0]);
                    let files = self.t.modules.python(importer, &sub);
                    let inner = Target::Files { files, member: None, module: sub, importer: q.file };
                    found.extend(self.expand(q, &inner, &path[1..], depth + 1));
                }
                found
            }
        }
    }
}
