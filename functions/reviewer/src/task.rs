//! The kinds of request the engine makes of the model (shared by the OpenAI-compatible and
//! the Bedrock clients).

use crate::prompt::{SYSTEM_PROMPT, answer_schema};

/// Longest answer asked for.
pub const MAX_TOKENS: u32 = 4_096;

/// One kind of request to the model: its instructions, the JSON schema of its answer and
/// the name it goes by (OpenAI's `json_schema` name, Bedrock's forced tool).
#[derive(Debug, Clone, Copy)]
pub struct Task {
    pub name: &'static str,
    /// Bedrock's tool description.
    pub description: &'static str,
    pub system: &'static str,
    pub schema: fn() -> serde_json::Value,
    pub max_tokens: u32,
}

/// The review.
pub const REVIEW: Task = Task {
    name: "code_review",
    description: "Record the review of the pull request: a summary and comments on new-side lines of the diff.",
    system: SYSTEM_PROMPT,
    schema: answer_schema,
    max_tokens: MAX_TOKENS,
};

/// How much answer a review asks for: the bounds its schema carries (`maxItems`, and where
/// the provider's constrained decoding honours them, `maxLength`) and the `max_tokens` they
/// need (docs/review-engine.md, "Small models").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    pub comments: usize,
    pub files: usize,
    pub summary_chars: usize,
    pub body_chars: usize,
    pub line_chars: usize,
}

/// Characters of a path the schema allows.
pub const PATH_CHARS: usize = 300;
/// Characters of a rule id the schema allows.
pub const RULE_ID_CHARS: usize = 100;

impl Ask {
    /// The first request: the settings' comment cap, one walkthrough line per file shown.
    pub fn full(comments: usize, files: usize) -> Self {
        Ask {
            comments,
            files,
            summary_chars: 1_500,
            body_chars: 800,
            line_chars: 200,
        }
    }

    /// The retry after an answer that was cut short or unreadable: never the same request
    /// twice, but a smaller one (at most 5 comments, shorter texts).
    pub fn smaller(&self) -> Self {
        Ask {
            comments: self.comments.min(5),
            files: self.files,
            summary_chars: 600,
            body_chars: 300,
            line_chars: 100,
        }
    }

    /// `max_tokens` for the longest answer the bounds allow (about 3 characters a token,
    /// JSON's keys and quotes included), within [512, `MAX_TOKENS`].
    pub fn max_tokens(&self) -> u32 {
        let chars = 64
            + self.summary_chars
            + self.files.saturating_mul(40 + self.line_chars)
            + self.comments.saturating_mul(self.body_chars + 160);
        u32::try_from(chars / 3).unwrap_or(MAX_TOKENS).clamp(512, MAX_TOKENS)
    }
}

/// [`crate::prompt::answer_schema`] bounded by `ask`: `maxItems` on the comments (the settings' cap) and
/// the walkthrough (one line per file), and, when `lengths` (providers whose constrained
/// decoding enforces it: llama.cpp, vLLM, Ollama, Bedrock's tool schema — not OpenAI's
/// strict mode, which documents no string lengths), `maxLength` on every free text. A small
/// model then cannot loop past its answer: the grammar closes it.
pub fn bounded_answer_schema(ask: &Ask, lengths: bool) -> serde_json::Value {
    let mut schema = answer_schema();
    let props = &mut schema["properties"];
    props["comments"]["maxItems"] = ask.comments.into();
    props["walkthrough"]["maxItems"] = ask.files.into();
    if lengths {
        props["summary"]["maxLength"] = ask.summary_chars.into();
        let line = &mut props["walkthrough"]["items"]["properties"];
        line["path"]["maxLength"] = PATH_CHARS.into();
        line["text"]["maxLength"] = ask.line_chars.into();
        let comment = &mut props["comments"]["items"]["properties"];
        comment["path"]["maxLength"] = PATH_CHARS.into();
        comment["body"]["maxLength"] = ask.body_chars.into();
        comment["ruleId"]["maxLength"] = RULE_ID_CHARS.into();
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounded_schema_caps_items_and_lengths_where_asked() {
        let ask = Ask::full(7, 3);
        let full = bounded_answer_schema(&ask, true);
        assert_eq!(full["properties"]["comments"]["items"]["additionalProperties"], false);
        assert_eq!(full["properties"]["comments"]["maxItems"], 7);
        assert_eq!(full["properties"]["walkthrough"]["maxItems"], 3);
        assert_eq!(
            full["properties"]["comments"]["items"]["properties"]["body"]["maxLength"],
            800
        );
        assert_eq!(full["properties"]["summary"]["maxLength"], 1_500);
        // OpenAI's strict mode: item counts only, no string lengths anywhere.
        let openai = bounded_answer_schema(&ask.smaller(), false);
        assert_eq!(openai["properties"]["comments"]["maxItems"], 5);
        assert!(!openai.to_string().contains("maxLength"), "{openai}");
    }

    #[test]
    fn max_tokens_follows_the_ask_within_its_bounds() {
        let one = Ask::full(1, 1);
        assert_eq!(one.max_tokens(), 921);
        assert_eq!(Ask::full(25, 30).max_tokens(), MAX_TOKENS);
        let smaller = Ask::full(25, 3).smaller();
        assert_eq!(smaller.comments, 5);
        assert!(smaller.max_tokens() < Ask::full(25, 3).max_tokens());
        assert_eq!(Ask::full(0, 0).smaller().max_tokens(), 512);
    }
}
