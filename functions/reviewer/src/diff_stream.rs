//! A `git diff` read as it streams in (Bitbucket serves one for the whole pull request,
//! whatever its size): split into files line by line, holding at most a cap of hunk bytes.
//! Ignored files' hunks are dropped as they pass; a file whose hunks do not fit in what is
//! left of the cap (or whose line is longer than the cap) keeps only its name and is
//! reported too large; a stream that stopped early (the job's download budget) leaves its
//! last file too large and the rest unread.

use crate::diff::{ChangedFile, parse_git_diff};

/// Header bytes kept per file (`diff --git`, modes, index, `---`/`+++`, renames).
const MAX_HEADER: usize = 4_096;
/// Files listed, at most (more: the rest is reported unread).
const MAX_FILES: usize = 5_000;

/// What a streamed diff gave.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StreamedDiff {
    pub files: Vec<ChangedFile>,
    /// Files whose hunks were not kept (over the cap).
    pub too_large: Vec<String>,
    /// The diff was not read to its end.
    pub unread: bool,
}

pub struct GitDiffReader<'a> {
    ignore: &'a (dyn Fn(&str) -> bool + Send + Sync),
    cap: usize,
    kept: usize,
    out: StreamedDiff,
    /// The current file's kept text.
    current: Vec<u8>,
    /// Where the current file's hunks start in `current`, once they do.
    hunks_at: Option<usize>,
    ignored: bool,
    cut: bool,
    /// A line not complete yet.
    pending: Vec<u8>,
    /// Inside a line longer than the cap, dropped up to its end.
    skipping: bool,
}

impl std::fmt::Debug for GitDiffReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitDiffReader")
            .field("cap", &self.cap)
            .field("kept", &self.kept)
            .finish_non_exhaustive()
    }
}

impl<'a> GitDiffReader<'a> {
    /// `cap`: hunk bytes kept in all; `ignore`: paths whose hunks are dropped.
    pub fn new(cap: usize, ignore: &'a (dyn Fn(&str) -> bool + Send + Sync)) -> Self {
        Self {
            ignore,
            cap,
            kept: 0,
            out: StreamedDiff::default(),
            current: Vec::new(),
            hunks_at: None,
            ignored: false,
            cut: false,
            pending: Vec::new(),
            skipping: false,
        }
    }

    /// The next bytes of the diff.
    pub fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let Some(end) = bytes.iter().position(|b| *b == b'\n') else {
                if !self.skipping {
                    self.pending.extend_from_slice(bytes);
                    if self.pending.len() > self.cap.max(MAX_HEADER) {
                        self.pending = Vec::new();
                        self.skipping = true;
                        self.cut_current();
                    }
                }
                return;
            };
            let (line, rest) = bytes.split_at(end + 1);
            bytes = rest;
            if self.skipping {
                self.skipping = false;
            } else if self.pending.is_empty() {
                self.line(line);
            } else {
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(line);
                self.line(&whole);
            }
        }
    }

    fn line(&mut self, line: &[u8]) {
        if let Some(header) = line.strip_prefix(b"diff --git ") {
            self.finish_file();
            let header = String::from_utf8_lossy(header);
            let path = header.trim_end().split(" b/").nth(1).unwrap_or_default();
            self.ignored = (self.ignore)(path);
            self.current.extend_from_slice(line);
            return;
        }
        if self.current.is_empty() {
            return;
        }
        if self.hunks_at.is_none() && line.starts_with(b"@@") {
            self.hunks_at = Some(self.current.len());
        }
        if self.hunks_at.is_none() {
            if self.current.len() + line.len() <= MAX_HEADER {
                self.current.extend_from_slice(line);
            }
            return;
        }
        if self.ignored || self.cut {
            return;
        }
        if self.kept + line.len() > self.cap {
            self.cut_current();
            return;
        }
        self.kept += line.len();
        self.current.extend_from_slice(line);
    }

    /// The current file does not fit: its hunks are given back, its name kept.
    fn cut_current(&mut self) {
        if self.cut || self.current.is_empty() {
            return;
        }
        self.cut = true;
        if let Some(at) = self.hunks_at {
            self.kept -= self.current.len() - at;
            self.current.truncate(at);
            self.current.shrink_to_fit();
        }
    }

    fn finish_file(&mut self) {
        if self.current.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.current).into_owned();
        for mut file in parse_git_diff(&text) {
            if self.out.files.len() >= MAX_FILES {
                self.out.unread = true;
                break;
            }
            if self.cut {
                file.patch = None;
                self.out.too_large.push(file.path.clone());
            } else if self.ignored {
                file.patch = None;
            }
            self.out.files.push(file);
        }
        self.current = Vec::new();
        self.hunks_at = None;
        self.ignored = false;
        self.cut = false;
    }

    /// The files read; `complete`: the stream reached its end (else its last file is cut
    /// and the rest unread).
    pub fn finish(mut self, complete: bool) -> StreamedDiff {
        if complete {
            let rest = std::mem::take(&mut self.pending);
            if !self.skipping && !rest.is_empty() {
                self.line(&rest);
            }
        } else {
            self.cut_current();
            self.out.unread = true;
        }
        self.finish_file();
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, lines: usize) -> String {
        format!(
            "diff --git a/{name} b/{name}\nindex 1..2 100644\n--- a/{name}\n+++ b/{name}\n@@ -1,1 +1,{lines} @@\n{}",
            "+0123456789\n".repeat(lines)
        )
    }

    fn read(text: &str, cap: usize, chunk: usize, complete: bool) -> StreamedDiff {
        let ignore = |p: &str| p.ends_with(".lock");
        let mut reader = GitDiffReader::new(cap, &ignore);
        for piece in text.as_bytes().chunks(chunk) {
            reader.push(piece);
        }
        reader.finish(complete)
    }

    #[test]
    fn files_past_the_cap_are_named_too_large_and_ignored_ones_cost_nothing() {
        let text = [
            file("a.rs", 3),
            file("Cargo.lock", 10_000),
            file("big.rs", 100),
            file("c.rs", 2),
        ]
        .concat();
        let got = read(&text, 1_000, 7, true);
        let names: Vec<(&str, bool)> = got.files.iter().map(|f| (f.path.as_str(), f.patch.is_some())).collect();
        assert_eq!(
            names,
            [("a.rs", true), ("Cargo.lock", false), ("big.rs", false), ("c.rs", true)]
        );
        assert_eq!(got.too_large, ["big.rs"]);
        assert!(!got.unread);
        assert_eq!(
            got.files[0].patch.as_deref(),
            Some("@@ -1,1 +1,3 @@\n+0123456789\n+0123456789\n+0123456789")
        );
        let plain = [file("a.rs", 3), file("big.rs", 100)].concat();
        assert_eq!(
            read(&plain, 1 << 20, 4096, true).files,
            parse_git_diff(&plain),
            "as read at once"
        );
    }

    #[test]
    fn a_stream_stopped_early_cuts_its_last_file_and_says_so() {
        let text = [file("a.rs", 3), file("b.rs", 50)].concat();
        let got = read(&text[..text.len() - 40], 1 << 20, 64, false);
        assert_eq!(got.too_large, ["b.rs"]);
        assert!(got.unread);
        let endless = format!("{}{}", file("a.rs", 1), "x".repeat(10_000));
        let got = read(&endless, 5_000, 100, false);
        assert_eq!(got.too_large, ["a.rs"], "a line longer than the cap is dropped");
    }
}
