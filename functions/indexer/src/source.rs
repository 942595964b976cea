//! Where a repository's source comes from (docs/index.md, "Source"): the default branch
//! and its head, the archive at one commit, the files changed between two commits, one
//! file at one commit — per provider, with the repository's token as a credential only
//! (sent in a header, never logged: errors carry no URL).
//!
//! | provider | head | archive | compare | one file |
//! |---|---|---|---|---|
//! | GitHub | `GET /repos/{o}/{r}`, `GET /repos/{o}/{r}/commits/{branch}` | `GET /repos/{o}/{r}/tarball/{sha}` (302 → codeload) | `GET /repos/{o}/{r}/compare/{base}...{head}` | `GET /repos/{o}/{r}/contents/{path}?ref=` (raw) |
//! | GitLab | `GET /projects/:id`, `GET /projects/:id/repository/branches/:b` | `GET /projects/:id/repository/archive.tar.gz?sha=` | `GET /projects/:id/repository/compare?from=&to=&straight=true` | `GET /projects/:id/repository/files/:path/raw?ref=` |
//! | Bitbucket | `GET /repositories/{w}/{r}`, `GET …/refs/branches/{b}` | `GET https://bitbucket.org/{w}/{r}/get/{sha}.tar.gz` | `GET …/diffstat/{head}..{base}` | `GET …/src/{sha}/{path}` |
//! | Azure DevOps | `GET …/repositories/{r}`, `GET …/refs?filter=heads/{b}` | `GET …/items?path=/&$format=zip&versionDescriptor…` | `GET …/diffs/commits?baseVersion=&targetVersion=` | `GET …/items?path=&versionDescriptor…` |

use std::time::Duration;

use agnus_shared::config::ProviderApis;
use agnus_shared::domain::Provider;
use agnus_shared::provider_api::{
    ApiBases, CallError, GITHUB_RAW, authorization, azure_repository, classify, decode, encode,
};
use secrecy::SecretString;
use serde::Deserialize;

use crate::archive::Format;

const AZURE_API: &str = "api-version=7.1";
/// A JSON answer (repository, branch, compare) may weigh this much, at most.
const ANSWER_CAP: usize = 8 << 20;

/// The default branch and its head commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub branch: String,
    pub sha: String,
}

/// A file changed between two commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Added or modified: read it at the new commit.
    Upsert(String),
    Removed(String),
}

/// The files changed between the indexed commit and a newer one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compare {
    pub changes: Vec<Change>,
    /// The provider listed every change (GitHub stops at 300 files): else index in full.
    pub complete: bool,
    /// The new commit does not descend from the indexed one (a force push): index in full.
    pub diverged: bool,
}

/// The provider APIs the indexer reads.
#[derive(Debug, Clone)]
pub struct Sources {
    http: reqwest::Client,
    bases: ApiBases,
    bitbucket_web: String,
}

