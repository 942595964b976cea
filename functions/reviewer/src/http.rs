//! HTTP plumbing shared by the provider and LLM clients: `reqwest` clients (rustls, the
//! system's root certificates), the mapping of answers to what the job does next
//! (shared with the repos function's access check: `agnus_shared::provider_api`), and
//! bounded reads (issue 29): every answer is read chunk by chunk up to a cap, never whole.
//!
//! [`Downloads`] holds one job's caps: bytes of one provider answer
//! (`AGNUS_REVIEW_MAX_ANSWER_BYTES`), bytes of all its answers together
//! (`AGNUS_REVIEW_MAX_JOB_BYTES`), the paths the review ignores (never fetched where the
//! host serves files one by one), and what the caps left out (named in the prompt and the
//! summary).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub use agnus_shared::provider_api::{CallError, classify, decode, encode};
use reqwest::header::HeaderMap;

/// What an LLM answer may weigh, at most (a review is a few kilobytes of JSON).
pub const LLM_ANSWER_CAP: usize = 4 << 20;

/// Files named as left out, at most (more are counted).
const MAX_NAMED: usize = 1_000;

type Ignore = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// What the download caps left out of a job's diff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeftOut {
    /// Files not downloaded whole.
    pub too_large: Vec<String>,
    /// The list of changed files was not read to its end.
    pub unread: bool,
}

/// One job's download caps and ledger.
pub struct Downloads {
    per_answer: usize,
    left: AtomicUsize,
    ignore: OnceLock<Ignore>,
    left_out: Mutex<LeftOut>,
}

impl std::fmt::Debug for Downloads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Downloads")
            .field("per_answer", &self.per_answer)
            .field("left", &self.left)
            .finish_non_exhaustive()
    }
}

impl Downloads {
    pub fn new(per_answer: usize, per_job: usize) -> Self {
        Self {
            per_answer,
            left: AtomicUsize::new(per_job),
            ignore: OnceLock::new(),
            left_out: Mutex::new(LeftOut::default()),
        }
    }

    /// The review's ignore filter (set once, when the settings are known).
    pub fn set_ignore(&self, ignore: impl Fn(&str) -> bool + Send + Sync + 'static) {
        let _ = self.ignore.set(Box::new(ignore));
    }

    /// Is `path` left out of the review (and so not worth fetching)?
    pub fn ignores(&self, path: &str) -> bool {
        self.ignore.get().is_some_and(|f| f(path))
    }

    /// Bytes the next answer may bring: a diff or file content within what is left of the
    /// job's budget too; any other answer (the pull request, comments, a post's answer)
    /// within the per-answer cap only, so a large diff never starves the post.
    pub fn answer_cap(&self, diff: bool) -> usize {
        if diff {
            self.per_answer.min(self.left.load(Ordering::Relaxed))
        } else {
            self.per_answer
        }
    }

    /// Bytes of diffs this job may still download (a streamed diff reads up to this, and
    /// keeps at most [`Downloads::per_answer`] of it).
    pub fn job_left(&self) -> usize {
        self.left.load(Ordering::Relaxed)
    }

    /// Bytes of one answer held in memory, at most.
    pub fn per_answer(&self) -> usize {
        self.per_answer
    }

    /// Nothing more may be downloaded for this job.
    pub fn exhausted(&self) -> bool {
        self.left.load(Ordering::Relaxed) == 0
    }

    fn spend(&self, bytes: usize) {
        let _ = self.left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
            Some(left.saturating_sub(bytes))
        });
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, LeftOut> {
        self.left_out.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `path` was not downloaded whole.
    pub fn too_large(&self, path: &str) {
        let mut ledger = self.ledger();
        if ledger.too_large.len() < MAX_NAMED {
            ledger.too_large.push(path.to_owned());
        } else {
            ledger.unread = true;
        }
    }

    /// The list of changed files stopped short.
    pub fn unread(&self) {
        self.ledger().unread = true;
    }

    /// What was left out so far (and forget it: a second listing starts afresh).
    pub fn take_left_out(&self) -> LeftOut {
        std::mem::take(&mut *self.ledger())
    }
}

