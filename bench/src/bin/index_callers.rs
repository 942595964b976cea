//! The index's answers for the accuracy check (bench/accuracy/accuracy.py): indexes the
//! given roots (as `index_bench` does) in both resolution modes, then
//!
//! - `index_callers ROOT[=PREFIX]... [--exclude NAME]... [--ext EXT]... --list` prints every
//!   function and method (`path`, `name`, `qualified`, `kind`, `line`, `end_line`) as JSON;
//! - `index_callers ROOT… --query FILE` reads `[[path, line], …]` (a function's `def` line)
//!   from FILE and prints, for each, its direct callers — `Graph::callers(id, 1)` — in
//!   `ResolveMode::Scoped` (`scoped`) and `ResolveMode::BareNameOnly` (`bare`).
#![allow(clippy::print_stdout, reason = "a command-line report")]

use std::io::Write;

use agnus_bench::corpus::Corpus;
use agnus_index::{Graph, Limits, ResolveMode, SymbolId, SymbolKind, parse_file};
use serde_json::{Value, json};

fn main() {
    let (corpus, rest) = Corpus::from_args(std::env::args().skip(1));
    let (sources, _) = corpus.files();
    let limits = Limits::default();
    let files: Vec<_> = sources
        .iter()
        .filter_map(|s| parse_file(&s.path, &std::fs::read(&s.disk).ok()?, &limits))
        .collect();
    let scoped = Graph::build(files, ResolveMode::Scoped);
    let output = if rest.iter().any(|a| a == "--list") {
        list(&scoped)
    } else if let Some(query) = rest.iter().position(|a| a == "--query").and_then(|i| rest.get(i + 1)) {
        let asked: Vec<(String, u32)> = std::fs::read(query)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_else(|| {
                eprintln!("index_callers: {query}: expected [[path, line], …]");
                std::process::exit(2)
            });
        let bare = Graph::build(scoped.files.clone(), ResolveMode::BareNameOnly);
        Value::Array(
            asked
                .iter()
                .map(|(path, line)| {
                    let callers = |graph: &Graph| -> Value {
                        function_at(graph, path, *line)
                            .map(|id| {
                                graph
                                    .callers(id, 1)
                                    .into_iter()
                                    .map(|(c, _)| describe(graph, c))
                                    .collect()
                            })
                            .unwrap_or(Value::Null)
                    };
                    json!({"path": path, "line": line, "scoped": callers(&scoped), "bare": callers(&bare)})
                })
                .collect(),
        )
    } else {
        eprintln!("usage: index_callers ROOT[=PREFIX]... [--exclude NAME]... [--ext EXT]... (--list | --query FILE)");
        std::process::exit(2)
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{output}");
}

fn is_function(kind: SymbolKind) -> bool {
    matches!(kind, SymbolKind::Function | SymbolKind::Method)
}

fn list(graph: &Graph) -> Value {
    let mut out = Vec::new();
    for (f, file) in graph.files.iter().enumerate() {
        for (s, symbol) in file.symbols.iter().enumerate() {
            if is_function(symbol.kind) {
                let id = SymbolId {
                    file: f as u32,
                    symbol: s as u32,
                };
                out.push(describe(graph, id));
            }
        }
    }
    Value::Array(out)
}

/// The function or method of `path` whose definition starts at `line`.
fn function_at(graph: &Graph, path: &str, line: u32) -> Option<SymbolId> {
    graph
        .find(path, line)
        .into_iter()
        .find(|&id| is_function(graph.symbol(id).kind) && graph.symbol(id).start_line == line)
}

fn describe(graph: &Graph, id: SymbolId) -> Value {
    let symbol = graph.symbol(id);
    json!({
        "path": graph.path(id),
        "name": symbol.name,
        "qualified": symbol.qualified,
        "kind": format!("{:?}", symbol.kind),
        "line": symbol.start_line,
        "end_line": symbol.end_line,
    })
}
