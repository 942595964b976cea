//! The embeddings client (issue 31): text in, [`Vector`]s out, from any OpenAI-compatible
//! `POST {base}/embeddings` or Amazon Bedrock's Titan Text Embeddings V2 through
//! InvokeModel (`POST {endpoint}/model/amazon.titan-embed-text-v2:0/invoke`, SigV4-signed
//! like the review engine's Converse calls: [`crate::sigv4`]). Shapes: OpenAI's API
//! reference ("Create embeddings") and Bedrock's model parameters page for Titan Text
//! Embeddings V2 (docs/review-engine.md cites both).
//!
//! Bounded: each input is cut to [`MAX_INPUT_BYTES`], a call takes at most
//! [`MAX_BATCH`] inputs, an answer is read up to [`MAX_ANSWER_BYTES`], a request (Titan:
//! each) ends at the configured timeout. Requests go over the AWS SDK's own HTTP client
//! (as `repo_access` does), so a function pays no second TLS stack for them. The text is
//! untrusted (review comments, code): it goes to the configured provider only, and is
//! never logged.

mod vector;

use std::sync::OnceLock;
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::primitives::{ByteStream, SdkBody};
use aws_smithy_http_client::Connector;
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::config::{AwsRegion, EmbeddingsApi, EmbeddingsConfig};
use crate::provider_api::{CallError, classify, encode};
pub use vector::{Vector, most_similar};

/// Bytes of one input sent, at most (cut on a character boundary): well inside Titan V2's
/// 8,192 tokens and OpenAI's 8,191.
pub const MAX_INPUT_BYTES: usize = 8 * 1024;
/// Inputs in one call, at most.
pub const MAX_BATCH: usize = 32;
/// Bytes of one answer read, at most.
pub const MAX_ANSWER_BYTES: usize = 8 << 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// SigV4 signing name of Bedrock Runtime.
const BEDROCK_SIGNING_NAME: &str = "bedrock";

/// Why there are no vectors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbeddingsError {
    /// The request failed (refused, unavailable, timed out, unsigned).
    #[error("embeddings request: {0}")]
    Call(CallError),
    /// A success that is not the documented answer (shape, count, dimensions).
    #[error("embeddings answer: {0}")]
    Answer(String),
    /// More inputs than one call takes.
    #[error("at most {MAX_BATCH} inputs per call")]
    TooManyInputs,
}

/// The API asked, with what it needs.
#[derive(Debug)]
enum Api {
    OpenAi {
        url: String,
        api_key: Option<SecretString>,
    },
    Titan {
        url: String,
        region: AwsRegion,
        credentials: Option<SharedCredentialsProvider>,
    },
}

/// The configured embeddings API.
#[derive(Debug)]
pub struct Embedder {
    api: Api,
    model: String,
    dimensions: Option<u32>,
    timeout: Duration,
    connector: OnceLock<Connector>,
}

