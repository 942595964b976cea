//! Parsing the touched code only (`parse_changed`): at every changed line, the windowed
//! parse finds the symbol the whole file's parse finds (name, qualified name, kind, first
//! line), in each language, and it really parses less (untouched symbols are absent).

use super::parse;
use crate::patch::{HunkLines, hunk_lines};
use crate::{FileIndex, Limits, parse_changed, parse_file};

/// A unified patch (3 lines of context) for a head that differs from `base` in one region.
fn patch(base: &str, head: &str) -> String {
    let b: Vec<&str> = base.lines().collect();
    let h: Vec<&str> = head.lines().collect();
    let prefix = b.iter().zip(&h).take_while(|(x, y)| x == y).count();
    let max_suffix = b.len().min(h.len()) - prefix;
    let suffix = b
        .iter()
        .rev()
        .zip(h.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    let first = prefix.saturating_sub(3);
    let (b_end, h_end) = ((b.len() - suffix + 3).min(b.len()), (h.len() - suffix + 3).min(h.len()));
    let mut out = format!(
        "@@ -{},{} +{},{} @@\n",
        first + 1,
        b_end - first,
        first + 1,
        h_end - first
    );
    for l in &b[first..prefix] {
        out.push_str(&format!(" {l}\n"));
    }
    for l in &b[prefix..b.len() - suffix] {
        out.push_str(&format!("-{l}\n"));
    }
    for l in &h[prefix..h.len() - suffix] {
        out.push_str(&format!("+{l}\n"));
    }
    for l in &b[b.len() - suffix..b_end] {
        out.push_str(&format!(" {l}\n"));
    }
    out
}

fn innermost(index: &FileIndex, line: u32) -> Option<(String, String, u32)> {
    index
        .symbols
        .iter()
        .filter(|s| s.start_line <= line && line <= s.end_line)
        .min_by_key(|s| s.end_line - s.start_line)
        .map(|s| (s.qualified.clone(), format!("{:?}", s.kind), s.start_line))
}

/// Checks the windowed parse of `head` against the whole parse; answers the windowed one.
fn check(path: &str, base: &str, head: &str) -> FileIndex {
    let base_index = parse(path, base);
    let lines: HunkLines = hunk_lines(&patch(base, head));
    let whole = parse_file(path, head.as_bytes(), &Limits::default()).unwrap();
    let windowed = parse_changed(path, head.as_bytes(), Some(&base_index), &lines, &Limits::default()).unwrap();
    assert_eq!((windowed.lines, windowed.bytes), (whole.lines, whole.bytes));
    for &line in &lines.added {
        assert_eq!(
            innermost(&windowed, line),
            innermost(&whole, line),
            "{path}: line {line} of\n{head}"
        );
    }
    // The names the head still has, around the removed lines' symbols.
    for &old in &lines.removed {
        if let Some((q, _, _)) = innermost(&base_index, old)
            && whole.symbols.iter().any(|s| s.qualified == q)
        {
            assert!(windowed.symbols.iter().any(|s| s.qualified == q), "{path}: {q} kept");
        }
    }
    windowed
}

fn names(index: &FileIndex) -> Vec<&str> {
    index.symbols.iter().map(|s| s.qualified.as_str()).collect()
}

const PY: &str = "\
import os


def first(x):
    return os.path.join(x, 'a')


class Store:
    \"\"\"A store.\"\"\"

    limit = 10

    def __init__(self, root):
        self.root = root

    @property
    def size(self):
        total = 0
        for f in os.listdir(self.root):
            total += 1
        return total

    def get(self, key):
        return first(key)


def last(y):
    return y * 2


def unused():
    return None
";

#[test]
fn python_edits_find_what_the_whole_parse_finds() {
    let edits = [
        ("total += 1", "total += 2"),
        (
            "        return first(key)",
            "        value = first(key)\n        return value",
        ),
        (
            "\n\ndef last(y):",
            "\n    def put(self, key, value):\n        self.root = value\n\n\ndef last(y):",
        ),
        ("    limit = 10", "    limit = 20"),
        ("def unused():\n    return None\n", "def added():\n    return 1\n"),
        ("    def get(self, key):\n        return first(key)\n", ""),
        ("class Store:", "class Store(object):"),
    ];
    for (from, to) in edits {
        let head = PY.replacen(from, to, 1);
        assert_ne!(head, PY, "{from}");
        check("pkg/store.py", PY, &head);
    }
    // A change inside one method parses that method and the class's header, not the rest.
    let head = PY.replacen("total += 1", "total += 2", 1);
    let windowed = check("pkg/store.py", PY, &head);
    assert_eq!(names(&windowed), ["pkg.store.Store", "pkg.store.Store.size"]);
}

const RS: &str = "\
use std::fmt;

pub struct Point {
    x: i32,
}

impl Point {
    pub fn new(x: i32) -> Self {
        Point { x }
    }

    pub fn shifted(&self, by: i32) -> Point {
        let x = self.x + by;
        Point::new(x)
    }
}

pub fn origin() -> Point {
    Point::new(0)
}

mod inner {
    pub fn helper() -> i32 {
        1
    }
}
";

#[test]
fn rust_edits_find_what_the_whole_parse_finds() {
    let edits = [
        ("let x = self.x + by;", "let x = self.x - by;"),
        ("        1\n", "        2\n"),
        ("pub fn origin() -> Point {\n    Point::new(0)\n}\n", ""),
        ("    x: i32,\n", "    x: i32,\n    y: i32,\n"),
    ];
    for (from, to) in edits {
        let head = RS.replacen(from, to, 1);
        assert_ne!(head, RS, "{from}");
        check("src/point.rs", RS, &head);
    }
    let head = RS.replacen("let x = self.x + by;", "let x = self.x - by;", 1);
    let windowed = check("src/point.rs", RS, &head);
    assert!(
        !names(&windowed).iter().any(|n| n.ends_with("origin")),
        "{:?}",
        names(&windowed)
    );
}

const TS: &str = "\
import { join } from './path';

export class Client {
  private base: string;

  constructor(base: string) {
    this.base = base;
  }

  get(path: string): string {
    const url = join(this.base, path);
    return url;
  }
}

export function make(base: string): Client {
  return new Client(base);
}

function unused(): number {
  return 0;
}
";

#[test]
fn typescript_and_go_edits_find_what_the_whole_parse_finds() {
    for (from, to) in [
        ("return url;", "return url + '/';"),
        ("return new Client(base);", "const c = new Client(base);\n  return c;"),
        ("  return 0;\n", "  return 1;\n"),
    ] {
        let head = TS.replacen(from, to, 1);
        assert_ne!(head, TS, "{from}");
        check("src/client.ts", TS, &head);
    }
    let go = "package store\n\ntype Store struct {\n\tn int\n}\n\nfunc (s *Store) Add(k int) {\n\ts.n += k\n}\n\nfunc New() *Store {\n\treturn &Store{}\n}\n\nfunc Other() int {\n\treturn 1\n}\n";
    let head = go.replacen("s.n += k", "s.n -= k", 1);
    let windowed = check("store/store.go", go, &head);
    assert!(
        !names(&windowed).iter().any(|n| n.ends_with("Other")),
        "{:?}",
        names(&windowed)
    );
}

#[test]
fn a_window_that_does_not_parse_falls_back_to_the_whole_file() {
    // A line inside a module-level string: alone it is not valid Python, so the whole file
    // is parsed and every symbol is there.
    let base = "def a():\n    return 1\n\n\nS = \"\"\"\nalpha (\n\"\"\"\n\n\ndef b():\n    return 2\n";
    let head = base.replacen("alpha (\n", "alpha ((\n", 1);
    let windowed = check("pkg/m.py", base, &head);
    assert_eq!(names(&windowed), ["pkg.m.a", "pkg.m.b"]);
    // A line of a call's arguments comes with the line opening the call: that parses, and
    // nothing else is parsed.
    let base = "def a():\n    return 1\n\n\nX = f(\n    1,\n    2)\n\n\ndef b():\n    return 2\n";
    let head = base.replacen("    2)\n", "    3)\n", 1);
    assert!(names(&check("pkg/m.py", base, &head)).is_empty());
    // No base version: the whole file, as before.
    let lines = hunk_lines(&patch("", base));
    let whole = parse_changed("pkg/m.py", base.as_bytes(), None, &lines, &Limits::default()).unwrap();
    assert_eq!(names(&whole), ["pkg.m.a", "pkg.m.b"]);
}
