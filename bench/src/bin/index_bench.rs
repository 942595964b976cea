//! Indexing throughput, peak memory and incremental update of a real codebase (`make bench`,
//! "Codebase index" in BENCHMARKS.md):
//!
//! `index_bench [--label L] [--changed N] [--list-out FILE] ROOT[=PREFIX]... [--exclude NAME]... [--ext EXT]...`
//!
//! Parses every file (parse + extract, one at a time, sources dropped after parsing), builds
//! the graph (`ResolveMode::Scoped`, what ships), encodes it, then reads the peak resident set;
//! then resolves the same files in `ResolveMode::BareNameOnly` and times `Graph::update` for
//! `N` (default 20) changed files — the changed files' parse plus the re-resolve — five times.
//! Last, a parse-only pass over the Python files (tree-sitter alone, no extraction), for
//! reference. Single-threaded: run it under `taskset -c 0` for a one-core figure. Prints one JSON line
//! (`"kind":"index"`); `--list-out` writes the indexed files (`disk path<TAB>path`), so the
//! Node peer (bench/node) parses exactly the same ones.
#![allow(clippy::print_stdout, reason = "a command-line report")]

use std::io::Write;
use std::time::Instant;

use agnus_bench::corpus::{Corpus, SourceFile, status_kib, thread_cpu_seconds};
use agnus_index::{Graph, Lang, Limits, ResolveMode, parse_file};

/// On-CPU seconds and wall seconds of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (cpu, wall) = (thread_cpu_seconds(), Instant::now());
    let out = f();
    (out, thread_cpu_seconds() - cpu, wall.elapsed().as_secs_f64())
}

fn main() {
    let (corpus, rest) = Corpus::from_args(std::env::args().skip(1));
    let flag = |name: &str| {
        rest.iter()
            .position(|a| a == name)
            .and_then(|i| rest.get(i + 1).cloned())
    };
    let label = flag("--label").unwrap_or_else(|| "index".to_owned());
    let changed: usize = flag("--changed").and_then(|n| n.parse().ok()).unwrap_or(20);
    let (sources, skipped) = corpus.files();
    if sources.is_empty() {
        eprintln!("index_bench: no files under the given roots");
        std::process::exit(2);
    }
    if let Some(out) = flag("--list-out") {
        let list: String = sources
            .iter()
            .map(|s| format!("{}\t{}\n", s.disk.display(), s.path))
            .collect();
        if let Err(e) = std::fs::write(&out, list) {
            eprintln!("index_bench: {out}: {e}");
            std::process::exit(2);
        }
    }
    let limits = Limits::default();

    // Parse + extract, one file at a time: only the read is outside the timed part.
    let (mut parse_cpu, mut parse_wall) = (0.0, 0.0);
    let mut files = Vec::with_capacity(sources.len());
    let mut bytes = 0u64;
    for source in &sources {
        let Ok(text) = std::fs::read(&source.disk) else {
            continue;
        };
        bytes += text.len() as u64;
        let (file, cpu, wall) = timed(|| parse_file(&source.path, &text, &limits));
        parse_cpu += cpu;
        parse_wall += wall;
        files.extend(file);
    }
    let before_build_kib = status_kib("VmRSS:");
    let (graph, resolve_cpu, resolve_wall) = timed(|| Graph::build(files, ResolveMode::Scoped));
    let (encoded, encode_cpu, encode_wall) = timed(|| graph.encode());
    let peak_rss_kib = status_kib("VmHWM:");
    let stats = graph.stats();

    let bare_files = graph.files.clone();
    let (bare, bare_cpu, _) = timed(|| Graph::build(bare_files, ResolveMode::BareNameOnly));
    let bare_edges = bare.edges.len();
    drop(bare);

    // Incremental: `changed` files spread over the repository (every len/changed-th by path),
    // each changed by one appended line, parsed again and handed to `Graph::update`.
    let step = (sources.len() / changed.max(1)).max(1);
    let picked: Vec<&SourceFile> = sources.iter().step_by(step).take(changed).collect();
    let mut graph = graph;
    let mut runs = Vec::new();
    for round in 0..5 {
        let texts: Vec<(String, Vec<u8>)> = picked
            .iter()
            .filter_map(|s| {
                let mut text = std::fs::read(&s.disk).ok()?;
                text.extend_from_slice(format!("\n# agnus-bench change {round}\n").as_bytes());
                Some((s.path.clone(), text))
            })
            .collect();
        let (_, cpu, wall) = timed(|| {
            let parsed = texts
                .iter()
                .filter_map(|(path, text)| parse_file(path, text, &limits))
                .collect();
            graph.update(parsed, &[]);
        });
        runs.push((cpu, wall));
    }
    runs.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (update_cpu, update_wall) = runs[runs.len() / 2];
    let update_max = runs.last().map_or(0.0, |r| r.1);

    let (parse_only_lines, parse_only_cpu) = parse_only(&sources);

    let cpu = parse_cpu + resolve_cpu + encode_cpu;
    let wall = parse_wall + resolve_wall + encode_wall;
    let lines = stats.lines as f64;
    let report = serde_json::json!({
        "kind": "index",
        "label": label,
        "files": stats.files,
        "skipped": skipped,
        "lines": stats.lines,
        "source_bytes": bytes,
        "symbols": stats.symbols,
        "symbol_edges": graph.edges.len(),
        "file_edges": graph.file_edges.len(),
        "bare_name_edges": bare_edges,
        "parse_cpu_s": parse_cpu,
        "resolve_cpu_s": resolve_cpu,
        "encode_cpu_s": encode_cpu,
        "cpu_s": cpu,
        "wall_s": wall,
        "lines_per_cpu_s": lines / cpu.max(1e-9),
        "files_per_cpu_s": f64::from(stats.files) / cpu.max(1e-9),
        "parse_lines_per_cpu_s": lines / parse_cpu.max(1e-9),
        "bare_resolve_cpu_s": bare_cpu,
        "parse_only_lines_per_cpu_s": parse_only_lines as f64 / parse_only_cpu.max(1e-9),
        "encoded_bytes": encoded.len(),
        "rss_before_build_kib": before_build_kib,
        "peak_rss_kib": peak_rss_kib,
        "update_files": picked.len(),
        "update_median_cpu_s": update_cpu,
        "update_median_wall_s": update_wall,
        "update_max_wall_s": update_max,
    });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{report}");
}

/// Lines of the Python files and the CPU seconds tree-sitter alone takes to parse them.
fn parse_only(sources: &[SourceFile]) -> (u64, f64) {
    let mut parser = tree_sitter::Parser::new();
    if parser.set_language(&tree_sitter_python::LANGUAGE.into()).is_err() {
        return (0, 0.0);
    }
    let (mut lines, mut cpu) = (0u64, 0.0);
    for source in sources
        .iter()
        .filter(|s| Lang::from_path(&s.path) == Some(Lang::Python))
    {
        let Ok(text) = std::fs::read(&source.disk) else {
            continue;
        };
        // The tree is dropped inside the timed part, as `parse_file` drops its own.
        let (parsed, seconds, _) = timed(|| parser.parse(&text, None).is_some());
        if parsed && !text.is_empty() {
            cpu += seconds;
            lines += text.split(|&b| b == b'\n').count() as u64 - u64::from(text.ends_with(b"\n"));
        }
    }
    (lines, cpu)
}