/// `text` cut to at most [`MAX_INPUT_BYTES`], on a character boundary.
pub fn clip_input(text: &str) -> &str {
    if text.len() <= MAX_INPUT_BYTES {
        return text;
    }
    let mut end = MAX_INPUT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The OpenAI-compatible request body.
pub fn openai_body(model: &str, dimensions: Option<u32>, inputs: &[&str]) -> serde_json::Value {
    let input: Vec<&str> = inputs.iter().map(|t| clip_input(t)).collect();
    let mut body = json!({"model": model, "input": input, "encoding_format": "float"});
    if let Some(d) = dimensions {
        body["dimensions"] = json!(d);
    }
    body
}

/// The Titan Text Embeddings V2 request body.
pub fn titan_body(input: &str, dimensions: Option<u32>) -> serde_json::Value {
    json!({"inputText": clip_input(input), "dimensions": dimensions.unwrap_or(512), "normalize": true})
}

#[derive(Deserialize)]
struct OpenAiAnswer {
    data: Vec<OpenAiItem>,
}

#[derive(Deserialize)]
struct OpenAiItem {
    embedding: Vec<f32>,
    #[serde(default)]
    index: Option<usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TitanAnswer {
    embedding: Vec<f32>,
}

fn checked(values: Vec<f32>, dimensions: Option<u32>) -> Result<Vector, EmbeddingsError> {
    if let Some(d) = dimensions
        && values.len() != d as usize
    {
        return Err(EmbeddingsError::Answer(format!(
            "{} dimensions, {d} asked for",
            values.len()
        )));
    }
    Vector::new(values).ok_or_else(|| EmbeddingsError::Answer("an empty, too long or non-finite vector".into()))
}

/// An OpenAI-compatible answer for `n` inputs: one vector per input, in input order (by
/// `index`; in list order when a server leaves it out).
pub fn parse_openai(body: &[u8], n: usize, dimensions: Option<u32>) -> Result<Vec<Vector>, EmbeddingsError> {
    let answer: OpenAiAnswer =
        serde_json::from_slice(body).map_err(|e| EmbeddingsError::Answer(format!("not an embeddings list: {e}")))?;
    if answer.data.len() != n {
        return Err(EmbeddingsError::Answer(format!(
            "{} vectors for {n} inputs",
            answer.data.len()
        )));
    }
    let mut slots: Vec<Option<Vector>> = vec![None; n];
    for (position, item) in answer.data.into_iter().enumerate() {
        let i = item.index.unwrap_or(position);
        let slot = slots
            .get_mut(i)
            .filter(|s| s.is_none())
            .ok_or_else(|| EmbeddingsError::Answer(format!("index {i} out of range or repeated")))?;
        *slot = Some(checked(item.embedding, dimensions)?);
    }
    Ok(slots.into_iter().flatten().collect())
}

/// A Titan Text Embeddings V2 answer.
pub fn parse_titan(body: &[u8], dimensions: Option<u32>) -> Result<Vector, EmbeddingsError> {
    let answer: TitanAnswer = serde_json::from_slice(body)
        .map_err(|e| EmbeddingsError::Answer(format!("not a Titan embeddings answer: {e}")))?;
    checked(answer.embedding, dimensions)
}

impl Embedder {
    /// The configured API; `credentials`: the function's AWS credentials (Bedrock signs
    /// with them; unused for OpenAI).
    pub fn new(config: &EmbeddingsConfig, credentials: Option<SharedCredentialsProvider>) -> Self {
        let api = match &config.api {
            EmbeddingsApi::OpenAi { base_url, api_key } => Api::OpenAi {
                url: format!("{}/embeddings", base_url.trim_end_matches('/')),
                api_key: api_key.clone(),
            },
            EmbeddingsApi::Bedrock { endpoint, region } => Api::Titan {
                url: format!("{}/model/{}/invoke", endpoint.as_str(), encode(&config.model)),
                region: region.clone(),
                credentials,
            },
        };
        Self {
            api,
            model: config.model.clone(),
            dimensions: config.dimensions,
            timeout: config.timeout,
            connector: OnceLock::new(),
        }
    }

    /// With embeddings configured, the embedder signing with the SDK configuration's
    /// credentials.
    pub fn from_sdk(config: Option<&EmbeddingsConfig>, sdk: &aws_config::SdkConfig) -> Option<Self> {
        config.map(|c| Self::new(c, sdk.credentials_provider()))
    }

    /// The model's name: stored with every vector, so vectors of another model are never
    /// compared.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The URL requests go to.
    pub fn url(&self) -> &str {
        match &self.api {
            Api::OpenAi { url, .. } | Api::Titan { url, .. } => url,
        }
    }

    /// One vector per input, in order.
    pub async fn embed(&self, inputs: &[&str]) -> Result<Vec<Vector>, EmbeddingsError> {
        if inputs.len() > MAX_BATCH {
            return Err(EmbeddingsError::TooManyInputs);
        }
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        match &self.api {
            Api::OpenAi { url, api_key } => {
                let body = serde_json::to_vec(&openai_body(&self.model, self.dimensions, inputs))
                    .map_err(|e| EmbeddingsError::Answer(e.to_string()))?;
                let mut headers = Vec::new();
                if let Some(key) = api_key {
                    headers.push(("authorization".to_owned(), format!("Bearer {}", key.expose_secret())));
                }
                let answer = self.post(url, headers, body).await?;
                parse_openai(&answer, inputs.len(), self.dimensions)
            }
            Api::Titan {
                url,
                region,
                credentials,
            } => {
                let mut out = Vec::with_capacity(inputs.len());
                for input in inputs {
                    let body = serde_json::to_vec(&titan_body(input, self.dimensions))
                        .map_err(|e| EmbeddingsError::Answer(e.to_string()))?;
                    let credentials = credentials
                        .as_ref()
                        .ok_or(EmbeddingsError::Call(CallError::Unauthorized(0)))?;
                    let headers =
                        crate::sigv4::json_post_headers(credentials, region.as_str(), BEDROCK_SIGNING_NAME, url, &body)
                            .await
                            .map_err(EmbeddingsError::Call)?;
                    out.push(parse_titan(&self.post(url, headers, body).await?, self.dimensions)?);
                }
                Ok(out)
            }
        }
    }

    /// One input's vector.
    pub async fn embed_one(&self, input: &str) -> Result<Vector, EmbeddingsError> {
        self.embed(&[input])
            .await?
            .pop()
            .ok_or_else(|| EmbeddingsError::Answer("no vector".into()))
    }

    fn connector(&self) -> &Connector {
        self.connector
            .get_or_init(|| crate::repo_access::direct_connector(CONNECT_TIMEOUT))
    }

    /// A JSON POST within the timeout: the body of a success (at most
    /// [`MAX_ANSWER_BYTES`]), or the classified failure.
    async fn post(&self, url: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Result<Vec<u8>, EmbeddingsError> {
        let call = async {
            let mut request = HttpRequest::new(SdkBody::from(body));
            request.set_method("POST").map_err(CallError::network)?;
            request.set_uri(url).map_err(CallError::network)?;
            let invalid = |name: &str| CallError::network(format!("{name} is not a valid header value"));
            request
                .headers_mut()
                .try_insert("content-type", "application/json")
                .map_err(|_| invalid("content-type"))?;
            for (name, value) in headers {
                request
                    .headers_mut()
                    .try_insert(name.clone(), value)
                    .map_err(|_| invalid(&name))?;
            }
            let response = self.connector().call(request).await.map_err(CallError::network)?;
            let response = response.try_into_http1x().map_err(CallError::network)?;
            if !response.status().is_success() {
                return Err(classify(response.status(), response.headers()));
            }
            let mut stream = ByteStream::new(response.into_body());
            let mut answer = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(CallError::network)?;
                if answer.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(CallError::TooLarge {
                        limit: MAX_ANSWER_BYTES,
                    });
                }
                answer.extend_from_slice(&chunk);
            }
            Ok(answer)
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result.map_err(EmbeddingsError::Call),
            Err(_) => Err(EmbeddingsError::Call(CallError::network("timed out"))),
        }
    }
}

#[cfg(test)]
mod tests;
