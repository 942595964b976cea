//! `agnus migrate --from-postgres`: upgrades a single-tenant AgnusAI install (its
//! PostgreSQL database) into the multi-org model, in the `default` org (product §10).
//!
//! Linked only by the CLI, never by a Lambda. The old database is only read; everything is
//! written through the store, each step one transaction that includes a marker for the
//! source row(s) it migrates, so a run is idempotent (a re-run writes nothing) and
//! resumable (an interrupted run continues where it stopped). `--dry-run` reads both sides
//! and prints the same summary without writing.

pub mod plan;
pub mod report;
use agnus_shared::rfc3339;
pub mod source;

use std::collections::HashMap;
use std::io::{IsTerminal, Write as _};

use agnus_shared::crypto::{SecretBox, WebhookSecret, sha256_hex};
use agnus_shared::domain::{OrgId, OrgName, Provider, Role, UserId};
use agnus_shared::store::migration::{
    self, ImportedCheckpoint, ImportedInvite, ImportedReview, MigratedKind, RepoMetadata,
};
use agnus_shared::store::{Conflict, OrgRecord, RepoRecord, SealedSecret, Store, StoreError};
use agnus_shared::webhooks;
use secrecy::ExposeSecret;

pub use report::{Kind, Report};
pub use source::{DatabaseUrl, Legacy, SourceError};

/// How long imported invitations (and so the old invite links) stay valid.
pub const INVITE_GRACE_SECS: i64 = 7 * 86_400;
/// The legacy webhook URLs' default lifetime when no `--legacy-webhooks-until` is given.
pub const DEFAULT_LEGACY_WEBHOOKS_SECS: i64 = 90 * 86_400;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("kms: {0}")]
    Kms(#[from] agnus_shared::crypto::KmsError),
    #[error("{0}")]
    Data(String),
    /// Stopped on purpose after N transactions (`--stop-after`, to rehearse a crash).
    #[error("interrupted after {0} transactions; run again to resume")]
    Interrupted(usize),
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub dry_run: bool,
    pub default_org_name: String,
    /// The single-tenant `WEBHOOK_SECRET` (GitHub and Azure DevOps secret of `default`).
    pub webhook_secret: Option<WebhookSecret>,
    /// Until when the legacy webhook URLs stay aliases of `/default` (unix seconds);
    /// `None`: keep what an earlier run stored, or 90 days from now on the first run.
    pub legacy_webhooks_until: Option<i64>,
    /// Stop after this many transactions (rehearsing an interruption).
    pub stop_after: Option<usize>,
    /// Draw a progress bar on stderr (when it is a terminal).
    pub progress: bool,
}

/// Counts transactions, stops on request, draws progress.
struct Runner<'a> {
    store: &'a Store,
    sealer: &'a SecretBox,
    done: usize,
    stop_after: Option<usize>,
    bar: Progress,
}

impl Runner<'_> {
    fn spend(&mut self) -> Result<(), MigrateError> {
        if self.stop_after.is_some_and(|n| self.done >= n) {
            return Err(MigrateError::Interrupted(self.done));
        }
        self.done += 1;
        Ok(())
    }
}

/// A one-line progress bar on a terminal; silent otherwise.
struct Progress {
    on: bool,
    total: usize,
    done: usize,
    last_drawn: usize,
}

impl Progress {
    fn new(on: bool, total: usize) -> Self {
        Self {
            on: on && std::io::stderr().is_terminal(),
            total,
            done: 0,
            last_drawn: usize::MAX,
        }
    }

    fn advance(&mut self, what: &str, n: usize) {
        self.done += n;
        if !self.on || self.total == 0 {
            return;
        }
        let pct = self.done * 100 / self.total;
        if pct == self.last_drawn && self.done < self.total {
            return;
        }
        self.last_drawn = pct;
        let filled = pct * 30 / 100;
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\r[{}{}] {pct:3}% {:<12} {}/{}",
            "#".repeat(filled),
            ".".repeat(30 - filled),
            what,
            self.done,
            self.total
        );
        if self.done >= self.total {
            let _ = writeln!(err);
        }
    }
}

