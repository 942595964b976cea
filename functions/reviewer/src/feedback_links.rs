//! Feedback links on posted comments (docs/review-engine.md, "Feedback on comments"): each
//! inline comment gets an id and two links signed with the org's feedback key, recorded
//! before it is posted.

use agnus_shared::crypto::{FeedbackKey, KmsError};
use agnus_shared::feedback::{CommentId, FeedbackLink, Signal};
use agnus_shared::store::{PostedComment, QueueScope, ReviewJob};

use crate::{ReviewerError, ReviewerState, validate};

/// The feedback loop: every inline comment gets an id and two links signed with the
/// org's feedback key, and is recorded before it is posted (so every link resolves).
/// Without `AGNUS_APP_BASE_URL` there is nowhere to link to, and nothing is added.
pub async fn attach(
    state: &ReviewerState,
    scope: &QueueScope,
    job: &ReviewJob,
    repo_id: &str,
    comments: &mut [validate::InlineComment],
) -> Result<(), ReviewerError> {
    let Some(base) = state.config.app_base_url.as_deref() else {
        return Ok(());
    };
    if comments.is_empty() {
        return Ok(());
    }
    let key = feedback_key(state, scope).await?;
    let org = scope.org_id();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    let mut records = Vec::with_capacity(comments.len());
    for c in comments.iter_mut() {
        let id = CommentId::new(now);
        let link = |signal| FeedbackLink::url(base, org, &id, signal, &key.sign(org, &id, signal));
        c.body.push_str(&format!(
            "\n\n<sub>Was this comment useful? [Helpful]({}) · [Not helpful]({})</sub>",
            link(Signal::Helpful),
            link(Signal::NotHelpful)
        ));
        records.push(PostedComment {
            id,
            repo_id: repo_id.to_owned(),
            job_id: job.id.clone(),
            pr: job.pr_number,
            path: c.path.clone(),
            line: c.line,
            severity: c.severity,
            rule_id: c.rule_id.clone(),
            text: c.text.clone(),
        });
    }
    state.store.record_comments(scope, &records).await?;
    Ok(())
}

/// The org's feedback key, made (and sealed under the org's KMS context) on its first
/// review; a concurrent first review's key wins.
async fn feedback_key(state: &ReviewerState, scope: &QueueScope) -> Result<FeedbackKey, ReviewerError> {
    let org = scope.org_id();
    let kms = |e: KmsError| ReviewerError::Kms(e.to_string());
    if let Some(sealed) = state.store.feedback_key(scope).await? {
        return FeedbackKey::open(&state.sealer, org, &sealed).await.map_err(kms);
    }
    let (key, sealed) = FeedbackKey::generate(&state.sealer, org).await.map_err(kms)?;
    let stored = state.store.put_feedback_key(scope, sealed.clone()).await?;
    if stored == sealed {
        Ok(key)
    } else {
        FeedbackKey::open(&state.sealer, org, &stored).await.map_err(kms)
    }
}
