//! The model's answer is untrusted too: parsed against the schema, every comment checked
//! against the diff (a path and line the diff shows on the new side, else folded into
//! the summary), sizes capped, every text and path made inert markdown (`inert.rs`: no
//! mention, reference, HTML, image or link), duplicates dropped by a fingerprint of path,
//! line and text, comments scored under `minConfidence` dropped, at most N comments per
//! review and M per file. Each comment not posted is counted by reason ([`Dropped`]).
//!
//! Two steps, so that a verifier (`verify.rs`, depth `deep`) can re-score the candidates
//! in between: [`check`] (the diff, severity, duplicates, the walkthrough) and [`select`]
//! (confidence threshold, caps). A comment's `confidence` is clamped to [0, 1]; a missing,
//! non-numeric or NaN one counts as 0.5 ([`Confidence::UNSCORED`]).

use std::collections::{HashMap, HashSet};

use agnus_shared::review_report::{Dropped, WalkthroughLine};
use agnus_shared::review_settings::{Confidence, Severity};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::diff::DiffView;
use crate::inert;
use crate::walkthrough::{self, RawLine, clip};

#[derive(Debug, Clone, Deserialize)]
pub struct RawAnswer {
    pub summary: String,
    #[serde(default)]
    pub comments: Vec<RawComment>,
    /// One line per changed file.
    #[serde(default)]
    pub walkthrough: Vec<RawLine>,
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
    /// The model's confidence that the comment is right and worth posting, 0–1 (read
    /// leniently: anything but a number is unscored).
    #[serde(default)]
    pub confidence: Option<serde_json::Value>,
}

impl RawComment {
    pub fn score(&self) -> Confidence {
        self.confidence
            .as_ref()
            .and_then(serde_json::Value::as_f64)
            .map_or(Confidence::UNSCORED, Confidence::clamped)
    }
}

fn unscored() -> Confidence {
    Confidence::UNSCORED
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
    /// The model's score (at `deep`, the verifier's).
    #[serde(default = "unscored")]
    pub confidence: Confidence,
}

/// What will be posted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct ValidReview {
    pub summary: String,
    pub comments: Vec<InlineComment>,
    #[serde(default)]
    pub walkthrough: Vec<WalkthroughLine>,
    /// The model's comments not posted, by reason.
    #[serde(default)]
    pub dropped: Dropped,
}

/// An answer checked against the diff, before the confidence threshold and the caps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub summary: String,
    pub walkthrough: Vec<WalkthroughLine>,
    /// Anchored, deduplicated comments, in the model's order.
    pub candidates: Vec<InlineComment>,
    pub dropped: Dropped,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits<'a> {
    pub max_comments: usize,
    pub max_per_file: usize,
    /// Comments below this severity are not posted (the review settings' `minSeverity`).
    pub min_severity: Severity,
    /// Comments scored below this are not posted (the settings' `minConfidence`).
    pub min_confidence: Confidence,
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
    parse_as(content)
}

/// [`parse`], into any answer type (the verifier's too).
pub fn parse_as<T: DeserializeOwned>(content: &str) -> Result<T, InvalidAnswer> {
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
    parse_value_as(value)
}

