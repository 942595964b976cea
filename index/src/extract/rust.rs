//! Rust: functions (methods inside `impl` / `trait`), structs, unions, enums, traits with
//! their supertraits, type aliases, inline modules, `impl Trait for Type` (implements),
//! `use` trees, calls, type references.

use std::collections::BTreeMap;

use tree_sitter::Node;

use super::text::ref_path;
use super::{Ctx, Def, Walk};
use crate::model::{RefKind, SymbolKind};

pub(crate) fn visit(ctx: &mut Ctx, node: Node) -> Walk {
    let kind = match node.kind() {
        "function_item" | "function_signature_item" => {
            if ctx.in_class() { SymbolKind::Method } else { SymbolKind::Function }
        }
        "struct_item" | "union_item" => SymbolKind::Struct,
        "enum_item" => SymbolKind::Enum,
        "trait_item" => SymbolKind::Trait,
        "type_item" => SymbolKind::Type,
        "mod_item" if node.child_by_field_name("body").is_some() => SymbolKind::Module,
        "trait_bounds" if ctx.current_kind() == Some(SymbolKind::Trait) && ctx.field == Some("bounds") => {
            let mut cursor = node.walk();
            for bound in node.named_children(&mut cursor) {
                let target = if bound.kind() == "generic_type" { bound.named_child(0).unwrap_or(bound) } else { bound };
                ctx.reference(RefKind::Inherits, ref_path(&ctx.text(target)), Ctx::line(bound));
            }
            return Walk::Skip;
        }
        "impl_item" => {
            let Some(ty) = node.child_by_field_name("type") else { return Walk::Descend };
            let ty = type_base(ctx, ty);
            if let Some(tr) = node.child_by_field_name("trait") {
                let tr = type_base(ctx, tr);
                ctx.reference_from_type(RefKind::Implements, tr, Ctx::line(node), ty.clone());
            }
            let qual = ctx.child_qual(&ty);
            ctx.open_scope(qual, Some(ty));
            return Walk::Descend;
        }
        "call_expression" => {
            if let Some(function) = node.child_by_field_name("function") {
                ctx.reference(RefKind::Call, ref_path(&ctx.text(function)), Ctx::line(node));
            }
            return Walk::Descend;
        }
        "use_declaration" => {
            if let Some(argument) = node.child_by_field_name("argument") {
                use_tree(ctx, argument, Ctx::line(node));
            }
            return Walk::Skip;
        }
        "type_identifier" | "scoped_type_identifier" => {
            if !ctx.is_name() {
                ctx.reference(RefKind::Reference, ref_path(&ctx.text(node)), Ctx::line(node));
            }
            return Walk::Skip;
        }
        _ => return Walk::Descend,
    };
    let Some(name) = node.child_by_field_name("name") else { return Walk::Descend };
    let body = node.child_by_field_name("body");
    let doc = ctx.doc_above(node);
    ctx.define(Def { node, name: ctx.text(name), kind, body, doc, qualified: None });
    Walk::Descend
}

/// The last path segment of a type, under references and generics: `&mut a::Foo<T>` → `Foo`.
fn type_base(ctx: &Ctx, ty: Node) -> String {
    let mut node = ty;
    for _ in 0..8 {
        match node.kind() {
            "generic_type" => match node.child_by_field_name("type") {
                Some(inner) => node = inner,
                None => break,
            },
            "reference_type" | "pointer_type" => match node.child_by_field_name("type") {
                Some(inner) => node = inner,
                None => break,
            },
            _ => break,
        }
    }
    let path = ref_path(&ctx.text(node));
    path.rsplit("::").next().unwrap_or(&path).to_owned()
}

fn join(prefix: &str, path: &str) -> String {
    if prefix.is_empty() { path.to_owned() } else { format!("{prefix}::{path}") }
}

/// Expands a `use` tree (explicit stack) into one import per module: `use a::{b, c as d,
/// e::*}` → `a` with `(b, b)`, `(c, d)` and `a::e` with `(*, *)`.
fn use_tree(ctx: &mut Ctx, argument: Node, line: u32) {
    let mut groups: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut stack = vec![(String::new(), argument)];
    while let Some((prefix, node)) = stack.pop() {
        if stack.len() > 10_000 {
            break;
        }
        match node.kind() {
            "use_as_clause" => {
                let (Some(path), Some(alias)) = (node.child_by_field_name("path"), node.child_by_field_name("alias")) else {
                    continue;
                };
                let full = join(&prefix, &ref_path(&ctx.text(path)));
                let full = full.strip_suffix("::self").map(str::to_owned).unwrap_or(full);
                let (module, name) = full.rsplit_once("::").unwrap_or(("", &full));
                groups.entry(module.to_owned()).or_default().push((name.to_owned(), ctx.text(alias)));
            }
            "use_wildcard" => {
                let path = node.named_child(0).map(|p| ref_path(&ctx.text(p))).unwrap_or_default();
                groups.entry(join(&prefix, &path)).or_default().push(("*".to_owned(), "*".to_owned()));
            }
            "scoped_use_list" => {
                let path = node.child_by_field_name("path").map(|p| ref_path(&ctx.text(p))).unwrap_or_default();
                let prefix = join(&prefix, &path);
                if let Some(list) = node.child_by_field_name("list") {
                    let mut cursor = list.walk();
                    stack.extend(list.named_children(&mut cursor).map(|c| (prefix.clone(), c)));
                }
            }
            "use_list" => {
                let mut cursor = node.walk();
                stack.extend(node.named_children(&mut cursor).map(|c| (prefix.clone(), c)));
            }
            "scoped_identifier" | "identifier" | "crate" | "self" | "super" => {
                let full = join(&prefix, &ref_path(&ctx.text(node)));
                let full = full.strip_suffix("::self").map(str::to_owned).unwrap_or(full);
                match full.rsplit_once("::") {
                    Some((module, name)) => groups.entry(module.to_owned()).or_default().push((name.to_owned(), name.to_owned())),
                    None => groups.entry(full.clone()).or_default().push((String::new(), full.clone())),
                }
            }
            _ => {}
        }
    }
    for (module, names) in groups {
        ctx.import(module, names, line);
    }
}