/// A request whose 404 means "no such thing" (an unknown commit), not a failure: the body
/// of a success, `None` for a 404, any other failure as it is.
pub async fn send_found(d: &Downloads, request: reqwest::RequestBuilder) -> Result<Option<Vec<u8>>, CallError> {
    match send(d, request).await {
        Ok((_, body)) => Ok(Some(body)),
        Err(CallError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("agnus-reviewer/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// A transport failure (timeout, connection refused, reset): retry later.
pub fn transport(e: reqwest::Error) -> CallError {
    // Without the URL: it names the repository, fine, but never a credential anyway.
    CallError::network(e.without_url())
}

/// A success's answer, opened: read it with [`Answer::chunk`].
#[derive(Debug)]
pub struct Answer {
    pub headers: HeaderMap,
    response: reqwest::Response,
    cap: usize,
    read: usize,
}

impl Answer {
    /// The next piece of the body within the cap: `Ok(None)` at its end, `TooLarge` when
    /// the next piece would pass the cap (what was read counts against the job).
    pub async fn chunk(&mut self, d: &Downloads) -> Result<Option<impl AsRef<[u8]> + use<>>, CallError> {
        let Some(chunk) = self.response.chunk().await.map_err(transport)? else {
            return Ok(None);
        };
        self.read += chunk.len();
        d.spend(chunk.len());
        if self.read > self.cap {
            return Err(CallError::TooLarge { limit: self.cap });
        }
        Ok(Some(chunk))
    }
}

/// Sends a request: the success's headers and a body reader that stops past `cap` bytes,
/// or the classified failure.
pub async fn open(request: reqwest::RequestBuilder, cap: usize) -> Result<Answer, CallError> {
    let response = request.send().await.map_err(transport)?;
    let status = response.status();
    let headers = response.headers().clone();
    if !status.is_success() {
        return Err(classify(status, &headers));
    }
    Ok(Answer {
        headers,
        response,
        cap,
        read: 0,
    })
}

/// Sends a request and returns the body of a success (read within the per-answer cap), or
/// the classified failure (`TooLarge` past the cap).
pub async fn send(d: &Downloads, request: reqwest::RequestBuilder) -> Result<(HeaderMap, Vec<u8>), CallError> {
    read_all(d, open(request, d.answer_cap(false)).await?).await
}

/// [`send`] for a diff or a file's content: within the job's budget too.
pub async fn send_diff(d: &Downloads, request: reqwest::RequestBuilder) -> Result<(HeaderMap, Vec<u8>), CallError> {
    read_all(d, open(request, d.answer_cap(true)).await?).await
}

async fn read_all(d: &Downloads, mut answer: Answer) -> Result<(HeaderMap, Vec<u8>), CallError> {
    // A declared length over the cap: not read at all.
    if answer.response.content_length().is_some_and(|n| n > answer.cap as u64) {
        return Err(CallError::TooLarge { limit: answer.cap });
    }
    let mut body = Vec::new();
    while let Some(chunk) = answer.chunk(d).await? {
        body.extend_from_slice(chunk.as_ref());
    }
    Ok((answer.headers, body))
}

/// [`send`] for a call outside any job (the LLM): capped at `cap` bytes.
pub async fn send_capped(cap: usize, request: reqwest::RequestBuilder) -> Result<(HeaderMap, Vec<u8>), CallError> {
    send(&Downloads::new(cap, cap), request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_budget_shrinks_every_answer_cap() {
        let d = Downloads::new(100, 250);
        assert_eq!(d.answer_cap(true), 100);
        d.spend(200);
        assert_eq!(d.answer_cap(true), 50);
        assert_eq!(d.answer_cap(false), 100, "a post's answer is never starved");
        d.spend(80);
        assert!(d.exhausted());
        d.too_large("a.rs");
        assert_eq!(
            d.take_left_out(),
            LeftOut {
                too_large: vec!["a.rs".into()],
                unread: false
            }
        );
        assert_eq!(d.take_left_out(), LeftOut::default());
        assert!(!d.ignores("x"), "nothing is ignored before the settings are known");
        d.set_ignore(|p| p.ends_with(".lock"));
        assert!(d.ignores("Cargo.lock") && !d.ignores("src/a.rs"));
    }
}
