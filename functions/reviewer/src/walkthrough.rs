//! The walkthrough (issue 31): one line per changed file, written by the model, checked and
//! posted by the engine in a collapsed section of the summary. Only files the diff showed
//! the model get a line, one line each (the first), on one line of inert markdown
//! ([`inert::line`]) of at most [`MAX_TEXT`] bytes; the path is the diff's own, as inert
//! code.
//!
//! Bitbucket renders no HTML (`<details>` shows as text), so its summary carries the same
//! lines under a bold heading instead ([`uncollapsed`]).

use std::collections::HashSet;

use agnus_shared::review_report::WalkthroughLine;
use serde::Deserialize;

use crate::diff::DiffView;
use crate::inert;

/// Longest walkthrough text kept, in bytes (before it is made inert).
pub const MAX_TEXT: usize = 200;

/// One walkthrough entry as the model wrote it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RawLine {
    pub path: String,
    pub text: String,
}

const OPEN: &str = "<details><summary>Walkthrough</summary>\n\n";
const CLOSE: &str = "\n\n</details>";

/// The lines worth posting: files the diff showed, the first line for each, inert text.
pub fn lines(raw: &[RawLine], view: &DiffView) -> Vec<WalkthroughLine> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for entry in raw {
        let Some(path) = view.commentable.get_key_value(entry.path.trim()).map(|(p, _)| p) else {
            continue;
        };
        let text = inert::line(&clip(entry.text.trim(), MAX_TEXT));
        if text.is_empty() || !seen.insert(path.as_str()) {
            continue;
        }
        out.push(WalkthroughLine {
            path: path.clone(),
            text,
        });
    }
    out
}

/// The collapsed section posted under the summary (empty without lines).
pub fn section(lines: &[WalkthroughLine]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let items: Vec<String> = lines
        .iter()
        .map(|l| format!("- {} — {}", inert::code(&l.path), l.text))
        .collect();
    format!("{OPEN}{}{CLOSE}", items.join("\n"))
}

/// A review body for a host that renders no HTML: the walkthrough's section opened up
/// under a bold heading (only the engine writes `<details>`: model text is inert and on
/// one line, so the first blank line before `</details>` after the opening is ours).
pub fn uncollapsed(body: &str) -> String {
    let Some(start) = body.find(OPEN) else {
        return body.to_owned();
    };
    let rest = &body[start + OPEN.len()..];
    let Some(end) = rest.find(CLOSE) else {
        return body.to_owned();
    };
    format!(
        "{}**Walkthrough**\n\n{}{}",
        &body[..start],
        &rest[..end],
        &rest[end + CLOSE.len()..]
    )
}

/// `s` cut to `max` bytes (at a character boundary) with `…` when cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn view() -> DiffView {
        let mut v = DiffView::default();
        v.commentable.insert("src/a.rs".into(), BTreeSet::from([1]));
        v.commentable.insert("docs/x`@octocat`.md".into(), BTreeSet::from([1]));
        v
    }

    fn raw(path: &str, text: &str) -> RawLine {
        RawLine {
            path: path.into(),
            text: text.into(),
        }
    }

    #[test]
    fn only_shown_files_one_line_each_inert_and_bounded() {
        let got = lines(
            &[
                raw(
                    " src/a.rs ",
                    "Checks the input\nbefore parsing. @octocat <img src=x> ![p](https://e.x/i.png)",
                ),
                raw("src/a.rs", "A second line for the same file."),
                raw("src/zzz.rs", "Not in the diff."),
                raw("docs/x`@octocat`.md", &format!("```\n{}", "y".repeat(500))),
                raw("src/a.rs", ""),
            ],
            &view(),
        );
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].path, "src/a.rs");
        let text = &got[0].text;
        assert!(text.starts_with("Checks the input before parsing."), "{text}");
        assert!(
            !text.contains('\n') && !text.contains("<img") && !text.contains("@octocat"),
            "{text}"
        );
        assert!(!text.contains("]("), "no link or image: {text}");
        assert!(
            !got[1].text.contains('\n'),
            "a fence stays on the line: {}",
            got[1].text
        );
        assert!(got[1].text.len() < MAX_TEXT + 40, "{}", got[1].text.len());
    }

    #[test]
    fn the_section_is_collapsed_and_bitbucket_gets_it_open() {
        assert_eq!(section(&[]), "");
        let lines = lines(
            &[
                raw("src/a.rs", "Checks the input."),
                raw("docs/x`@octocat`.md", "Docs."),
            ],
            &view(),
        );
        let s = section(&lines);
        assert!(
            s.starts_with("<details><summary>Walkthrough</summary>\n\n- `src/a.rs` — Checks the input.\n"),
            "{s}"
        );
        assert!(s.ends_with("\n\n</details>"), "{s}");
        assert!(!s.contains("@octocat"), "paths are inert too: {s}");
        let body = format!("Summary.\n\n{s}\n\n<sub>footer</sub>");
        let open = uncollapsed(&body);
        assert!(!open.contains("<details>") && !open.contains("</details>"), "{open}");
        assert!(
            open.starts_with("Summary.\n\n**Walkthrough**\n\n- `src/a.rs` — Checks the input."),
            "{open}"
        );
        assert!(open.ends_with("Docs.\n\n<sub>footer</sub>"), "{open}");
        assert_eq!(uncollapsed("no walkthrough"), "no walkthrough");
    }
}
