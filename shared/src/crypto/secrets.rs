//! Webhook secrets and the primitives that check them: HMAC-SHA256 verified in constant
//! time (`Mac::verify_slice`), constant-time byte comparison, OS randomness.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::Provider;

type HmacSha256 = Hmac<Sha256>;

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS RNG failing is unrecoverable; never fall back to a weaker source.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut buf).expect("the OS random number generator is unavailable");
    buf
}

/// Equal bytes, compared in constant time; different lengths are a plain `false`.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// Checks `expected` against HMAC-SHA256(key, parts…) in constant time.
pub fn hmac_sha256_verify(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    for p in parts {
        mac.update(p);
    }
    mac.verify_slice(expected).is_ok()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A webhook signing secret as the provider is configured with it. 32 random bytes,
/// written as 64 hex characters — or, for GitLab, as a Standard-Webhooks `whsec_`
/// base64 secret, which also works as a plain `X-Gitlab-Token`.
#[derive(Debug, Clone)]
pub struct WebhookSecret(SecretString);

impl WebhookSecret {
    pub fn generate(provider: Provider) -> Self {
        let bytes = random_bytes::<32>();
        let text = match provider {
            Provider::Gitlab => format!("whsec_{}", STANDARD.encode(bytes)),
            _ => hex::encode(bytes),
        };
        Self(SecretString::from(text))
    }

    /// Wraps a secret decrypted from the store (or imported by the migration).
    pub fn from_plaintext(text: String) -> Self {
        Self(SecretString::from(text))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The key for HMAC signatures made over the secret string (GitHub, Bitbucket).
    pub fn hmac_key(&self) -> &[u8] {
        self.expose().as_bytes()
    }

    /// The key of a Standard-Webhooks secret (`whsec_<base64>`), if this is one.
    pub fn standard_webhooks_key(&self) -> Option<Vec<u8>> {
        self.expose()
            .strip_prefix("whsec_")
            .and_then(|b64| STANDARD.decode(b64).ok())
    }

    /// The last four characters, for listings.
    pub fn preview(&self) -> String {
        preview_tail(self.expose())
    }
}

/// `…` and the last four characters of a secret or token, for listings. Counts
/// characters, not bytes: a token may hold any text (`"x€yy"`), and a byte slice through
/// the middle of a character panics.
pub fn preview_tail(secret: &str) -> String {
    let start = secret.char_indices().rev().nth(3).map_or(0, |(i, _)| i);
    format!("…{}", &secret[start..])
}

/// Prefix of every API key, so leaked keys are recognizable (secret scanners).
pub const API_KEY_PREFIX: &str = "agn_";
const API_KEY_RANDOM_CHARS: usize = 32;
const API_KEY_CHECK_CHARS: usize = 8;

fn api_key_check(prefix_and_random: &str) -> String {
    hex::encode(&Sha256::digest(prefix_and_random.as_bytes())[..API_KEY_CHECK_CHARS / 2])
}

/// A new API key: `agn_` + 32 base64url characters (192 random bits) + an 8-hex
/// checksum, so typos and truncations are refused without touching the store.
pub fn generate_api_key() -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let body = format!("{API_KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes::<24>()));
    let check = api_key_check(&body);
    format!("{body}{check}")
}

/// Is this shaped like one of our API keys, with a valid checksum?
pub fn api_key_well_formed(key: &str) -> bool {
    let expected_len = API_KEY_PREFIX.len() + API_KEY_RANDOM_CHARS + API_KEY_CHECK_CHARS;
    if key.len() != expected_len || !key.starts_with(API_KEY_PREFIX) || !key.is_ascii() {
        return false;
    }
    let (body, check) = key.split_at(expected_len - API_KEY_CHECK_CHARS);
    constant_time_eq(api_key_check(body).as_bytes(), check.as_bytes())
}

#[cfg(test)]
mod preview_props {
    use super::{API_KEY_PREFIX, api_key_well_formed, preview_tail};
    use proptest::prelude::*;

    #[test]
    fn multibyte_tokens_preview_by_character() {
        assert_eq!(preview_tail("x€yy"), "…x€yy");
        assert_eq!(preview_tail("ab€cdé"), "…€cdé");
        assert_eq!(preview_tail(""), "…");
    }

    proptest! {
        #[test]
        fn any_text_is_a_well_formed_api_key_or_not(
            s in prop_oneof![any::<String>(), "agn_\\PC{0,40}", "agn_[A-Za-z0-9_-]{32}[0-9a-f]{8}"],
        ) {
            if api_key_well_formed(&s) {
                prop_assert!(s.is_ascii() && s.len() == 44 && s.starts_with(API_KEY_PREFIX));
            }
        }

        #[test]
        fn never_panics_and_keeps_at_most_four_characters(s in any::<String>()) {
            let p = preview_tail(&s);
            let tail: String = s.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
            prop_assert_eq!(p, format!("…{tail}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_carry_prefix_and_checksum() {
        let key = generate_api_key();
        assert!(key.starts_with("agn_") && key.len() == 44, "{key}");
        assert!(api_key_well_formed(&key));
        let mut typo = key.clone().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        assert!(!api_key_well_formed(&String::from_utf8(typo).unwrap()));
        assert!(!api_key_well_formed(&key[..43]));
        assert!(!api_key_well_formed("agn_"));
        assert_ne!(generate_api_key(), key);
    }

    #[test]
    fn github_documented_test_vector() {
        // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
        let expected = hex::decode("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17").unwrap();
        assert!(hmac_sha256_verify(
            b"It's a Secret to Everybody",
            &[b"Hello, World!"],
            &expected
        ));
        assert!(!hmac_sha256_verify(
            b"It's a Secret to Everybody",
            &[b"Hello, World?"],
            &expected
        ));
        assert!(!hmac_sha256_verify(
            b"It's a Secret to Everybody",
            &[b"Hello, World!"],
            &expected[..31]
        ));
    }

    #[test]
    fn constant_time_eq_handles_lengths() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn generated_secrets_have_the_documented_shapes() {
        let gh = WebhookSecret::generate(Provider::Github);
        assert_eq!(gh.expose().len(), 64);
        assert!(gh.expose().chars().all(|c| c.is_ascii_hexdigit()));
        let gl = WebhookSecret::generate(Provider::Gitlab);
        assert_eq!(gl.standard_webhooks_key().unwrap().len(), 32);
        assert_ne!(gh.expose(), WebhookSecret::generate(Provider::Github).expose());
        assert!(gh.preview().starts_with('…') && gh.preview().chars().count() == 5);
        assert!(!format!("{gh:?}").contains(gh.expose()));
    }
}
