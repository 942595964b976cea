//! The four providers' REST clients, built once and chosen per repository. Apart from
//! `provider` (the contract every host implements), so the hosts depend on the contract
//! and never the other way round.

use agnus_shared::config::ProviderApis;
use agnus_shared::domain::Provider;

use crate::azure::Azure;
use crate::bitbucket::Bitbucket;
use crate::github::Github;
use crate::gitlab::Gitlab;
use crate::http;
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
