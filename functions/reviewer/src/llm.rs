//! The system-level LLM: an OpenAI-compatible Chat Completions endpoint
//! (`POST {AGNUS_LLM_BASE_URL}/chat/completions`) asked for structured output with
//! `response_format: {"type": "json_schema", …}`, or Amazon Bedrock's Converse API with a
//! forced tool call (`bedrock.rs`). Either way: one retry on a transient failure or an
//! unreadable answer, the same validation of the answer, and the tokens used come back for
//! the job record (and the org's monthly usage).

use std::time::Duration;

use agnus_shared::config::LlmApi;
use agnus_shared::metrics::{self, LlmCall};
use aws_credential_types::provider::SharedCredentialsProvider;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::bedrock::{Converse, ModelId};
use crate::http::{CallError, LLM_ANSWER_CAP, send_capped};
use crate::salvage::salvage_as;
use crate::task::Ask;
pub use crate::task::{REVIEW, Task};
use crate::validate::{RawAnswer, parse_as};
use agnus_shared::review_report::AnswerReport;

#[derive(Debug, Clone)]
pub struct Llm {
    http: reqwest::Client,
    model: String,
    api: Api,
}

/// The API asked, with what it needs.
#[derive(Debug, Clone)]
enum Api {
    OpenAi {
        base_url: String,
        api_key: Option<SecretString>,
    },
    Bedrock(Converse),
}

/// What one call gives: the answer (or why it is unusable), the tokens billed, and whether
/// it was cut short or salvaged.
pub type Answered<T> = (Result<T, String>, u64, u64, Cut);

/// An answer's ending: stopped at `max_tokens`, and whether only a salvaged prefix of it
/// parsed (`salvage.rs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cut {
    pub truncated: bool,
    pub salvaged: bool,
}

/// A usable answer.
#[derive(Debug, Clone)]
pub struct Completion {
    pub answer: RawAnswer,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Cut short, salvaged, asked again smaller (the job history records it).
    pub report: AnswerReport,
}

/// Why there is no usable answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    #[error("llm call: {0}")]
    Call(CallError),
    /// Twice an answer that is not the requested JSON (the second one smaller), and how
    /// they came.
    #[error("llm answer invalid: {0}")]
    InvalidAnswer(String, AnswerReport),
}

#[derive(Debug, Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

/// A Chat Completions answer's body read: the answer as `T` (whole, else salvaged from a
/// cut-short or over-long text), the tokens billed and how it ended. Pure, so recorded real
/// answers replay through it (`tests/fixtures/llm/`).
pub fn chat_answer<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<Answered<T>, CallError> {
    let response: ChatResponse =
        serde_json::from_slice(bytes).map_err(|e| CallError::unreadable(format!("not a chat completion: {e}")))?;
    let usage = response.usage.unwrap_or_default();
    let choice = response.choices.into_iter().next();
    let mut cut = Cut {
        truncated: choice
            .as_ref()
            .is_some_and(|c| c.finish_reason.as_deref() == Some("length")),
        salvaged: false,
    };
    let parsed = match choice.map(|c| c.message) {
        Some(Message {
            content: Some(content), ..
        }) => match parse_as(&content) {
            Ok(answer) => Ok(answer),
            // Cut short or followed by more text: the complete part may still serve.
            Err(e) => match salvage_as(&content) {
                Some(answer) => {
                    cut.salvaged = true;
                    Ok(answer)
                }
                None if cut.truncated => Err(format!("cut short at max_tokens: {e}")),
                None => Err(e.to_string()),
            },
        },
        Some(Message { refusal: Some(r), .. }) => Err(format!(
            "the model refused: {}",
            r.chars().take(200).collect::<String>()
        )),
        _ => Err("no message content".to_owned()),
    };
    Ok((parsed, usage.prompt_tokens, usage.completion_tokens, cut))
}

/// The metrics' error kind of a failed call.
fn error_kind(e: &CallError) -> &'static str {
    match e {
        CallError::Unauthorized(_) => "unauthorized",
        CallError::RetryLater { status: 0, .. } => "network",
        CallError::RetryLater { status: 429, .. } => "rate_limited",
        CallError::RetryLater { .. } => "server",
        CallError::NotFound | CallError::Rejected { .. } | CallError::TooLarge { .. } => "rejected",
    }
}

impl Llm {
    /// An OpenAI-compatible Chat Completions endpoint.
    pub fn new(http: reqwest::Client, base_url: &str, model: &str, api_key: Option<SecretString>) -> Self {
        Self {
            http,
            model: model.to_owned(),
            api: Api::OpenAi {
                base_url: base_url.trim_end_matches('/').to_owned(),
                api_key,
            },
        }
    }

    /// Bedrock Converse (requests signed with `credentials`).
    pub fn bedrock(http: reqwest::Client, converse: Converse, model: &str) -> Self {
        Self {
            http,
            model: model.to_owned(),
            api: Api::Bedrock(converse),
        }
    }

