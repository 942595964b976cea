//! Java and C#: packages / namespaces (the qualifying prefix), classes, interfaces, enums,
//! records and structs with their bases, methods and constructors, imports / usings, calls
//! and `new`, type references (Java).

use tree_sitter::Node;

use super::text::ref_path;
use super::{Ctx, Def, Walk};
use crate::model::{RefKind, SymbolKind};

fn type_kind(kind: &str) -> Option<SymbolKind> {
    Some(match kind {
        "class_declaration" | "record_declaration" | "annotation_type_declaration" => SymbolKind::Class,
        "interface_declaration" => SymbolKind::Interface,
        "enum_declaration" => SymbolKind::Enum,
        "struct_declaration" | "record_struct_declaration" => SymbolKind::Struct,
        _ => return None,
    })
}

fn define_named(ctx: &mut Ctx, node: Node, kind: SymbolKind) {
    let Some(name) = node.child_by_field_name("name") else { return };
    let body = node.child_by_field_name("body");
    let doc = ctx.doc_above(node);
    ctx.define(Def { node, name: ctx.text(name), kind, body, doc, qualified: None });
}

/// The named type under generic arguments: `List<String>` → `List`.
fn type_name(ctx: &Ctx, ty: Node) -> String {
    let node = if ty.kind() == "generic_type" || ty.kind() == "generic_name" { ty.named_child(0).unwrap_or(ty) } else { ty };
    ref_path(&ctx.text(node))
}

fn each_type(ctx: &mut Ctx, node: Node, kind: RefKind) {
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        if child.kind() == "type_list" {
            each_type(ctx, child, kind);
        } else {
            ctx.reference(kind, type_name(ctx, child), Ctx::line(child));
        }
    }
}

pub(crate) fn visit_java(ctx: &mut Ctx, node: Node) -> Walk {
    if let Some(kind) = type_kind(node.kind()) {
        define_named(ctx, node, kind);
        return Walk::Descend;
    }
    match node.kind() {
        "package_declaration" => {
            let mut cursor = node.walk();
            if let Some(name) = node.named_children(&mut cursor).find(|c| matches!(c.kind(), "scoped_identifier" | "identifier")) {
                ctx.module = ref_path(&ctx.text(name));
            }
            Walk::Skip
        }
        "method_declaration" | "constructor_declaration" | "compact_constructor_declaration" => {
            define_named(ctx, node, SymbolKind::Method);
            Walk::Descend
        }
        "superclass" | "extends_interfaces" => {
            each_type(ctx, node, RefKind::Inherits);
            Walk::Skip
        }
        "super_interfaces" => {
            each_type(ctx, node, RefKind::Implements);
            Walk::Skip
        }
        "method_invocation" => {
            if let Some(name) = node.child_by_field_name("name") {
                let name = ctx.text(name);
                let path = match node.child_by_field_name("object") {
                    Some(object) => format!("{}.{name}", ref_path(&ctx.text(object))),
                    None => name,
                };
                ctx.reference(RefKind::Call, ref_path(&path), Ctx::line(node));
            }
            Walk::Descend
        }
        "object_creation_expression" => {
            if let Some(ty) = node.child_by_field_name("type") {
                ctx.reference(RefKind::Call, type_name(ctx, ty), Ctx::line(node));
            }
            Walk::Descend
        }
        "import_declaration" => {
            let text = ctx.text(node);
            let path = text.trim().trim_start_matches("import").trim().trim_start_matches("static ").trim();
            let path: String = path.trim_end_matches(';').split_whitespace().collect();
            let (module, names) = match path.strip_suffix(".*") {
                Some(module) => (module.to_owned(), vec![("*".to_owned(), "*".to_owned())]),
                None => match path.rsplit_once('.') {
                    Some((module, name)) => (module.to_owned(), vec![(name.to_owned(), name.to_owned())]),
                    None => (path.clone(), vec![(String::new(), path.clone())]),
                },
            };
            ctx.import(module, names, Ctx::line(node));
            Walk::Skip
        }
        "type_identifier" | "scoped_type_identifier" => {
            if !ctx.is_name() {
                ctx.reference(RefKind::Reference, ref_path(&ctx.text(node)), Ctx::line(node));
            }
            Walk::Skip
        }
        _ => Walk::Descend,
    }
}

pub(crate) fn visit_csharp(ctx: &mut Ctx, node: Node) -> Walk {
    if let Some(kind) = type_kind(node.kind()) {
        define_named(ctx, node, kind);
        return Walk::Descend;
    }
    match node.kind() {
        "file_scoped_namespace_declaration" => {
            if let Some(name) = node.child_by_field_name("name") {
                ctx.module = ref_path(&ctx.text(name));
            }
            Walk::Descend
        }
        "namespace_declaration" => {
            if let Some(name) = node.child_by_field_name("name") {
                let qual = ctx.child_qual(&ref_path(&ctx.text(name)));
                ctx.open_scope(qual, None);
            }
            Walk::Descend
        }
        "method_declaration" | "constructor_declaration" | "destructor_declaration" => {
            define_named(ctx, node, SymbolKind::Method);
            Walk::Descend
        }
        "local_function_statement" => {
            define_named(ctx, node, SymbolKind::Function);
            Walk::Descend
        }
        "base_list" => {
            let interface_decl = ctx.current_kind() == Some(SymbolKind::Interface);
            let mut cursor = node.walk();
            for base in node.named_children(&mut cursor) {
                let name = type_name(ctx, base);
                let last = name.rsplit('.').next().unwrap_or(&name);
                let looks_interface = last.len() > 1
                    && last.starts_with('I')
                    && last[1..].starts_with(|c: char| c.is_ascii_uppercase());
                let kind = if looks_interface && !interface_decl { RefKind::Implements } else { RefKind::Inherits };
                ctx.reference(kind, name, Ctx::line(base));
            }
            Walk::Skip
        }
        "invocation_expression" => {
            if let Some(function) = node.child_by_field_name("function") {
                ctx.reference(RefKind::Call, ref_path(&ctx.text(function)), Ctx::line(node));
            }
            Walk::Descend
        }
        "object_creation_expression" => {
            if let Some(ty) = node.child_by_field_name("type") {
                ctx.reference(RefKind::Call, type_name(ctx, ty), Ctx::line(node));
            }
            Walk::Descend
        }
        "using_directive" => {
            let text = ctx.text(node);
            let body = text.trim().trim_start_matches("global").trim().trim_start_matches("using").trim();
            let body = body.trim_start_matches("static ").trim_end_matches(';');
            let (alias, target) = match body.split_once('=') {
                Some((alias, target)) => (Some(alias.trim().to_owned()), target),
                None => (None, body),
            };
            let target: String = target.split_whitespace().collect();
            let names = match alias {
                Some(alias) => vec![(String::new(), alias)],
                None => vec![("*".to_owned(), "*".to_owned())],
            };
            ctx.import(target, names, Ctx::line(node));
            Walk::Skip
        }
        _ => Walk::Descend,
    }
}
