//! Parsing only the code a pull request touches (docs/review-engine.md, "Graph context"): the
//! review needs the head version's symbols at the changed lines, not the whole file's. The
//! base commit's symbols, mapped through the patch's hunks, say where the touched code is in
//! the head version: the innermost symbol around each changed line (a whole function; for a
//! line of a class body outside its methods, the line alone), with the header line of every
//! enclosing symbol (and, in brace languages, its closing line), so qualified names come out
//! as the whole file's parse gives them. Every other line is blanked, which keeps line numbers.
//!
//! The window is a guess from the base graph, and the parse checks it: when the windowed
//! source does not parse cleanly, the patch is too large for a window to pay, or the file has
//! no base version, the whole file is parsed as before.

use std::cmp::Reverse;

use crate::model::{FileIndex, Symbol};
use crate::patch::HunkLines;
use crate::{Lang, Limits, parse_file};

/// Above this share of the file's lines (in fifths), the window is the whole file.
const MAX_FIFTHS: usize = 3;
/// Patches with more changed lines or hunks than this are parsed whole (a rewrite).
const MAX_CHANGED_LINES: usize = 400;
const MAX_HUNKS: usize = 100;

/// The head version `head` of a file, parsed where `lines` (its patch) touches it, given its
/// base version's index (`None`: a new file, parsed whole). The result's `lines` and `bytes`
/// are the whole file's; its symbols are those of the touched code, at their real lines.
pub fn parse_changed(
    path: &str,
    head: &[u8],
    base: Option<&FileIndex>,
    lines: &HunkLines,
    limits: &Limits,
) -> Option<FileIndex> {
    let lang = Lang::from_path(path)?;
    let Some(base) = base else {
        return parse_file(path, head, limits);
    };
    if head.len() > limits.max_file_bytes {
        return parse_file(path, head, limits);
    }
    let text = Text {
        source: head,
        spans: line_spans(head),
    };
    let windows = match windows(&base.symbols, lang, lines, &text) {
        Some(w) if covered(&w) * 5 <= text.spans.len() * MAX_FIFTHS => w,
        _ => return parse_file(path, head, limits),
    };
    let source = blank_outside(&text, &windows);
    match crate::parse_checked(path, &source, limits) {
        Some((mut index, false)) => {
            index.lines = crate::extract::count_lines(head);
            index.bytes = u32::try_from(head.len()).unwrap_or(u32::MAX);
            Some(index)
        }
        _ => parse_file(path, head, limits),
    }
}

