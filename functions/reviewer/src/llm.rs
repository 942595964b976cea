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
pub use crate::task::{REVIEW, Task};
use crate::validate::{RawAnswer, parse_as};

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

/// What one call gives: the answer (or why it is unusable) and the tokens billed.
type Answered<T> = (Result<T, String>, u64, u64);

/// A usable answer.
#[derive(Debug, Clone)]
pub struct Completion {
    pub answer: RawAnswer,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// Why there is no usable answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    #[error("llm call: {0}")]
    Call(CallError),
    /// Twice an answer that is not the requested JSON.
    #[error("llm answer invalid: {0}")]
    InvalidAnswer(String),
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

    /// The request body (public for the tests that assert the exact shape).
    pub fn request_body(&self, user: &str) -> serde_json::Value {
        self.request_body_for(&REVIEW, user)
    }

    /// The request body of `task`.
    pub fn request_body_for(&self, task: &Task, user: &str) -> serde_json::Value {
        match &self.api {
            Api::Bedrock(_) => Converse::request_body_for(task, user),
            Api::OpenAi { .. } => json!({
                "model": self.model,
                "messages": [
                    {"role": "system", "content": task.system},
                    {"role": "user", "content": user},
                ],
                "temperature": 0,
                "max_tokens": task.max_tokens,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": task.name, "strict": true, "schema": (task.schema)()},
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
            Api::Bedrock(converse) => {
                converse
                    .call(&self.http, &ModelId::new(&self.model), task.name, body)
                    .await
            }
        };
        let call = match &result {
            Ok((Ok(_), input_tokens, output_tokens)) => LlmCall::Ok {
                input_tokens: *input_tokens,
                output_tokens: *output_tokens,
            },
            Ok((Err(_), _, _)) => LlmCall::Failed {
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
        let response: ChatResponse =
            serde_json::from_slice(&bytes).map_err(|e| CallError::unreadable(format!("not a chat completion: {e}")))?;
        let usage = response.usage.unwrap_or_default();
        let parsed = match response.choices.into_iter().next().map(|c| c.message) {
            Some(Message {
                content: Some(content), ..
            }) => parse_as(&content).map_err(|e| e.to_string()),
            Some(Message { refusal: Some(r), .. }) => Err(format!(
                "the model refused: {}",
                r.chars().take(200).collect::<String>()
            )),
            _ => Err("no message content".to_owned()),
        };
        Ok((parsed, usage.prompt_tokens, usage.completion_tokens))
    }

    /// Asks for a review of `user` (the user message); at most two calls.
    pub async fn review(&self, user: &str) -> Result<Completion, LlmError> {
        let body = self.request_body(user);
        let task = &REVIEW;
        let (mut prompt_tokens, mut completion_tokens) = (0, 0);
        let mut last = None;
        for attempt in 0..2 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            match self.once::<RawAnswer>(task, &body).await {
                Ok((Ok(answer), p, c)) => {
                    return Ok(Completion {
                        answer,
                        prompt_tokens: prompt_tokens + p,
                        completion_tokens: completion_tokens + c,
                    });
                }
                Ok((Err(why), p, c)) => {
                    prompt_tokens += p;
                    completion_tokens += c;
                    last = Some(LlmError::InvalidAnswer(why));
                }
                Err(e @ CallError::RetryLater { .. }) => last = Some(LlmError::Call(e)),
                Err(e) => return Err(LlmError::Call(e)),
            }
        }
        Err(last.unwrap_or_else(|| LlmError::InvalidAnswer("no answer".into())))
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
            Ok((Ok(answer), p, c)) => Ok((answer, p, c)),
            Ok((Err(why), p, c)) => Err((why, p, c)),
            Err(e) => Err((e.to_string(), 0, 0)),
        }
    }
}
