//! The four providers' REST clients, built once and chosen per repository. Apart from
//! `provider` (the contract every host implements), so the hosts depend on the contract
//! and never the other way round.

use agnus_shared::config::ProviderApis;
use agnus_shared::domain::Provider;
use secrecy::SecretString;

use crate::azure::Azure;
use crate::bitbucket::Bitbucket;
use crate::github::Github;
use crate::gitlab::Gitlab;
use crate::http::{self, CallError};
use crate::provider::CodeHost;

/// One client per provider, sharing one HTTP client.
#[derive(Debug, Clone)]
pub struct Hosts {
    pub github: Github,
    pub gitlab: Gitlab,
    pub azure: Azure,
    pub bitbucket: Bitbucket,
}

impl Hosts {
    /// `max_diff_bytes`: how much Azure DevOps content is fetched (the review budget).
    pub fn new(apis: &ProviderApis, max_diff_bytes: usize) -> Self {
        let client = http::client(apis.timeout);
        Self {
            github: Github::new(client.clone(), &apis.github_api_url),
            gitlab: Gitlab::new(client.clone(), &apis.gitlab_url),
            azure: Azure::new(client.clone(), &apis.azure_devops_url, max_diff_bytes),
            bitbucket: Bitbucket::new(client, &apis.bitbucket_api_url),
        }
    }

    /// [`CodeHost::can_write`] of `provider`, dispatched statically: a caller that only
    /// checks access (the repos function) links no review code (a `dyn CodeHost` would
    /// keep every method of every host in its binary).
    pub async fn can_write(
        &self,
        provider: Provider,
        full_name: &str,
        token: &SecretString,
    ) -> Result<bool, CallError> {
        match provider {
            Provider::Github => CodeHost::can_write(&self.github, full_name, token).await,
            Provider::Gitlab => CodeHost::can_write(&self.gitlab, full_name, token).await,
            Provider::Azure => CodeHost::can_write(&self.azure, full_name, token).await,
            Provider::Bitbucket => CodeHost::can_write(&self.bitbucket, full_name, token).await,
        }
    }

    /// The REST client of `provider`.
    pub fn get(&self, provider: Provider) -> &dyn CodeHost {
        match provider {
            Provider::Github => &self.github,
            Provider::Gitlab => &self.gitlab,
            Provider::Azure => &self.azure,
            Provider::Bitbucket => &self.bitbucket,
        }
    }
}
