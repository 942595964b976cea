//! The source files of an indexing benchmark: one or more directories walked in a fixed
//! order, filtered by the index's own skip rules, and the process figures the benchmark
//! reports (on-CPU time of this thread, peak resident set).

use std::path::{Path, PathBuf};

use agnus_index::{skip_content, skip_path};

pub use crate::rss::status_kib;

/// What to index: `roots` are `(directory, prefix)` pairs — a file `d/x/y.py` under root
/// `(d, "p")` is indexed as `p/x/y.py` (as `x/y.py` with an empty prefix).
#[derive(Debug, Default)]
pub struct Corpus {
    pub roots: Vec<(PathBuf, String)>,
    /// Directory names left out anywhere (`test`, `tests`).
    pub exclude: Vec<String>,
    /// File extensions kept (`py`); empty keeps every extension.
    pub extensions: Vec<String>,
}

/// A file to index: its repository-relative path and where to read it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub disk: PathBuf,
}

impl Corpus {
    /// Parses `ROOT[=PREFIX]... [--exclude NAME]... [--ext EXT]...`; returns the other
    /// arguments (`--flag value` pairs and bare flags) untouched. A bare flag takes the next
    /// argument as its value unless that starts with `--`: put the roots first.
    pub fn from_args(args: impl Iterator<Item = String>) -> (Corpus, Vec<String>) {
        let mut corpus = Corpus::default();
        let mut rest = Vec::new();
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--exclude" => corpus.exclude.extend(args.next()),
                "--ext" => corpus.extensions.extend(args.next()),
                a if a.starts_with("--") => {
                    rest.push(arg.clone());
                    if let Some(v) = args.next_if(|v| !v.starts_with("--")) {
                        rest.push(v);
                    }
                }
                _ => {
                    let (dir, prefix) = arg.split_once('=').unwrap_or((arg.as_str(), ""));
                    corpus
                        .roots
                        .push((PathBuf::from(dir), prefix.trim_matches('/').to_owned()));
                }
            }
        }
        (corpus, rest)
    }

    /// The files to index, sorted by path (deterministic), and how many the skip rules left
    /// out. Reads each kept file once (for `skip_content`) and drops it.
    pub fn files(&self) -> (Vec<SourceFile>, usize) {
        let mut out = Vec::new();
        let mut skipped = 0;
        for (root, prefix) in &self.roots {
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else { continue };
                for entry in entries.flatten() {
                    let disk = entry.path();
                    let Ok(kind) = entry.file_type() else { continue };
                    if kind.is_dir() {
                        if !self.exclude.iter().any(|e| entry.file_name() == e.as_str()) {
                            stack.push(disk);
                        }
                        continue;
                    }
                    if !kind.is_file() || !self.wanted(&disk) {
                        continue;
                    }
                    let rel = relative(root, &disk);
                    let path = if prefix.is_empty() {
                        rel
                    } else {
                        format!("{prefix}/{rel}")
                    };
                    if skip_path(&path).is_some() {
                        skipped += 1;
                        continue;
                    }
                    let Ok(bytes) = std::fs::read(&disk) else { continue };
                    if skip_content(&path, &bytes).is_some() {
                        skipped += 1;
                        continue;
                    }
                    out.push(SourceFile { path, disk });
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out.dedup_by(|a, b| a.path == b.path);
        (out, skipped)
    }

    fn wanted(&self, disk: &Path) -> bool {
        self.extensions.is_empty()
            || disk
                .extension()
                .is_some_and(|e| self.extensions.iter().any(|x| e == x.as_str()))
    }
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Time this thread has spent on a CPU, in seconds (Linux `/proc/thread-self/schedstat`,
/// nanoseconds; 0 where unreadable).
pub fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}
