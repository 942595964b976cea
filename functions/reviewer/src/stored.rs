//! The answer a job posts, stored on the job before the first post: a retry after a
//! partial post (hosts that post comment by comment resume by their markers
//! `<jobId>:n`) posts exactly this answer again — comment *n* is the same comment — and
//! never asks the LLM a second time.

use serde::{Deserialize, Serialize};

use crate::validate::ValidReview;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredAnswer {
    /// The head the answer reviewed (a newer head makes it stale).
    pub head_sha: String,
    pub review: ValidReview,
    /// The summary with footer and marker, as posted.
    pub body: String,
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Incremental review: the head the diff started from.
    pub since: Option<String>,
    /// What the codebase index gave the review (JSON of [`crate::graph_context::ContextRecord`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// How the model's answer came (cut short, salvaged, asked again smaller).
    #[serde(default)]
    pub answer_report: agnus_shared::review_report::AnswerReport,
}

impl StoredAnswer {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A stored answer (one that does not read is ignored: the job is reviewed afresh).
    pub fn parse(raw: &str) -> Option<Self> {
        serde_json::from_str(raw).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::InlineComment;
    use agnus_shared::review_report::{Dropped, WalkthroughLine};
    use agnus_shared::review_settings::{Confidence, Severity};

    #[test]
    fn a_stored_answer_reads_back_the_same() {
        let answer = StoredAnswer {
            head_sha: "abc1234".into(),
            review: ValidReview {
                summary: "s".into(),
                comments: vec![InlineComment {
                    path: "a.rs".into(),
                    line: 3,
                    body: "**major**: x".into(),
                    severity: Severity::Major,
                    rule_id: Some("r1".into()),
                    text: "x".into(),
                    confidence: Confidence::clamped(0.75),
                }],
                walkthrough: vec![WalkthroughLine {
                    path: "a.rs".into(),
                    text: "Adds x.".into(),
                }],
                dropped: Dropped {
                    low_confidence: 2,
                    ..Dropped::default()
                },
            },
            body: "s\n<!-- agnus-review:j -->".into(),
            model: "m".into(),
            prompt_tokens: 10,
            completion_tokens: 5,
            since: None,
            context: Some(r#"{"mode":"graph"}"#.into()),
            answer_report: agnus_shared::review_report::AnswerReport {
                truncated: true,
                salvaged: Some(1),
                retried_smaller: false,
            },
        };
        assert_eq!(StoredAnswer::parse(&answer.to_json()), Some(answer));
        // An answer stored before graph context reads back without it.
        let old = r#"{"headSha":"a","review":{"summary":"s","comments":[]},"body":"b","model":"m","promptTokens":1,"completionTokens":1,"since":null}"#;
        assert_eq!(StoredAnswer::parse(old).map(|a| a.context), Some(None));
        assert_eq!(StoredAnswer::parse("{not json"), None);
    }

    /// An answer stored before issue 31 (no walkthrough, dropped counts nor confidences)
    /// still reads: a retry posts it as it was.
    #[test]
    fn an_answer_stored_before_the_walkthrough_still_reads() {
        let old = r#"{"headSha":"abc1234","review":{"summary":"s","comments":[{"path":"a.rs","line":3,
            "body":"**major**: x","severity":"major","rule_id":null,"text":"x"}]},
            "body":"s","model":"m","promptTokens":1,"completionTokens":2,"since":null}"#;
        let answer = StoredAnswer::parse(old).expect("reads");
        assert_eq!(answer.review.comments[0].confidence, Confidence::UNSCORED);
        assert!(answer.review.walkthrough.is_empty());
        assert_eq!(answer.review.dropped, Dropped::default());
    }
}
