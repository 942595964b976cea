//! Python: `def` (a method inside a `class`), `class` with its bases, docstrings, `import` /
//! `from … import …`, calls.

use tree_sitter::Node;

use super::text::{bound, ref_path};
use super::{Ctx, Def, Walk};
use crate::model::{RefKind, SymbolKind};

pub(crate) fn visit(ctx: &mut Ctx, node: Node) -> Walk {
    match node.kind() {
        "function_definition" => {
            let Some(name) = node.child_by_field_name("name") else { return Walk::Descend };
            let body = node.child_by_field_name("body");
            let kind = if ctx.in_class() { SymbolKind::Method } else { SymbolKind::Function };
            let doc = body.and_then(|b| docstring(ctx, b));
            ctx.define(Def { node, name: ctx.text(name), kind, body, doc, qualified: None });
        }
        "class_definition" => {
            let Some(name) = node.child_by_field_name("name") else { return Walk::Descend };
            let body = node.child_by_field_name("body");
            let doc = body.and_then(|b| docstring(ctx, b));
            ctx.define(Def { node, name: ctx.text(name), kind: SymbolKind::Class, body, doc, qualified: None });
            if let Some(bases) = node.child_by_field_name("superclasses") {
                let mut cursor = bases.walk();
                for base in bases.named_children(&mut cursor) {
                    if matches!(base.kind(), "identifier" | "attribute") {
                        ctx.reference(RefKind::Inherits, ref_path(&ctx.text(base)), Ctx::line(base));
                    }
                }
            }
        }
        "call" => {
            if let Some(function) = node.child_by_field_name("function") {
                ctx.reference(RefKind::Call, ref_path(&ctx.text(function)), Ctx::line(node));
            }
        }
        "import_statement" => {
            let mut cursor = node.walk();
            for child in node.children_by_field_name("name", &mut cursor) {
                let (module, local) = match child.kind() {
                    "aliased_import" => {
                        let module = child.child_by_field_name("name").map(|n| ctx.text(n)).unwrap_or_default();
                        let alias = child.child_by_field_name("alias").map(|n| ctx.text(n)).unwrap_or_default();
                        (module, alias)
                    }
                    _ => (ctx.text(child), ctx.text(child)),
                };
                ctx.import(module, vec![(String::new(), local)], Ctx::line(node));
            }
            return Walk::Skip;
        }
        "import_from_statement" => {
            let module = node.child_by_field_name("module_name").map(|n| ctx.text(n)).unwrap_or_default();
            let mut names = Vec::new();
            let mut cursor = node.walk();
            for child in node.children_by_field_name("name", &mut cursor) {
                names.push(match child.kind() {
                    "aliased_import" => (
                        child.child_by_field_name("name").map(|n| ctx.text(n)).unwrap_or_default(),
                        child.child_by_field_name("alias").map(|n| ctx.text(n)).unwrap_or_default(),
                    ),
                    _ => (ctx.text(child), ctx.text(child)),
                });
            }
            let mut cursor = node.walk();
            if node.children(&mut cursor).any(|c| c.kind() == "wildcard_import") {
                names.push(("*".to_owned(), "*".to_owned()));
            }
            ctx.import(module, names, Ctx::line(node));
            return Walk::Skip;
        }
        _ => {}
    }
    Walk::Descend
}

/// The string literal that opens a body, quotes and prefixes stripped.
fn docstring(ctx: &Ctx, body: Node) -> Option<String> {
    let first = body.named_child(0)?;
    if first.kind() != "expression_statement" {
        return None;
    }
    let string = first.named_child(0).filter(|s| s.kind() == "string")?;
    let end = string.end_byte().min(string.start_byte() + ctx.limits.max_doc_chars * 4 + 16);
    let raw = super::text::slice(ctx.src, string.start_byte(), end);
    let raw = raw.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let inner = raw.trim_start_matches(['"', '\'']).trim_end_matches(['"', '\'']);
    let text = inner.lines().map(str::trim).collect::<Vec<_>>().join("\n");
    Some(bound(text.trim(), ctx.limits.max_doc_chars))
}
