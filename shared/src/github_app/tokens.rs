//! Installation access tokens, minted per use and kept in this instance's memory until
//! shortly before GitHub's expiry (an hour after minting). Never written anywhere: a cold
//! start mints again. Keyed by org, installation and repository, so a token minted for one
//! org's repository is never handed to another org.

use std::collections::HashMap;
use std::sync::Mutex;

use secrecy::SecretString;

use super::client::MintedToken;

/// A cached token is used until this long before it expires (a review may take minutes).
pub const REFRESH_BEFORE_SECS: i64 = 10 * 60;
/// At most this many tokens are kept; when full, expired ones go, then all.
const MAX_ENTRIES: usize = 512;

type CacheKey = (String, u64, String);

/// The minted tokens of this instance.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<CacheKey, (SecretString, i64)>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.entries.lock().map(|e| e.len()).unwrap_or_default();
        write!(f, "TokenCache({n} tokens)")
    }
}

impl TokenCache {
    /// The token of (`org`, `installation`, `repo`) if it is good for a while yet at `now`.
    pub fn get(&self, org: &str, installation: u64, repo: &str, now: i64) -> Option<SecretString> {
        let entries = self.entries.lock().ok()?;
        let (token, expires_at) = entries.get(&(org.to_owned(), installation, repo.to_owned()))?;
        (expires_at - now > REFRESH_BEFORE_SECS).then(|| token.clone())
    }

    pub fn put(&self, org: &str, installation: u64, repo: &str, minted: &MintedToken, now: i64) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, expires_at)| *expires_at - now > REFRESH_BEFORE_SECS);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            (org.to_owned(), installation, repo.to_owned()),
            (minted.token.clone(), minted.expires_at),
        );
    }

    /// Forgets every token of an org.
    pub fn forget_org(&self, org: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|(o, _, _), _| o != org);
        }
    }

    /// Forgets the tokens of an installation (GitHub refused one: revoked or removed).
    pub fn forget(&self, org: &str, installation: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|(o, i, _), _| !(o == org && *i == installation));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn minted(token: &str, expires_at: i64) -> MintedToken {
        MintedToken {
            token: SecretString::from(token.to_owned()),
            expires_at,
        }
    }

    #[test]
    fn a_token_is_reused_until_shortly_before_it_expires_and_only_for_its_key() {
        let cache = TokenCache::default();
        cache.put("org-a", 7, "acme/api", &minted("ghs_one", 10_000), 6_400);
        let got = cache.get("org-a", 7, "acme/api", 6_400).unwrap();
        assert_eq!(got.expose_secret(), "ghs_one");
        assert!(
            cache
                .get("org-a", 7, "acme/api", 10_000 - REFRESH_BEFORE_SECS - 1)
                .is_some()
        );
        assert!(
            cache
                .get("org-a", 7, "acme/api", 10_000 - REFRESH_BEFORE_SECS)
                .is_none()
        );
        // Another org, installation or repository never gets it.
        assert!(cache.get("org-b", 7, "acme/api", 6_400).is_none());
        assert!(cache.get("org-a", 8, "acme/api", 6_400).is_none());
        assert!(cache.get("org-a", 7, "acme/web", 6_400).is_none());
        cache.forget("org-a", 7);
        assert!(cache.get("org-a", 7, "acme/api", 6_400).is_none());
        cache.put("org-a", 7, "acme/api", &minted("ghs_two", 10_000), 6_400);
        cache.put("org-b", 7, "acme/api", &minted("ghs_three", 10_000), 6_400);
        cache.forget_org("org-a");
        assert!(cache.get("org-a", 7, "acme/api", 6_400).is_none());
        assert!(
            cache.get("org-b", 7, "acme/api", 6_400).is_some(),
            "only that org's tokens go"
        );
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = TokenCache::default();
        for i in 0..(MAX_ENTRIES as u64 * 3) {
            cache.put("o", i, "r", &minted("t", 100_000), 0);
        }
        let n = cache.entries.lock().unwrap().len();
        assert!(n <= MAX_ENTRIES, "{n}");
        assert!(cache.get("o", MAX_ENTRIES as u64 * 3 - 1, "r", 0).is_some());
        assert!(format!("{cache:?}").starts_with("TokenCache("));
    }
}
