//! Amazon Bedrock's Converse API as the system-level LLM (`AGNUS_LLM_PROVIDER=bedrock`):
//! `POST {endpoint}/model/{modelId}/converse` on Bedrock Runtime, signed with SigV4
//! (signing name `bedrock`) using the function's own AWS credentials — no API key.
//!
//! Structured output the Converse way: one tool (`code_review`) whose input schema is the
//! answer schema, and `toolChoice: {tool: {name}}` forcing the model to call it; the
//! review is the tool call's `input`. Shapes: the Bedrock Runtime API reference
//! (`Converse`, `ConverseResponse`, `ToolConfiguration`, `TokenUsage`), see
//! tests/fixtures/README.md.

use agnus_shared::config::{AwsRegion, BedrockEndpoint};
use aws_credential_types::provider::SharedCredentialsProvider;
use serde::Deserialize;
use serde_json::json;

use crate::http::{CallError, LLM_ANSWER_CAP, encode, send_capped};
use crate::task::{REVIEW, Task};
use crate::validate::{parse_as, parse_value_as};

/// The tool the model is made to call; its input is the review.
pub const TOOL_NAME: &str = REVIEW.name;
/// SigV4 signing name of Bedrock Runtime (its endpoint prefix is `bedrock-runtime`).
const SIGNING_NAME: &str = "bedrock";

/// A Bedrock model id (`anthropic.claude-3-5-haiku-20241022-v1:0`) or inference profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelId(String);

