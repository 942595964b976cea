use super::{build, edge, sym, targets};
use crate::{EdgeKind::*, Resolution::*, ResolveMode, SymbolKind};

const FILES: &[(&str, &str)] = &[
    (
        "src/util.ts",
        "/** Formats a name. */\nexport function format(name: string): string {\n  return name;\n}\n\nexport const shout = (s: string) => s.toUpperCase();\n",
    ),
    ("src/index.ts", "export * from './util';\n"),
    (
        "src/shape.ts",
        r#"import { format } from './util';
import * as lib from './index';

export interface Drawable {
  draw(): void;
}

export class Shape {
  area(): number {
    return 0;
  }
}

export class Circle extends Shape implements Drawable {
  draw(): void {
    this.area();
    format("c");
    lib.shout("x");
    render();
  }
}
"#,
    ),
    ("src/legacy.js", "const util = require('./util');\nconst { shout: yell } = require('./util');\n\nfunction go() {\n  util.format('x');\n  yell('y');\n}\n"),
    ("src/a.tsx", "export function render() {\n  return null;\n}\nexport function Widget() {\n  return <div />;\n}\n"),
    ("src/b.tsx", "export function render() {\n  return 1;\n}\n"),
];

#[test]
fn ts_symbols_qualified_kinds_lines_docs() {
    let g = build(FILES, ResolveMode::Scoped);
    let format = sym(&g, "src/util:format");
    assert_eq!((format.kind, format.start_line, format.end_line), (SymbolKind::Function, 2, 4));
    assert_eq!(format.doc.as_deref(), Some("Formats a name."));
    assert_eq!(format.signature, "function format(name: string): string");
    assert_eq!(sym(&g, "src/util:shout").kind, SymbolKind::Function);
    assert_eq!(sym(&g, "src/shape:Drawable").kind, SymbolKind::Interface);
    let draw = sym(&g, "src/shape:Circle.draw");
    assert_eq!((draw.kind, draw.start_line, draw.end_line), (SymbolKind::Method, 15, 20));
    assert_eq!(sym(&g, "src/a:Widget").kind, SymbolKind::Function);
    assert_eq!(sym(&g, "src/legacy:go").kind, SymbolKind::Function);
}

#[test]
fn ts_edges_this_heritage_imports_barrels_and_require() {
    let g = build(FILES, ResolveMode::Scoped);
    let draw = "src/shape:Circle.draw";
    assert_eq!(edge(&g, "src/shape:Circle", "src/shape:Shape", Inherits), Some(Local));
    assert_eq!(edge(&g, "src/shape:Circle", "src/shape:Drawable", Implements), Some(Local));
    assert_eq!(edge(&g, draw, "src/shape:Shape.area", Calls), Some(Local), "this.area() via the base");
    assert_eq!(edge(&g, draw, "src/util:format", Calls), Some(Import));
    assert_eq!(edge(&g, draw, "src/util:shout", Calls), Some(Import), "through the index.ts barrel");
    assert_eq!(edge(&g, "src/legacy:go", "src/util:format", Calls), Some(Import), "require");
    assert_eq!(edge(&g, "src/legacy:go", "src/util:shout", Calls), Some(Import), "destructured require");
    // `render` exists in two files and is not imported: not linked in Scoped mode…
    assert_eq!(targets(&g, draw, Calls), vec!["src/shape:Shape.area", "src/util:format", "src/util:shout"]);
    // …while the bare-name baseline links both.
    let bare = build(FILES, ResolveMode::BareNameOnly);
    assert!(targets(&bare, draw, Calls).contains(&"src/a:render".to_owned()));
    assert!(targets(&bare, draw, Calls).contains(&"src/b:render".to_owned()));
}
