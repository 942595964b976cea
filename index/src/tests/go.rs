use super::{build, edge, id, sym};
use crate::{EdgeKind::*, Resolution::*, ResolveMode, SymbolKind};

const FILES: &[(&str, &str)] = &[
    ("internal/auth/auth.go", "package auth\n\n// Token checks\n// a token.\nfunc Token(s string) bool { return check(s) }\n"),
    ("internal/auth/check.go", "package auth\n\nfunc check(s string) bool { return s != \"\" }\n"),
    (
        "cmd/main.go",
        r#"package main

import (
	"fmt"

	"github.com/acme/proj/internal/auth"
)

type Base struct{}

func (b *Base) Close() {}

type Server struct {
	Base
	name string
}

// Handle serves.
func (s *Server) Handle() {
	s.log()
	auth.Token("x")
	fmt.Println("x")
	s.Close()
}

func (s *Server) log() {}
"#,
    ),
];

#[test]
fn go_symbols_methods_under_receivers() {
    let g = build(FILES, ResolveMode::Scoped);
    let handle = sym(&g, "main.Server.Handle");
    assert_eq!((handle.kind, handle.start_line, handle.end_line), (SymbolKind::Method, 19, 24));
    assert_eq!(handle.doc.as_deref(), Some("Handle serves."));
    assert_eq!(handle.parent, Some(id(&g, "main.Server").symbol));
    assert_eq!(sym(&g, "main.Server").kind, SymbolKind::Struct);
    assert_eq!(sym(&g, "auth.Token").doc.as_deref(), Some("Token checks\na token."));
    let main = &g.files[id(&g, "main.Server").file as usize];
    assert_eq!(main.imports.len(), 2);
    assert_eq!(main.imports[1].names, vec![(String::new(), "auth".to_owned())]);
}

#[test]
fn go_edges_receiver_embedding_package_imports_same_package() {
    let g = build(FILES, ResolveMode::Scoped);
    assert_eq!(edge(&g, "main.Server.Handle", "main.Server.log", Calls), Some(Local), "s.log() via the receiver");
    assert_eq!(edge(&g, "main.Server.Handle", "auth.Token", Calls), Some(Import));
    assert_eq!(edge(&g, "main.Server", "main.Base", Inherits), Some(Local), "embedded struct");
    assert_eq!(edge(&g, "main.Server.Handle", "main.Base.Close", Calls), Some(Local), "promoted method");
    assert_eq!(edge(&g, "auth.Token", "auth.check", Calls), Some(Qualified), "same package, other file");
}
