//! Text helpers of the extractor: lossy slices, bounds, signatures, doc comments, reference
//! paths and the module name a file's path implies.

use tree_sitter::Node;

use crate::lang::Lang;

/// `src[start..end]` as text (invalid UTF-8 replaced), clamped to the source.
pub(crate) fn slice(src: &[u8], start: usize, end: usize) -> String {
    let end = end.min(src.len());
    let start = start.min(end);
    String::from_utf8_lossy(&src[start..end]).into_owned()
}

/// At most `max` characters of `text`.
pub(crate) fn bound(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.to_owned(),
    }
}

pub(crate) fn count_lines(src: &[u8]) -> u32 {
    let newlines = src.iter().filter(|&&b| b == b'\n').count();
    let lines = newlines + usize::from(!src.is_empty() && src.last() != Some(&b'\n'));
    u32::try_from(lines).unwrap_or(u32::MAX)
}

/// The declaration head: from the node's start to its body (or its first line), whitespace
/// collapsed, a trailing `{` or `:` dropped, at most `max` characters.
pub(crate) fn signature(src: &[u8], node: Node, body: Option<Node>, max: usize) -> String {
    let start = node.start_byte();
    let mut end = body.map_or(node.end_byte(), |b| b.start_byte()).max(start);
    if body.is_none()
        && let Some(nl) = src.get(start..end.min(src.len())).and_then(|s| s.iter().position(|&b| b == b'\n'))
    {
        end = start + nl;
    }
    // Bound the work before collapsing: a head longer than this is cut anyway.
    let end = end.min(start.saturating_add(max.saturating_mul(4).max(64)));
    let raw = slice(src, start, end);
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = collapsed.trim_end_matches(['{', ':', ' ']);
    bound(trimmed, max)
}

/// Strips comment markers from a comment's text, line by line.
pub(crate) fn strip_comment(text: &str) -> String {
    let mut lines = Vec::new();
    for line in text.lines() {
        let mut l = line.trim();
        for marker in ["///", "//!", "//", "/**", "/*!", "/*", "#"] {
            if let Some(rest) = l.strip_prefix(marker) {
                l = rest;
                break;
            }
        }
        l = l.strip_suffix("*/").unwrap_or(l);
        l = l.trim_start_matches('*');
        lines.push(l.trim());
    }
    lines.join("\n").trim().to_owned()
}

/// The comments directly above `node` (adjacent lines, nothing else between), markers
/// stripped; `None` when there are none.
pub(crate) fn preceding_comment(src: &[u8], node: Node, max: usize) -> Option<String> {
    let mut parts = Vec::new();
    let mut next_row = node.start_position().row;
    let mut sibling = node.prev_sibling();
    let mut budget = 0usize;
    let mut steps = 0u32;
    while let Some(prev) = sibling {
        steps += 1;
        if steps > 128 {
            break;
        }
        // Attributes and annotations between the comment and the item are stepped over.
        if matches!(prev.kind(), "attribute_item" | "attribute_list" | "decorator") {
            next_row = prev.start_position().row;
            sibling = prev.prev_sibling();
            continue;
        }
        if !prev.kind().contains("comment") || prev.end_position().row + 1 < next_row || parts.len() >= 64 {
            break;
        }
        let text = slice(src, prev.start_byte(), prev.end_byte().min(prev.start_byte() + max * 4 + 16));
        budget += text.len();
        parts.push(strip_comment(&text));
        next_row = prev.start_position().row;
        sibling = prev.prev_sibling();
        if budget > max * 8 {
            break;
        }
    }
    if parts.is_empty() {
        return None;
    }
    parts.reverse();
    let doc = parts.join("\n").trim().to_owned();
    (!doc.is_empty()).then(|| bound(&doc, max))
}

