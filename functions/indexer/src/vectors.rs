//! The embeddings phase (docs/index.md, "Embeddings"): with embeddings configured, up to
//! `AGNUS_INDEX_EMBED_SYMBOLS` symbols of the new graph (most called first) are embedded in
//! batches and written next to the graph object (`<graph key>.vectors`, SSE-KMS). A vector
//! whose text (qualified name, signature, doc) is unchanged since the last graph's vectors
//! object, of the same model, is reused instead of embedded again — so an incremental job
//! embeds only what its changed files changed. Best effort: a failure leaves no vectors
//! object (the graph is ready; the record's `stats.vectors` is 0) and is logged.

use std::collections::HashMap;

use agnus_index::vectors::{SymbolVectors, VectorEntry, pick_symbols, symbol_text, text_hash};
use agnus_index::{CallIndex, Graph};
use agnus_shared::embeddings::{Embedder, MAX_BATCH};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use crate::IndexerState;

/// A vectors object larger than this is not read back for reuse.
const MAX_VECTORS_BYTES: i64 = 256 << 20;

/// The vectors object of a graph object.
pub fn vectors_key(graph_key: &str) -> String {
    format!("{graph_key}.vectors")
}

/// One symbol to embed.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub path: String,
    pub qualified: String,
    pub line: u32,
    pub text: String,
}

/// The symbols of `graph` to embed, at most `cap`, with their texts (CPU only: run it off
/// the async runtime).
pub fn wanted(graph: &Graph, cap: usize) -> Vec<Wanted> {
    let calls = CallIndex::new(graph);
    pick_symbols(graph, &calls, cap)
        .into_iter()
        .map(|id| {
            let s = graph.symbol(id);
            Wanted {
                path: graph.path(id).to_owned(),
                qualified: s.qualified.clone(),
                line: s.start_line,
                text: symbol_text(s),
            }
        })
        .collect()
}

/// The vectors of `wanted`: those of `previous` (same model, same text) reused, the rest
/// embedded in batches of [`MAX_BATCH`]. `None` when a call fails or the answers disagree
/// in dimensions (logged).
pub async fn embed(embedder: &Embedder, wanted: Vec<Wanted>, previous: Option<SymbolVectors>) -> Option<SymbolVectors> {
    let mut known: HashMap<u64, Vec<f32>> = HashMap::new();
    if let Some(p) = previous.filter(|p| p.model == embedder.model()) {
        known.extend(p.entries.into_iter().map(|e| (e.text_hash, e.vector)));
    }
    let hashes: Vec<u64> = wanted.iter().map(|w| text_hash(&w.text)).collect();
    let missing: Vec<usize> = (0..wanted.len()).filter(|&i| !known.contains_key(&hashes[i])).collect();
    let mut fresh: HashMap<u64, Vec<f32>> = HashMap::new();
    for batch in missing.chunks(MAX_BATCH) {
        let inputs: Vec<&str> = batch.iter().map(|&i| wanted[i].text.as_str()).collect();
        match embedder.embed(&inputs).await {
            Ok(vectors) => {
                for (&i, v) in batch.iter().zip(vectors) {
                    fresh.insert(hashes[i], v.values().to_vec());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "symbols could not be embedded; the graph has no vectors object");
                return None;
            }
        }
    }
    let dimensions = fresh
        .values()
        .chain(known.values())
        .next()
        .map_or(0, |v| v.len() as u32);
    if fresh.values().any(|v| v.len() != dimensions as usize) {
        tracing::warn!("the embeddings answers disagree in dimensions; the graph has no vectors object");
        return None;
    }
    tracing::info!(
        embedded = missing.len(),
        reused = wanted.len() - missing.len(),
        "symbols embedded"
    );
    let entries = wanted
        .into_iter()
        .zip(hashes)
        .filter_map(|(w, hash)| {
            let vector = fresh.get(&hash).or_else(|| known.get(&hash))?.clone();
            // A reused vector of other dimensions (the configured dimensions changed) is dropped.
            (vector.len() == dimensions as usize).then_some(VectorEntry {
                path: w.path,
                qualified: w.qualified,
                line: w.line,
                text_hash: hash,
                vector,
            })
        })
        .collect();
    Some(SymbolVectors {
        model: embedder.model().to_owned(),
        dimensions: dimensions.max(1),
        entries,
    })
}

/// The vectors object of the last graph, if there is one and it is readable.
pub async fn load(state: &IndexerState, graph_key: &str) -> Option<SymbolVectors> {
    let object = state
        .s3
        .get_object()
        .bucket(&state.config.bucket)
        .key(vectors_key(graph_key))
        .send()
        .await
        .ok()?;
    if object.content_length().is_some_and(|n| n > MAX_VECTORS_BYTES) {
        return None;
    }
    let bytes = object.body.collect().await.ok()?.into_bytes();
    match SymbolVectors::decode(&bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::info!(error = %e, "the last vectors object is unreadable; every symbol is embedded");
            None
        }
    }
}

/// Writes the vectors object next to the graph (SSE-KMS with the project key).
pub async fn store(state: &IndexerState, graph_key: &str, vectors: &SymbolVectors) -> Result<(), String> {
    state
        .s3
        .put_object()
        .bucket(&state.config.bucket)
        .key(vectors_key(graph_key))
        .body(ByteStream::from(vectors.encode()))
        .content_type("application/octet-stream")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(&state.config.kms_key_id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("S3 put: {e:?}"))
}
