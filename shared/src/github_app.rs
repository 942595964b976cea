//! GitHub App installations (issue "bot identity"): an org registers its own GitHub App
//! (app id, private key, installation id); the service signs the app's JSON Web Token with
//! the key (RS256, as GitHub documents in "Generating a JSON Web Token (JWT) for a GitHub
//! App") and trades it for short-lived installation access tokens scoped to one
//! repository ("Generating an installation access token for a GitHub App"). Reviews are
//! then posted as the app (`<app-slug>[bot]`), not as a person.
//!
//! This module is the pure part: the private key (parsed once, never printed), the JWT,
//! and the shapes of GitHub's answers. The calls are in [`client`]; the cache of minted
//! tokens in [`tokens`].

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub mod client;
pub mod tokens;

/// The largest PEM accepted (a 4096-bit PKCS#1 key is ~3.3 KB).
pub const MAX_PEM_BYTES: usize = 16 * 1024;
/// GitHub's apps sign with 2048-bit keys; larger ones are accepted up to 4096 bits.
const MIN_KEY_BITS: usize = 2048;
const MAX_KEY_BITS: usize = 4096;
/// The JWT's `iat` is set this far in the past (GitHub's advice against clock drift).
const JWT_BACKDATE_SECS: i64 = 60;
/// Its lifetime from `iat`: GitHub refuses more than 10 minutes.
const JWT_LIFETIME_SECS: i64 = 9 * 60;

/// Why a private key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the private key must be a PEM block (-----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----)")]
    NotPem,
    #[error("the private key is not an RSA key GitHub could have made")]
    NotRsa,
    #[error("the private key must be 2048 to 4096 bits")]
    Size,
}

/// A GitHub App's private key, parsed. Its `Debug` names only the fingerprint.
pub struct AppKey {
    pair: RsaKeyPair,
    fingerprint: String,
}

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppKey({})", self.fingerprint)
    }
}

impl AppKey {
    /// Parses the PEM GitHub hands out (PKCS#1 `RSA PRIVATE KEY`) or its PKCS#8 form
    /// (`PRIVATE KEY`, what `openssl pkcs8 -topk8` writes).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        if pem.len() > MAX_PEM_BYTES {
            return Err(KeyError::NotPem);
        }
        let (label, der) = pem_block(pem).ok_or(KeyError::NotPem)?;
        let pair = match label {
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            _ => return Err(KeyError::NotPem),
        }
        .map_err(|_| KeyError::NotRsa)?;
        let bits = pair.public_modulus_len() * 8;
        if !(MIN_KEY_BITS..=MAX_KEY_BITS).contains(&bits) {
            return Err(KeyError::Size);
        }
        let spki = pair.public_key().as_der().map_err(|_| KeyError::NotRsa)?;
        // As GitHub shows a key on the app's page: base64 of the SHA-256 of the public
        // key's DER (`openssl rsa -pubout -outform DER | openssl sha256 -binary | base64`).
        let fingerprint = format!("SHA256:{}", STANDARD.encode(Sha256::digest(spki.as_ref())));
        Ok(Self { pair, fingerprint })
    }

    /// The public key's fingerprint, as GitHub lists it under the app's private keys.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The app's JWT at `now` (Unix seconds): RS256, `iss` the app id, `iat` a minute in
    /// the past, `exp` nine minutes after it (GitHub allows ten).
    pub fn jwt(&self, app_id: u64, now: i64) -> Result<String, KeyError> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let iat = now - JWT_BACKDATE_SECS;
        let claims = format!(r#"{{"iat":{iat},"exp":{},"iss":"{app_id}"}}"#, iat + JWT_LIFETIME_SECS);
        let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| KeyError::NotRsa)?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// The first PEM block of `text`: its label and decoded body.
fn pem_block(text: &str) -> Option<(&str, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let label_end = rest.find("-----")?;
    let label = &rest[..label_end];
    let body = &rest[label_end + 5..];
    let end = body.find(&format!("-----END {label}-----"))?;
    let b64: String = body[..end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(b64).ok().map(|der| (label, der))
}

/// What an installation must allow for the engine to review with it: read the code,
/// write pull-request reviews and comments.
pub const REQUIRED_PERMISSIONS: &[(&str, &str)] = &[("contents", "read"), ("pull_requests", "write")];

/// `GET /app/installations/{installation_id}`: the fields the service keeps.
#[derive(Debug, Clone, Deserialize)]
pub struct Installation {
    pub id: u64,
    pub app_id: u64,
    pub app_slug: String,
    pub account: Option<Account>,
    #[serde(default)]
    pub repository_selection: String,
    #[serde(default)]
    pub permissions: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub suspended_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub login: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

impl Installation {
    /// The permissions of [`REQUIRED_PERMISSIONS`] the installation lacks (`write` covers
    /// `read`).
    pub fn missing_permissions(&self) -> Vec<String> {
        REQUIRED_PERMISSIONS
            .iter()
            .filter(|(name, level)| {
                let has = self.permissions.get(*name).map(String::as_str);
                !matches!((has, *level), (Some("write" | "admin"), _) | (Some("read"), "read"))
            })
            .map(|(name, level)| format!("{name}: {level}"))
            .collect()
    }

    /// The login GitHub gives the app's bot user: what its reviews are authored by.
    pub fn bot_login(&self) -> String {
        bot_login(&self.app_slug)
    }
}

/// `<app-slug>[bot]`: the author of everything an app posts.
pub fn bot_login(app_slug: &str) -> String {
    format!("{app_slug}[bot]")
}

/// A repository an installation can see (`GET /installation/repositories`).
#[derive(Debug, Clone, Deserialize)]
pub struct InstallationRepository {
    pub full_name: String,
    #[serde(default)]
    pub private: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct InstallationRepositories {
    #[serde(default)]
    pub total_count: u64,
    #[serde(default)]
    pub repositories: Vec<InstallationRepository>,
}

/// `POST /app/installations/{id}/access_tokens` (201).
#[derive(Deserialize)]
pub(crate) struct AccessToken {
    pub token: String,
    pub expires_at: String,
}

#[cfg(test)]
mod tests;
