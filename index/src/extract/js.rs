//! JavaScript, TypeScript and TSX: functions (declarations and `const f = () => …`), classes
//! with `extends`/`implements`, methods, interfaces, enums, type aliases, `import`,
//! `require`, re-exports, calls and `new`, type references.

use tree_sitter::Node;

use super::text::ref_path;
use super::{Ctx, Def, Walk};
use crate::model::{RefKind, SymbolKind};

pub(crate) fn visit(ctx: &mut Ctx, node: Node) -> Walk {
    let kind = match node.kind() {
        "function_declaration" | "generator_function_declaration" | "function_signature" => SymbolKind::Function,
        "class_declaration" | "abstract_class_declaration" | "class" => SymbolKind::Class,
        "method_definition" | "method_signature" | "abstract_method_signature" => SymbolKind::Method,
        "interface_declaration" => SymbolKind::Interface,
        "enum_declaration" => SymbolKind::Enum,
        "type_alias_declaration" => SymbolKind::Type,
        "variable_declarator" => return declarator(ctx, node),
        "public_field_definition" | "field_definition" => return field(ctx, node),
        "class_heritage" => return heritage(ctx, node),
        "extends_type_clause" => {
            each_type(ctx, node, RefKind::Inherits);
            return Walk::Skip;
        }
        "call_expression" => {
            if let Some(function) = node.child_by_field_name("function") {
                ctx.reference(RefKind::Call, ref_path(&ctx.text(function)), Ctx::line(node));
            }
            return Walk::Descend;
        }
        "new_expression" => {
            if let Some(constructor) = node.child_by_field_name("constructor") {
                ctx.reference(RefKind::Call, ref_path(&ctx.text(constructor)), Ctx::line(node));
            }
            return Walk::Descend;
        }
        "import_statement" => return import(ctx, node),
        "export_statement" => return reexport(ctx, node),
        "type_identifier" | "nested_type_identifier" => {
            if ctx.is_name() {
                return Walk::Skip;
            }
            ctx.reference(RefKind::Reference, ref_path(&ctx.text(node)), Ctx::line(node));
            return Walk::Skip;
        }
        _ => return Walk::Descend,
    };
    let Some(name) = node.child_by_field_name("name") else { return Walk::Descend };
    let kind = if kind == SymbolKind::Method && !ctx.in_class() { SymbolKind::Function } else { kind };
    let body = node.child_by_field_name("body");
    let doc = doc(ctx, node);
    ctx.define(Def { node, name: ctx.text(name), kind, body, doc, qualified: None });
    Walk::Descend
}

fn doc(ctx: &Ctx, node: Node) -> Option<String> {
    let mut anchor = node;
    while ctx.depth <= 256
        && let Some(parent) = anchor.parent()
        && matches!(parent.kind(), "export_statement" | "lexical_declaration" | "variable_declaration")
    {
        anchor = parent;
    }
    ctx.doc_above(anchor)
}

/// `const f = () => …` / `function` expressions are functions; `const x = require('m')`
/// and `const {a, b: c} = require('m')` are imports.
fn declarator(ctx: &mut Ctx, node: Node) -> Walk {
    let (Some(name), Some(value)) = (node.child_by_field_name("name"), node.child_by_field_name("value")) else {
        return Walk::Descend;
    };
    match value.kind() {
        "arrow_function" | "function_expression" | "function" | "generator_function" if name.kind() == "identifier" => {
            let doc = doc(ctx, node);
            let body = value.child_by_field_name("body");
            ctx.define(Def { node, name: ctx.text(name), kind: SymbolKind::Function, body, doc, qualified: None });
        }
        "call_expression" => {
            if let Some(module) = require_of(ctx, value) {
                let names = match name.kind() {
                    "identifier" => vec![(String::new(), ctx.text(name))],
                    "object_pattern" => pattern_names(ctx, name),
                    _ => Vec::new(),
                };
                ctx.import(module, names, Ctx::line(node));
            }
        }
        _ => {}
    }
    Walk::Descend
}

fn field(ctx: &mut Ctx, node: Node) -> Walk {
    let name = node.child_by_field_name("name").or_else(|| node.child_by_field_name("property"));
    let value = node.child_by_field_name("value");
    if let (Some(name), Some(value)) = (name, value)
        && matches!(value.kind(), "arrow_function" | "function_expression" | "function")
        && ctx.in_class()
    {
        let doc = doc(ctx, node);
        let body = value.child_by_field_name("body");
        ctx.define(Def { node, name: ctx.text(name), kind: SymbolKind::Method, body, doc, qualified: None });
    }
    Walk::Descend
}

