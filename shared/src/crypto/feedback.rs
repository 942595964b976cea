//! The feedback links on posted review comments: HMAC-SHA256 under the org's own
//! feedback key over (org, comment, signal), so a link works without a session, cannot
//! be edited into another signal or comment, and another org's key never verifies it.
//! The key is 32 random bytes, sealed with KMS under the org's context at rest.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use super::kms::{KmsError, SecretBox};
use super::secrets::{hmac_sha256, hmac_sha256_verify, random_bytes};
use crate::domain::OrgId;
use crate::feedback::{CommentId, Signal};

/// An org's feedback signing key (never printed).
pub struct FeedbackKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for FeedbackKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FeedbackKey(<redacted>)")
    }
}

fn context(org: &str) -> [(&'static str, &str); 2] {
    [("orgId", org), ("purpose", "feedback-key")]
}

const DOMAIN: &[u8] = b"agnus-feedback-v1";

/// What a link signs: a domain tag, then org, comment and signal, newline-separated.
fn signed_parts<'a>(org: &'a str, comment: &'a CommentId, signal: Signal) -> [&'a [u8]; 7] {
    [
        DOMAIN,
        b"\n",
        org.as_bytes(),
        b"\n",
        comment.as_str().as_bytes(),
        b"\n",
        signal.as_str().as_bytes(),
    ]
}

impl FeedbackKey {
    /// A fresh key and its sealed form (what the store keeps).
    pub async fn generate(sealer: &SecretBox, org: &OrgId) -> Result<(Self, Vec<u8>), KmsError> {
        let key = Zeroizing::new(random_bytes::<32>());
        let sealed = sealer.seal(&context(&org.to_string()), key.as_slice()).await?;
        Ok((Self(key), sealed))
    }

    /// Opens a sealed key; `KmsError::Invalid` if it was sealed for another org.
    pub async fn open(sealer: &SecretBox, org: &OrgId, sealed: &[u8]) -> Result<Self, KmsError> {
        let plain = Zeroizing::new(sealer.open(&context(&org.to_string()), sealed).await?);
        let bytes: [u8; 32] = plain.as_slice().try_into().map_err(|_| KmsError::Invalid)?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    #[cfg(test)]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The link's `sig` parameter (base64url, 43 characters).
    pub fn sign(&self, org: &OrgId, comment: &CommentId, signal: Signal) -> String {
        let org = org.to_string();
        URL_SAFE_NO_PAD.encode(hmac_sha256(self.0.as_slice(), &signed_parts(&org, comment, signal)))
    }

    /// Checks a link's signature in constant time.
    pub fn verify(&self, org: &OrgId, comment: &CommentId, signal: Signal, sig: &str) -> bool {
        let Ok(expected) = URL_SAFE_NO_PAD.decode(sig.as_bytes()) else {
            return false;
        };
        let org = org.to_string();
        hmac_sha256_verify(self.0.as_slice(), &signed_parts(&org, comment, signal), &expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (OrgId, CommentId) {
        (OrgId::new(), CommentId::new(1_700_000_000_000))
    }

    #[test]
    fn a_signature_binds_org_comment_signal_and_key() {
        let (org, comment) = ids();
        let key = FeedbackKey::from_bytes([7; 32]);
        let sig = key.sign(&org, &comment, Signal::Helpful);
        assert!(key.verify(&org, &comment, Signal::Helpful, &sig));
        assert!(
            !key.verify(&org, &comment, Signal::NotHelpful, &sig),
            "the signal is signed"
        );
        assert!(
            !key.verify(&OrgId::new(), &comment, Signal::Helpful, &sig),
            "the org is signed"
        );
        assert!(
            !key.verify(&org, &CommentId::new(1_700_000_000_001), Signal::Helpful, &sig),
            "the comment is signed"
        );
        assert!(
            !FeedbackKey::from_bytes([8; 32]).verify(&org, &comment, Signal::Helpful, &sig),
            "another org's key"
        );
        assert!(!key.verify(&org, &comment, Signal::Helpful, "not base64 !"));
        assert!(!key.verify(&org, &comment, Signal::Helpful, &sig[..20]));
        assert!(!format!("{key:?}").contains('7'));
    }
}
