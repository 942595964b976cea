//! All cryptography lives here: argon2id password hashing and HS256 session tokens
//! (this file), webhook secrets and constant-time HMAC checks (`secrets`), and KMS
//! sealing of secrets at rest (`kms`). Hashing runs on the blocking pool so it never
//! stalls the async runtime.

mod feedback;
mod kms;
mod secrets;

pub use feedback::FeedbackKey;
pub use kms::{KmsError, SecretBox};
pub use secrets::{
    API_KEY_PREFIX, WebhookSecret, api_key_well_formed, constant_time_eq, generate_api_key, hmac_sha256,
    hmac_sha256_verify, preview_tail, random_bytes, sha256_hex,
};

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::{Password, SessionId, UserId};

/// argon2id cost parameters; never below OWASP's minimum (m=19456 KiB, t=2, p=1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl PasswordParams {
    pub const OWASP_MIN: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, String> {
        if memory_kib < Self::OWASP_MIN.memory_kib || iterations < Self::OWASP_MIN.iterations || parallelism < 1 {
            return Err(format!(
                "argon2id parameters must be at least m={} KiB, t={}, p=1 (OWASP); got m={memory_kib}, t={iterations}, p={parallelism}",
                Self::OWASP_MIN.memory_kib,
                Self::OWASP_MIN.iterations
            ));
        }
        Ok(Self {
            memory_kib,
            iterations,
            parallelism,
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        // Bounds were checked in `new`, so Params::new cannot fail here.
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None).unwrap_or(Params::DEFAULT);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

/// A stored password hash: an argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`),
/// or, for an account imported from the single-tenant install until its first login, bcrypt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHashString(String);

impl PasswordHashString {
    /// Wraps a hash read from the store; it is parsed when verified.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("blocking task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("token signing failed: {0}")]
    Sign(String),
}

/// Outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Correct, and the stored hash meets the configured parameters.
    Ok,
    /// Correct, but stored with weaker parameters: the caller should store a new hash.
    OkNeedsRehash,
    Wrong,
}

/// Hashes and verifies passwords; cheap to clone.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: PasswordParams,
    /// What an unknown email is verified against, so that "no such user" and "wrong
    /// password" take the same time: an argon2id PHC string with the configured cost, a
    /// random salt and a random output. Verifying it runs one full argon2id computation,
    /// exactly as for a real account, and never matches; making it costs nothing, so a
    /// cold start does no hashing (it used to hash a random password at init).
    dummy: Arc<PasswordHashString>,
    /// Its bcrypt counterpart at the imported accounts' cost ([`LEGACY_BCRYPT_COST`]), made
    /// the same way (random salt and output: full work to verify, matches nothing).
    bcrypt_dummy: Arc<PasswordHashString>,
}

/// A PHC string that costs what a real hash with `params` costs to verify and matches no
/// password (its "output" is random bytes, not the hash of anything).
fn dummy_phc(params: PasswordParams) -> PasswordHashString {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    let salt: [u8; 16] = secrets::random_bytes();
    let output: [u8; 32] = secrets::random_bytes();
    PasswordHashString(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(output)
    ))
}

/// A bcrypt hash at [`LEGACY_BCRYPT_COST`] that matches no password: a random salt and a
/// random output, in bcrypt's own base64.
fn dummy_bcrypt() -> PasswordHashString {
    use base64::Engine as _;
    let engine =
        base64::engine::GeneralPurpose::new(&base64::alphabet::BCRYPT, base64::engine::general_purpose::NO_PAD);
    let salt: [u8; 16] = secrets::random_bytes();
    let output: [u8; 23] = secrets::random_bytes();
    PasswordHashString(format!(
        "$2b${LEGACY_BCRYPT_COST:02}${}{}",
        engine.encode(salt),
        engine.encode(output)
    ))
}

impl PasswordHasher {
    pub fn new(params: PasswordParams) -> Self {
        Self {
            params,
            dummy: Arc::new(dummy_phc(params)),
            bcrypt_dummy: Arc::new(dummy_bcrypt()),
        }
    }

    pub fn params(&self) -> PasswordParams {
        self.params
    }