/// Each line's byte range, newline included (1-based line `n` is `spans[n - 1]`).
fn line_spans(source: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, &b) in source.iter().enumerate() {
        if b == b'\n' {
            spans.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < source.len() {
        spans.push((start, source.len()));
    }
    spans
}

fn covered(windows: &[(u32, u32)]) -> usize {
    windows.iter().map(|&(a, b)| (b - a + 1) as usize).sum()
}

/// The source with every line outside `windows` emptied (its newline kept).
fn blank_outside(text: &Text<'_>, windows: &[(u32, u32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.spans.len() + covered(windows) * 40);
    let mut w = windows.iter().peekable();
    for (i, &(a, b)) in text.spans.iter().enumerate() {
        let line = i as u32 + 1;
        while w.next_if(|&&(_, end)| end < line).is_some() {}
        match w.peek() {
            Some(&&(start, _)) if start <= line => out.extend_from_slice(&text.source[a..b]),
            _ => out.push(b'\n'),
        }
    }
    out
}

/// A base symbol's place in the head version, and whether other symbols nest in it.
struct Placed {
    start: u32,
    end: u32,
    has_child: bool,
}

/// The merged, sorted line ranges to parse; `None` when the patch is too large to window.
fn windows(symbols: &[Symbol], lang: Lang, lines: &HunkLines, text: &Text<'_>) -> Option<Vec<(u32, u32)>> {
    if lines.added.len() + lines.removed.len() > MAX_CHANGED_LINES || lines.hunks.len() > MAX_HUNKS {
        return None;
    }
    let last = u32::try_from(text.spans.len()).ok()?;
    let placed = place(symbols, lines);
    let mut core: Vec<(u32, u32)> = Vec::new();
    for &line in &lines.added {
        match innermost_placed(&placed, line) {
            Some(s) if !placed[s].has_child => core.push((placed[s].start, placed[s].end)),
            // A line of a class body outside its members, or of no symbol: the line (its
            // frames come below).
            _ => core.push((line, line)),
        }
    }
    // Removed lines: the base symbol they were in, as it now stands (its name decides
    // whether the change removed it or modified it).
    for &old in &lines.removed {
        let inner = symbols
            .iter()
            .enumerate()
            .filter(|(i, s)| s.start_line <= old && old <= s.end_line && !placed[*i].has_child)
            .min_by_key(|(i, s)| (s.end_line - s.start_line, Reverse(*i)))
            .map(|(i, _)| i);
        if let Some(s) = inner {
            core.push((placed[s].start, placed[s].end));
        }
    }
    let core = merge(core, last);
    let mut out = core.clone();
    for &(a, b) in &core {
        frames(lang, text, a, b, &mut out);
    }
    // The declarations that name a file's package or namespace (Go, Java, C#).
    for n in 1..=last {
        let line = text.line(n);
        if line.starts_with(b"package ") || line.starts_with(b"namespace ") {
            out.push((n, n));
        }
    }
    Some(merge(out, last))
}

/// Sorted, overlapping and adjacent ranges joined, clipped to the file.
fn merge(mut ranges: Vec<(u32, u32)>, last: u32) -> Vec<(u32, u32)> {
    for r in &mut ranges {
        r.1 = r.1.min(last);
    }
    ranges.retain(|&(a, b)| a >= 1 && a <= b);
    ranges.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(m) if a <= m.1.saturating_add(1) => m.1 = m.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// The base symbols mapped into the head version, with their nesting.
fn place(symbols: &[Symbol], lines: &HunkLines) -> Vec<Placed> {
    let mut placed: Vec<Placed> = symbols
        .iter()
        .map(|s| Placed {
            start: lines.new_line(s.start_line, true),
            end: lines.new_line(s.end_line, false),
            has_child: false,
        })
        .collect();
    // Nesting from the base ranges: by start, the longer first; a stack of open symbols.
    let mut order: Vec<usize> = (0..symbols.len()).collect();
    order.sort_by_key(|&i| (symbols[i].start_line, Reverse(symbols[i].end_line), i));
    let mut open: Vec<usize> = Vec::new();
    for i in order {
        while open.last().is_some_and(|&o| symbols[o].end_line < symbols[i].end_line) {
            open.pop();
        }
        if let Some(&o) = open.last() {
            placed[o].has_child = true;
        }
        open.push(i);
    }
    placed
}

/// The innermost mapped symbol whose head range holds `line`.
fn innermost_placed(placed: &[Placed], line: u32) -> Option<usize> {
    placed
        .iter()
        .enumerate()
        .filter(|(_, p)| p.start <= line && line <= p.end)
        .min_by_key(|(i, p)| (p.end - p.start, Reverse(*i)))
        .map(|(i, _)| i)
}

/// The frames around lines `a..=b`, by indentation: walking up, each line indented less than
/// everything so far opens an enclosing block (a class, an `impl`, a namespace) and is kept;
/// in brace languages, so is the line that closes it (the first one below `b` at its
/// indentation or less, when it is at its indentation and starts with a closing bracket).
fn frames(lang: Lang, text: &Text<'_>, a: u32, b: u32, out: &mut Vec<(u32, u32)>) {
    let Some(mut indent) = (a..=b).filter_map(|n| indent_of(lang, text.line(n))).min() else {
        return;
    };
    let last = text.spans.len() as u32;
    let mut n = a;
    while indent > 0 && n > 1 {
        n -= 1;
        let Some(i) = indent_of(lang, text.line(n)) else {
            continue;
        };
        if i >= indent {
            continue;
        }
        indent = i;
        out.push((n, n));
        if lang == Lang::Python {
            continue;
        }
        let closer = (b.saturating_add(1)..=last)
            .find_map(|m| indent_of(lang, text.line(m)).filter(|&j| j <= i).map(|j| (m, j)));
        if let Some((m, j)) = closer
            && j == i
            && matches!(text.line(m).trim_ascii_start().first(), Some(b'}' | b')' | b']'))
        {
            out.push((m, m));
        }
    }
}

/// A line's indentation (leading blanks); `None` for blank and comment lines, which open and
/// close nothing.
fn indent_of(lang: Lang, line: &[u8]) -> Option<usize> {
    let rest = line.trim_ascii_start();
    let comment = match lang {
        Lang::Python => rest.starts_with(b"#"),
        _ => rest.starts_with(b"//") || rest.starts_with(b"/*") || rest.starts_with(b"*") || rest.starts_with(b"#["),
    };
    if rest.is_empty() || comment {
        return None;
    }
    Some(line.len() - rest.len())
}

/// A source and its lines.
struct Text<'a> {
    source: &'a [u8],
    spans: Vec<(usize, usize)>,
}

impl Text<'_> {
    /// 1-based line `n` (empty past the end).
    fn line(&self, n: u32) -> &[u8] {
        match n.checked_sub(1).and_then(|i| self.spans.get(i as usize)) {
            Some(&(a, b)) => &self.source[a..b],
            None => &[],
        }
    }
}
