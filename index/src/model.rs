//! What one file's parse yields: symbols, imports and the references still to resolve.

use serde::{Deserialize, Serialize};

use crate::lang::Lang;

/// The index of one source file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FileIndex {
    /// Repository-relative path with `/` separators.
    pub path: String,
    pub lang: Lang,
    /// The module the file's symbols are qualified under (see [`Symbol::qualified`]): Python
    /// `a.b.c` (from the path), JS/TS the path without extension, Go the `package` name, Java
    /// the `package`, C# the file-scoped namespace (or empty), Rust `crate::a::b` (from the
    /// path below the crate's `src/`).
    pub module: String,
    pub lines: u32,
    pub bytes: u32,
    pub symbols: Vec<Symbol>,
    pub imports: Vec<Import>,
    pub refs: Vec<RawRef>,
}

/// What kind of thing a symbol is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymbolKind {
    Function,
    Method,
    Class,
    Struct,
    Interface,
    Trait,
    Enum,
    /// A Rust inline `mod name { … }`.
    Module,
    /// Another named type: Go `type X int`, TS `type X = …`, Rust `type X = …`.
    Type,
}

impl SymbolKind {
    /// Classes, structs, interfaces, traits and enums: what can have members and bases.
    pub fn is_type(self) -> bool {
        matches!(
            self,
            SymbolKind::Class
                | SymbolKind::Struct
                | SymbolKind::Interface
                | SymbolKind::Trait
                | SymbolKind::Enum
                | SymbolKind::Type
        )
    }

    /// What a call can land on: functions, methods and (constructors of) types.
    pub fn is_callable(self) -> bool {
        self != SymbolKind::Module
    }
}

/// A definition in a file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Symbol {
    pub name: String,
    /// The module ([`FileIndex::module`]) then the enclosing symbols, then the name:
    /// Python `pkg.mod.Class.method`; JS/TS `src/util/auth:Class.method` (`:` after the
    /// module path); Go `pkg.Type.Method` (methods under their receiver type); Java
    /// `com.acme.Class.method`; C# `Namespace.Class.Method`; Rust `crate::mod::Type::method`
    /// (`impl` methods under the implementing type, inline `mod`s included).
    pub qualified: String,
    pub kind: SymbolKind,
    /// 1-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    /// The declaration head (up to the body), whitespace collapsed, at most
    /// [`crate::Limits::max_signature_chars`] characters.
    pub signature: String,
    /// The doc comment or docstring, markers stripped, at most
    /// [`crate::Limits::max_doc_chars`] characters.
    pub doc: Option<String>,
    /// The enclosing symbol in this file (for Go methods and Rust `impl` methods: the receiver
    /// type when it is declared in the same file).
    pub parent: Option<u32>,
}

/// One import statement (or one group of a Rust `use` tree).
///
/// `names` are `(imported, local)` pairs. `imported` is `""` when the module itself is bound
/// to `local` (Python `import a.b as m` → `("", "m")`, `import a.b` → `("", "a.b")`; JS
/// `import * as m` / `const m = require(…)`; Go imports → `("", alias or last segment)`; C#
/// `using X = A.B`), `"*"` for a wildcard (Python `from m import *`, JS `export * from`, Java
/// `import a.b.*`, C# `using A.B`, Rust `use a::*`), `"default"` for a JS default import.
/// An empty list imports for side effects only (JS `import './x'`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Import {
    /// As written: Python `a.b` or `..a` (relative), JS `./x`, Go `github.com/a/b`, Java `a.b`,
    /// C# `A.B`, Rust `crate::a::b`.
    pub module: String,
    pub names: Vec<(String, String)>,
    pub line: u32,
}

/// What a reference does.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefKind {
    Call,
    Inherits,
    Implements,
    /// A type named in a signature or body (Java, C#, TS, Go, Rust type identifiers).
    Reference,
}

/// A reference as written, from inside a symbol, to be resolved across the repository.
/// References outside every symbol (module-level code) are not recorded; each
/// `(kind, name, from)` is recorded once, at its first line.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RawRef {
    pub kind: RefKind,
    /// Dotted (Rust: `::`) path as written: `f`, `self.foo`, `utils.get_auth`, `crate::a::f`.
    /// A receiver that is not a plain path becomes `?`: `a().b()` → `?.b`; Python
    /// `super().f()` → `super.f`.
    pub name: String,
    pub line: u32,
    pub from: Option<u32>,
}
