use super::{build, edge, id, sym};
use crate::{EdgeKind::*, Resolution::*, ResolveMode, SymbolKind};

const FILES: &[(&str, &str)] = &[
    ("src/lib.rs", "pub mod shapes;\npub mod util;\n"),
    ("src/util.rs", "/// Doubles.\npub fn double(x: u32) -> u32 {\n    x * 2\n}\n"),
    (
        "src/shapes.rs",
        r#"use crate::util::double;

pub trait Area {
    fn area(&self) -> u32;
    fn twice(&self) -> u32 {
        self.area() * 2
    }
}

/// A square.
#[derive(Debug)]
pub struct Square {
    side: u32,
}

impl Square {
    pub fn new(side: u32) -> Self {
        Self::check(side);
        Square { side }
    }

    fn check(_s: u32) {}
}

impl Area for Square {
    fn area(&self) -> u32 {
        double(self.side);
        crate::util::double(1);
        self.twice()
    }
}
"#,
    ),
];

#[test]
fn rust_symbols_impls_docs() {
    let g = build(FILES, ResolveMode::Scoped);
    let square = sym(&g, "crate::shapes::Square");
    assert_eq!((square.kind, square.start_line, square.end_line), (SymbolKind::Struct, 12, 14));
    assert_eq!(square.doc.as_deref(), Some("A square."), "doc above the attribute");
    let new = sym(&g, "crate::shapes::Square::new");
    assert_eq!((new.kind, new.start_line, new.end_line), (SymbolKind::Method, 17, 20));
    assert_eq!(new.parent, Some(id(&g, "crate::shapes::Square").symbol));
    assert_eq!(new.signature, "pub fn new(side: u32) -> Self");
    assert_eq!(sym(&g, "crate::shapes::Area").kind, SymbolKind::Trait);
    assert_eq!(sym(&g, "crate::util::double").doc.as_deref(), Some("Doubles."));
}

#[test]
fn rust_edges_self_use_crate_paths_trait_impls() {
    let g = build(FILES, ResolveMode::Scoped);
    let area = "crate::shapes::Square::area";
    assert_eq!(edge(&g, "crate::shapes::Square", "crate::shapes::Area", Implements), Some(Local));
    assert_eq!(edge(&g, "crate::shapes::Square::new", "crate::shapes::Square::check", Calls), Some(Local));
    assert_eq!(edge(&g, area, "crate::util::double", Calls), Some(Import));
    assert_eq!(edge(&g, area, "crate::shapes::Area::twice", Calls), Some(Local), "trait default method");
    assert_eq!(edge(&g, "crate::shapes::Area::twice", "crate::shapes::Area::area", Calls), Some(Local));
}
