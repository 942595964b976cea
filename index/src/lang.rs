//! The languages the index understands, detected from a file's extension.

use serde::{Deserialize, Serialize};

/// A source language with a tree-sitter grammar linked into the index.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    TypeScript,
    Tsx,
    JavaScript,
    Python,
    Go,
    Java,
    CSharp,
    Rust,
}

impl Lang {
    /// All languages, in declaration order.
    pub const ALL: [Lang; 8] =
        [Lang::TypeScript, Lang::Tsx, Lang::JavaScript, Lang::Python, Lang::Go, Lang::Java, Lang::CSharp, Lang::Rust];

    /// The language of a path, from its extension (case-insensitive); `None` when unsupported.
    /// TypeScript declaration files (`*.d.ts`) are TypeScript here; [`crate::skip_path`] skips them.
    pub fn from_path(path: &str) -> Option<Lang> {
        let file = path.rsplit('/').next().unwrap_or(path);
        let (_, ext) = file.rsplit_once('.')?;
        let ext = ext.to_ascii_lowercase();
        Some(match ext.as_str() {
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "js" | "jsx" | "mjs" | "cjs" => Lang::JavaScript,
            "py" | "pyi" => Lang::Python,
            "go" => Lang::Go,
            "java" => Lang::Java,
            "cs" => Lang::CSharp,
            "rs" => Lang::Rust,
            _ => return None,
        })
    }

    /// The stable lower-case name ("typescript", "tsx", "javascript", "python", "go", "java",
    /// "csharp", "rust").
    pub fn name(self) -> &'static str {
        match self {
            Lang::TypeScript => "typescript",
            Lang::Tsx => "tsx",
            Lang::JavaScript => "javascript",
            Lang::Python => "python",
            Lang::Go => "go",
            Lang::Java => "java",
            Lang::CSharp => "csharp",
            Lang::Rust => "rust",
        }
    }

    /// Languages whose files can import each other resolve in one family (JS, TS and TSX).
    pub(crate) fn family(self) -> u8 {
        match self {
            Lang::TypeScript | Lang::Tsx | Lang::JavaScript => 0,
            Lang::Python => 1,
            Lang::Go => 2,
            Lang::Java => 3,
            Lang::CSharp => 4,
            Lang::Rust => 5,
        }
    }

    /// The separator of qualified names: `::` for Rust, `.` otherwise (JS/TS qualified names
    /// also use `:` once, between the module path and the in-file path).
    pub(crate) fn sep(self) -> &'static str {
        if self == Lang::Rust { "::" } else { "." }
    }

    pub(crate) fn grammar(self) -> tree_sitter::Language {
        match self {
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::Go => tree_sitter_go::LANGUAGE.into(),
            Lang::Java => tree_sitter_java::LANGUAGE.into(),
            Lang::CSharp => tree_sitter_c_sharp::LANGUAGE.into(),
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_path_maps_extensions() {
        assert_eq!(Lang::from_path("a/b.ts"), Some(Lang::TypeScript));
        assert_eq!(Lang::from_path("a/B.TSX"), Some(Lang::Tsx));
        assert_eq!(Lang::from_path("x.mjs"), Some(Lang::JavaScript));
        assert_eq!(Lang::from_path("pkg/mod.py"), Some(Lang::Python));
        assert_eq!(Lang::from_path("main.go"), Some(Lang::Go));
        assert_eq!(Lang::from_path("A.java"), Some(Lang::Java));
        assert_eq!(Lang::from_path("P.cs"), Some(Lang::CSharp));
        assert_eq!(Lang::from_path("src/lib.rs"), Some(Lang::Rust));
        assert_eq!(Lang::from_path("README.md"), None);
        assert_eq!(Lang::from_path("Makefile"), None);
        assert_eq!(Lang::from_path("dir.py/Makefile"), None);
    }

    #[test]
    fn names_are_stable_and_grammars_load() {
        let names: Vec<_> = Lang::ALL.iter().map(|l| l.name()).collect();
        assert_eq!(names, ["typescript", "tsx", "javascript", "python", "go", "java", "csharp", "rust"]);
        for lang in Lang::ALL {
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&lang.grammar()).expect("grammar ABI compatible");
        }
    }
}
