//! Embeddings of rated comments (issue 31, "Feedback by similarity"), in the org's
//! partition like the rest of the feedback loop (`store::feedback`):
//! - on `FBCOMMENT#<commentId>`: `vec` (binary: the vector, 4 little-endian bytes a
//!   dimension) and `vec_model` (the model that made it), so a changed signal's new
//!   example carries it over without a second embedding;
//! - on the comment's current example `FBEX#<repoId>#<signal>#<ms>#<commentId>`: the same
//!   two attributes, read with the examples when a review picks the most similar ones.
//!
//! Only vectors of the configured model are compared; the others read as "no vector".

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::feedback::{FeedbackExample, FeedbackScope};
use super::keys::*;
use super::repos::QueueScope;
use super::{Item, PageRequest, Store, StoreError, classify, get_opt_n, get_opt_s, get_s, s};
use crate::embeddings::Vector;
use crate::feedback::{CommentId, Signal};

/// Attribute of the vector's bytes.
const VEC: &str = "vec";
/// Attribute of the model that made it.
const VEC_MODEL: &str = "vec_model";

/// A rated comment as the embeddings see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedSource {
    /// What is embedded: `path:line` and the comment's excerpt.
    pub text: String,
    /// It has a vector of the asked model already.
    pub has_vector: bool,
}

/// A rated comment of a repository, with its vector when it has one of the asked model.
#[derive(Debug, Clone)]
pub struct FeedbackCandidate {
    pub example: FeedbackExample,
    pub vector: Option<Vector>,
}

/// The text embedded for a rated comment (and compared with a review's diff).
pub fn embed_text(path: &str, line: u32, excerpt: &str) -> String {
    format!("{path}:{line}\n{excerpt}")
}

fn vector_of(item: &Item, model: &str) -> Option<Vector> {
    if get_opt_s(item, VEC_MODEL) != Some(model) {
        return None;
    }
    item.get(VEC)
        .and_then(|v| v.as_b().ok())
        .and_then(|b| Vector::from_bytes(b.as_ref()))
}

impl Store {
    /// The rated comment's text to embed (`None`: no such comment, or not rated).
    pub async fn embed_source(
        &self,
        scope: &FeedbackScope,
        comment: &CommentId,
        model: &str,
    ) -> Result<Option<EmbedSource>, StoreError> {
        let item = self
            .get(key(org_pk(scope.org_id()), posted_comment_sk(comment.as_str())))
            .await?;
        let Some(item) = item.filter(|i| get_opt_s(i, "signal").is_some()) else {
            return Ok(None);
        };
        Ok(Some(EmbedSource {
            text: embed_text(
                get_s(&item, "path")?,
                get_opt_n(&item, "line").unwrap_or(0),
                get_s(&item, "excerpt")?,
            ),
            has_vector: vector_of(&item, model).is_some(),
        }))
    }

    /// Stores a rated comment's vector on the comment and on its current example (the one
    /// the comment names after this write: a signal changed meanwhile is followed).
    pub async fn store_comment_vector(
        &self,
        scope: &FeedbackScope,
        comment: &CommentId,
        model: &str,
        vector: &Vector,
    ) -> Result<(), StoreError> {
        let pk = org_pk(scope.org_id());
        let bytes = AttributeValue::B(vector.to_bytes().into());
        let set = |k: Item| {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(k))
                .update_expression("SET #vec = :vec, #model = :model")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_names("#vec", VEC)
                .expression_attribute_names("#model", VEC_MODEL)
                .expression_attribute_values(":vec", bytes.clone())
                .expression_attribute_values(":model", s(model))
        };
        let gone = |e: &SdkError<_, _>| {
            e.as_service_error().is_some_and(
                aws_sdk_dynamodb::operation::update_item::UpdateItemError::is_conditional_check_failed_exception,
            )
        };
        let updated = match set(key(pk.clone(), posted_comment_sk(comment.as_str())))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
        {
            Ok(out) => out.attributes.unwrap_or_default(),
            // The comment expired meanwhile: nothing to search.
            Err(e) if gone(&e) => return Ok(()),
            Err(e) => return Err(classify(e)),
        };
        if let Some(example_sk) = get_opt_s(&updated, "example_sk") {
            match set(key(pk, example_sk)).send().await {
                // A signal changed after our write replaced the example, and copied the
                // comment's vector into its new one.
                Ok(_) => {}
                Err(e) if gone(&e) => {}
                Err(e) => return Err(classify(e)),
            }
        }
        Ok(())
    }

    /// The most recent rated comments of a repository, up to `per_signal` of each signal
    /// (newest first), with their vectors of `model`.
    pub async fn feedback_candidates(
        &self,
        scope: &QueueScope,
        repo_id: &str,
        per_signal: usize,
        model: &str,
    ) -> Result<Vec<FeedbackCandidate>, StoreError> {
        let pk = org_pk(scope.org_id());
        let mut out = Vec::new();
        for signal in Signal::ALL {
            let prefix = feedback_example_prefix(repo_id, signal.as_str());
            let mut read = 0;
            let mut cursor = None;
            while read < per_signal {
                let page = PageRequest {
                    limit: i32::try_from(per_signal - read).unwrap_or(i32::MAX),
                    cursor,
                };
                let (items, next) = self.query_page(&pk, &prefix, &page, true, None).await?;
                read += items.len();
                for item in items {
                    out.push(FeedbackCandidate {
                        example: FeedbackExample {
                            signal,
                            path: get_s(&item, "path")?.to_owned(),
                            excerpt: get_s(&item, "excerpt")?.to_owned(),
                        },
                        vector: vector_of(&item, model),
                    });
                }
                match next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_vectors_of_the_asked_model_are_read() {
        let v = Vector::new(vec![0.6, 0.8]).unwrap();
        let mut item = Item::new();
        item.insert(VEC.into(), AttributeValue::B(v.to_bytes().into()));
        item.insert(VEC_MODEL.into(), s("m1"));
        assert_eq!(vector_of(&item, "m1"), Some(v));
        assert_eq!(vector_of(&item, "m2"), None, "another model's vector");
        item.insert(VEC.into(), AttributeValue::B(vec![1, 2, 3].into()));
        assert_eq!(vector_of(&item, "m1"), None, "unreadable bytes");
        assert_eq!(embed_text("src/a.rs", 7, "Overflow."), "src/a.rs:7\nOverflow.");
    }
}
