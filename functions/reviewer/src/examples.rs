//! The prompt's feedback examples: what this org's developers said about earlier comments
//! on the repository.
//!
//! Without embeddings (`AGNUS_EMBEDDINGS_PROVIDER` unset): the most recent
//! [`crate::FEEDBACK_EXAMPLES_PER_SIGNAL`] helpful and not-helpful ones, as before. With
//! embeddings: the review's diff (cut to the embeddings input cap) is embedded and the
//! [`HELPFUL_BY_SIMILARITY`] helpful and [`NOT_HELPFUL_BY_SIMILARITY`] not-helpful rated
//! comments most similar to it are picked (cosine), among the repository's
//! [`CANDIDATES_PER_SIGNAL`] most recent of each signal — all read from the org's own
//! partition (`QueueScope`), so another org's ratings are never candidates. Comments
//! without a vector of the configured model (rated before embeddings, or whose embedding
//! failed) fill what similarity leaves, newest first. If the diff cannot be embedded the
//! review falls back to the most recent examples (logged); it never fails for it.

use agnus_shared::embeddings::{Vector, most_similar};
use agnus_shared::feedback::Signal;
use agnus_shared::store::{FeedbackCandidate, FeedbackExample, QueueScope, StoreError};

use crate::{FEEDBACK_EXAMPLES_PER_SIGNAL, ReviewerState};

/// Helpful examples picked by similarity.
pub const HELPFUL_BY_SIMILARITY: usize = 5;
/// Not-helpful examples picked by similarity.
pub const NOT_HELPFUL_BY_SIMILARITY: usize = 3;
/// Rated comments of each signal read as candidates, at most (the most recent).
pub const CANDIDATES_PER_SIGNAL: usize = 250;

/// The examples for a review whose diff is `diff` (see the module docs).
pub async fn feedback_examples(
    state: &ReviewerState,
    scope: &QueueScope,
    repo_id: &str,
    diff: &str,
) -> Result<Vec<FeedbackExample>, StoreError> {
    let Some(embedder) = &state.embedder else {
        return state
            .store
            .feedback_examples(scope, repo_id, FEEDBACK_EXAMPLES_PER_SIGNAL)
            .await;
    };
    let candidates = state
        .store
        .feedback_candidates(scope, repo_id, CANDIDATES_PER_SIGNAL, embedder.model())
        .await?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    match embedder.embed_one(diff).await {
        Ok(query) => Ok(pick(&query, &candidates)),
        Err(e) => {
            tracing::warn!(error = %e, "the diff could not be embedded; feedback examples by recency");
            Ok(most_recent(&candidates))
        }
    }
}

fn of(candidates: &[FeedbackCandidate], signal: Signal) -> Vec<&FeedbackCandidate> {
    candidates.iter().filter(|c| c.example.signal == signal).collect()
}

/// The most similar candidates of each signal (helpful first), candidates given newest
/// first per signal.
pub fn pick(query: &Vector, candidates: &[FeedbackCandidate]) -> Vec<FeedbackExample> {
    let mut out = Vec::new();
    for (signal, k) in [
        (Signal::Helpful, HELPFUL_BY_SIMILARITY),
        (Signal::NotHelpful, NOT_HELPFUL_BY_SIMILARITY),
    ] {
        let these = of(candidates, signal);
        for i in most_similar(query, these.iter().map(|c| c.vector.as_ref()), k) {
            out.push(these[i].example.clone());
        }
    }
    out
}

/// Today's choice, from the candidates: the newest of each signal.
fn most_recent(candidates: &[FeedbackCandidate]) -> Vec<FeedbackExample> {
    let per_signal = usize::try_from(FEEDBACK_EXAMPLES_PER_SIGNAL).unwrap_or(3);
    Signal::ALL
        .into_iter()
        .flat_map(|signal| of(candidates, signal).into_iter().take(per_signal))
        .map(|c| c.example.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(signal: Signal, excerpt: &str, vector: Option<&[f32]>) -> FeedbackCandidate {
        FeedbackCandidate {
            example: FeedbackExample {
                signal,
                path: "src/a.rs".into(),
                excerpt: excerpt.into(),
            },
            vector: vector.map(|v| Vector::new(v.to_vec()).unwrap()),
        }
    }

    fn excerpts(examples: &[FeedbackExample]) -> Vec<&str> {
        examples.iter().map(|e| e.excerpt.as_str()).collect()
    }

    #[test]
    fn the_most_similar_of_each_signal_are_picked_not_the_newest() {
        let query = Vector::new(vec![1.0, 0.0]).unwrap();
        let far = Some(&[0.0, 1.0][..]);
        let near = Some(&[1.0, 0.1][..]);
        let mut candidates = Vec::new();
        // Newest first: six far helpful ones, then two near ones; the same for not helpful.
        for i in 0..6 {
            candidates.push(candidate(Signal::Helpful, &format!("far{i}"), far));
        }
        candidates.push(candidate(Signal::Helpful, "near-a", near));
        candidates.push(candidate(Signal::Helpful, "near-b", near));
        for i in 0..4 {
            candidates.push(candidate(Signal::NotHelpful, &format!("nfar{i}"), far));
        }
        candidates.push(candidate(Signal::NotHelpful, "nnear", near));
        let picked = pick(&query, &candidates);
        assert_eq!(
            excerpts(&picked),
            ["near-a", "near-b", "far0", "far1", "far2", "nnear", "nfar0", "nfar1"]
        );
        assert!(picked[..5].iter().all(|e| e.signal == Signal::Helpful));
        assert_eq!(
            excerpts(&most_recent(&candidates)),
            ["far0", "far1", "far2", "nfar0", "nfar1", "nfar2"],
            "the fallback is today's: the three newest of each"
        );
    }

    #[test]
    fn without_comparable_vectors_the_newest_fill_in() {
        let query = Vector::new(vec![1.0, 0.0]).unwrap();
        let candidates = [
            candidate(Signal::Helpful, "new-none", None),
            candidate(Signal::Helpful, "other-model", Some(&[1.0, 0.0, 0.0])),
            candidate(Signal::Helpful, "zero", Some(&[0.0, 0.0])),
            candidate(Signal::Helpful, "old-match", Some(&[0.5, 0.5])),
        ];
        assert_eq!(
            excerpts(&pick(&query, &candidates)),
            ["old-match", "new-none", "other-model", "zero"]
        );
        assert!(pick(&query, &[]).is_empty());
    }
}
