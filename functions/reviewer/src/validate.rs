//! The model's answer is untrusted too: parsed against the schema, every comment checked
//! against the diff (a path and line the diff shows on the new side, else folded into
//! the summary), sizes capped, every text and path made inert markdown (`inert.rs`: no
//! mention, reference, HTML, image or link), duplicates dropped by a fingerprint of path,
//! line and text, at most N comments per review and M per file.

use std::collections::{HashMap, HashSet};

use agnus_shared::review_settings::Severity;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::diff::DiffView;
use crate::inert;

#[derive(Debug, Clone, Deserialize)]
pub struct RawAnswer {
    pub summary: String,
    #[serde(default)]
    pub comments: Vec<RawComment>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawComment {
    pub path: String,
    pub line: i64,
    pub body: String,
    #[serde(default)]
    pub severity: String,
    /// The org rule the model says this comment is about (checked against the rules it was
    /// given; anything else is dropped).
    #[serde(default, rename = "ruleId")]
    pub rule_id: Option<String>,
}

/// An inline comment ready to post.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct InlineComment {
    pub path: String,
    pub line: u32,
    /// What is posted: severity, rule and text (and, once recorded, the feedback links).
    pub body: String,
    pub severity: Severity,
    /// The org rule the comment is about (one the prompt named).
    pub rule_id: Option<String>,
    /// The sanitized text alone (the feedback loop's excerpt).
    pub text: String,
}

/// What will be posted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct ValidReview {
    pub summary: String,
    pub comments: Vec<InlineComment>,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits<'a> {
    pub max_comments: usize,
    pub max_per_file: usize,
    /// Comments below this severity are not posted (the review settings' `minSeverity`).
    pub min_severity: Severity,
    /// The org rules in the prompt, by id → name: a comment's `ruleId` must be one of them.
    pub rules: &'a [(&'a str, &'a str)],
}

const MAX_SUMMARY: usize = 4_000;
const MAX_BODY: usize = 1_500;
const MAX_FOLDED: usize = 10;

#[derive(Debug, thiserror::Error)]
#[error("the model's answer is not the requested JSON: {0}")]
pub struct InvalidAnswer(pub String);

/// Parses the model's message content (tolerating a ```json fence some servers add).
pub fn parse(content: &str) -> Result<RawAnswer, InvalidAnswer> {
    let trimmed = content.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|s| s.strip_suffix("```"))
        .unwrap_or(trimmed);
    serde_json::from_str(unfenced).map_err(|e| InvalidAnswer(e.to_string()))
}

/// Reads an answer the API already parsed as JSON (Bedrock's tool input).
pub fn parse_value(value: serde_json::Value) -> Result<RawAnswer, InvalidAnswer> {
    serde_json::from_value(value).map_err(|e| InvalidAnswer(e.to_string()))
}

fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn severity_label(s: &str) -> &'static str {
    match s.trim().to_ascii_lowercase().as_str() {
        "critical" => "critical",
        "major" => "major",
        "minor" => "minor",
        _ => "nit",
    }
}

fn fingerprint(path: &str, line: u32, body: &str) -> [u8; 32] {
    let normalized: String = body.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let mut h = Sha256::new();
    h.update(path.as_bytes());
    h.update([0]);
    h.update(line.to_be_bytes());
    h.update([0]);
    h.update(normalized.as_bytes());
    h.finalize().into()
}

