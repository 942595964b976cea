//! The embeddings API (issue 31, "Feedback by similarity"): any OpenAI-compatible
//! `POST {AGNUS_EMBEDDINGS_URL}/embeddings`, or Amazon Bedrock's Titan Text Embeddings V2
//! through InvokeModel. Unset (`AGNUS_EMBEDDINGS_PROVIDER` absent or `none`): no
//! embeddings anywhere, and every feature that uses them behaves as before.

use std::time::Duration;

use secrecy::SecretString;

use super::reviewer::{base_url, bedrock_runtime, positive};
use super::{AwsRegion, BedrockEndpoint, ConfigError, Source};

/// The longest vector stored or compared (OpenAI's largest model answers 3,072).
pub const MAX_DIMENSIONS: usize = 4_096;
/// The dimensions Titan Text Embeddings V2 accepts.
pub const TITAN_DIMENSIONS: [u32; 3] = [256, 512, 1024];
/// The Titan Text Embeddings V2 model id.
pub const TITAN_V2: &str = "amazon.titan-embed-text-v2:0";

/// Which embeddings API, and where.
#[derive(Debug, Clone)]
pub enum EmbeddingsApi {
    /// `POST {base_url}/embeddings` (bearer key, if any).
    OpenAi {
        base_url: String,
        api_key: Option<SecretString>,
    },
    /// `POST {endpoint}/model/{model}/invoke`, SigV4-signed with the function's credentials.
    Bedrock {
        endpoint: BedrockEndpoint,
        region: AwsRegion,
    },
}

/// The embeddings configuration, when embeddings are on.
#[derive(Debug, Clone)]
pub struct EmbeddingsConfig {
    pub api: EmbeddingsApi,
    /// `AGNUS_EMBEDDINGS_MODEL` (OpenAI default `text-embedding-3-small`, Bedrock
    /// [`TITAN_V2`]).
    pub model: String,
    /// `AGNUS_EMBEDDINGS_DIMENSIONS`: Bedrock 256, 512 (default) or 1024; OpenAI unset (the
    /// model's own) or 1..=[`MAX_DIMENSIONS`], sent as `dimensions`.
    pub dimensions: Option<u32>,
    /// `AGNUS_EMBEDDINGS_TIMEOUT_SECS` (default 10, at most 60): one request, whole.
    pub timeout: Duration,
}