    pub async fn hash(&self, password: &Password) -> Result<PasswordHashString, CryptoError> {
        let params = self.params;
        let bytes = zeroizing_copy(password.expose());
        tokio::task::spawn_blocking(move || {
            params
                .argon2()
                .hash_password(&bytes)
                .map(|h| PasswordHashString(h.to_string()))
                .map_err(|e| CryptoError::Hash(e.to_string()))
        })
        .await?
    }

    pub async fn verify(&self, password: &str, stored: &PasswordHashString) -> Result<Verified, CryptoError> {
        let params = self.params;
        let bytes = zeroizing_copy(password);
        let stored = stored.0.clone();
        Ok(tokio::task::spawn_blocking(move || verify_one(params, &bytes, &stored).0).await?)
    }

    /// Spends the same work as a real verification, for unknown accounts.
    pub async fn verify_dummy(&self, password: &str) -> Result<(), CryptoError> {
        let _ = self.verify(password, &self.dummy).await?;
        Ok(())
    }

    /// A login's password check: against the account's hash, or (`None`: no such account)
    /// against the dummy. Every check runs one argon2id and one bcrypt verification at the
    /// imported accounts' cost — the account's own hash and a dummy of the other algorithm
    /// (both dummies for an unknown address) — so an unknown address, an argon2id account
    /// and an account imported with a bcrypt hash cost the same.
    pub async fn check_login(
        &self,
        password: &str,
        stored: Option<&PasswordHashString>,
    ) -> Result<Verified, CryptoError> {
        Ok(self.check_login_work(password, stored).await?.0)
    }

    /// [`Self::check_login`], and the hash computations it ran.
    async fn check_login_work(
        &self,
        password: &str,
        stored: Option<&PasswordHashString>,
    ) -> Result<(Verified, HashWork), CryptoError> {
        let params = self.params;
        let bytes = zeroizing_copy(password);
        let (real, other) = match stored {
            Some(hash) if is_bcrypt(&hash.0) => (hash.0.clone(), self.dummy.0.clone()),
            Some(hash) => (hash.0.clone(), self.bcrypt_dummy.0.clone()),
            None => (self.dummy.0.clone(), self.bcrypt_dummy.0.clone()),
        };
        Ok(tokio::task::spawn_blocking(move || {
            let (verified, work) = verify_one(params, &bytes, &real);
            let (_, more) = verify_one(params, &bytes, &other);
            let work = HashWork {
                argon2id: work.argon2id + more.argon2id,
                bcrypt: work.bcrypt + more.bcrypt,
            };
            (verified, work)
        })
        .await?)
    }
}

/// The hash computations a check ran (each counted only if it ran to the end).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct HashWork {
    argon2id: u32,
    bcrypt: u32,
}

/// Checks `password` against one stored hash (argon2id PHC or imported bcrypt).
fn verify_one(params: PasswordParams, password: &[u8], stored: &str) -> (Verified, HashWork) {
    let mut work = HashWork::default();
    if is_bcrypt(stored) {
        let verified = verify_bcrypt(password, stored, &mut work);
        return (verified, work);
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return (Verified::Wrong, work);
    };
    // Verification uses the parameters embedded in the stored hash.
    match params.argon2().verify_password(password, &parsed) {
        Ok(()) => work.argon2id += 1,
        Err(argon2::password_hash::Error::PasswordInvalid) => {
            work.argon2id += 1;
            return (Verified::Wrong, work);
        }
        Err(_) => return (Verified::Wrong, work),
    }
    let weaker = parsed.algorithm.as_str() != "argon2id"
        || Params::try_from(&parsed).map_or(true, |p| {
            p.m_cost() < params.memory_kib || p.t_cost() < params.iterations || p.p_cost() < params.parallelism
        });
    (if weaker { Verified::OkNeedsRehash } else { Verified::Ok }, work)
}

/// The bcrypt cost of the hashes imported from the single-tenant install (bcryptjs' default).
pub const LEGACY_BCRYPT_COST: u32 = 10;

/// A bcrypt hash (`$2a$`/`$2b$`/`$2y$`), as the single-tenant AgnusAI stored them
/// (bcryptjs, cost 10); only accounts imported by the upgrade carry one.
fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|p| stored.starts_with(p))
}

/// Checks a password against an imported bcrypt hash. A match always asks for a rehash:
/// the caller stores an argon2id hash at that login, so bcrypt is verified once.
fn verify_bcrypt(password: &[u8], stored: &str, work: &mut HashWork) -> Verified {
    match bcrypt::verify(password, stored) {
        Ok(true) => {
            work.bcrypt += 1;
            Verified::OkNeedsRehash
        }
        Ok(false) => {
            work.bcrypt += 1;
            Verified::Wrong
        }
        Err(_) => Verified::Wrong,
    }
}