    /// The configured API; `credentials`: the function's AWS credentials (Bedrock signs
    /// with them; unused for OpenAI).
    pub fn from_config(
        http: reqwest::Client,
        api: &LlmApi,
        model: &str,
        credentials: SharedCredentialsProvider,
    ) -> Self {
        match api {
            LlmApi::OpenAi { base_url, api_key } => Self::new(http, base_url, model, api_key.clone()),
            LlmApi::Bedrock { endpoint, region } => Self::bedrock(
                http,
                Converse::new(endpoint.clone(), region.clone(), credentials),
                model,
            ),
        }
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The review's request body for `ask` (public for the tests that assert the exact
    /// shape): the schema bounded by it, `max_tokens` sized to it.
    pub fn request_body(&self, user: &str, ask: &Ask) -> serde_json::Value {
        let schema = crate::task::bounded_answer_schema(ask, self.honours_lengths());
        self.request_body_with(&REVIEW, user, schema, ask.max_tokens())
    }

    /// Whether the API's constrained decoding takes string `maxLength` in a strict schema:
    /// OpenAI's own (`api.openai.com`, Azure OpenAI) documents no string lengths in strict
    /// mode; llama.cpp, vLLM and Ollama turn them into their grammars; Bedrock's tool
    /// schema is not strict.
    pub fn honours_lengths(&self) -> bool {
        match &self.api {
            Api::Bedrock(_) => true,
            Api::OpenAi { base_url, .. } => {
                let host = base_url
                    .split("://")
                    .nth(1)
                    .unwrap_or(base_url)
                    .split(['/', ':'])
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                !(host == "api.openai.com" || host.ends_with(".openai.azure.com"))
            }
        }
    }

    /// The request body of `task`, as the task defines it.
    pub fn request_body_for(&self, task: &Task, user: &str) -> serde_json::Value {
        self.request_body_with(task, user, (task.schema)(), task.max_tokens)
    }

    fn request_body_with(
        &self,
        task: &Task,
        user: &str,
        schema: serde_json::Value,
        max_tokens: u32,
    ) -> serde_json::Value {
        match &self.api {
            Api::Bedrock(_) => Converse::request_body_with(task, user, schema, max_tokens),
            Api::OpenAi { .. } => json!({
                "model": self.model,
                "messages": [
                    {"role": "system", "content": task.system},
                    {"role": "user", "content": user},
                ],
                "temperature": 0,
                "max_tokens": max_tokens,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": task.name, "strict": true, "schema": schema},
                },
            }),
        }
    }

    /// One call, counted in the LLM metrics (requests, tokens, errors by kind).
    async fn once<T: serde::de::DeserializeOwned>(
        &self,
        task: &Task,
        body: &serde_json::Value,
    ) -> Result<Answered<T>, CallError> {
        let result = match &self.api {
            Api::OpenAi { base_url, api_key } => self.chat(base_url, api_key.as_ref(), body).await,
            Api::Bedrock(converse) => converse
                .call(&self.http, &ModelId::new(&self.model), task.name, body)
                .await
                .map(|(answer, p, c)| (answer, p, c, Cut::default())),
        };
        let call = match &result {
            Ok((Ok(_), input_tokens, output_tokens, _)) => LlmCall::Ok {
                input_tokens: *input_tokens,
                output_tokens: *output_tokens,
            },
            Ok((Err(_), _, _, _)) => LlmCall::Failed {
                kind: "invalid_response",
            },
            Err(e) => LlmCall::Failed { kind: error_kind(e) },
        };
        metrics::llm_call(&self.model, call);
        result
    }

    async fn chat<T: serde::de::DeserializeOwned>(
        &self,
        base_url: &str,
        api_key: Option<&SecretString>,
        body: &serde_json::Value,
    ) -> Result<Answered<T>, CallError> {
        let mut request = self.http.post(format!("{base_url}/chat/completions")).json(body);
        if let Some(key) = api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let (_, bytes) = send_capped(LLM_ANSWER_CAP, request).await?;
        chat_answer(&bytes)
    }

    /// Asks for a review of `user` (the user message) within `ask`; at most two calls. A
    /// transient failure is retried as it was; an unusable answer never is: the second
    /// request asks for less ([`Ask::smaller`]).
    pub async fn review(&self, user: &str, ask: Ask) -> Result<Completion, LlmError> {
        let mut ask = ask;
        let task = &REVIEW;
        let (mut prompt_tokens, mut completion_tokens) = (0, 0);
        let mut report = AnswerReport::default();
        let mut last = None;
        for attempt in 0..2 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let body = self.request_body(user, &ask);
            match self.once::<RawAnswer>(task, &body).await {
                Ok((Ok(answer), p, c, cut)) => {
                    report.truncated |= cut.truncated;
                    if cut.salvaged {
                        report.salvaged = Some(u32::try_from(answer.comments.len()).unwrap_or(u32::MAX));
                    }
                    return Ok(Completion {
                        answer,
                        prompt_tokens: prompt_tokens + p,
                        completion_tokens: completion_tokens + c,
                        report,
                    });
                }
                Ok((Err(why), p, c, cut)) => {
                    prompt_tokens += p;
                    completion_tokens += c;
                    report.truncated |= cut.truncated;
                    if attempt == 0 {
                        report.retried_smaller = true;
                        ask = ask.smaller();
                    }
                    last = Some(LlmError::InvalidAnswer(why, report));
                }
                Err(e @ CallError::RetryLater { .. }) => last = Some(LlmError::Call(e)),
                Err(e) => return Err(LlmError::Call(e)),
            }
        }
        Err(last.unwrap_or_else(|| LlmError::InvalidAnswer("no answer".into(), report)))
    }

    /// One call of `task` (no retry): the answer and the tokens billed, or why there is
    /// none (with the tokens an unusable answer cost).
    pub async fn ask_once<T: serde::de::DeserializeOwned>(
        &self,
        task: &Task,
        user: &str,
    ) -> Result<(T, u64, u64), (String, u64, u64)> {
        let body = self.request_body_for(task, user);
        match self.once::<T>(task, &body).await {
            Ok((Ok(answer), p, c, _)) => Ok((answer, p, c)),
            Ok((Err(why), p, c, _)) => Err((why, p, c)),
            Err(e) => Err((e.to_string(), 0, 0)),
        }
    }
}

#[cfg(test)]
#[path = "recorded_tests.rs"]
mod recorded_tests;
