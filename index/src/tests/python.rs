use super::{build, edge, id, sym, targets};
use crate::{EdgeKind::*, FileEdge, Resolution::*, ResolveMode, SymbolKind};

pub(crate) const FILES: &[(&str, &str)] = &[
    (
        "pkg/utils.py",
        r#""""Utilities."""


def get_auth(token):
    """Return the auth
    for a token."""
    return token


def helper():
    return 1
"#,
    ),
    (
        "pkg/service.py",
        r#"from pkg.utils import get_auth as auth
import pkg.utils as u
from . import other


class Base:
    def save(self):
        return 1


class Service(Base):
    """A service."""

    def run(self):
        self.save()
        self.check()
        auth("t")
        u.helper()
        unique_thing()
        dup()
        other.unique_thing()

        def inner():
            return local_helper()

        return inner()

    def check(self):
        return 2


def local_helper():
    return 3
"#,
    ),
    ("pkg/other.py", "def unique_thing():\n    pass\n\n\ndef dup():\n    pass\n"),
    ("pkg/more.py", "def dup():\n    pass\n"),
];

#[test]
fn python_symbols_qualified_kinds_lines_docs() {
    let g = build(FILES, ResolveMode::Scoped);
    let service = sym(&g, "pkg.service.Service");
    assert_eq!((service.kind, service.start_line, service.end_line), (SymbolKind::Class, 11, 29));
    assert_eq!(service.doc.as_deref(), Some("A service."));
    assert_eq!(service.signature, "class Service(Base)");
    let run = sym(&g, "pkg.service.Service.run");
    assert_eq!((run.kind, run.start_line, run.end_line, run.name.as_str()), (SymbolKind::Method, 14, 26, "run"));
    assert_eq!(run.signature, "def run(self)");
    assert_eq!(g.symbol(id(&g, "pkg.service.Service.run")).parent, Some(id(&g, "pkg.service.Service").symbol));
    assert_eq!(sym(&g, "pkg.service.Service.run.inner").kind, SymbolKind::Function);
    assert_eq!(sym(&g, "pkg.utils.get_auth").doc.as_deref(), Some("Return the auth\nfor a token."));
    assert_eq!(sym(&g, "pkg.utils.helper").kind, SymbolKind::Function);
    let service_file = &g.files[id(&g, "pkg.service.Service").file as usize];
    assert_eq!(service_file.imports[0].module, "pkg.utils");
    assert_eq!(service_file.imports[0].names, vec![("get_auth".to_owned(), "auth".to_owned())]);
    assert_eq!(service_file.imports[1].names, vec![(String::new(), "u".to_owned())]);
}

#[test]
fn python_edges_resolve_through_scope_class_bases_and_imports() {
    let g = build(FILES, ResolveMode::Scoped);
    let run = "pkg.service.Service.run";
    assert_eq!(edge(&g, "pkg.service.Service", "pkg.service.Base", Inherits), Some(Local));
    assert_eq!(edge(&g, run, "pkg.service.Base.save", Calls), Some(Local), "self.save() via the base");
    assert_eq!(edge(&g, run, "pkg.service.Service.check", Calls), Some(Local));
    assert_eq!(edge(&g, run, "pkg.utils.get_auth", Calls), Some(Import), "from … import … as auth");
    assert_eq!(edge(&g, run, "pkg.utils.helper", Calls), Some(Import), "import pkg.utils as u; u.helper()");
    assert_eq!(edge(&g, run, "pkg.other.unique_thing", Calls), Some(Import), "from . import other");
    assert_eq!(edge(&g, run, "pkg.service.Service.run.inner", Calls), Some(Local));
    assert_eq!(edge(&g, "pkg.service.Service.run.inner", "pkg.service.local_helper", Calls), Some(Local));
    // `dup` is defined twice and imported nowhere: Scoped links neither.
    assert!(!targets(&g, run, Calls).iter().any(|t| t.ends_with(".dup")), "{:?}", targets(&g, run, Calls));
    // The file edges: service imports utils and other.
    let service = id(&g, run).file;
    let utils = g.file_index("pkg/utils.py").expect("utils");
    let other = g.file_index("pkg/other.py").expect("other");
    assert!(g.file_edges.contains(&FileEdge { from: service, to: utils }));
    assert!(g.file_edges.contains(&FileEdge { from: service, to: other }));
}

#[test]
fn python_bare_name_fallback_is_marked_and_only_for_unique_names() {
    let mut files = FILES.to_vec();
    // Calls `unique_thing()` without importing it: only the bare-name fallback finds it.
    files.push(("pkg/caller.py", "def call():\n    unique_thing()\n    dup()\n"));
    let g = build(&files, ResolveMode::Scoped);
    assert_eq!(edge(&g, "pkg.caller.call", "pkg.other.unique_thing", Calls), Some(BareName));
    assert_eq!(targets(&g, "pkg.caller.call", Calls), vec!["pkg.other.unique_thing"]);
    let bare = build(&files, ResolveMode::BareNameOnly);
    assert_eq!(targets(&bare, "pkg.caller.call", Calls), vec!["pkg.more.dup", "pkg.other.dup", "pkg.other.unique_thing"]);
    assert_eq!(edge(&bare, "pkg.caller.call", "pkg.more.dup", Calls), Some(BareName));
}