/// Reads the old database and migrates (or, with `dry_run`, plans) everything.
pub async fn migrate(
    database: &DatabaseUrl,
    store: &Store,
    sealer: &SecretBox,
    options: &Options,
) -> Result<Report, MigrateError> {
    let mut client = source::connect(database).await?;
    let legacy = source::read(&mut client).await?;
    migrate_from(&legacy, store, sealer, options).await
}

/// Markers of everything already migrated.
async fn markers(store: &Store) -> Result<plan::Markers, StoreError> {
    let mut m = plan::Markers::default();
    for kind in [
        MigratedKind::User,
        MigratedKind::Invite,
        MigratedKind::Repo,
        MigratedKind::Review,
        MigratedKind::ReviewPart,
        MigratedKind::Checkpoint,
        MigratedKind::ApiKey,
        MigratedKind::Setting,
    ] {
        m.0.insert(kind, store.migrated(kind).await?);
    }
    Ok(m)
}

pub async fn migrate_from(
    legacy: &Legacy,
    store: &Store,
    sealer: &SecretBox,
    options: &Options,
) -> Result<Report, MigrateError> {
    let schema = store.schema_version().await?;
    let markers = markers(store).await?;
    let mut plan = plan::plan(legacy, &markers, options.webhook_secret.is_some());
    plan.report.dry_run = options.dry_run;
    plan.report.default_org = schema.default_org;
    if options.dry_run {
        return Ok(plan.report);
    }
    let mut report = plan.report.clone();
    let mut run = Runner {
        store,
        sealer,
        done: 0,
        stop_after: options.stop_after,
        bar: Progress::new(options.progress, plan.steps()),
    };

    // 1. The default org, with WEBHOOK_SECRET as its GitHub and Azure DevOps secret (the
    //    providers' existing configuration keeps verifying), new secrets for the others.
    let org = match schema.default_org {
        Some(_) => store
            .recorded_default_org(&schema)
            .await?
            .ok_or_else(|| MigrateError::Data("the recorded default org is missing".into()))?,
        None => {
            let name = OrgName::parse(&options.default_org_name).map_err(|e| MigrateError::Data(e.message))?;
            let org = migration::default_org(&name, store.now_secs())?;
            let secrets = default_org_secrets(sealer, &org.id, options.webhook_secret.as_ref()).await?;
            run.spend()?;
            store.create_default_org(&org, &secrets).await?;
            org
        }
    };
    report.default_org = Some(org.id);

    // 2. Accounts and memberships (the first admin owns `default`).
    let mut user_ids: HashMap<String, UserId> = markers
        .get(MigratedKind::User)
        .iter()
        .filter_map(|(s, t)| Some((s.clone(), t.as_deref()?.parse().ok()?)))
        .collect();
    for user in &plan.users {
        run.spend()?;
        match store.import_user(&org, user).await {
            Ok((id, _)) => {
                user_ids.insert(user.source_id.clone(), id);
            }
            Err(StoreError::Conflict(Conflict::AlreadyProcessed)) => report.count(Kind::Users).already += 1,
            Err(e) => return Err(e.into()),
        }
        run.bar.advance("users", 1);
    }

    // 3. Unused invites: invitations of `default`, old links valid for 7 more days.
    let expires_at = store.now_secs() + INVITE_GRACE_SECS;
    for invite in &plan.invites {
        let (invited_by, invited_by_email) = match invite.created_by.as_ref().and_then(|c| user_ids.get(c)) {
            Some(id) => (
                Some(*id),
                plan.user_emails
                    .get(invite.created_by.as_deref().unwrap_or_default())
                    .cloned(),
            ),
            None => (None, None),
        };
        let imported = ImportedInvite {
            source_id: invite.source_id.clone(),
            email: invite.email.clone(),
            token_hash: invite.token_hash.clone(),
            invited_by,
            invited_by_email,
            created_at: invite.created_at,
            expires_at,
        };
        run.spend()?;
        match store.import_invite(&org.id, &imported).await {
            Ok(()) => {}
            Err(StoreError::Conflict(Conflict::AlreadyProcessed | Conflict::InviteNotPending)) => {
                report.count(Kind::Invites).already += 1
            }
            Err(e) => return Err(e.into()),
        }
        run.bar.advance("invites", 1);
    }

    // 4. Repositories (tokens sealed for `default`), then their review history.
    let mut repo_ids: HashMap<String, String> = markers
        .get(MigratedKind::Repo)
        .iter()
        .filter_map(|(s, t)| Some((s.clone(), t.clone()?)))
        .collect();
    for repo in &plan.repos {
        run.spend()?;
        match import_repo(&run, &org, repo).await {
            Ok(id) => {
                repo_ids.insert(repo.source.id.clone(), id);
            }
            Err(MigrateError::Store(StoreError::Conflict(Conflict::RepoTaken))) => {
                report.skip(
                    Kind::Repos,
                    format!(
                        "repository {} ({}): already connected to another org",
                        repo.repo_ref.full_name, repo.source.id
                    ),
                );
                report.count(Kind::Repos).migrated -= 1;
                let (reviews, comments, feedback) = plan.pending_for_repo(&repo.source.id);
                for (kind, n) in [
                    (Kind::Reviews, reviews),
                    (Kind::Comments, comments),
                    (Kind::Feedback, feedback),
                ] {
                    report.count(kind).migrated -= n;
                    report.count(kind).skipped += n;
                }
            }
            Err(MigrateError::Store(StoreError::Conflict(Conflict::AlreadyProcessed))) => {
                report.count(Kind::Repos).already += 1
            }
            Err(e) => return Err(e),
        }
        run.bar.advance("repos", 1);
    }
    let providers: HashMap<&str, Provider> = plan.all_repos.iter().map(|(id, p)| (id.as_str(), *p)).collect();
    for batch in plan.review_batches() {
        let parts: Vec<ImportedReview<'_>> = batch
            .iter()
            .filter_map(|p| {
                let repo_id = repo_ids.get(&p.review.repo_id)?;
                Some(ImportedReview {
                    source_id: &p.review.id,
                    part: p.part,
                    repo_id,
                    provider: *providers.get(p.review.repo_id.as_str())?,
                    pr_number: p.review.pr_number.max(0) as u64,
                    verdict: p.review.verdict.as_deref(),
                    comment_count: p.review.comment_count,
                    created_at_millis: p.review.created_at_millis,
                    comments: &p.comments,
                    first_comment: p.first_comment,
                })
            })
            .collect();
        if !parts.is_empty() {
            run.spend()?;
            match store.import_reviews(&org.id, &parts).await {
                Ok(()) | Err(StoreError::Conflict(Conflict::AlreadyProcessed)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        run.bar.advance("reviews", batch.len());
    }

    // 5. The review engine's checkpoints.
    let checkpoints: Vec<ImportedCheckpoint> = plan
        .checkpoints
        .iter()
        .filter_map(|c| {
            Some(ImportedCheckpoint {
                repo_id: repo_ids.get(&c.repo_source_id)?.clone(),
                ..c.checkpoint.clone()
            })
        })
        .collect();
    for chunk in checkpoints.chunks(50) {
        run.spend()?;
        match store.import_checkpoints(&org.id, chunk).await {
            Ok(()) | Err(StoreError::Conflict(Conflict::AlreadyProcessed)) => {}
            Err(e) => return Err(e.into()),
        }
        run.bar.advance("checkpoints", chunk.len());
    }

    // 6. The org's review depth, the system API key.
    if let Some(depth) = &plan.review_depth {
        run.spend()?;
        match store.import_review_depth(&org.id, depth).await {
            Ok(()) | Err(StoreError::Conflict(Conflict::AlreadyProcessed)) => {}
            Err(e) => return Err(e.into()),
        }
        run.bar.advance("settings", 1);
    }
    if let Some((key, created_at)) = &legacy.system_api_key
        && plan.import_api_key
    {
        run.spend()?;
        let hash = sha256_hex(key.expose_secret().as_bytes());
        match store
            .import_api_key(
                &org.id,
                plan::SYSTEM_API_KEY,
                "System API key (migrated)",
                &hash,
                Role::Admin,
                *created_at,
            )
            .await
        {
            Ok(_) | Err(StoreError::Conflict(Conflict::AlreadyProcessed)) => {}
            Err(e) => return Err(e.into()),
        }
        run.bar.advance("api key", 1);
    }

    // 7. The legacy webhook URLs: enabled (or moved) until the given date.
    let current = store.legacy_webhooks().await?;
    let sunset = match (options.legacy_webhooks_until, &current) {
        (Some(until), _) => Some(until),
        (None, None) => Some(store.now_secs() + DEFAULT_LEGACY_WEBHOOKS_SECS),
        (None, Some(_)) => None,
    };
    if let Some(sunset) = sunset
        && current
            .as_ref()
            .is_none_or(|c| c.sunset_at != sunset || c.org_id != org.id)
    {
        run.spend()?;
        store.set_legacy_webhooks(&org.id, sunset).await?;
    }
    report.legacy_webhooks_until = sunset.or(current.map(|c| c.sunset_at));

    if store.schema_version().await?.version != 2 {
        run.spend()?;
        store.set_schema_version(2).await?;
    }
    report.writes = run.done;
    Ok(report)
}

async fn default_org_secrets(
    sealer: &SecretBox,
    org: &OrgId,
    legacy: Option<&WebhookSecret>,
) -> Result<Vec<SealedSecret>, MigrateError> {
    let mut sealed = Vec::new();
    for provider in Provider::ALL {
        match (legacy, provider) {
            (Some(secret), Provider::Github | Provider::Azure) => {
                let org_id = org.to_string();
                let ciphertext = sealer
                    .seal(&webhooks::secret_context(&org_id, provider), secret.expose().as_bytes())
                    .await?;
                sealed.push(SealedSecret {
                    provider,
                    ciphertext,
                    preview: secret.preview(),
                });
            }
            _ => sealed.push(webhooks::new_sealed_secret(sealer, org, provider).await?.1),
        }
    }
    Ok(sealed)
}

async fn import_repo(run: &Runner<'_>, org: &OrgRecord, repo: &plan::PlannedRepo) -> Result<String, MigrateError> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (token_ciphertext, token_preview) = match &repo.source.token {
        Some(token) => {
            let token = token.expose_secret();
            let org_id = org.id.to_string();
            // The same context the repos function seals a connected repository's token with.
            let context = [
                ("orgId", org_id.as_str()),
                ("purpose", "repo-token"),
                ("repoId", id.as_str()),
            ];
            let preview: String = token
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            (
                Some(run.sealer.seal(&context, token.as_bytes()).await?),
                Some(format!("…{preview}")),
            )
        }
        None => (None, None),
    };
    let record = RepoRecord {
        id: id.clone(),
        provider: repo.repo_ref.provider,
        full_name: repo.repo_ref.full_name.clone(),
        url: Some(repo.source.url.clone()),
        token_preview,
        installation_id: None,
        created_at: repo.source.created_at,
        created_by: "migration".into(),
        token_ciphertext,
        token_identity: None,
    };
    let metadata = RepoMetadata {
        repo_path: repo.source.repo_path.clone(),
        indexed_at: repo.source.indexed_at,
        symbol_count: repo.source.symbol_count,
    };
    run.store
        .import_repo(&org.id, &repo.source.id, &record, &metadata)
        .await?;
    Ok(id)
}

/// `agnus migrate-down`: reverses the membership backfill (the default org's memberships
/// the migration created, and their markers); accounts, repositories and history stay,
/// so `migrate` again restores the same state. Returns the memberships removed.
pub async fn down(store: &Store) -> Result<usize, MigrateError> {
    let Some(org) = store.schema_version().await?.default_org else {
        return Ok(0);
    };
    let removed = store.unimport_users(&org).await?;
    store.set_schema_version(1).await?;
    Ok(removed)
}

/// Parses `--legacy-webhooks-until` (RFC 3339, or a date `YYYY-MM-DD` meaning midnight UTC).
pub fn parse_until(raw: &str) -> Result<i64, String> {
    rfc3339::parse_rfc3339(raw).ok_or_else(|| format!("not an RFC 3339 date: {raw}"))
}