/// Copies password bytes for the blocking task; the copy is wiped when dropped.
fn zeroizing_copy(s: &str) -> zeroize::Zeroizing<Vec<u8>> {
    zeroize::Zeroizing::new(s.as_bytes().to_vec())
}

/// Session token claims: who, which session, which epoch (bumped by "log out everywhere").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionClaims {
    pub sub: UserId,
    pub sid: SessionId,
    pub ep: u64,
    pub iat: u64,
    pub exp: u64,
}

/// HS256 signer/verifier for session tokens.
pub struct SessionTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionTokens(HS256, key redacted)")
    }
}

impl SessionTokens {
    pub fn new(key: &[u8]) -> Self {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
        }
    }

    pub fn issue(&self, claims: &SessionClaims) -> Result<String, CryptoError> {
        jsonwebtoken::encode(&Header::new(jsonwebtoken::Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| CryptoError::Sign(e.to_string()))
    }

    /// `None` for anything but a well-signed, unexpired HS256 token.
    pub fn verify(&self, token: &str) -> Option<SessionClaims> {
        jsonwebtoken::decode::<SessionClaims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn pw(s: &str) -> Password {
        Password::parse(SecretString::from(s.to_owned())).unwrap()
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters() {
        let h = PasswordHasher::new(PasswordParams::OWASP_MIN);
        let stored = h.hash(&pw("correct horse battery")).await.unwrap();
        assert!(
            stored.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            stored.as_str()
        );
        assert_eq!(h.verify("correct horse battery", &stored).await.unwrap(), Verified::Ok);
        assert_eq!(
            h.verify("correct horse batterY", &stored).await.unwrap(),
            Verified::Wrong
        );
        assert_eq!(
            h.verify("x", &PasswordHashString::from_stored("garbage".into()))
                .await
                .unwrap(),
            Verified::Wrong
        );
    }

    #[tokio::test]
    async fn the_dummy_has_the_configured_cost_and_matches_nothing() {
        let params = PasswordParams::new(19_456, 3, 1).unwrap();
        let h = PasswordHasher::new(params);
        let parsed = PasswordHash::new(h.dummy.as_str()).expect("a valid PHC string");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let cost = Params::try_from(&parsed).unwrap();
        assert_eq!((cost.m_cost(), cost.t_cost(), cost.p_cost()), (19_456, 3, 1));
        assert_eq!(
            parsed.hash.map(|o| o.len()),
            Some(32),
            "a full-length output: full work to verify"
        );
        // It verifies (one full argon2id run) and never matches; another hasher's differs.
        assert_eq!(h.verify("", &h.dummy).await.unwrap(), Verified::Wrong);
        assert_eq!(
            h.verify("correct horse battery", &h.dummy).await.unwrap(),
            Verified::Wrong
        );
        h.verify_dummy("anything").await.unwrap();
        assert_ne!(h.dummy.as_str(), PasswordHasher::new(params).dummy.as_str());
    }

    #[tokio::test]
    async fn weaker_stored_hashes_ask_for_a_rehash() {
        let strong = PasswordHasher::new(PasswordParams::new(19_456, 3, 1).unwrap());
        let weak = PasswordHasher::new(PasswordParams::OWASP_MIN);
        let stored = weak.hash(&pw("correct horse battery")).await.unwrap();
        assert_eq!(
            strong.verify("correct horse battery", &stored).await.unwrap(),
            Verified::OkNeedsRehash
        );
        assert_eq!(
            strong.verify("wrong horse battery", &stored).await.unwrap(),
            Verified::Wrong
        );
    }

    #[tokio::test]
    async fn imported_bcrypt_hashes_verify_once_then_ask_for_argon2id() {
        let h = PasswordHasher::new(PasswordParams::OWASP_MIN);
        // bcryptjs writes `$2a$`; the bcrypt crate `$2b$`: both are accepted.
        let parts = bcrypt::hash_with_result("legacy password", 4).unwrap();
        for stored in [
            parts.format_for_version(bcrypt::Version::TwoA),
            parts.format_for_version(bcrypt::Version::TwoB),
        ] {
            let stored = PasswordHashString::from_stored(stored);
            assert_eq!(
                h.verify("legacy password", &stored).await.unwrap(),
                Verified::OkNeedsRehash
            );
            assert_eq!(h.verify("legacy passworD", &stored).await.unwrap(), Verified::Wrong);
        }
        assert_eq!(
            h.verify("x", &PasswordHashString::from_stored("$2a$10$short".into()))
                .await
                .unwrap(),
            Verified::Wrong
        );
    }

    /// An unknown address, an argon2id account and an imported bcrypt account (at the
    /// single-tenant install's cost) cost a login the same hash computations, right or
    /// wrong password: work, not time, is compared (timing is measured in BENCHMARKS.md).
    #[tokio::test]
    async fn a_login_runs_the_same_hashes_whether_or_not_the_account_exists() {
        let h = PasswordHasher::new(PasswordParams::OWASP_MIN);
        let argon = h.hash(&pw("correct horse battery")).await.unwrap();
        let bcrypt = PasswordHashString::from_stored(
            bcrypt::hash_with_result("correct horse battery", LEGACY_BCRYPT_COST)
                .unwrap()
                .format_for_version(bcrypt::Version::TwoA),
        );
        let unknown = h.check_login_work("correct horse battery", None).await.unwrap();
        assert_eq!(unknown.0, Verified::Wrong);
        for (stored, right) in [(&argon, Verified::Ok), (&bcrypt, Verified::OkNeedsRehash)] {
            for (password, expected) in [
                ("correct horse battery", right),
                ("wrong horse battery", Verified::Wrong),
            ] {
                let (verified, work) = h.check_login_work(password, Some(stored)).await.unwrap();
                assert_eq!(verified, expected);
                assert_eq!(work, unknown.1, "{}… with {password:?}", &stored.as_str()[..7]);
            }
        }
        assert_eq!(unknown.1, HashWork { argon2id: 1, bcrypt: 1 });
        assert!(
            h.bcrypt_dummy.as_str().starts_with("$2b$10$"),
            "the imported accounts' cost"
        );
    }

    #[tokio::test]
    async fn dummy_verification_works_repeatedly() {
        let h = PasswordHasher::new(PasswordParams::OWASP_MIN);
        h.verify_dummy("whatever password").await.unwrap();
        h.verify_dummy("whatever password").await.unwrap();
    }

    fn claims(exp_offset: i64) -> SessionClaims {
        let now = jsonwebtoken::get_current_timestamp();
        SessionClaims {
            sub: UserId::new(),
            sid: SessionId::new(),
            ep: 0,
            iat: now,
            exp: now.saturating_add_signed(exp_offset),
        }
    }

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let t = SessionTokens::new(&[7u8; 32]);
        let c = claims(600);
        let token = t.issue(&c).unwrap();
        assert_eq!(t.verify(&token), Some(c));
        let other = SessionTokens::new(&[8u8; 32]);
        assert_eq!(other.verify(&token), None, "another key must not verify");
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(t.verify(&tampered), None);
        assert_eq!(t.verify("not.a.token"), None);
    }

    #[test]
    fn expired_tokens_are_rejected() {
        let t = SessionTokens::new(&[7u8; 32]);
        let token = t.issue(&claims(-5)).unwrap();
        assert_eq!(t.verify(&token), None);
    }

    #[test]
    fn alg_none_is_rejected() {
        let t = SessionTokens::new(&[7u8; 32]);
        let token = t.issue(&claims(600)).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        // {"alg":"none","typ":"JWT"}
        let forged = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert_eq!(t.verify(&forged), None);
    }

    use proptest::prelude::*;

    proptest! {
        /// Session tokens come from cookies: any text, or three base64url parts of anything.
        #[test]
        fn any_session_token_is_refused_without_a_panic(
            token in prop_oneof![
                any::<String>(),
                (any::<Vec<u8>>(), any::<Vec<u8>>(), any::<Vec<u8>>()).prop_map(|(a, b, c)| {
                    use base64::Engine as _;
                    let e = |x: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(x);
                    format!("{}.{}.{}", e(&a), e(&b), e(&c))
                }),
            ],
        ) {
            prop_assert!(SessionTokens::new(b"a key of the fuzz, long enough....").verify(&token).is_none());
        }
    }
}
