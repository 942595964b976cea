//! Secrets at rest: sealed with KMS `Encrypt` under an encryption context naming the
//! org (and what the secret is for), so a ciphertext copied into another org's items
//! cannot be opened there. KMS throttling is retried with backoff by the SDK's standard
//! retry strategy (configured in `aws::load`).

use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;

#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    /// KMS refused or could not be reached; the caller answers 503.
    #[error("kms: {0}")]
    Unavailable(String),
    /// The ciphertext does not open under this context (wrong org, tampered).
    #[error("kms: ciphertext does not match its encryption context")]
    Invalid,
}

/// Seals and opens small secrets with one KMS key.
#[derive(Debug, Clone)]
pub struct SecretBox {
    kms: Client,
    key_id: String,
}

impl SecretBox {
    pub fn new(kms: Client, key_id: impl Into<String>) -> Self {
        Self {
            kms,
            key_id: key_id.into(),
        }
    }

    pub async fn seal(&self, context: &[(&str, &str)], plaintext: &[u8]) -> Result<Vec<u8>, KmsError> {
        let mut req = self.kms.encrypt().key_id(&self.key_id).plaintext(Blob::new(plaintext));
        for (k, v) in context {
            req = req.encryption_context(*k, *v);
        }
        let out = req.send().await.map_err(|e| KmsError::Unavailable(format!("{e:?}")))?;
        out.ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| KmsError::Unavailable("no ciphertext returned".into()))
    }

    pub async fn open(&self, context: &[(&str, &str)], ciphertext: &[u8]) -> Result<Vec<u8>, KmsError> {
        let mut req = self.kms.decrypt().ciphertext_blob(Blob::new(ciphertext));
        for (k, v) in context {
            req = req.encryption_context(*k, *v);
        }
        match req.send().await {
            Ok(out) => out
                .plaintext
                .map(Blob::into_inner)
                .ok_or_else(|| KmsError::Unavailable("no plaintext returned".into())),
            Err(e) => match e.as_service_error() {
                Some(se) if se.is_invalid_ciphertext_exception() || se.is_incorrect_key_exception() => {
                    Err(KmsError::Invalid)
                }
                _ => Err(KmsError::Unavailable(format!("{e:?}"))),
            },
        }
    }
}