/// A callee or type path as written, normalised: whitespace and generic arguments dropped,
/// `?.`/`!.` read as `.`, `super().` as `super.`. A receiver that is not a plain path (a call,
/// an index, a literal) becomes `?`, keeping the last segment: `a().b` → `?.b`.
pub(crate) fn ref_path(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(256));
    let mut angle = 0usize;
    for c in raw.chars() {
        match c {
            '<' => angle += 1,
            '>' if angle > 0 => angle -= 1,
            _ if angle > 0 || c.is_whitespace() => {}
            _ => out.push(c),
        }
        if out.len() > 256 {
            break;
        }
    }
    let mut out = out.replace("::::", "::").replace("?.", ".").replace("!.", ".").replace("super().", "super.");
    if let Some(rest) = out.strip_prefix("::") {
        out = rest.to_owned();
    }
    let plain = |s: &str| {
        !s.is_empty() && s.len() <= 200 && s.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '.' | ':' | '#'))
    };
    if plain(&out) && !out.ends_with('.') && !out.ends_with(':') {
        return out;
    }
    let last = out.rsplit(['.', ':', ')', ']', '(']).next().unwrap_or("");
    if plain(last) { format!("?.{last}") } else { "?".to_owned() }
}

/// The module a file's path implies (languages that declare theirs — Go, Java, C# — start
/// empty and take it from the source).
pub(crate) fn module_of(path: &str, lang: Lang) -> String {
    let stem = |p: &str| match p.rsplit_once('.') {
        Some((s, _)) if !s.ends_with('/') && !s.is_empty() => s.to_owned(),
        _ => p.to_owned(),
    };
    match lang {
        Lang::Python => {
            let s = stem(path).replace('/', ".");
            s.strip_suffix(".__init__").map(str::to_owned).unwrap_or(s)
        }
        Lang::TypeScript | Lang::Tsx | Lang::JavaScript => stem(path),
        Lang::Go | Lang::Java | Lang::CSharp => String::new(),
        Lang::Rust => {
            let segments: Vec<&str> = path.split('/').collect();
            let below = match segments.iter().rposition(|s| *s == "src") {
                Some(i) => &segments[i + 1..],
                None => &segments[..],
            };
            let mut parts = vec!["crate".to_owned()];
            for (i, seg) in below.iter().enumerate() {
                let seg = if i + 1 == below.len() { stem(seg) } else { (*seg).to_owned() };
                let root = i + 1 == below.len() && (seg == "mod" || (i == 0 && (seg == "lib" || seg == "main")));
                if !root && !seg.is_empty() {
                    parts.push(seg);
                }
            }
            parts.join("::")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_paths_are_normalised() {
        assert_eq!(ref_path("self.foo"), "self.foo");
        assert_eq!(ref_path("utils . get_auth"), "utils.get_auth");
        assert_eq!(ref_path("Vec::<u8>::new"), "Vec::new");
        assert_eq!(ref_path("a?.b"), "a.b");
        assert_eq!(ref_path("super().save"), "super.save");
        assert_eq!(ref_path("make().run"), "?.run");
        assert_eq!(ref_path("xs[0].run"), "?.run");
        assert_eq!(ref_path("(a + b)"), "?");
        assert_eq!(ref_path("crate::a::f"), "crate::a::f");
    }

    #[test]
    fn modules_from_paths() {
        assert_eq!(module_of("pkg/sub/mod.py", Lang::Python), "pkg.sub.mod");
        assert_eq!(module_of("pkg/__init__.py", Lang::Python), "pkg");
        assert_eq!(module_of("src/util/auth.ts", Lang::TypeScript), "src/util/auth");
        assert_eq!(module_of("src/lib.rs", Lang::Rust), "crate");
        assert_eq!(module_of("crates/x/src/a/mod.rs", Lang::Rust), "crate::a");
        assert_eq!(module_of("src/a/b.rs", Lang::Rust), "crate::a::b");
        assert_eq!(module_of("main.go", Lang::Go), "");
    }

    #[test]
    fn bounds_and_comments() {
        assert_eq!(bound("héllo", 2), "hé");
        assert_eq!(strip_comment("/**\n * Does it.\n */"), "Does it.");
        assert_eq!(strip_comment("/// A thing"), "A thing");
        assert_eq!(count_lines(b"a\nb"), 2);
        assert_eq!(count_lines(b"a\nb\n"), 2);
        assert_eq!(count_lines(b""), 0);
    }
}
