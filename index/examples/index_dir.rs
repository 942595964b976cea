//! Indexes a directory and reports the throughput:
//! `cargo run -p agnus-index --release --example index_dir -- <dir> [--exclude NAME]...`
//! (directories named NAME are left out, e.g. `--exclude test --exclude tests`).
#![allow(clippy::print_stdout, reason = "a command-line report")]

use std::path::{Path, PathBuf};
use std::time::Instant;

use agnus_index::{Graph, Limits, ResolveMode, parse_file, skip_content, skip_path};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next().map(PathBuf::from) else {
        println!("usage: index_dir <dir> [--exclude NAME]...");
        return;
    };
    let mut exclude = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--exclude"
            && let Some(name) = args.next()
        {
            exclude.push(name);
        }
    }
    let mut sources = Vec::new();
    let mut skipped = 0usize;
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if !exclude.iter().any(|e| entry.file_name() == e.as_str()) {
                    stack.push(path);
                }
            } else if kind.is_file() {
                let rel = relative(&root, &path);
                if skip_path(&rel).is_some() {
                    skipped += 1;
                    continue;
                }
                let Ok(bytes) = std::fs::read(&path) else { continue };
                if skip_content(&rel, &bytes).is_some() {
                    skipped += 1;
                    continue;
                }
                sources.push((rel, bytes));
            }
        }
    }
    let limits = Limits::default();
    let cpu_start = cpu_seconds();
    let started = Instant::now();
    let files: Vec<_> = sources
        .iter()
        .filter_map(|(path, bytes)| parse_file(path, bytes, &limits))
        .collect();
    let parsed = started.elapsed();
    let graph = Graph::build(files, ResolveMode::Scoped);
    let total = started.elapsed();
    let cpu = cpu_seconds().zip(cpu_start).map(|(end, start)| end - start);
    let encoded = graph.encode();
    let stats = graph.stats();
    let bare = Graph::build(graph.files.clone(), ResolveMode::BareNameOnly);
    let secs = total.as_secs_f64().max(1e-9);
    println!(
        "files {} (skipped {skipped}), lines {}, symbols {}",
        stats.files, stats.lines, stats.symbols
    );
    println!(
        "edges {} (symbol {}, file {}), bare-name-only symbol edges {}",
        stats.edges,
        graph.edges.len(),
        graph.file_edges.len(),
        bare.edges.len()
    );
    println!(
        "parse+extract {:.3} s, resolve {:.3} s, total {:.3} s: {:.0} lines/s",
        parsed.as_secs_f64(),
        (total - parsed).as_secs_f64(),
        secs,
        stats.lines as f64 / secs
    );
    if let Some(cpu) = cpu {
        let lines = stats.lines as f64 / cpu.max(0.01);
        println!("parse+extract+resolve CPU time {cpu:.2} s: {lines:.0} lines/s per core");
    }
    println!("encoded {} bytes", encoded.len());
    let mut by = std::collections::BTreeMap::new();
    for e in &graph.edges {
        *by.entry(format!("{:?}/{:?}", e.kind, e.resolution)).or_insert(0u32) += 1;
    }
    println!("edges by kind/resolution: {by:?}");
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// User plus system CPU time of this process (Linux `/proc/self/stat`, 100 ticks a second).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