impl EmbeddingsConfig {
    /// `None` when `AGNUS_EMBEDDINGS_PROVIDER` is unset or `none`.
    pub fn from_source(src: &dyn Source) -> Result<Option<Self>, ConfigError> {
        let provider = src
            .get("AGNUS_EMBEDDINGS_PROVIDER")
            .map(|p| p.trim().to_ascii_lowercase());
        let dimensions = match src.get("AGNUS_EMBEDDINGS_DIMENSIONS") {
            None => None,
            Some(_) => Some(positive(src, "AGNUS_EMBEDDINGS_DIMENSIONS", 1)? as u64),
        };
        let timeout = positive(src, "AGNUS_EMBEDDINGS_TIMEOUT_SECS", 10)?;
        if timeout > 60 {
            return Err(ConfigError::Invalid {
                name: "AGNUS_EMBEDDINGS_TIMEOUT_SECS",
                reason: "at most 60 seconds".into(),
            });
        }
        let model = |default: &str| {
            src.get("AGNUS_EMBEDDINGS_MODEL")
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        let (api, model, dimensions) = match provider.as_deref() {
            None | Some("none" | "") => return Ok(None),
            Some("openai") => {
                if dimensions.is_some_and(|d| d > MAX_DIMENSIONS as u64) {
                    return Err(ConfigError::Invalid {
                        name: "AGNUS_EMBEDDINGS_DIMENSIONS",
                        reason: format!("at most {MAX_DIMENSIONS}"),
                    });
                }
                let api = EmbeddingsApi::OpenAi {
                    base_url: base_url(src, "AGNUS_EMBEDDINGS_URL", "https://api.openai.com/v1")?,
                    api_key: src.get("AGNUS_EMBEDDINGS_API_KEY").map(SecretString::from),
                };
                (api, model("text-embedding-3-small"), dimensions.map(|d| d as u32))
            }
            Some("bedrock") => {
                let d = dimensions.unwrap_or(512);
                if !TITAN_DIMENSIONS.iter().any(|t| u64::from(*t) == d) {
                    return Err(ConfigError::Invalid {
                        name: "AGNUS_EMBEDDINGS_DIMENSIONS",
                        reason: format!("Titan Text Embeddings V2 takes 256, 512 or 1024, not {d}"),
                    });
                }
                let (endpoint, region) = bedrock_runtime(src)?;
                (
                    EmbeddingsApi::Bedrock { endpoint, region },
                    model(TITAN_V2),
                    Some(d as u32),
                )
            }
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "AGNUS_EMBEDDINGS_PROVIDER",
                    reason: format!("expected none, openai or bedrock, got {other:?}"),
                });
            }
        };
        Ok(Some(Self {
            api,
            model,
            dimensions,
            timeout: Duration::from_secs(timeout as u64),
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Option<EmbeddingsConfig>, ConfigError> {
        let src: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        EmbeddingsConfig::from_source(&src)
    }

    #[test]
    fn unset_or_none_means_no_embeddings() {
        assert!(parse(&[]).unwrap().is_none());
        assert!(parse(&[("AGNUS_EMBEDDINGS_PROVIDER", "none")]).unwrap().is_none());
        // The other settings alone turn nothing on.
        assert!(parse(&[("AGNUS_EMBEDDINGS_MODEL", "m")]).unwrap().is_none());
    }

    #[test]
    fn openai_takes_its_url_key_model_and_optional_dimensions() {
        let c = parse(&[("AGNUS_EMBEDDINGS_PROVIDER", "openai")]).unwrap().unwrap();
        assert_eq!((c.model.as_str(), c.dimensions), ("text-embedding-3-small", None));
        assert_eq!(c.timeout, Duration::from_secs(10));
        let EmbeddingsApi::OpenAi { base_url, api_key } = &c.api else {
            panic!("openai")
        };
        assert_eq!(
            (base_url.as_str(), api_key.is_none()),
            ("https://api.openai.com/v1", true)
        );
        let c = parse(&[
            ("AGNUS_EMBEDDINGS_PROVIDER", "openai"),
            ("AGNUS_EMBEDDINGS_URL", "http://localhost:11434/v1/"),
            ("AGNUS_EMBEDDINGS_MODEL", "nomic-embed-text"),
            ("AGNUS_EMBEDDINGS_API_KEY", "sk-1"),
            ("AGNUS_EMBEDDINGS_DIMENSIONS", "768"),
            ("AGNUS_EMBEDDINGS_TIMEOUT_SECS", "3"),
        ])
        .unwrap()
        .unwrap();
        let EmbeddingsApi::OpenAi { base_url, api_key } = &c.api else {
            panic!("openai")
        };
        assert_eq!(base_url, "http://localhost:11434/v1");
        assert_eq!(api_key.as_ref().unwrap().expose_secret(), "sk-1");
        assert_eq!((c.model.as_str(), c.dimensions), ("nomic-embed-text", Some(768)));
        assert_eq!(c.timeout, Duration::from_secs(3));
        assert!(!format!("{c:?}").contains("sk-1"), "the key never prints");
    }

    #[test]
    fn bedrock_takes_titan_dimensions_and_the_runtime_endpoint() {
        let c = parse(&[("AGNUS_EMBEDDINGS_PROVIDER", "bedrock"), ("AWS_REGION", "eu-west-1")])
            .unwrap()
            .unwrap();
        assert_eq!((c.model.as_str(), c.dimensions), (TITAN_V2, Some(512)));
        let EmbeddingsApi::Bedrock { endpoint, region } = &c.api else {
            panic!("bedrock")
        };
        assert_eq!(endpoint.as_str(), "https://bedrock-runtime.eu-west-1.amazonaws.com");
        assert_eq!(region.as_str(), "eu-west-1");
        let c = parse(&[
            ("AGNUS_EMBEDDINGS_PROVIDER", "bedrock"),
            ("AWS_REGION", "us-east-1"),
            ("AGNUS_EMBEDDINGS_DIMENSIONS", "1024"),
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:9"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.dimensions, Some(1024));
        let EmbeddingsApi::Bedrock { endpoint, .. } = &c.api else {
            panic!("bedrock")
        };
        assert_eq!(endpoint.as_str(), "http://127.0.0.1:9");
    }

    #[test]
    fn bad_settings_fail_fast_naming_the_variable() {
        let name = |pairs: &[(&str, &str)]| match parse(pairs) {
            Err(ConfigError::Invalid { name, .. } | ConfigError::Missing { name, .. }) => name,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            name(&[("AGNUS_EMBEDDINGS_PROVIDER", "cohere")]),
            "AGNUS_EMBEDDINGS_PROVIDER"
        );
        assert_eq!(
            name(&[
                ("AGNUS_EMBEDDINGS_PROVIDER", "bedrock"),
                ("AWS_REGION", "us-east-1"),
                ("AGNUS_EMBEDDINGS_DIMENSIONS", "300")
            ]),
            "AGNUS_EMBEDDINGS_DIMENSIONS"
        );
        assert_eq!(name(&[("AGNUS_EMBEDDINGS_PROVIDER", "bedrock")]), "AWS_REGION");
        assert_eq!(
            name(&[
                ("AGNUS_EMBEDDINGS_PROVIDER", "openai"),
                ("AGNUS_EMBEDDINGS_DIMENSIONS", "5000")
            ]),
            "AGNUS_EMBEDDINGS_DIMENSIONS"
        );
        assert_eq!(
            name(&[
                ("AGNUS_EMBEDDINGS_PROVIDER", "openai"),
                ("AGNUS_EMBEDDINGS_DIMENSIONS", "0")
            ]),
            "AGNUS_EMBEDDINGS_DIMENSIONS"
        );
        assert_eq!(
            name(&[
                ("AGNUS_EMBEDDINGS_PROVIDER", "openai"),
                ("AGNUS_EMBEDDINGS_URL", "ftp://x")
            ]),
            "AGNUS_EMBEDDINGS_URL"
        );
        assert_eq!(
            name(&[
                ("AGNUS_EMBEDDINGS_PROVIDER", "openai"),
                ("AGNUS_EMBEDDINGS_TIMEOUT_SECS", "61")
            ]),
            "AGNUS_EMBEDDINGS_TIMEOUT_SECS"
        );
    }
}
