//! Go: the `package` clause (the module), functions, methods (qualified under their receiver
//! type), struct / interface / other named types, embedded fields and interfaces (inherits),
//! imports, calls, type references.

use tree_sitter::Node;

use super::text::ref_path;
use super::{Ctx, Def, Walk};
use crate::model::{RefKind, SymbolKind};

pub(crate) fn visit(ctx: &mut Ctx, node: Node) -> Walk {
    match node.kind() {
        "package_clause" => {
            if let Some(name) = node.named_child(0) {
                ctx.module = ctx.text(name);
            }
            return Walk::Skip;
        }
        "function_declaration" => {
            let Some(name) = node.child_by_field_name("name") else { return Walk::Descend };
            let doc = ctx.doc_above(node);
            let body = node.child_by_field_name("body");
            ctx.define(Def { node, name: ctx.text(name), kind: SymbolKind::Function, body, doc, qualified: None });
            ctx.receiver = None;
        }
        "method_declaration" => {
            let Some(name) = node.child_by_field_name("name") else { return Walk::Descend };
            let name = ctx.text(name);
            let receiver = node.child_by_field_name("receiver").and_then(|r| r.named_child(0));
            let recv_type = receiver.and_then(|p| p.child_by_field_name("type")).map(|t| base_type(ctx, t));
            let recv_name = receiver.and_then(|p| p.child_by_field_name("name")).map(|n| ctx.text(n));
            let doc = ctx.doc_above(node);
            let body = node.child_by_field_name("body");
            let qualified = recv_type.as_ref().map(|ty| {
                let prefix = if ctx.module.is_empty() { String::new() } else { format!("{}.", ctx.module) };
                (format!("{prefix}{ty}.{name}"), ty.clone())
            });
            ctx.define(Def { node, name, kind: SymbolKind::Method, body, doc, qualified });
            ctx.receiver = recv_name;
        }
        "type_spec" | "type_alias" => {
            let Some(name) = node.child_by_field_name("name") else { return Walk::Descend };
            let ty = node.child_by_field_name("type");
            let kind = match ty.map(|t| t.kind()) {
                Some("struct_type") => SymbolKind::Struct,
                Some("interface_type") => SymbolKind::Interface,
                _ => SymbolKind::Type,
            };
            let anchor = node.parent().filter(|p| p.kind() == "type_declaration" && p.named_child_count() == 1);
            let doc = ctx.doc_above(anchor.unwrap_or(node));
            ctx.define(Def { node, name: ctx.text(name), kind, body: ty, doc, qualified: None });
        }
        // An embedded struct field (no name) or an embedded interface.
        "field_declaration" if node.child_by_field_name("name").is_none() => {
            if let Some(ty) = node.child_by_field_name("type") {
                ctx.reference(RefKind::Inherits, base_type(ctx, ty), Ctx::line(node));
            }
            return Walk::Skip;
        }
        "type_elem" if node.parent().is_some_and(|p| p.kind() == "interface_type") => {
            if let Some(ty) = node.named_child(0) {
                ctx.reference(RefKind::Inherits, base_type(ctx, ty), Ctx::line(node));
            }
            return Walk::Skip;
        }
        "call_expression" => {
            if let Some(function) = node.child_by_field_name("function") {
                let path = ref_path(&ctx.text(function));
                let path = match (&ctx.receiver, path.split_once('.')) {
                    (Some(recv), Some((head, rest))) if head == recv => format!("self.{rest}"),
                    _ => path,
                };
                ctx.reference(RefKind::Call, path, Ctx::line(node));
            }
        }
        "import_spec" => {
            let Some(path) = node.child_by_field_name("path") else { return Walk::Skip };
            let module = ctx.text(path).trim_matches(['"', '`']).to_owned();
            let local = match node.child_by_field_name("name") {
                Some(alias) if alias.kind() == "dot" => "*".to_owned(),
                Some(alias) => ctx.text(alias),
                None => default_name(&module),
            };
            let names = if local == "*" { vec![("*".to_owned(), "*".to_owned())] } else { vec![(String::new(), local)] };
            ctx.import(module, names, Ctx::line(node));
            return Walk::Skip;
        }
        "type_identifier" | "qualified_type" => {
            if !ctx.is_name() {
                ctx.reference(RefKind::Reference, ref_path(&ctx.text(node)), Ctx::line(node));
            }
            return Walk::Skip;
        }
        _ => {}
    }
    Walk::Descend
}

/// The type name under pointers and type arguments: `*Server[T]` → `Server`.
fn base_type(ctx: &Ctx, ty: Node) -> String {
    let mut node = ty;
    for _ in 0..8 {
        match node.kind() {
            "pointer_type" | "generic_type" | "parenthesized_type" => match node.named_child(0) {
                Some(inner) => node = inner,
                None => break,
            },
            _ => break,
        }
    }
    ref_path(&ctx.text(node))
}

/// The package name an import path implies: its last segment, without a `/vN` major version
/// or a `go-` prefix.
pub(crate) fn default_name(module: &str) -> String {
    let mut segments = module.rsplit('/');
    let mut last = segments.next().unwrap_or(module);
    if last.len() > 1 && last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit()) {
        last = segments.next().unwrap_or(last);
    }
    last.trim_start_matches("go-").replace(['-', '.'], "_")
}
