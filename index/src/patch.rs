//! A unified patch's hunks, as the review reads them: which lines a change touches (new-side
//! added lines, old-side removed lines, the old-side lines each hunk covers) and where an
//! old-side line sits in the new version (what [`crate::window`] maps the base commit's symbol
//! ranges through, to parse only the touched code of a head file).

/// One `@@ -a,b +c,d @@` hunk: where it starts on each side, and its lines in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hunk {
    pub old_start: u32,
    pub new_start: u32,
    /// One per body line: `b' '` context, `b'+'` added, `b'-'` removed.
    pub ops: Vec<u8>,
}

impl Hunk {
    fn old_len(&self) -> u32 {
        self.ops.iter().filter(|&&op| op != b'+').count() as u32
    }

    fn new_len(&self) -> u32 {
        self.ops.iter().filter(|&&op| op != b'-').count() as u32
    }
}

/// The lines a patch touches: new-side added lines, old-side removed lines, the old-side
/// lines its hunks cover (context included), and the hunks themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HunkLines {
    pub added: Vec<u32>,
    pub removed: Vec<u32>,
    pub old_span: Vec<u32>,
    pub hunks: Vec<Hunk>,
}

/// Caps the lines taken from one patch (a huge rewrite says nothing more at 5,000 lines).
const MAX_LINES: usize = 5_000;

fn start_of(part: Option<&str>, sign: char) -> u32 {
    part.and_then(|p| p.strip_prefix(sign))
        .and_then(|p| p.split(',').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

/// Reads a unified patch (as the providers serve a file's `patch`): anything that is not a
/// hunk header or a body line is ignored, and malformed numbers read as 0.
pub fn hunk_lines(patch: &str) -> HunkLines {
    let mut out = HunkLines::default();
    let (mut old, mut new) = (0u32, 0u32);
    for raw in patch.lines() {
        if out.added.len() + out.removed.len() + out.old_span.len() > 3 * MAX_LINES {
            break;
        }
        if let Some(header) = raw.strip_prefix("@@") {
            let mut parts = header.split_whitespace();
            old = start_of(parts.next(), '-');
            new = start_of(parts.next(), '+');
            // A pure insertion's hunk covers the line it follows.
            out.old_span.push(old.max(1));
            out.hunks.push(Hunk {
                old_start: old,
                new_start: new,
                ops: Vec::new(),
            });
            continue;
        }
        let op = match raw.as_bytes().first() {
            Some(b' ') => {
                out.old_span.push(old);
                old = old.saturating_add(1);
                new = new.saturating_add(1);
                b' '
            }
            Some(b'+') => {
                out.added.push(new);
                new = new.saturating_add(1);
                b'+'
            }
            Some(b'-') => {
                out.removed.push(old);
                out.old_span.push(old);
                old = old.saturating_add(1);
                b'-'
            }
            _ => continue,
        };
        if let Some(hunk) = out.hunks.last_mut() {
            hunk.ops.push(op);
        }
    }
    out.old_span.sort_unstable();
    out.old_span.dedup();
    out
}

impl HunkLines {
    /// Where old-side line `old` is in the new version. A line the patch removed has no new
    /// line: it maps to the new line after the removal (`after_removal`, for where a range
    /// starts) or the one before it (for where a range ends), so a mapped range always holds
    /// what became of the old one.
    pub fn new_line(&self, old: u32, after_removal: bool) -> u32 {
        let mut shift: i64 = 0;
        for hunk in &self.hunks {
            // Hunks of a zero-length old side (`-a,0`) sit after old line `a`.
            let first = if hunk.old_len() == 0 {
                hunk.old_start.saturating_add(1)
            } else {
                hunk.old_start
            };
            if old < first {
                break;
            }
            if old < first.saturating_add(hunk.old_len()) {
                let (mut o, mut n) = (hunk.old_start, hunk.new_start);
                for &op in &hunk.ops {
                    match op {
                        b' ' if o == old => return n,
                        b'-' if o == old => {
                            return if after_removal { n } else { n.saturating_sub(1).max(1) };
                        }
                        b' ' => (o, n) = (o.saturating_add(1), n.saturating_add(1)),
                        b'-' => o = o.saturating_add(1),
                        _ => n = n.saturating_add(1),
                    }
                }
                return n;
            }
            shift += i64::from(hunk.new_len()) - i64::from(hunk.old_len());
        }
        u32::try_from((i64::from(old) + shift).max(1)).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_and_hunks_are_read() {
        let patch = "@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c\n@@ -10,0 +12,1 @@\n+d\n";
        let h = hunk_lines(patch);
        assert_eq!(h.added, [2, 3, 12]);
        assert_eq!(h.removed, [2]);
        assert_eq!(h.old_span, [1, 2, 3, 10]);
        assert_eq!(h.hunks.len(), 2);
        assert_eq!(h.hunks[0].ops, b" -++ ");
        assert_eq!((h.hunks[1].old_start, h.hunks[1].new_start), (10, 12));
    }

    #[test]
    fn old_lines_map_through_the_hunks() {
        // old: a b c d e f g h i j k ; new: a B C c d e f g h i j d' k (b replaced by B C,
        // one line inserted after old line 10).
        let h = hunk_lines("@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c\n@@ -10,0 +12,1 @@\n+d\n");
        assert_eq!(h.new_line(1, true), 1);
        // Removed: after it (B, line 2) for a start; before it (a, line 1) for an end.
        assert_eq!(h.new_line(2, true), 2);
        assert_eq!(h.new_line(2, false), 1);
        assert_eq!(h.new_line(3, true), 4);
        // Between the hunks: shifted by the first hunk's extra line.
        assert_eq!(h.new_line(5, true), 6);
        assert_eq!(h.new_line(10, false), 11);
        // After the insertion: shifted by both.
        assert_eq!(h.new_line(11, true), 13);
    }

    #[test]
    fn a_removal_at_the_top_and_garbage_never_panic() {
        let h = hunk_lines("@@ -1,2 +0,0 @@\n-a\n-b\n");
        assert_eq!(h.new_line(1, false), 1);
        assert_eq!(h.new_line(3, true), 1);
        let h = hunk_lines("@@ -x,y +z @@\n+\n-\n \nnoise\n@@\n");
        for old in [0, 1, 2, u32::MAX] {
            let _ = h.new_line(old, true);
            let _ = h.new_line(old, false);
        }
    }
}
