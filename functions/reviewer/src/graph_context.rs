//! The graph context of a review (docs/review-engine.md, "Graph context"): the codebase
//! index's last graph (S3), the head versions of the changed files (the provider's file API,
//! parsed here), the changed symbols and their callers and callees ([`agnus_index::blast`]),
//! body excerpts read at the index's commit, all cut to the review's token budget. Best
//! effort: whatever fails, the review goes on from the diff alone and says so.

use agnus_index::blast::{self, FileChange, Reach};
use agnus_index::{CallIndex, FileIndex, Graph, Lang, Limits, parse_changed};
use agnus_shared::domain::Provider;
use agnus_shared::provider_api::{ApiBases, GITHUB_RAW, authorization};
use agnus_shared::review_settings::Depth;
use agnus_shared::store::{QueueScope, Store};
use aws_sdk_s3::primitives::AggregatedBytes;
use secrecy::SecretString;
use serde::Serialize;

use crate::diff::ChangedFile;
use crate::graph_prompt::{self, Excerpt};
use crate::http;

/// Where the index's graphs are.
#[derive(Debug, Clone)]
pub struct IndexGraphs {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub files: ApiBases,
    pub http: reqwest::Client,
}

/// A graph object larger than this is not read (the indexer's own cap on what it decodes).
const MAX_GRAPH_BYTES: usize = 512 << 20;
const MAX_DECODED: usize = 1 << 30;
/// Head versions of changed files read per review, and bytes per file.
const MAX_HEAD_FILES: usize = 30;
const MAX_FILE_BYTES: usize = 1 << 20;
/// Neighbours that carry a body excerpt.
const EXCERPTS: usize = 3;

/// One changed symbol in the job's history.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChangedRecord {
    pub name: String,
    pub path: String,
    pub line: u32,
    pub change: &'static str,
    pub callers: u32,
    pub caller_files: u32,
    pub top_files: Vec<TopFile>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TopFile {
    pub path: String,
    pub callers: Vec<String>,
}

/// What the graph gave a review, as its history records it.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ContextRecord {
    /// `graph` or `diff_only`.
    pub mode: &'static str,
    /// Why `diff_only`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_commit: Option<String>,
    pub changed: Vec<ChangedRecord>,
    /// Neighbours in the prompt.
    pub related: u32,
    /// Similar symbols in the prompt (`deep`, by embeddings).
    pub similar: u32,
    /// Prompt tokens the context added (estimated: bytes / 4).
    pub tokens: u32,
}

/// The graph's part in a review.
#[derive(Debug, Clone, Default)]
pub struct GraphContext {
    /// For the prompt (empty when diff-only).
    pub prompt: String,
    /// Engine-made lines at the top of the posted summary: the impact, or why the review
    /// is diff-only.
    pub summary: String,
    pub record: ContextRecord,
}

impl GraphContext {
    pub fn diff_only(reason: &'static str) -> Self {
        GraphContext {
            prompt: String::new(),
            summary: format!("<sub>{}</sub>", graph_prompt::diff_only_note(reason)),
            record: ContextRecord {
                mode: "diff_only",
                reason: Some(reason),
                ..ContextRecord::default()
            },
        }
    }
}

/// What a review asks of the graph.
#[derive(Debug)]
pub struct Ask<'a> {
    pub provider: Provider,
    pub repo_id: &'a str,
    pub full_name: &'a str,
    pub token: &'a SecretString,
    pub head_sha: &'a str,
    pub files: &'a [ChangedFile],
    pub depth: Depth,
    pub budget_tokens: usize,
    /// Embeddings (`deep` reviews add similar code with them).
    pub embedder: Option<&'a agnus_shared::embeddings::Embedder>,
}

/// Caller hops at each depth.
pub fn reach(depth: Depth) -> Reach {
    Reach {
        caller_hops: if depth == Depth::Fast { 1 } else { 2 },
        ..Reach::default()
    }
}

impl IndexGraphs {
    fn get(&self, provider: Provider, url: &str, token: &SecretString) -> reqwest::RequestBuilder {
        let request = self
            .http
            .get(url)
            .header("authorization", authorization(provider, token));
        match provider {
            Provider::Github => request
                .header("accept", GITHUB_RAW)
                .header("x-github-api-version", "2022-11-28"),
            _ => request,
        }
    }

    async fn file(&self, ask: &Ask<'_>, path: &str, sha: &str) -> Option<Vec<u8>> {
        let url = self.files.file_url(ask.provider, ask.full_name, path, sha);
        match http::send_capped(MAX_FILE_BYTES, self.get(ask.provider, &url, ask.token)).await {
            Ok((_, body)) => Some(body),
            Err(e) => {
                tracing::info!(error = %e, "a file for the graph context was not read");
                None
            }
        }
    }

