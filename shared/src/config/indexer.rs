//! The indexer's configuration (docs/index.md): where jobs come from and graphs go, the
//! providers' APIs, and the caps of one job.

use super::{ConfigError, ProviderApis, Source, flag, kms_key_id, number, required};

/// The caps of one index job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexCaps {
    /// Compressed archive bytes (`AGNUS_INDEX_MAX_ARCHIVE_BYTES`); unpacked bytes may be
    /// four times this.
    pub archive_bytes: u64,
    /// Indexable files (`AGNUS_INDEX_MAX_FILES`).
    pub files: u32,
    /// Bytes of one source file (`AGNUS_INDEX_MAX_FILE_BYTES`): larger ones are skipped.
    pub file_bytes: u64,
    /// Source bytes parsed in one job (`AGNUS_INDEX_MAX_SOURCE_BYTES`).
    pub source_bytes: u64,
}

/// Configuration of the indexer function.
#[derive(Debug, Clone)]
pub struct IndexerConfig {
    pub table_name: String,
    /// Seals nothing: the graph objects are encrypted with it (SSE-KMS); tokens are opened
    /// with the key their ciphertext names.
    pub kms_key_id: String,
    pub bucket: String,
    pub s3_path_style: bool,
    /// Where a job that waits for its org's lease is queued again (with a delay).
    pub queue_url: String,
    pub providers: ProviderApis,
    /// Bitbucket Cloud serves archives from its web host, not the API host.
    pub bitbucket_web_url: String,
    pub caps: IndexCaps,
    /// Receives of one job before a transient failure becomes the record's failure (the
    /// queue's `maxReceiveCount`).
    pub max_attempts: u32,
    /// Files changed since the indexed commit above which an incremental job indexes in
    /// full instead (`AGNUS_INDEX_INCREMENTAL_MAX_FILES`).
    pub incremental_max_files: usize,
    /// Embeddings of the graph's symbols for `deep` reviews (`AGNUS_EMBEDDINGS_*`; `None`:
    /// no vectors object is written).
    pub embeddings: Option<super::EmbeddingsConfig>,
    /// Symbols embedded per graph, at most (`AGNUS_INDEX_EMBED_SYMBOLS`).
    pub embed_symbols: usize,
}

impl IndexerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&super::ProcessEnv)
    }

    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let caps = IndexCaps {
            archive_bytes: number(src, "AGNUS_INDEX_MAX_ARCHIVE_BYTES", 512 << 20)?,
            files: number(src, "AGNUS_INDEX_MAX_FILES", 50_000)?,
            file_bytes: number(src, "AGNUS_INDEX_MAX_FILE_BYTES", 1 << 20)?,
            source_bytes: number(src, "AGNUS_INDEX_MAX_SOURCE_BYTES", 256 << 20)?,
        };
        if caps.archive_bytes == 0 || caps.files == 0 || caps.file_bytes == 0 || caps.source_bytes == 0 {
            return Err(ConfigError::Invalid {
                name: "AGNUS_INDEX_MAX_*",
                reason: "the index caps must be positive".into(),
            });
        }
        let bitbucket_web_url = src
            .get("AGNUS_BITBUCKET_WEB_URL")
            .unwrap_or_else(|| "https://bitbucket.org".to_owned())
            .trim()
            .trim_end_matches('/')
            .to_owned();
        if !(bitbucket_web_url.starts_with("https://") || bitbucket_web_url.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                name: "AGNUS_BITBUCKET_WEB_URL",
                reason: format!("expected an http(s) URL, got {bitbucket_web_url:?}"),
            });
        }
        Ok(Self {
            table_name: required(src, "AGNUS_TABLE_NAME", "the DynamoDB table name")?,
            kms_key_id: kms_key_id(src)?,
            bucket: required(src, "AGNUS_INDEX_BUCKET", "the bucket of codebase-index graphs")?,
            s3_path_style: flag(src, "AGNUS_S3_FORCE_PATH_STYLE")?,
            queue_url: required(src, "AGNUS_INDEX_JOBS_QUEUE_URL", "the index-jobs queue URL")?,
            providers: ProviderApis::from_source(src)?,
            bitbucket_web_url,
            caps,
            max_attempts: number(src, "AGNUS_INDEX_MAX_ATTEMPTS", 5)?,
            incremental_max_files: number(src, "AGNUS_INDEX_INCREMENTAL_MAX_FILES", 200)?,
            embeddings: super::EmbeddingsConfig::from_source(src)?,
            embed_symbols: number(src, "AGNUS_INDEX_EMBED_SYMBOLS", 2000)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut m: HashMap<String, String> = [
            ("AGNUS_TABLE_NAME", "t"),
            ("AGNUS_KMS_KEY_ID", "alias/k"),
            ("AGNUS_INDEX_BUCKET", "b"),
            ("AGNUS_INDEX_JOBS_QUEUE_URL", "http://q"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for (k, v) in extra {
            m.insert((*k).to_owned(), (*v).to_owned());
        }
        m
    }

    #[test]
    fn defaults_and_refusals() {
        let c = IndexerConfig::from_source(&env(&[])).unwrap();
        assert_eq!(c.caps.files, 50_000);
        assert_eq!(c.bitbucket_web_url, "https://bitbucket.org");
        assert!(c.embeddings.is_none(), "embeddings are off unless configured");
        assert_eq!(c.embed_symbols, 2000);
        let on = IndexerConfig::from_source(&env(&[
            ("AGNUS_EMBEDDINGS_PROVIDER", "openai"),
            ("AGNUS_INDEX_EMBED_SYMBOLS", "50"),
        ]))
        .unwrap();
        assert!(on.embeddings.is_some());
        assert_eq!(on.embed_symbols, 50);
        assert!(IndexerConfig::from_source(&env(&[("AGNUS_INDEX_EMBED_SYMBOLS", "many")])).is_err());
        assert!(IndexerConfig::from_source(&env(&[("AGNUS_INDEX_MAX_FILES", "0")])).is_err());
        assert!(IndexerConfig::from_source(&env(&[("AGNUS_INDEX_MAX_FILE_BYTES", "lots")])).is_err());
        assert!(IndexerConfig::from_source(&env(&[("AGNUS_BITBUCKET_WEB_URL", "ftp://x")])).is_err());
        let mut missing = env(&[]);
        missing.remove("AGNUS_INDEX_BUCKET");
        assert!(IndexerConfig::from_source(&missing).is_err());
    }
}
