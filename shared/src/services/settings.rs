//! Review settings (product §9): the org default and a repository's override, each holding
//! only the fields set there (the review engine falls back repository → org → the system's
//! `AGNUS_REVIEW_*`). Members read them; owners and admins change them, `null` clearing a
//! field; each change is one write with its `review_settings.updated` entry.

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::review_settings::{self, SettingsLayer};
use crate::services::access::require_admin;
use crate::store::{OrgScope, Store};

/// A layer's settings, and for a repository's layer the org default it falls back to.
#[derive(Debug)]
pub struct Settings {
    pub layer: SettingsLayer,
    /// `Some` when the layer is a repository's.
    pub org_default: Option<SettingsLayer>,
}

fn repo_not_found() -> ApiError {
    ApiError::NotFoundWhat {
        code: "repo_not_found",
        message: "no such repository in this organization".into(),
    }
}

/// The repository id of a path, if any: one that cannot be an id is 404 `repo_not_found`,
/// the answer for an unknown one.
fn repo_id(raw: Option<&str>) -> Result<Option<&str>, ApiError> {
    match raw {
        None => Ok(None),
        Some(id) if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric()) => Ok(Some(id)),
        Some(_) => Err(repo_not_found()),
    }
}

/// The org default (`repo` = None) or a repository's override with the org default beside
/// it (any member may read them; the repository must be one of the org's).
pub async fn review_settings(store: &Store, scope: &OrgScope, repo: Option<&str>) -> Result<Settings, ApiError> {
    let repo = repo_id(repo)?;
    let org_default = store.settings_layer(scope, None).await?;
    match repo {
        None => Ok(Settings {
            layer: org_default,
            org_default: None,
        }),
        Some(repo_id) => {
            store.repo(scope, repo_id).await?.ok_or_else(repo_not_found)?;
            let layer = store.settings_layer(scope, Some(repo_id)).await?;
            Ok(Settings {
                layer,
                org_default: Some(org_default),
            })
        }
    }
}

/// Changes the org default or a repository's override (admins only): the fields in
/// `changes` are set (`null` clears one), the rest stay; the answer is the new layer.
pub async fn update_review_settings(
    store: &Store,
    scope: &OrgScope,
    repo: Option<&str>,
    changes: &Map<String, Value>,
) -> Result<SettingsLayer, ApiError> {
    require_admin(scope)?;
    let repo = repo_id(repo)?;
    if repo.is_some()
        && let Some(field) = review_settings::ORG_ONLY_FIELDS
            .iter()
            .find(|f| changes.contains_key(**f))
    {
        return Err(ApiError::bad_request(
            "org_setting",
            format!("{field} is set for the whole organization, not per repository"),
        ));
    }
    let current = store.settings_layer(scope, repo).await?;
    let layer = review_settings::patch(current, changes)?;
    let changed: Vec<&String> = changes.keys().collect();
    let mut event = scope
        .audit("review_settings.updated")
        .details(json!({ "changed": changed, "repoId": repo }));
    if let Some(repo_id) = repo {
        event = event.target(repo_id);
    }
    store.put_settings_layer(scope, repo, &layer, &event).await?;
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_id_that_cannot_be_a_repository_is_not_found() {
        assert_eq!(repo_id(None).unwrap(), None);
        assert_eq!(repo_id(Some("abc123")).unwrap(), Some("abc123"));
        for bad in ["", "a-b", &"a".repeat(65)] {
            assert_eq!(repo_id(Some(bad)).unwrap_err().code(), "repo_not_found");
        }
    }
}

/// An org's review usage against its limits (any member may read it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewUsage {
    /// `yyyy-mm` (UTC).
    pub month: String,
    pub plan: crate::domain::Plan,
    /// LLM tokens this month.
    pub tokens: u64,
    /// The plan's monthly budget; `None`: unlimited.
    pub token_budget: Option<u64>,
    /// Reviews past the budget end `skipped: budget_exhausted` until the month ends.
    pub budget_exhausted: bool,
    pub llm_reviews: u64,
    pub reviews_this_hour: u64,
    /// The org's setting, at most the system's.
    pub reviews_per_hour: u32,
}

pub async fn review_usage(
    store: &Store,
    scope: &OrgScope,
    limits: &crate::config::ReviewLimits,
) -> Result<ReviewUsage, ApiError> {
    let usage = store.org_usage(scope).await?;
    let org_layer = store.settings_layer(scope, None).await?;
    let plan = scope.org().plan;
    let token_budget = limits.monthly_tokens.of(plan);
    Ok(ReviewUsage {
        month: usage.month,
        plan,
        tokens: usage.tokens,
        token_budget,
        budget_exhausted: token_budget.is_some_and(|b| usage.tokens >= b),
        llm_reviews: usage.llm_reviews,
        reviews_this_hour: usage.reviews_this_hour,
        reviews_per_hour: limits.reviews_per_hour(org_layer.reviews_per_hour),
    })
}