impl Sources {
    pub fn new(apis: &ProviderApis, bitbucket_web: &str) -> Self {
        Self {
            // Redirects are followed (GitHub's tarball answers 302); reqwest drops the
            // Authorization header when a redirect leaves the origin.
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(600))
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(apis.timeout)
                .user_agent(concat!("agnus-indexer/", env!("CARGO_PKG_VERSION")))
                .build()
                .unwrap_or_else(|_| reqwest::Client::new()),
            bases: ApiBases::new(apis),
            bitbucket_web: bitbucket_web.trim_end_matches('/').to_owned(),
        }
    }

    fn get(&self, provider: Provider, url: &str, token: &SecretString) -> reqwest::RequestBuilder {
        let request = self
            .http
            .get(url)
            .header("authorization", authorization(provider, token));
        match provider {
            Provider::Github => request
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28"),
            _ => request,
        }
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        provider: Provider,
        url: &str,
        token: &SecretString,
    ) -> Result<T, CallError> {
        let body = read_capped(self.get(provider, url, token), ANSWER_CAP).await?;
        decode(&body, provider.as_str())
    }

    /// The default branch and its head.
    pub async fn head(&self, provider: Provider, repo: &str, token: &SecretString) -> Result<Head, CallError> {
        match provider {
            Provider::Github => {
                let r: GithubRepo = self
                    .json(provider, &format!("{}/repos/{repo}", self.bases.github), token)
                    .await?;
                let url = format!(
                    "{}/repos/{repo}/commits/{}",
                    self.bases.github,
                    encode(&r.default_branch)
                );
                let c: Sha = self.json(provider, &url, token).await?;
                Ok(Head {
                    branch: r.default_branch,
                    sha: c.sha,
                })
            }
            Provider::Gitlab => {
                let project = format!("{}/projects/{}", self.bases.gitlab, encode(repo));
                let p: GitlabProject = self.json(provider, &project, token).await?;
                let url = format!("{project}/repository/branches/{}", encode(&p.default_branch));
                let b: GitlabBranch = self.json(provider, &url, token).await?;
                Ok(Head {
                    branch: p.default_branch,
                    sha: b.commit.id,
                })
            }
            Provider::Bitbucket => {
                let base = format!("{}/repositories/{repo}", self.bases.bitbucket);
                let r: BitbucketRepo = self.json(provider, &base, token).await?;
                let url = format!("{base}/refs/branches/{}", encode(&r.mainbranch.name));
                let b: BitbucketBranch = self.json(provider, &url, token).await?;
                Ok(Head {
                    branch: r.mainbranch.name,
                    sha: b.target.hash,
                })
            }
            Provider::Azure => {
                let base = azure_repository(&self.bases.azure, repo);
                let r: AzureRepo = self.json(provider, &format!("{base}?{AZURE_API}"), token).await?;
                let branch = r.default_branch.trim_start_matches("refs/heads/").to_owned();
                let url = format!("{base}/refs?filter={}&{AZURE_API}", encode(&format!("heads/{branch}")));
                let refs: AzureRefs = self.json(provider, &url, token).await?;
                let sha = refs
                    .value
                    .into_iter()
                    .find(|r| r.name == format!("refs/heads/{branch}"))
                    .map(|r| r.object_id)
                    .ok_or(CallError::NotFound)?;
                Ok(Head { branch, sha })
            }
        }
    }

    /// The archive of the repository at `sha`, opened (its body is read as it streams).
    pub async fn archive(
        &self,
        provider: Provider,
        repo: &str,
        sha: &str,
        token: &SecretString,
    ) -> Result<(Format, reqwest::Response), CallError> {
        let (format, url) = match provider {
            Provider::Github => (
                Format::TarGz,
                format!("{}/repos/{repo}/tarball/{}", self.bases.github, encode(sha)),
            ),
            Provider::Gitlab => (
                Format::TarGz,
                format!(
                    "{}/projects/{}/repository/archive.tar.gz?sha={}",
                    self.bases.gitlab,
                    encode(repo),
                    encode(sha)
                ),
            ),
            Provider::Bitbucket => (
                Format::TarGz,
                format!("{}/{repo}/get/{}.tar.gz", self.bitbucket_web, encode(sha)),
            ),
            Provider::Azure => (
                Format::Zip,
                format!(
                    "{}/items?path=%2F&versionDescriptor.version={}&versionDescriptor.versionType=commit&$format=zip&download=true&{AZURE_API}",
                    azure_repository(&self.bases.azure, repo),
                    encode(sha)
                ),
            ),
        };
        let response = self.get(provider, &url, token).send().await.map_err(transport)?;
        if !response.status().is_success() {
            return Err(classify(response.status(), response.headers()));
        }
        Ok((format, response))
    }

    /// The files changed from `base` to `head`.
    pub async fn compare(
        &self,
        provider: Provider,
        repo: &str,
        base: &str,
        head: &str,
        token: &SecretString,
    ) -> Result<Compare, CallError> {
        let (base_e, head_e) = (encode(base), encode(head));
        match provider {
            Provider::Github => {
                let url = format!(
                    "{}/repos/{repo}/compare/{base_e}...{head_e}?per_page=300",
                    self.bases.github
                );
                let c: GithubCompare = self.json(provider, &url, token).await?;
                let mut changes = Vec::new();
                for f in &c.files {
                    match f.status.as_str() {
                        "removed" => changes.push(Change::Removed(f.filename.clone())),
                        "renamed" => {
                            if let Some(old) = &f.previous_filename {
                                changes.push(Change::Removed(old.clone()));
                            }
                            changes.push(Change::Upsert(f.filename.clone()));
                        }
                        _ => changes.push(Change::Upsert(f.filename.clone())),
                    }
                }
                Ok(Compare {
                    complete: c.files.len() < 300,
                    diverged: c.status == "diverged" || c.status == "behind",
                    changes,
                })
            }
            Provider::Gitlab => {
                let url = format!(
                    "{}/projects/{}/repository/compare?from={base_e}&to={head_e}&straight=true",
                    self.bases.gitlab,
                    encode(repo)
                );
                let c: GitlabCompare = self.json(provider, &url, token).await?;
                let mut changes = Vec::new();
                for d in c.diffs {
                    if d.deleted_file || d.renamed_file {
                        changes.push(Change::Removed(d.old_path.clone()));
                    }
                    if !d.deleted_file {
                        changes.push(Change::Upsert(d.new_path));
                    }
                }
                Ok(Compare {
                    changes,
                    complete: !c.overflow,
                    diverged: false,
                })
            }
            Provider::Bitbucket => {
                let mut url = format!(
                    "{}/repositories/{repo}/diffstat/{head_e}..{base_e}?pagelen=500",
                    self.bases.bitbucket
                );
                let mut changes = Vec::new();
                for _ in 0..20 {
                    let page: BitbucketDiffstat = self.json(provider, &url, token).await?;
                    for v in page.values {
                        if let Some(old) = v.old.filter(|_| v.status != "added" && v.status != "modified") {
                            changes.push(Change::Removed(old.path));
                        }
                        if let Some(new) = v.new {
                            changes.push(Change::Upsert(new.path));
                        }
                    }
                    match page.next {
                        Some(next) if next.starts_with(&self.bases.bitbucket) => url = next,
                        Some(_) => return Err(CallError::unreadable("a Bitbucket page on another host")),
                        None => {
                            return Ok(Compare {
                                changes,
                                complete: true,
                                diverged: false,
                            });
                        }
                    }
                }
                Ok(Compare {
                    changes,
                    complete: false,
                    diverged: false,
                })
            }
            Provider::Azure => {
                let url = format!(
                    "{}/diffs/commits?baseVersion={base_e}&baseVersionType=commit&targetVersion={head_e}&targetVersionType=commit&$top=2000&{AZURE_API}",
                    azure_repository(&self.bases.azure, repo)
                );
                let c: AzureDiff = self.json(provider, &url, token).await?;
                let mut changes = Vec::new();
                for ch in c.changes.into_iter().filter(|c| !c.item.is_folder) {
                    let path = ch.item.path.trim_start_matches('/').to_owned();
                    if ch.change_type.contains("delete") {
                        changes.push(Change::Removed(path));
                    } else {
                        if let Some(old) = ch.source_server_item {
                            changes.push(Change::Removed(old.trim_start_matches('/').to_owned()));
                        }
                        changes.push(Change::Upsert(path));
                    }
                }
                Ok(Compare {
                    changes,
                    complete: c.all_changes_included.unwrap_or(true),
                    diverged: false,
                })
            }
        }
    }

    /// One file at `sha` (`None`: not there), at most `cap` bytes (`TooLarge` past it).
    pub async fn file(
        &self,
        provider: Provider,
        repo: &str,
        path: &str,
        sha: &str,
        token: &SecretString,
        cap: usize,
    ) -> Result<Option<Vec<u8>>, CallError> {
        let mut request = self.get(provider, &self.bases.file_url(provider, repo, path, sha), token);
        if provider == Provider::Github {
            request = request.header("accept", GITHUB_RAW);
        }
        match read_capped(request, cap).await {
            Ok(body) => Ok(Some(body)),
            Err(CallError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A transport failure (timeout, refused, reset), without the URL.
pub fn transport(e: reqwest::Error) -> CallError {
    CallError::network(e.without_url())
}

/// The body of a success, at most `cap` bytes.
async fn read_capped(request: reqwest::RequestBuilder, cap: usize) -> Result<Vec<u8>, CallError> {
    let mut response = request.send().await.map_err(transport)?;
    if !response.status().is_success() {
        return Err(classify(response.status(), response.headers()));
    }
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(CallError::TooLarge { limit: cap });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > cap {
            return Err(CallError::TooLarge { limit: cap });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[derive(Deserialize)]
struct GithubRepo {
    default_branch: String,
}
#[derive(Deserialize)]
struct Sha {
    sha: String,
}
#[derive(Deserialize)]
struct GithubCompare {
    status: String,
    #[serde(default)]
    files: Vec<GithubFile>,
}
#[derive(Deserialize)]
struct GithubFile {
    filename: String,
    status: String,
    previous_filename: Option<String>,
}
#[derive(Deserialize)]
struct GitlabProject {
    default_branch: String,
}
#[derive(Deserialize)]
struct GitlabBranch {
    commit: GitlabCommit,
}
#[derive(Deserialize)]
struct GitlabCommit {
    id: String,
}
#[derive(Deserialize)]
struct GitlabCompare {
    #[serde(default)]
    diffs: Vec<GitlabDiff>,
    #[serde(default)]
    overflow: bool,
}
#[derive(Deserialize)]
struct GitlabDiff {
    old_path: String,
    new_path: String,
    #[serde(default)]
    renamed_file: bool,
    #[serde(default)]
    deleted_file: bool,
}
#[derive(Deserialize)]
struct BitbucketRepo {
    mainbranch: BitbucketName,
}
#[derive(Deserialize)]
struct BitbucketName {
    name: String,
}
#[derive(Deserialize)]
struct BitbucketBranch {
    target: BitbucketHash,
}
#[derive(Deserialize)]
struct BitbucketHash {
    hash: String,
}
#[derive(Deserialize)]
struct BitbucketDiffstat {
    values: Vec<BitbucketStat>,
    next: Option<String>,
}
#[derive(Deserialize)]
struct BitbucketStat {
    status: String,
    old: Option<BitbucketPath>,
    new: Option<BitbucketPath>,
}
#[derive(Deserialize)]
struct BitbucketPath {
    path: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AzureRepo {
    default_branch: String,
}
#[derive(Deserialize)]
struct AzureRefs {
    value: Vec<AzureRef>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AzureRef {
    name: String,
    object_id: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AzureDiff {
    #[serde(default)]
    changes: Vec<AzureChange>,
    all_changes_included: Option<bool>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AzureChange {
    item: AzureItem,
    change_type: String,
    source_server_item: Option<String>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AzureItem {
    path: String,
    #[serde(default)]
    is_folder: bool,
}
