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
