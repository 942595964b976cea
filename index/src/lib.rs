//! The codebase index: parse source files with tree-sitter into symbols, imports and raw
//! references ([`parse_file`]), resolve them into a call / inheritance / import graph
//! ([`Graph::build`]), query it ([`Graph::find`], [`Graph::callers`]) and store it compactly
//! ([`Graph::encode`]). Pure logic: no I/O, no async. The rules are documented in
//! docs/index.md, "Parsing and resolution".

pub mod blast;
mod calls;
mod codec;
mod extract;
mod graph;
mod lang;
mod model;
pub mod patch;
mod resolve;
mod skip;
pub mod vectors;
mod window;

#[cfg(test)]
mod tests;

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

pub use calls::CallIndex;
pub use codec::{DecodeError, HEADER_V2};
pub use graph::{Edge, EdgeKind, FileEdge, Graph, Resolution, ResolveMode, Stats, SymbolId};
pub use lang::Lang;
pub use model::{FileIndex, Import, RawRef, RefKind, Symbol, SymbolKind};
pub use skip::{DEFAULT_MAX_FILE_BYTES, SkipReason, skip_content, skip_path};
pub use window::parse_changed;

/// Bounds on the work and output of [`parse_file`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Larger files are indexed without symbols (lines and bytes only).
    pub max_file_bytes: usize,
    /// [`Symbol::signature`] is cut to this many characters.
    pub max_signature_chars: usize,
    /// [`Symbol::doc`] is cut to this many characters.
    pub max_doc_chars: usize,
    /// Wall-clock budget of one file's parse plus extraction, in microseconds: tree-sitter's
    /// progress callback cancels a parse past it (the file then has no symbols), and the
    /// extraction walk stops past it (keeping what it found).
    pub max_parse_micros: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_signature_chars: 200,
            max_doc_chars: 400,
            max_parse_micros: 2_000_000,
        }
    }
}

/// Parses one file. `None` when the path's language is unknown; otherwise the file's index —
/// without symbols when it is over [`Limits::max_file_bytes`] or its parse ran out of time.
/// Never panics, whatever the bytes (invalid UTF-8 is read lossily; tree-sitter parses and
/// the extractor walks iteratively, so nesting depth costs heap, not stack).
pub fn parse_file(path: &str, source: &[u8], limits: &Limits) -> Option<FileIndex> {
    parse_checked(path, source, limits).map(|(index, _)| index)
}

/// [`parse_file`], and whether the parse fell short: syntax errors in the tree, a cancelled
/// parse, or a file over the size limit.
pub(crate) fn parse_checked(path: &str, source: &[u8], limits: &Limits) -> Option<(FileIndex, bool)> {
    let lang = Lang::from_path(path)?;
    let empty = || FileIndex {
        path: path.to_owned(),
        lang,
        module: extract::module_of(path, lang),
        lines: extract::count_lines(source),
        bytes: u32::try_from(source.len()).unwrap_or(u32::MAX),
        symbols: Vec::new(),
        imports: Vec::new(),
        refs: Vec::new(),
    };
    if source.len() > limits.max_file_bytes || u32::try_from(source.len()).is_err() {
        return Some((empty(), true));
    }
    PARSERS
        .with(|parsers| {
            let mut parsers = parsers.borrow_mut();
            let slot = &mut parsers[lang as usize];
            if slot.is_none() {
                let mut parser = tree_sitter::Parser::new();
                parser.set_language(&lang.grammar()).ok()?;
                *slot = Some(parser);
            }
            let parser = slot.as_mut()?;
            // A cancelled parse would otherwise resume on the next call.
            parser.reset();
            parse_with(parser, path, lang, source, limits)
        })
        .or_else(|| Some((empty(), true)))
}

thread_local! {
    /// One parser per language per thread, reused across files (creating one allocates its
    /// stacks and lexer anew).
    static PARSERS: std::cell::RefCell<[Option<tree_sitter::Parser>; 8]> = const { std::cell::RefCell::new([None, None, None, None, None, None, None, None]) };
}

fn parse_with(
    parser: &mut tree_sitter::Parser,
    path: &str,
    lang: Lang,
    source: &[u8],
    limits: &Limits,
) -> Option<(FileIndex, bool)> {
    let start = Instant::now();
    let deadline = start + Duration::from_micros(limits.max_parse_micros);
    let mut progress = |_: &tree_sitter::ParseState| {
        if Instant::now() > deadline {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let options = tree_sitter::ParseOptions::new().progress_callback(&mut progress);
    let len = source.len();
    let tree = parser.parse_with_options(
        &mut |offset: usize, _| if offset < len { &source[offset..] } else { &[][..] },
        None,
        Some(options),
    );
    let tree = tree?;
    let short = tree.root_node().has_error();
    Some((extract::extract(path, lang, source, &tree, limits, deadline), short))
}