/// [`parse_value`], into any answer type.
pub fn parse_value_as<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, InvalidAnswer> {
    serde_json::from_value(value).map_err(|e| InvalidAnswer(e.to_string()))
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

/// Checks an answer against the diff the model was shown, all in one ([`check`], then
/// [`select`] with the model's own scores).
pub fn validate(answer: RawAnswer, view: &DiffView, limits: Limits<'_>) -> ValidReview {
    select(check(answer, view, limits), None, limits)
}

/// The diff, severity, rules and duplicates: what could be posted, and the summary with
/// the notes on lines outside the diff (those scored under `minConfidence` left out).
pub fn check(answer: RawAnswer, view: &DiffView, limits: Limits<'_>) -> Checked {
    let mut candidates = Vec::new();
    let mut dropped = Dropped::default();
    let mut folded = Vec::new();
    let mut seen = HashSet::new();
    for c in &answer.comments {
        let body = c.body.trim();
        if body.is_empty() {
            continue;
        }
        let severity: Severity = severity_label(&c.severity).parse().unwrap_or(Severity::Nit);
        if severity < limits.min_severity {
            dropped.below_severity += 1;
            continue;
        }
        let confidence = c.score();
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
        let noted = confidence >= limits.min_confidence;
        let Some((path, lines)) = view.commentable.get_key_value(c.path.trim()) else {
            // Not a file the diff shows: not posted inline.
            dropped.invalid_anchor += 1;
            if noted {
                folded.push(format!("{}: {}", inert::code(&clip(c.path.trim(), 200)), body));
            }
            continue;
        };
        let line = u32::try_from(c.line).ok().filter(|l| lines.contains(l));
        let Some(line) = line else {
            dropped.invalid_anchor += 1;
            if noted {
                folded.push(format!("{} line {}: {}", inert::code(path), c.line, body));
            }
            continue;
        };
        if !seen.insert(fingerprint(path, line, &body)) {
            dropped.duplicate += 1;
            continue;
        }
        candidates.push(InlineComment {
            path: path.clone(),
            line,
            body,
            severity,
            rule_id: rule.map(|(id, _)| (*id).to_owned()),
            text,
            confidence,
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
    Checked {
        summary,
        walkthrough: walkthrough::lines(&answer.walkthrough, view),
        candidates,
        dropped,
    }
}

/// The confidence threshold and the caps. `rescored`: the verifier's score of each
/// candidate, in order (a candidate it did not score keeps the model's).
pub fn select(checked: Checked, rescored: Option<&[Confidence]>, limits: Limits<'_>) -> ValidReview {
    let Checked {
        summary,
        walkthrough,
        candidates,
        mut dropped,
    } = checked;
    let mut comments = Vec::new();
    let mut per_file: HashMap<String, usize> = HashMap::new();
    for (n, mut c) in candidates.into_iter().enumerate() {
        let model = c.confidence;
        if let Some(score) = rescored.and_then(|r| r.get(n)) {
            c.confidence = *score;
        }
        if c.confidence < limits.min_confidence {
            if model >= limits.min_confidence {
                dropped.unverified += 1;
            } else {
                dropped.low_confidence += 1;
            }
            continue;
        }
        let count = per_file.entry(c.path.clone()).or_default();
        if *count >= limits.max_per_file || comments.len() >= limits.max_comments {
            dropped.over_cap += 1;
            continue;
        }
        *count += 1;
        comments.push(c);
    }
    ValidReview {
        summary,
        comments,
        walkthrough,
        dropped,
    }
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
            confidence: None,
        }
    }

    #[test]
    fn low_severities_are_dropped_and_known_rules_are_named() {
        let answer = RawAnswer {
            summary: "s".into(),
            walkthrough: vec![],
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
                min_confidence: Confidence::UNSCORED,
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
            walkthrough: vec![],
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
                min_confidence: Confidence::UNSCORED,
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
                confidence: Confidence::UNSCORED,
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
                walkthrough: vec![],
            },
            &view(),
            Limits {
                max_comments: 4,
                max_per_file: 3,
                min_severity: agnus_shared::review_settings::Severity::Nit,
                min_confidence: Confidence::UNSCORED,
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
            walkthrough: vec![],
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
                min_confidence: Confidence::UNSCORED,
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

    fn scored(path: &str, line: i64, body: &str, confidence: serde_json::Value) -> RawComment {
        RawComment {
            confidence: Some(confidence),
            ..c(path, line, body)
        }
    }

    fn limits(min_confidence: f64, max_comments: usize) -> Limits<'static> {
        Limits {
            max_comments,
            max_per_file: 5,
            min_severity: Severity::Minor,
            min_confidence: Confidence::new(min_confidence).unwrap(),
            rules: &[],
        }
    }

    /// Issue 31: comments under `minConfidence` are not posted (nor noted in the summary),
    /// scores are clamped, a missing or unreadable one counts as 0.5, and every comment
    /// not posted is counted by reason.
    #[test]
    fn confidence_threshold_clamping_and_dropped_counts() {
        let answer = RawAnswer {
            summary: "s".into(),
            walkthrough: vec![],
            comments: vec![
                scored("src/a.rs", 1, "sure", serde_json::json!(0.9)),
                scored("src/a.rs", 2, "unsure", serde_json::json!(0.2)),
                scored("src/a.rs", 3, "over one", serde_json::json!(7)),
                scored("src/b.rs", 10, "below zero", serde_json::json!(-1)),
                scored("src/a.rs", 1, "not a number", serde_json::json!("high")),
                c("src/a.rs", 2, "unscored"),
                scored("src/a.rs", 99, "outside, unsure", serde_json::json!(0.1)),
                scored("src/a.rs", 98, "outside, sure", serde_json::json!(0.95)),
                scored("src/a.rs", 1, "sure", serde_json::json!(0.9)),
                RawComment {
                    severity: "nit".into(),
                    ..scored("src/a.rs", 1, "a nit", serde_json::json!(1))
                },
            ],
        };
        let r = validate(answer, &view(), limits(0.5, 3));
        let texts: Vec<(&str, f64)> = r
            .comments
            .iter()
            .map(|c| (c.text.as_str(), c.confidence.get()))
            .collect();
        assert_eq!(texts, [("sure", 0.9), ("over one", 1.0), ("not a number", 0.5)]);
        assert_eq!(
            r.dropped,
            Dropped {
                low_confidence: 2,
                unverified: 0,
                invalid_anchor: 2,
                below_severity: 1,
                duplicate: 1,
                over_cap: 1,
            },
            "below zero and unsure are low; unscored (0.5) is over the cap of 3"
        );
        assert!(r.summary.contains("outside, sure"), "{}", r.summary);
        assert!(!r.summary.contains("outside, unsure"), "{}", r.summary);
    }

    /// Issue 31: the verifier's scores replace the model's before the threshold; a
    /// comment it lowers under the threshold is counted `unverified`.
    #[test]
    fn rescored_candidates_are_selected_on_the_new_scores() {
        let answer = RawAnswer {
            summary: "s".into(),
            walkthrough: vec![],
            comments: vec![
                scored("src/a.rs", 1, "kept", serde_json::json!(0.9)),
                scored("src/a.rs", 2, "refuted", serde_json::json!(0.9)),
                scored("src/a.rs", 3, "rescued", serde_json::json!(0.3)),
                scored("src/b.rs", 10, "still low", serde_json::json!(0.3)),
            ],
        };
        let checked = check(answer, &view(), limits(0.6, 25));
        assert_eq!(checked.candidates.len(), 4, "the threshold applies after the verifier");
        let scores = [0.8, 0.1, 0.7, 0.2].map(|v| Confidence::new(v).unwrap());
        let r = select(checked, Some(&scores), limits(0.6, 25));
        let kept: Vec<&str> = r.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(kept, ["kept", "rescued"]);
        assert_eq!((r.dropped.unverified, r.dropped.low_confidence), (1, 1));
        assert_eq!(r.comments[0].confidence.get(), 0.8);
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
