//! The credential a job uses for a repository, in one place for the review engine, the
//! indexer and the repository picker: the repository's own token (sealed under purpose
//! `repo-token`), or, for a repository connected through a GitHub App installation, an
//! installation access token minted with the app's key (sealed under purpose `app-key`)
//! and scoped to that repository. Every unsealing names the org the job belongs to, so a
//! ciphertext of another org never opens.

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::crypto::{KmsError, SecretBox};
use crate::github_app::client::{self, MintedToken};
use crate::github_app::tokens::TokenCache;
use crate::github_app::{AppKey, MAX_PEM_BYTES};
use crate::provider_api::CallError;
use crate::repo_access::RepoAccess;
use crate::store::{InstallationRecord, InstallationScope, RepoRecord, Store, StoreError};

/// The KMS encryption context of an installation's private key.
pub fn app_key_context(org: &str, installation: &str) -> [(&'static str, String); 3] {
    [
        ("orgId", org.to_owned()),
        ("purpose", "app-key".to_owned()),
        ("installationId", installation.to_owned()),
    ]
}

/// Why a job has no credential for a repository (each a job's failure reason but the last).
#[derive(Debug, thiserror::Error)]
pub enum TokenFailure {
    /// A repository without a token or an installation (connected before either existed).
    #[error("the repository has no access token")]
    Missing,
    /// The sealed token does not open, or GitHub refused the app (key revoked, installation
    /// removed on GitHub, repository no longer visible to it).
    #[error("the access token is not valid: {0}")]
    Invalid(String),
    /// The installation was removed from the org here.
    #[error("the GitHub App installation of this repository was removed")]
    InstallationRemoved,
    /// KMS, DynamoDB or GitHub did not answer: retry later.
    #[error("{0}")]
    Unavailable(String),
}

impl TokenFailure {
    /// The job's failure reason.
    pub fn reason(&self) -> &'static str {
        match self {
            TokenFailure::Missing => "token_missing",
            TokenFailure::Invalid(_) => "token_invalid",
            TokenFailure::InstallationRemoved => "installation_removed",
            TokenFailure::Unavailable(_) => "provider_unavailable",
        }
    }
}

impl From<StoreError> for TokenFailure {
    fn from(e: StoreError) -> Self {
        TokenFailure::Unavailable(e.to_string())
    }
}

fn kms_failure(e: KmsError) -> TokenFailure {
    match e {
        KmsError::Invalid => TokenFailure::Invalid("the sealed credential does not open for this org".into()),
        KmsError::Unavailable(why) => TokenFailure::Unavailable(why),
    }
}

/// GitHub's refusal of the app (or of the repository) vs. a reason to retry.
fn call_failure(e: CallError) -> TokenFailure {
    match e {
        CallError::RetryLater { why, .. } => TokenFailure::Unavailable(format!("GitHub: {why}")),
        other => TokenFailure::Invalid(format!("GitHub refused the app: {other}")),
    }
}

/// Mints and caches installation tokens; opens repository tokens.
#[derive(Debug)]
pub struct RepoTokens {
    access: RepoAccess,
    cache: TokenCache,
}

impl RepoTokens {
    pub fn new(access: RepoAccess) -> Self {
        Self {
            access,
            cache: TokenCache::default(),
        }
    }

    /// Drops the org's cached installation tokens (one was refused).
    pub fn forget_org(&self, org: &str) {
        self.cache.forget_org(org);
    }

    /// The GitHub API client the app calls go through.
    pub fn access(&self) -> &RepoAccess {
        &self.access
    }

    /// The credential for `repo` of `scope`'s org at `now`.
    pub async fn for_repo(
        &self,
        store: &Store,
        sealer: &SecretBox,
        scope: &impl InstallationScope,
        repo: &RepoRecord,
        now: i64,
    ) -> Result<SecretString, TokenFailure> {
        let org = scope.installation_org().to_string();
        if let Some(installation) = repo.installation_id {
            let Some(record) = store.installation(scope, installation).await? else {
                return Err(TokenFailure::InstallationRemoved);
            };
            return self
                .installation_token(sealer, &org, &record, Some(&repo.full_name), now)
                .await;
        }
        let sealed = repo.token_ciphertext.as_deref().ok_or(TokenFailure::Missing)?;
        let context = [
            ("orgId", org.as_str()),
            ("purpose", "repo-token"),
            ("repoId", repo.id.as_str()),
        ];
        let bytes = sealer.open(&context, sealed).await.map_err(kms_failure)?;
        String::from_utf8(bytes)
            .map(SecretString::from)
            .map_err(|_| TokenFailure::Invalid("the stored token is unreadable".into()))
    }

    /// An installation token of `installation` (of org `org`), scoped to `full_name`
    /// (`owner/name`) when given: from the cache, else minted.
    pub async fn installation_token(
        &self,
        sealer: &SecretBox,
        org: &str,
        installation: &InstallationRecord,
        full_name: Option<&str>,
        now: i64,
    ) -> Result<SecretString, TokenFailure> {
        let scope_name = full_name.unwrap_or("*");
        if let Some(token) = self.cache.get(org, installation.id, scope_name, now) {
            return Ok(token);
        }
        let key = self.open_key(sealer, org, installation).await?;
        let repository = full_name.map(|f| f.rsplit('/').next().unwrap_or(f));
        let minted: MintedToken = client::access_token(
            &self.access,
            installation.app_id,
            &key,
            installation.id,
            repository,
            now,
        )
        .await
        .map_err(|e| {
            if !matches!(e, CallError::RetryLater { .. }) {
                self.cache.forget(org, installation.id);
            }
            call_failure(e)
        })?;
        self.cache.put(org, installation.id, scope_name, &minted, now);
        Ok(minted.token)
    }

    /// The installation's private key, unsealed under the org's context.
    async fn open_key(
        &self,
        sealer: &SecretBox,
        org: &str,
        installation: &InstallationRecord,
    ) -> Result<AppKey, TokenFailure> {
        let id = installation.id.to_string();
        let context = app_key_context(org, &id);
        let context: Vec<(&str, &str)> = context.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let pem = Zeroizing::new(
            sealer
                .open(&context, &installation.key_ciphertext)
                .await
                .map_err(kms_failure)?,
        );
        if pem.len() > MAX_PEM_BYTES {
            return Err(TokenFailure::Invalid("the stored app key is unreadable".into()));
        }
        let pem =
            std::str::from_utf8(&pem).map_err(|_| TokenFailure::Invalid("the stored app key is unreadable".into()))?;
        AppKey::from_pem(pem).map_err(|e| TokenFailure::Invalid(e.to_string()))
    }
}
