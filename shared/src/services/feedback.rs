//! The feedback loop (product §10): a developer's helpful / not-helpful signal from the
//! signed link on a posted review comment (no session), and the members' views of the
//! signals and of a rule's violations. The link's rules — the per-address limit, the same
//! answer for an unknown org, a deleted one and a forged signature, 410 after 90 days, the
//! last signal wins — are here once.
//!
//! With embeddings configured, a rated comment is embedded once its signal is durably
//! recorded (`embed_rated`): the answer to the developer does not depend on it (a failure
//! is logged, and the comment simply has no vector — the next click on either of its links
//! tries again; reviews treat it as unrated-by-similarity and may still pick it by
//! recency).

use crate::config::RateLimit;
use crate::crypto::{FeedbackKey, KmsError, SecretBox};
use crate::embeddings::Embedder;
use crate::error::ApiError;
use crate::feedback::{FeedbackLink, Signal};
use crate::services::rules::find_rule;
use crate::store::{FeedbackScope, FeedbackStats, OrgScope, RateDecision, RuleViolation, SignalRecorded, Store};

/// The longest a vote waits on its comment's embedding (inside the function's 10 s
/// timeout, whatever `AGNUS_EMBEDDINGS_TIMEOUT_SECS` says).
const RATING_EMBED_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Most violations one rule's view lists.
const VIOLATIONS_SHOWN: i32 = 200;

/// Verifies a parsed link and records its signal (idempotent: a replay changes nothing).
/// `client_ip` is the source address the per-address limit counts; `embedder`: embeddings
/// configured (see the module docs).
pub async fn record_signal(
    store: &Store,
    sealer: &SecretBox,
    per_ip: RateLimit,
    client_ip: &str,
    link: &FeedbackLink,
    embedder: Option<&Embedder>,
) -> Result<(Signal, SignalRecorded), ApiError> {
    if let RateDecision::Limited { retry_after_secs } = store.rate_limit_hit("feedback-ip", client_ip, per_ip).await? {
        return Err(ApiError::RateLimited { retry_after_secs });
    }
    tracing::Span::current().record("org_id", tracing::field::display(link.org));
    // The same answer for an unknown org, a deleted one and a forged signature.
    let forged = || ApiError::BadSignature {
        code: "invalid_signature",
        message: "this feedback link is not valid".into(),
    };
    let target = store.feedback_target(link).await?.ok_or_else(forged)?;
    let key = match FeedbackKey::open(sealer, target.org_id(), target.sealed_key()).await {
        Ok(key) => key,
        Err(KmsError::Invalid) => return Err(ApiError::Internal("the org's feedback key does not open".into())),
        Err(e @ KmsError::Unavailable(_)) => return Err(ApiError::Unavailable(e.to_string())),
    };
    let scope = target.verify(&key, link).ok_or_else(forged)?;
    if link.comment.link_expired(store.now_secs()) {
        return Err(ApiError::Gone {
            code: "feedback_link_expired",
            message: "feedback links work for 90 days after the review".into(),
        });
    }
    let outcome = store.record_signal(&scope, &link.comment, link.signal).await?;
    if outcome == SignalRecorded::UnknownComment {
        return Err(ApiError::NotFoundWhat {
            code: "comment_not_found",
            message: "this review comment is no longer known".into(),
        });
    }
    tracing::info!(comment_id = %link.comment, signal = %link.signal, ?outcome, "feedback recorded");
    if let Some(embedder) = embedder {
        embed_rated(store, embedder, &scope, &link.comment).await;
    }
    Ok((link.signal, outcome))
}

/// Embeds a rated comment that has no vector of the configured model yet, and stores the
/// vector with it. Never fails the rating: every failure is logged (without the text).
async fn embed_rated(store: &Store, embedder: &Embedder, scope: &FeedbackScope, comment: &crate::feedback::CommentId) {
    let work = async {
        let Some(source) = store.embed_source(scope, comment, embedder.model()).await? else {
            return Ok(false);
        };
        if source.has_vector {
            return Ok(false);
        }
        let vector = embedder
            .embed_one(&source.text)
            .await
            .map_err(EmbedFailure::Embeddings)?;
        store
            .store_comment_vector(scope, comment, embedder.model(), &vector)
            .await?;
        Ok::<_, EmbedFailure>(true)
    };
    let result = tokio::time::timeout(RATING_EMBED_WAIT, work)
        .await
        .unwrap_or(Err(EmbedFailure::TimedOut));
    match result {
        Ok(embedded) => tracing::info!(comment_id = %comment, embedded, "rated comment embeddings"),
        Err(e) => {
            tracing::warn!(comment_id = %comment, error = %e, "rated comment not embedded; it is not similarity-searchable until rated again")
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum EmbedFailure {
    #[error(transparent)]
    Embeddings(crate::embeddings::EmbeddingsError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("timed out")]
    TimedOut,
}

/// Helpful / not-helpful counts, per repository and per rule (any member may read them).
#[derive(Debug)]
pub struct Stats {
    pub repos: Vec<FeedbackStats>,
    pub rules: Vec<FeedbackStats>,
}

/// The org's feedback counts (any member).
pub async fn feedback_stats(store: &Store, scope: &OrgScope) -> Result<Stats, ApiError> {
    let stats = store.feedback_stats(scope).await?;
    let (repos, rules) = stats.into_iter().partition(|s| s.kind == "repo");
    Ok(Stats { repos, rules })
}

/// The comments attributed to one of the org's rules over the last 30 days, newest first
/// (at most 200; any member; 404 `rule_not_found`), with the rule's id.
pub async fn rule_violations(
    store: &Store,
    scope: &OrgScope,
    rule_id: &str,
) -> Result<(String, Vec<RuleViolation>), ApiError> {
    let rule = find_rule(store, scope, rule_id).await?;
    let violations = store.rule_violations(scope, &rule.id, VIOLATIONS_SHOWN).await?;
    Ok((rule.id, violations))
}