impl ModelId {
    pub fn new(id: &str) -> Self {
        Self(id.trim().to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where Converse is and how requests to it are signed.
#[derive(Debug, Clone)]
pub struct Converse {
    endpoint: BedrockEndpoint,
    region: AwsRegion,
    credentials: SharedCredentialsProvider,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    #[serde(default)]
    output: Option<Output>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
struct Output {
    #[serde(default)]
    message: Option<Message>,
}

#[derive(Debug, Deserialize)]
struct Message {
    #[serde(default)]
    content: Vec<Block>,
}

/// A content block: a union, of which the reviewer reads `toolUse` (and `text`, when a
/// model answers in prose despite the forced tool).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Block {
    #[serde(default)]
    tool_use: Option<ToolUse>,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ToolUse {
    #[serde(default)]
    name: String,
    #[serde(default)]
    input: serde_json::Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

impl Converse {
    pub fn new(endpoint: BedrockEndpoint, region: AwsRegion, credentials: SharedCredentialsProvider) -> Self {
        Self {
            endpoint,
            region,
            credentials,
        }
    }

    /// `{endpoint}/model/{modelId}/converse`, the model id percent-encoded as one path
    /// segment (`:` → `%3A`, as the SDK sends it).
    pub fn url(&self, model: &ModelId) -> String {
        format!("{}/model/{}/converse", self.endpoint.as_str(), encode(model.as_str()))
    }

    /// The request body of `task` (its schema is the one tool the model must call).
    pub fn request_body_for(task: &Task, user: &str) -> serde_json::Value {
        Self::request_body_with(task, user, (task.schema)(), task.max_tokens)
    }

    /// [`Self::request_body_for`] with another schema and answer length (the review's
    /// bounded ask).
    pub fn request_body_with(task: &Task, user: &str, schema: serde_json::Value, max_tokens: u32) -> serde_json::Value {
        json!({
            "messages": [{"role": "user", "content": [{"text": user}]}],
            "system": [{"text": task.system}],
            "inferenceConfig": {"maxTokens": max_tokens, "temperature": 0},
            "toolConfig": {
                "tools": [{"toolSpec": {
                    "name": task.name,
                    "description": task.description,
                    "inputSchema": {"json": schema},
                }}],
                "toolChoice": {"tool": {"name": task.name}},
            },
        })
    }

    /// The SigV4 headers for a JSON POST of `body` to `url` (`agnus_shared::sigv4`).
    async fn signed_headers(&self, url: &str, body: &[u8]) -> Result<Vec<(String, String)>, CallError> {
        agnus_shared::sigv4::json_post_headers(&self.credentials, self.region.as_str(), SIGNING_NAME, url, body).await
    }

    /// One signed call: the answer (the `tool` call's input, or why it is unusable) and
    /// the tokens billed.
    pub async fn call<T: serde::de::DeserializeOwned>(
        &self,
        http: &reqwest::Client,
        model: &ModelId,
        tool: &str,
        body: &serde_json::Value,
    ) -> Result<(Result<T, String>, u64, u64), CallError> {
        let url = self.url(model);
        let bytes = serde_json::to_vec(body).map_err(|e| CallError::unreadable(e.to_string()))?;
        let signed = self.signed_headers(&url, &bytes).await?;
        let mut request = http.post(&url).header("content-type", "application/json");
        for (name, value) in signed {
            request = request.header(name, value);
        }
        let (_, answer) = send_capped(LLM_ANSWER_CAP, request.body(bytes))
            .await
            .map_err(model_timeout_is_transient)?;
        let mut response: Response = serde_json::from_slice(&answer)
            .map_err(|e| CallError::unreadable(format!("not a Converse response: {e}")))?;
        let usage = response.usage.take().unwrap_or_default();
        Ok((answer_named(response, tool), usage.input_tokens, usage.output_tokens))
    }
}

/// Bedrock's `ModelTimeoutException` is a 408: the model took too long, try again later.
fn model_timeout_is_transient(e: CallError) -> CallError {
    match e {
        CallError::Rejected { status: 408, why } => CallError::RetryLater {
            after: None,
            why,
            status: 408,
        },
        other => other,
    }
}

/// The review in a Converse answer: the `code_review` tool call's input (a model that
/// answered with text is given the benefit of the doubt: the text is parsed as JSON).
#[cfg(test)]
fn answer_of(response: Response) -> Result<crate::validate::RawAnswer, String> {
    answer_named(response, TOOL_NAME)
}

/// The input of the call of `tool` in a Converse answer (or its text, parsed as JSON).
fn answer_named<T: serde::de::DeserializeOwned>(response: Response, tool: &str) -> Result<T, String> {
    let stop = response.stop_reason.unwrap_or_default();
    let blocks = response
        .output
        .and_then(|o| o.message)
        .map(|m| m.content)
        .unwrap_or_default();
    let mut text = None;
    for block in blocks {
        if let Some(call) = block.tool_use.filter(|t| t.name == tool) {
            return parse_value_as(call.input).map_err(|e| e.to_string());
        }
        if text.is_none() {
            text = block.text;
        }
    }
    match text {
        Some(t) => parse_as(&t).map_err(|e| format!("no {tool} call (stopReason {stop}): {e}")),
        None => Err(format!("no {tool} call (stopReason {stop})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;

    fn converse() -> Converse {
        let config = agnus_shared::config::ReviewerConfig::from_source(&std::collections::HashMap::from(
            [
                ("AGNUS_TABLE_NAME", "t"),
                ("AGNUS_REVIEW_JOBS_QUEUE_URL", "http://q"),
                ("AGNUS_LLM_PROVIDER", "bedrock"),
                ("AGNUS_KMS_KEY_ID", "alias/test"),
                ("AWS_REGION", "us-east-1"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        ))
        .unwrap();
        let agnus_shared::config::LlmApi::Bedrock { endpoint, region } = config.llm else {
            panic!("bedrock")
        };
        Converse::new(
            endpoint,
            region,
            SharedCredentialsProvider::new(Credentials::new(
                "ANOTREAL",
                "notrealrnrELgWzOk3IfjzDKtFBhDby",
                Some("notarealsessiontoken".into()),
                None,
                "test",
            )),
        )
    }

    #[test]
    fn the_model_id_is_one_encoded_path_segment() {
        let c = converse();
        assert_eq!(
            c.url(&ModelId::new("anthropic.claude-3-5-haiku-20241022-v1:0")),
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
        );
    }

    #[tokio::test]
    async fn requests_are_signed_for_bedrock_in_the_region() {
        let c = converse();
        let url = c.url(&ModelId::new("m"));
        let headers = c.signed_headers(&url, b"{}").await.unwrap();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default()
        };
        let auth = get("authorization");
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=ANOTREAL/"), "{auth}");
        assert!(auth.contains("/us-east-1/bedrock/aws4_request"), "{auth}");
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
            "{auth}"
        );
        assert_eq!(get("x-amz-security-token"), "notarealsessiontoken");
        assert!(!get("x-amz-date").is_empty());
    }

    #[test]
    fn the_tool_call_is_the_answer_and_prose_is_not() {
        let response = |content: serde_json::Value| -> Response {
            serde_json::from_value(json!({
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": "tool_use",
                "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
                "metrics": {"latencyMs": 100}
            }))
            .unwrap()
        };
        let ok = answer_of(response(json!([
            {"text": "Here is the review."},
            {"toolUse": {"toolUseId": "tooluse_1", "name": TOOL_NAME,
                         "input": {"summary": "Fine.", "comments": []}}}
        ])))
        .unwrap();
        assert_eq!(ok.summary, "Fine.");
        let err = answer_of(response(json!([{"text": "I think it is fine"}]))).unwrap_err();
        assert!(err.contains("no code_review call (stopReason tool_use)"), "{err}");
        let err = answer_of(response(json!([
            {"toolUse": {"toolUseId": "t", "name": TOOL_NAME, "input": {"summary": 3}}}
        ])))
        .unwrap_err();
        assert!(err.contains("invalid type"), "{err}");
    }
}