/// Checks an answer against the diff the model was shown.
pub fn validate(answer: RawAnswer, view: &DiffView, limits: Limits<'_>) -> ValidReview {
    let mut comments = Vec::new();
    let mut folded = Vec::new();
    let mut seen = HashSet::new();
    let mut per_file: HashMap<&str, usize> = HashMap::new();
    for c in &answer.comments {
        let body = c.body.trim();
        if body.is_empty() {
            continue;
        }
        let severity: Severity = severity_label(&c.severity).parse().unwrap_or(Severity::Nit);
        if severity < limits.min_severity {
            continue;
        }
        let rule = c
            .rule_id
            .as_deref()
            .and_then(|id| limits.rules.iter().find(|(rid, _)| *rid == id));
        let text = inert::markdown(&clip(body, MAX_BODY));
        let body = match rule {
            Some((id, name)) => format!(
                "**{}** · rule *{}* (`{id}`): {text}",
                severity_label(&c.severity),
                inert::markdown(&clip(name, 100)),
            ),
            None => format!("**{}**: {text}", severity_label(&c.severity)),
        };
        let Some((path, lines)) = view.commentable.get_key_value(c.path.trim()) else {
            // Not a file the diff shows: not posted inline.
            folded.push(format!("{}: {}", inert::code(&clip(c.path.trim(), 200)), body));
            continue;
        };
        let line = u32::try_from(c.line).ok().filter(|l| lines.contains(l));
        let Some(line) = line else {
            folded.push(format!("{} line {}: {}", inert::code(path), c.line, body));
            continue;
        };
        if !seen.insert(fingerprint(path, line, &body)) {
            continue;
        }
        let count = per_file.entry(path.as_str()).or_default();
        if *count >= limits.max_per_file || comments.len() >= limits.max_comments {
            continue;
        }
        *count += 1;
        comments.push(InlineComment {
            path: path.clone(),
            line,
            body,
            severity,
            rule_id: rule.map(|(id, _)| (*id).to_owned()),
            text,
        });
    }
    let mut summary = inert::markdown(&clip(answer.summary.trim(), MAX_SUMMARY));
    if summary.is_empty() {
        summary = "No summary.".to_owned();
    }
    if !folded.is_empty() {
        summary.push_str("\n\n**Notes on lines outside the diff:**\n");
        for note in folded.iter().take(MAX_FOLDED) {
            summary.push_str("- ");
            summary.push_str(note);
            summary.push('\n');
        }
        if folded.len() > MAX_FOLDED {
            summary.push_str(&format!("- … and {} more\n", folded.len() - MAX_FOLDED));
        }
        summary = summary.trim_end().to_owned();
    }
    let capped: Vec<String> = view.too_large.iter().take(MAX_FOLDED).map(|p| inert::code(p)).collect();
    if !capped.is_empty() || view.unread {
        summary.push_str("\n\n**Not reviewed (over the download cap):** ");
        summary.push_str(&capped.join(", "));
        if view.too_large.len() > MAX_FOLDED {
            summary.push_str(&format!(" … and {} more", view.too_large.len() - MAX_FOLDED));
        }
        if view.unread {
            if !capped.is_empty() {
                summary.push_str("; ");
            }
            summary.push_str("more changed files were not read.");
        }
    }
    ValidReview { summary, comments }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn view() -> DiffView {
        let mut v = DiffView::default();
        v.commentable.insert("src/a.rs".into(), BTreeSet::from([1, 2, 3]));
        v.commentable.insert("src/b.rs".into(), BTreeSet::from([10]));
        v
    }

    fn c(path: &str, line: i64, body: &str) -> RawComment {
        RawComment {
            path: path.into(),
            line,
            body: body.into(),
            severity: "major".into(),
            rule_id: None,
        }
    }

    #[test]
    fn low_severities_are_dropped_and_known_rules_are_named() {
        let answer = RawAnswer {
            summary: "s".into(),
            comments: vec![
                RawComment {
                    severity: "nit".into(),
                    ..c("src/a.rs", 2, "a nit")
                },
                RawComment {
                    rule_id: Some("r1".into()),
                    ..c("src/a.rs", 3, "string-built SQL")
                },
                RawComment {
                    rule_id: Some("made-up".into()),
                    ..c("src/b.rs", 10, "invented rule")
                },
            ],
        };
        let rules = [("r1", "Parameterised SQL")];
        let valid = validate(
            answer,
            &view(),
            Limits {
                max_comments: 25,
                max_per_file: 5,
                min_severity: Severity::Minor,
                rules: &rules,
            },
        );
        let bodies: Vec<&str> = valid.comments.iter().map(|c| c.body.as_str()).collect();
        assert_eq!(bodies.len(), 2, "{bodies:?}");
        assert!(bodies[0].contains("rule *Parameterised SQL* (`r1`)"), "{}", bodies[0]);
        assert_eq!(bodies[1], "**major**: invented rule", "an unknown rule id is not shown");
        let rules: Vec<Option<&str>> = valid.comments.iter().map(|c| c.rule_id.as_deref()).collect();
        assert_eq!(
            rules,
            [Some("r1"), None],
            "the attribution is kept for the feedback loop"
        );
    }

    #[test]
    fn only_diff_lines_are_inline_and_the_rest_is_folded() {
        let answer = RawAnswer {
            summary: "Looks risky.".into(),
            comments: vec![
                c("src/a.rs", 2, "bug"),
                c("src/a.rs", 99, "outside"),
                c("src/zzz.rs", 1, "no file"),
            ],
        };
        let r = validate(
            answer,
            &view(),
            Limits {
                max_comments: 25,
                max_per_file: 5,
                min_severity: agnus_shared::review_settings::Severity::Nit,
                rules: &[],
            },
        );
        assert_eq!(
            r.comments,
            vec![InlineComment {
                path: "src/a.rs".into(),
                line: 2,
                body: "**major**: bug".into(),
                severity: Severity::Major,
                rule_id: None,
                text: "bug".into(),
            }]
        );
        assert!(
            r.summary.contains("`src/a.rs` line 99: **major**: outside"),
            "{}",
            r.summary
        );
        assert!(r.summary.contains("`src/zzz.rs`: **major**: no file"));
    }

    #[test]
    fn duplicates_and_caps() {
        let mut comments = vec![c("src/a.rs", 1, "same"), c("src/a.rs", 1, "  SAME ")];
        for i in 0..10 {
            comments.push(c("src/a.rs", 1 + (i % 3), &format!("n{i}")));
        }
        comments.push(c("src/b.rs", 10, "b"));
        let r = validate(
            RawAnswer {
                summary: "s".into(),
                comments,
            },
            &view(),
            Limits {
                max_comments: 4,
                max_per_file: 3,
                min_severity: agnus_shared::review_settings::Severity::Nit,
                rules: &[],
            },
        );
        assert_eq!(r.comments.iter().filter(|c| c.path == "src/a.rs").count(), 3);
        assert_eq!(r.comments.len(), 4);
        assert_eq!(r.comments[0].body, "**major**: same");
        assert_eq!(r.comments[3].path, "src/b.rs");
    }

    /// Issue 29: a path named with a mention and an HTML comment opener, from the model
    /// (a file the diff does not show) or from the repository (a line outside the diff).
    #[test]
    fn folded_paths_and_texts_are_inert() {
        let evil = "docs/x` @octocat `<!--.md";
        let mut v = view();
        v.commentable.insert(evil.into(), BTreeSet::from([1]));
        let answer = RawAnswer {
            summary: "Ping -@security-team and .@octocat ![x](https://evil.example/b.png)".into(),
            comments: vec![
                c(evil, 99, "see <img src=x> @octocat"),
                c("other` @octocat `<!--", 1, "x"),
            ],
        };
        let r = validate(
            answer,
            &v,
            Limits {
                max_comments: 25,
                max_per_file: 5,
                min_severity: Severity::Nit,
                rules: &[],
            },
        );
        assert!(!r.summary.contains("<!--"), "{}", r.summary);
        assert!(!r.summary.contains("<img"), "{}", r.summary);
        assert!(!r.summary.contains("![x]("), "{}", r.summary);
        for handle in ["@octocat", "@security-team"] {
            assert!(!r.summary.contains(handle), "{handle} is live: {}", r.summary);
        }
        assert!(
            r.summary
                .contains("- ``docs/x` @\u{200B}octocat `<\u{200B}!--.md`` line 99"),
            "{}",
            r.summary
        );
    }

    #[test]
    fn answers_parse_with_or_without_a_fence() {
        assert_eq!(
            parse("```json\n{\"summary\":\"a\",\"comments\":[]}\n```")
                .unwrap()
                .summary,
            "a"
        );
        assert!(parse("{\"comments\":[]}").is_err());
        assert!(parse("not json").is_err());
    }
}