    /// An object of the index's bucket, refused over `cap` bytes; `Ok(None)`: there is none.
    pub(crate) async fn object(&self, key: &str, cap: usize) -> Result<Option<AggregatedBytes>, String> {
        let object = match self.s3.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(o) => o,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(format!("S3 get: {e:?}")),
        };
        if object.content_length().is_some_and(|n| n > cap as i64) {
            return Err(format!("the object is over the read cap ({cap} bytes)"));
        }
        let bytes = object.body.collect().await.map_err(|e| format!("S3 read: {e}"))?;
        Ok(Some(bytes))
    }

    /// The index's graph: its core (files, symbols, edges) for a review; at `deep`, the
    /// symbols' docs too (the similar-code queries embed them, as the indexer did).
    async fn graph(&self, key: &str, depth: Depth) -> Result<Graph, String> {
        let bytes = self
            .object(key, MAX_GRAPH_BYTES)
            .await?
            .ok_or("no graph object")?
            .into_bytes();
        tokio::task::spawn_blocking(move || {
            let decoded = if depth == Depth::Deep {
                Graph::decode(&bytes, MAX_DECODED)
            } else {
                Graph::decode_core(&bytes, MAX_DECODED)
            };
            decoded.map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("decode task: {e}"))?
    }

    /// The graph context of one review; diff-only (with the reason) when there is none.
    pub async fn gather(&self, store: &Store, scope: &QueueScope, ask: &Ask<'_>) -> GraphContext {
        if ask.budget_tokens == 0 {
            return GraphContext::diff_only("context_off");
        }
        let record = match store.queued_index_record(scope, ask.repo_id).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "index record unreadable; reviewing from the diff");
                return GraphContext::diff_only("index_unreadable");
            }
        };
        let Some((key, commit)) = record.and_then(|r| r.graph_key.zip(r.commit)) else {
            return GraphContext::diff_only("no_index");
        };
        let graph = match self.graph(&key, ask.depth).await {
            Ok(g) => g,
            Err(why) => {
                tracing::warn!(%why, "graph unreadable; reviewing from the diff");
                return GraphContext::diff_only("index_unreadable");
            }
        };
        let changes: Vec<(&ChangedFile, graph_prompt::HunkLines)> = ask
            .files
            .iter()
            .filter_map(|f| f.patch.as_deref().map(|p| (f, graph_prompt::hunk_lines(p))))
            .collect();
        let heads = self.head_files(ask, &graph, &changes).await;
        let file_changes: Vec<FileChange<'_>> = changes
            .iter()
            .map(|(f, lines)| FileChange {
                path: &f.path,
                old_path: f.old_path.as_deref(),
                added: lines.added.clone(),
                removed: lines.removed.clone(),
                old_span: lines.old_span.clone(),
                head: heads.iter().find(|h| h.path == f.path),
            })
            .collect();
        let reach = reach(ask.depth);
        let calls = CallIndex::new(&graph);
        let found = blast::blast(&graph, &calls, &file_changes, reach);
        if found.changed.is_empty() {
            return GraphContext::diff_only("no_changed_symbols");
        }
        let impact = blast::impact(&graph, &calls, &found, 3, 3);
        let excerpts = self.excerpts(ask, &graph, &found, &commit).await;
        let similar = match ask.embedder {
            Some(embedder) if ask.depth == Depth::Deep => self.similar(embedder, &key, &graph, &found).await,
            _ => Vec::new(),
        };
        let rendered = graph_prompt::render_prompt_with(
            &graph,
            &found,
            &excerpts,
            &similar,
            ask.budget_tokens,
            &commit,
            reach.caller_hops,
        );
        let summary = graph_prompt::render_impact(&found, &impact, &commit);
        let changed = found
            .changed
            .iter()
            .enumerate()
            .take(graph_prompt::IMPACT_SYMBOLS)
            .map(|(of, c)| {
                let i = impact.iter().find(|i| i.of == of);
                ChangedRecord {
                    name: c.qualified.clone(),
                    path: c.path.clone(),
                    line: c.line,
                    change: c.change.as_str(),
                    callers: i.map_or(0, |i| i.callers),
                    caller_files: i.map_or(0, |i| i.files),
                    top_files: i
                        .map(|i| {
                            i.top
                                .iter()
                                .map(|(path, callers)| TopFile {
                                    path: path.clone(),
                                    callers: callers.clone(),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            })
            .collect();
        GraphContext {
            record: ContextRecord {
                mode: "graph",
                reason: None,
                index_commit: Some(commit),
                changed,
                related: rendered.related as u32,
                similar: rendered.similar as u32,
                tokens: rendered.tokens as u32,
            },
            prompt: rendered.text,
            summary,
        }
    }

    /// The head versions of the changed files in a language the index knows, parsed where
    /// their patches touch them (the base graph's version of each file says where that is:
    /// `agnus_index::parse_changed`).
    async fn head_files(
        &self,
        ask: &Ask<'_>,
        graph: &Graph,
        changes: &[(&ChangedFile, graph_prompt::HunkLines)],
    ) -> Vec<FileIndex> {
        let mut out = Vec::new();
        let wanted = changes
            .iter()
            .filter(|(f, _)| f.status != "removed" && Lang::from_path(&f.path).is_some())
            .take(MAX_HEAD_FILES);
        for (f, lines) in wanted {
            let before = f.old_path.as_deref().unwrap_or(&f.path);
            let base = graph.file_index(before).map(|i| &graph.files[i as usize]);
            if let Some(bytes) = self.file(ask, &f.path, ask.head_sha).await
                && let Some(parsed) = parse_changed(&f.path, &bytes, base, lines, &Limits::default())
            {
                out.push(parsed);
            }
        }
        out
    }

    /// Body excerpts of the first non-test neighbours, read at the index's commit.
    async fn excerpts(&self, ask: &Ask<'_>, graph: &Graph, found: &blast::Blast, commit: &str) -> Vec<Option<Excerpt>> {
        let mut out = vec![None; found.related.len()];
        let mut cache: Vec<(String, Option<Vec<String>>)> = Vec::new();
        for i in graph_prompt::excerpt_targets(found, EXCERPTS) {
            let id = found.related[i].id;
            let path = graph.path(id).to_owned();
            if !cache.iter().any(|(p, _)| *p == path) {
                let lines = self
                    .file(ask, &path, commit)
                    .await
                    .map(|b| String::from_utf8_lossy(&b).lines().map(str::to_owned).collect());
                cache.push((path.clone(), lines));
            }
            let Some((_, Some(lines))) = cache.iter().find(|(p, _)| *p == path) else {
                continue;
            };
            out[i] = graph_prompt::excerpt(lines, graph.symbol(id));
        }
        out
    }
}