/// The module of `require('m')`.
fn require_of(ctx: &Ctx, call: Node) -> Option<String> {
    let function = call.child_by_field_name("function")?;
    if function.kind() != "identifier" || ctx.text(function) != "require" {
        return None;
    }
    let arg = call.child_by_field_name("arguments")?.named_child(0)?;
    (arg.kind() == "string").then(|| unquote(&ctx.text(arg)))
}

fn unquote(s: &str) -> String {
    s.trim_matches(['"', '\'', '`']).to_owned()
}

fn pattern_names(ctx: &Ctx, pattern: Node) -> Vec<(String, String)> {
    let mut names = Vec::new();
    let mut cursor = pattern.walk();
    for child in pattern.named_children(&mut cursor) {
        match child.kind() {
            "shorthand_property_identifier_pattern" => names.push((ctx.text(child), ctx.text(child))),
            "pair_pattern" => {
                if let (Some(k), Some(v)) = (child.child_by_field_name("key"), child.child_by_field_name("value")) {
                    names.push((ctx.text(k), ctx.text(v)));
                }
            }
            _ => {}
        }
    }
    names
}

/// JS: `class A extends B`; TS: `extends B implements I, J`.
fn heritage(ctx: &mut Ctx, node: Node) -> Walk {
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        match child.kind() {
            "extends_clause" => {
                if let Some(value) = child.child_by_field_name("value") {
                    ctx.reference(RefKind::Inherits, ref_path(&ctx.text(value)), Ctx::line(value));
                }
            }
            "implements_clause" => each_type(ctx, child, RefKind::Implements),
            _ => ctx.reference(RefKind::Inherits, ref_path(&ctx.text(child)), Ctx::line(child)),
        }
    }
    Walk::Skip
}

fn each_type(ctx: &mut Ctx, node: Node, kind: RefKind) {
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        let target = if child.kind() == "generic_type" { child.child_by_field_name("name").unwrap_or(child) } else { child };
        ctx.reference(kind, ref_path(&ctx.text(target)), Ctx::line(child));
    }
}

fn import(ctx: &mut Ctx, node: Node) -> Walk {
    let Some(source) = node.child_by_field_name("source") else { return Walk::Skip };
    let module = unquote(&ctx.text(source));
    let mut names = Vec::new();
    let mut cursor = node.walk();
    for clause in node.named_children(&mut cursor).filter(|c| c.kind() == "import_clause") {
        let mut inner = clause.walk();
        for part in clause.named_children(&mut inner) {
            match part.kind() {
                "identifier" => names.push(("default".to_owned(), ctx.text(part))),
                "namespace_import" => {
                    if let Some(id) = part.named_child(0) {
                        names.push((String::new(), ctx.text(id)));
                    }
                }
                "named_imports" => {
                    let mut specs = part.walk();
                    for spec in part.named_children(&mut specs).filter(|s| s.kind() == "import_specifier") {
                        let Some(name) = spec.child_by_field_name("name") else { continue };
                        let imported = unquote(&ctx.text(name));
                        let local = spec.child_by_field_name("alias").map_or_else(|| imported.clone(), |a| ctx.text(a));
                        names.push((imported, local));
                    }
                }
                _ => {}
            }
        }
    }
    ctx.import(module, names, Ctx::line(node));
    Walk::Skip
}

/// `export * from 'm'`, `export {a as b} from 'm'` re-export (barrel files): recorded as imports.
fn reexport(ctx: &mut Ctx, node: Node) -> Walk {
    let Some(source) = node.child_by_field_name("source") else { return Walk::Descend };
    let module = unquote(&ctx.text(source));
    let mut names = Vec::new();
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        match child.kind() {
            "export_clause" => {
                let mut specs = child.walk();
                for spec in child.named_children(&mut specs).filter(|s| s.kind() == "export_specifier") {
                    let Some(name) = spec.child_by_field_name("name") else { continue };
                    let imported = unquote(&ctx.text(name));
                    let local = spec.child_by_field_name("alias").map_or_else(|| imported.clone(), |a| unquote(&ctx.text(a)));
                    names.push((imported, local));
                }
            }
            "namespace_export" => {
                if let Some(id) = child.named_child(0) {
                    names.push((String::new(), ctx.text(id)));
                }
            }
            _ => {}
        }
    }
    if names.is_empty() {
        names.push(("*".to_owned(), "*".to_owned()));
    }
    ctx.import(module, names, Ctx::line(node));
    Walk::Skip
}
