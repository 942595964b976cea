//! "Similar code" for `deep` reviews (docs/review-engine.md, "Graph context"): with
//! embeddings configured and a vectors object next to the index's graph (written by the
//! indexer's embeddings phase), the changed symbols' texts are embedded and the
//! [`SIMILAR`] stored symbols most similar to any of them are added to the graph context —
//! not the changed symbols themselves, not the callers and callees already listed. Best
//! effort: a missing or unreadable vectors object, another model's vectors or a failed
//! embeddings call give no similar code (logged), never a failed review.

use std::collections::BTreeSet;

use agnus_index::blast::Blast;
use agnus_index::vectors::{SymbolVectors, VectorEntry, most_similar, text};
use agnus_index::{Graph, SymbolId};
use agnus_shared::embeddings::{Embedder, MAX_BATCH};

use crate::graph_context::IndexGraphs;

/// Similar symbols added, at most.
pub const SIMILAR: usize = 5;
/// A vectors object larger than this is not read.
const MAX_VECTORS_BYTES: usize = 256 << 20;

/// The embedded texts of the changed symbols (as the indexer embeds symbols), at most one
/// embeddings call's worth. A changed symbol's doc is its base version's.
pub fn queries(graph: &Graph, found: &Blast) -> Vec<String> {
    found
        .changed
        .iter()
        .take(MAX_BATCH)
        .map(|c| {
            let doc = c.base.and_then(|id| graph.symbol(id).doc.as_deref());
            text(&c.qualified, &c.signature, doc)
        })
        .collect()
}

/// The graph's symbol an entry names (same path, first line and qualified name).
fn locate(graph: &Graph, entry: &VectorEntry) -> Option<SymbolId> {
    let file = graph.file_index(&entry.path)?;
    let symbols = &graph.files[file as usize].symbols;
    let at = symbols
        .iter()
        .position(|s| s.start_line == entry.line && s.qualified == entry.qualified)?;
    Some(SymbolId {
        file,
        symbol: at as u32,
    })
}

/// The at most [`SIMILAR`] symbols most similar to `queries`, leaving out the changed
/// symbols (by base id, or by path and name for a new one) and the neighbours already in
/// `found`, and entries the graph does not hold.
pub fn pick(graph: &Graph, found: &Blast, vectors: &SymbolVectors, queries: &[Vec<f32>]) -> Vec<SymbolId> {
    let mut taken: BTreeSet<SymbolId> = found.related.iter().map(|r| r.id).collect();
    taken.extend(found.changed.iter().filter_map(|c| c.base));
    let is_changed = |e: &VectorEntry| {
        found
            .changed
            .iter()
            .any(|c| c.path == e.path && c.qualified == e.qualified)
    };
    let skip = |e: &VectorEntry| is_changed(e) || locate(graph, e).is_none_or(|id| taken.contains(&id));
    most_similar(&vectors.entries, queries, skip, SIMILAR)
        .into_iter()
        .filter_map(|i| locate(graph, &vectors.entries[i]))
        .collect()
}

impl IndexGraphs {
    async fn vectors(&self, graph_key: &str) -> Result<SymbolVectors, String> {
        let bytes = self
            .object(&format!("{graph_key}.vectors"), MAX_VECTORS_BYTES)
            .await?
            .ok_or("no vectors object")?
            .into_bytes();
        tokio::task::spawn_blocking(move || SymbolVectors::decode(&bytes).map_err(|e| e.to_string()))
            .await
            .map_err(|e| format!("decode task: {e}"))?
    }

    /// The similar symbols of a `deep` review (see the module docs); empty when anything
    /// fails.
    pub async fn similar(&self, embedder: &Embedder, graph_key: &str, graph: &Graph, found: &Blast) -> Vec<SymbolId> {
        let vectors = match self.vectors(graph_key).await {
            Ok(v) if v.model == embedder.model() => v,
            Ok(_) => {
                tracing::info!("the index's vectors are another model's; no similar code");
                return Vec::new();
            }
            Err(why) => {
                tracing::info!(%why, "no similar code");
                return Vec::new();
            }
        };
        let texts = queries(graph, found);
        let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
        match embedder.embed(&inputs).await {
            Ok(vs) => {
                let queries: Vec<Vec<f32>> = vs.iter().map(|v| v.values().to_vec()).collect();
                pick(graph, found, &vectors, &queries)
            }
            Err(e) => {
                tracing::warn!(error = %e, "the changed symbols could not be embedded; no similar code");
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use agnus_index::blast::{FileChange, Reach, blast};
    use agnus_index::{CallIndex, Limits, ResolveMode, parse_file};

    use super::*;

    fn parse(path: &str, src: &str) -> agnus_index::FileIndex {
        parse_file(path, src.as_bytes(), &Limits::default()).expect("known language")
    }

    const UTIL: &str = "def helper(x):\n    \"\"\"Doubles x.\"\"\"\n    return x * 2\n";
    const APP: &str = "from pkg.util import helper\n\n\ndef run():\n    return helper(1)\n";
    const OTHER: &str = "def double(x):\n    return x + x\n\n\ndef far():\n    return 0\n";

    fn entry(path: &str, qualified: &str, line: u32, vector: &[f32]) -> VectorEntry {
        VectorEntry {
            path: path.into(),
            qualified: qualified.into(),
            line,
            text_hash: 0,
            vector: vector.to_vec(),
        }
    }

    #[test]
    fn similar_symbols_leave_out_the_changed_ones_and_the_neighbours() {
        let files = vec![
            parse("pkg/util.py", UTIL),
            parse("pkg/app.py", APP),
            parse("lib/other.py", OTHER),
        ];
        let graph = Graph::build(files, ResolveMode::Scoped);
        let head = parse(
            "pkg/util.py",
            "def helper(x):\n    \"\"\"Doubles x.\"\"\"\n    return x * 3\n",
        );
        let change = FileChange {
            path: "pkg/util.py",
            added: vec![3],
            removed: vec![3],
            head: Some(&head),
            ..Default::default()
        };
        let found = blast(&graph, &CallIndex::new(&graph), &[change], Reach::default());
        assert_eq!(found.changed[0].qualified, "pkg.util.helper");
        assert_eq!(
            queries(&graph, &found),
            ["pkg.util.helper\ndef helper(x)\nDoubles x."],
            "the indexer's text, with the base doc"
        );
        let vectors = SymbolVectors {
            model: "m".into(),
            dimensions: 2,
            entries: vec![
                entry("pkg/util.py", "pkg.util.helper", 1, &[1.0, 0.0]),
                entry("pkg/app.py", "pkg.app.run", 4, &[1.0, 0.0]),
                entry("lib/other.py", "lib.other.far", 5, &[0.0, 1.0]),
                entry("lib/other.py", "lib.other.double", 1, &[0.9, 0.1]),
                // Not in the graph (a stale line): left out.
                entry("lib/other.py", "lib.other.double", 9, &[1.0, 0.0]),
            ],
        };
        let names = |ids: Vec<SymbolId>| -> Vec<String> {
            ids.into_iter().map(|id| graph.symbol(id).qualified.clone()).collect()
        };
        assert_eq!(
            names(pick(&graph, &found, &vectors, &[vec![1.0, 0.0]])),
            ["lib.other.double", "lib.other.far"],
            "not the changed symbol, not its caller run"
        );
        assert!(
            pick(&graph, &found, &vectors, &[vec![1.0, 0.0, 0.0]]).is_empty(),
            "other dimensions"
        );
    }
}
