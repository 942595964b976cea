//! One index job: full (the archive at one commit) or incremental (the files changed since
//! the indexed commit, from the provider's compare API, over the last graph).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use agnus_index::{FileIndex, Graph, Limits, ResolveMode, parse_file, skip_content, skip_path};
use agnus_shared::index_jobs::IndexJobMessage;
use agnus_shared::provider_api::CallError;
use agnus_shared::repo_token::TokenFailure;
use agnus_shared::store::{
    IndexFailure, IndexKind, IndexPhase, IndexProgress, IndexRecord, IndexStats, JobWrite, QueueScope, RepoRecord,
    StoreError,
};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ServerSideEncryption, Tag, Tagging};
use secrecy::SecretString;

use crate::archive::{ArchiveError, Caps, walk};
use crate::source::Change;
use crate::{IndexerState, stream};

/// How often a running job writes its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);
/// A decoded graph may weigh this much in memory, at most.
const MAX_DECODED_GRAPH: usize = 1 << 30;

/// A failure the record shows: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
}

impl Failure {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn record(&self) -> IndexFailure {
        IndexFailure {
            code: self.code.to_owned(),
            message: self.message.clone(),
        }
    }
}

/// Why a job did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// For good: the record says why.
    #[error("{}: {}", .0.code, .0.message)]
    Failed(Failure),
    /// Worth another try (the provider or AWS unavailable).
    #[error("transient: {0}")]
    Transient(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn provider_error(e: CallError) -> JobError {
    match e {
        CallError::Unauthorized(_) => JobError::Failed(Failure::new(
            "token_invalid",
            "the provider refused the repository's token; connect the repository again with a valid token",
        )),
        CallError::NotFound => JobError::Failed(Failure::new(
            "not_found",
            "the provider does not show this repository or commit to the repository's token",
        )),
        CallError::TooLarge { limit } => JobError::Failed(Failure::new(
            "too_large",
            format!("a provider answer was over {limit} bytes"),
        )),
        CallError::RetryLater { why, .. } => JobError::Transient(why),
        CallError::Rejected { why, status } => JobError::Failed(Failure::new(
            "provider_rejected",
            format!("the provider refused the request ({status}): {why}"),
        )),
    }
}

fn archive_error(e: ArchiveError) -> JobError {
    match e {
        ArchiveError::TooLarge { cap, limit } => JobError::Failed(Failure::new(
            "too_large",
            format!("the repository is over the index cap {cap} ({limit}); reviews still run on the diff alone"),
        )),
        ArchiveError::Invalid(why) => JobError::Failed(Failure::new(
            "archive_invalid",
            format!("the archive is not readable: {why}"),
        )),
        ArchiveError::Unsafe(why) => JobError::Failed(Failure::new(
            "archive_invalid",
            format!("the archive was refused: {why}"),
        )),
        ArchiveError::Download(why) => JobError::Transient(format!("download: {why}")),
        ArchiveError::Stopped(why) => JobError::Transient(why),
    }
}

/// Runs one job whose lease is held.
pub async fn run(
    state: &IndexerState,
    scope: &QueueScope,
    repo: &RepoRecord,
    job: &IndexJobMessage,
) -> Result<JobWrite, JobError> {
    if state.store.start_index(scope, &repo.id, &job.job_id).await? == JobWrite::Superseded {
        return Ok(JobWrite::Superseded);
    }
    let token = open_token(state, scope, repo).await?;
    let record = state.store.queued_index_record(scope, &repo.id).await?;
    let target = match &job.target {
        Some(sha) => sha.clone(),
        None => {
            state
                .sources
                .head(repo.provider, &repo.full_name, &token)
                .await
                .map_err(provider_error)?
                .sha
        }
    };
    if job.kind == IndexKind::Incremental
        && let Some(done) = incremental(state, scope, repo, job, record.as_ref(), &target, &token).await?
    {
        return Ok(done);
    }
    full(state, scope, repo, job, record.as_ref(), &target, &token).await
}

/// The repository's credential (its token, or a GitHub App installation token).
async fn open_token(state: &IndexerState, scope: &QueueScope, repo: &RepoRecord) -> Result<SecretString, JobError> {
    let now = state.store.now_secs();
    state
        .repo_tokens
        .for_repo(&state.store, &state.sealer, scope, repo, now)
        .await
        .map_err(|e| match e {
            TokenFailure::Unavailable(why) => JobError::Transient(why),
            TokenFailure::InstallationRemoved => JobError::Failed(Failure::new(
                "installation_removed",
                "the GitHub App installation this repository was connected through was removed; connect it again",
            )),
            other => JobError::Failed(Failure::new(
                other.reason(),
                "the repository's access token is not valid; connect it again",
            )),
        })
}

fn limits(state: &IndexerState) -> Limits {
    Limits {
        max_file_bytes: state.config.caps.file_bytes as usize,
        ..Limits::default()
    }
}

/// A full index: the archive at `target`, parsed as it streams.
async fn full(
    state: &IndexerState,
    scope: &QueueScope,
    repo: &RepoRecord,
    job: &IndexJobMessage,
    previous: Option<&IndexRecord>,
    target: &str,
    token: &SecretString,
) -> Result<JobWrite, JobError> {
    let (format, response) = state
        .sources
        .archive(repo.provider, &repo.full_name, target, token)
        .await
        .map_err(provider_error)?;
    let (reader, download) = stream::pull(response);
    let caps = state.config.caps;
    let caps = Caps {
        archive_bytes: caps.archive_bytes,
        unpacked_bytes: caps.archive_bytes.saturating_mul(4),
        files: caps.files,
        file_bytes: caps.file_bytes,
        source_bytes: caps.source_bytes,
    };
    let done = Arc::new(AtomicU32::new(0));
    let limits = limits(state);
    let counter = Arc::clone(&done);
    let mut parsing = tokio::task::spawn_blocking(move || {
        let mut files = Vec::new();
        let mut skipped = 0u32;
        let tally = walk(
            format,
            reader,
            &caps,
            |path, _| skip_path(path).is_none(),
            |path, bytes| {
                counter.fetch_add(1, Ordering::Relaxed);
                match skip_content(path, &bytes) {
                    Some(_) => skipped += 1,
                    None => files.extend(parse_file(path, &bytes, &limits)),
                }
                Ok(())
            },
        )?;
        Ok::<_, ArchiveError>((files, tally.skipped + skipped, tally.source_bytes))
    });
    // Progress while the blocking walk runs.
    let parsed = loop {
        tokio::select! {
            joined = &mut parsing => break joined,
            () = tokio::time::sleep(PROGRESS_EVERY) => {
                let progress = IndexProgress { files_done: done.load(Ordering::Relaxed), files_total: None };
                if state.store.index_progress(scope, &repo.id, &job.job_id, IndexPhase::Parsing, progress).await?
                    == JobWrite::Superseded
                {
                    // The walk stops when its reader's channel closes.
                    download.abort();
                    return Ok(JobWrite::Superseded);
                }
            }
        }
    };
    download.abort();
    let (files, skipped, bytes) = parsed
        .map_err(|e| JobError::Transient(format!("the parse task ended: {e}")))?
        .map_err(archive_error)?;
    let total = u32::try_from(files.len()).unwrap_or(u32::MAX);
    let progress = IndexProgress {
        files_done: total,
        files_total: Some(total),
    };
    if state
        .store
        .index_progress(scope, &repo.id, &job.job_id, IndexPhase::Graph, progress)
        .await?
        == JobWrite::Superseded
    {
        return Ok(JobWrite::Superseded);
    }
    let graph = tokio::task::spawn_blocking(move || Graph::build(files, ResolveMode::Scoped))
        .await
        .map_err(|e| JobError::Transient(format!("the graph task ended: {e}")))?;
    store_graph(state, scope, repo, job, previous, target, graph, skipped, bytes).await
}

/// An incremental update over the last graph; `None`: it cannot be done incrementally
/// (no ready graph, a force push, too many changes) and the caller indexes in full.
async fn incremental(
    state: &IndexerState,
    scope: &QueueScope,
    repo: &RepoRecord,
    job: &IndexJobMessage,
    previous: Option<&IndexRecord>,
    target: &str,
    token: &SecretString,
) -> Result<Option<JobWrite>, JobError> {
    let (Some(prev), Some(key)) = (previous, previous.and_then(|p| p.graph_key.as_deref())) else {
        return Ok(None);
    };
    let Some(base) = prev.commit.as_deref() else {
        return Ok(None);
    };
    let compare = state
        .sources
        .compare(repo.provider, &repo.full_name, base, target, token)
        .await
        .map_err(provider_error)?;
    if compare.diverged || !compare.complete || compare.changes.len() > state.config.incremental_max_files {
        tracing::info!(
            changes = compare.changes.len(),
            diverged = compare.diverged,
            "the index is rebuilt in full"
        );
        return Ok(None);
    }
    let Some(mut graph) = load_graph(state, key).await? else {
        return Ok(None);
    };
    let limits = limits(state);
    let (mut changed, mut removed, mut skipped, mut bytes) = (Vec::<FileIndex>::new(), Vec::new(), 0u32, 0u64);
    for change in &compare.changes {
        match change {
            Change::Removed(path) => removed.push(path.clone()),
            Change::Upsert(path) => {
                // A file that is no longer indexable leaves the graph.
                removed.push(path.clone());
                if skip_path(path).is_some() {
                    continue;
                }
                let cap = state.config.caps.file_bytes as usize;
                let content = match state
                    .sources
                    .file(repo.provider, &repo.full_name, path, target, token, cap)
                    .await
                {
                    Ok(Some(c)) => c,
                    Ok(None) => continue,
                    Err(CallError::TooLarge { .. }) => {
                        skipped += 1;
                        continue;
                    }
                    Err(e) => return Err(provider_error(e)),
                };
                if skip_content(path, &content).is_some() {
                    skipped += 1;
                    continue;
                }
                bytes += content.len() as u64;
                changed.extend(parse_file(path, &content, &limits));
            }
        }
    }
    let touched: Vec<String> = changed.iter().map(|f| f.path.clone()).collect();
    removed.retain(|p| !touched.contains(p));
    tracing::info!(changed = changed.len(), removed = removed.len(), "incremental index");
    let graph = tokio::task::spawn_blocking(move || {
        graph.update(changed, &removed);
        graph
    })
    .await
    .map_err(|e| JobError::Transient(format!("the graph task ended: {e}")))?;
    let prev_stats = prev.stats.clone().unwrap_or_default();
    let written = store_graph(
        state,
        scope,
        repo,
        job,
        previous,
        target,
        graph,
        prev_stats.skipped + skipped,
        prev_stats.bytes.saturating_add(bytes),
    )
    .await?;
    Ok(Some(written))
}

async fn load_graph(state: &IndexerState, key: &str) -> Result<Option<Graph>, JobError> {
    let object = match state.s3.get_object().bucket(&state.config.bucket).key(key).send().await {
        Ok(o) => o,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(JobError::Transient(format!("S3 get: {e:?}"))),
    };
    let body = object
        .body
        .collect()
        .await
        .map_err(|e| JobError::Transient(format!("S3 read: {e}")))?
        .into_bytes();
    match Graph::decode(&body, MAX_DECODED_GRAPH) {
        Ok(g) => Ok(Some(g)),
        Err(e) => {
            tracing::warn!(error = %e, "the stored graph is unreadable; indexing in full");
            Ok(None)
        }
    }
}

/// Writes the graph object and says so in the record; the replaced object is tagged to
/// expire (in-flight reviews may still read it for a day).
#[allow(clippy::too_many_arguments)]
async fn store_graph(
    state: &IndexerState,
    scope: &QueueScope,
    repo: &RepoRecord,
    job: &IndexJobMessage,
    previous: Option<&IndexRecord>,
    commit: &str,
    graph: Graph,
    skipped: u32,
    bytes: u64,
) -> Result<JobWrite, JobError> {
    let cap = state.embedder.as_ref().map_or(0, |_| state.config.embed_symbols);
    let encoded = tokio::task::spawn_blocking(move || {
        let stats = graph.stats();
        let wanted = crate::vectors::wanted(&graph, cap);
        (graph.encode(), stats, wanted)
    })
    .await
    .map_err(|e| JobError::Transient(format!("the encode task ended: {e}")))?;
    let (object, stats, wanted) = encoded;
    let key = graph_key(scope, &repo.id, commit, &job.job_id);
    let mut stats = IndexStats {
        files: stats.files,
        symbols: stats.symbols,
        edges: stats.edges,
        bytes,
        lines: stats.lines,
        languages: stats.languages,
        skipped,
        graph_bytes: object.len() as u64,
        vectors: 0,
    };
    state
        .s3
        .put_object()
        .bucket(&state.config.bucket)
        .key(&key)
        .body(ByteStream::from(object))
        .content_type("application/octet-stream")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(&state.config.kms_key_id)
        .send()
        .await
        .map_err(|e| JobError::Transient(format!("S3 put: {e:?}")))?;
    if let Some(embedder) = &state.embedder {
        let progress = IndexProgress {
            files_done: stats.files,
            files_total: Some(stats.files),
        };
        if state
            .store
            .index_progress(scope, &repo.id, &job.job_id, IndexPhase::Embeddings, progress)
            .await?
            == JobWrite::Superseded
        {
            tag_replaced(state, &key).await;
            return Ok(JobWrite::Superseded);
        }
        let last = match previous.and_then(|p| p.graph_key.as_deref()) {
            Some(k) => crate::vectors::load(state, k).await,
            None => None,
        };
        if let Some(vectors) = crate::vectors::embed(embedder, wanted, last).await {
            match crate::vectors::store(state, &key, &vectors).await {
                Ok(()) => stats.vectors = u32::try_from(vectors.entries.len()).unwrap_or(u32::MAX),
                Err(e) => tracing::warn!(error = %e, "the vectors object was not written"),
            }
        }
    }
    let written = state
        .store
        .finish_index(scope, &repo.id, &job.job_id, commit, &stats, &key)
        .await?;
    let replaced = match written {
        JobWrite::Done => previous.and_then(|p| p.graph_key.as_deref()).filter(|k| *k != key),
        // Superseded: this object is the one nobody points at.
        JobWrite::Superseded => Some(key.as_str()),
    };
    if let Some(old) = replaced {
        tag_replaced(state, old).await;
    }
    Ok(written)
}

/// Tags a replaced graph object, and its vectors object when there is one, to expire.
async fn tag_replaced(state: &IndexerState, key: &str) {
    tag_object(state, key, false).await;
    tag_object(state, &crate::vectors::vectors_key(key), true).await;
}

async fn tag_object(state: &IndexerState, key: &str, may_be_absent: bool) {
    let tagging = Tag::builder()
        .key("agnus-index")
        .value("replaced")
        .build()
        .and_then(|tag| Tagging::builder().tag_set(tag).build());
    let Ok(tagging) = tagging else { return };
    if let Err(e) = state
        .s3
        .put_object_tagging()
        .bucket(&state.config.bucket)
        .key(key)
        .tagging(tagging)
        .send()
        .await
    {
        if may_be_absent && e.raw_response().is_some_and(|r| r.status().as_u16() == 404) {
            return;
        }
        tracing::warn!(error = ?e, "could not tag a replaced index object; the retention rule removes it");
    }
}

/// `index/<orgId>/<repoId>/<commit>-<jobId>.graph`: under the org's prefix (the function's
/// role may write there only for the orgs it is given jobs of — the key comes from the
/// queue scope, never from the message).
fn graph_key(scope: &QueueScope, repo_id: &str, commit: &str, job_id: &str) -> String {
    let commit: String = commit.chars().filter(char::is_ascii_alphanumeric).take(64).collect();
    format!("index/{}/{repo_id}/{commit}-{job_id}.graph", scope.org_id())
}
