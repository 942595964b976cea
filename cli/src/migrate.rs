//! `agnus migrate`: upgrades a single-tenant data set into the default org (SPEC §10).
//! Every step is one transaction that stamps its legacy item, so the command is
//! idempotent (a re-run is a no-op) and resumable (an interrupted run continues).

use std::io::IsTerminal;

use agnus_shared::crypto::SecretBox;
use agnus_shared::domain::{OrgId, OrgName, Provider, Role};
use agnus_shared::store::migration::{self, LegacyApiKey, LegacyRepo, LegacyUser};
use agnus_shared::store::{Conflict, OrgRecord, RepoRecord, SealedSecret, Store, StoreError};
use agnus_shared::webhooks;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("kms: {0}")]
    Kms(#[from] agnus_shared::crypto::KmsError),
    #[error("{0}")]
    Data(String),
    /// Stopped on purpose after N writes (`--stop-after`, to rehearse a crash).
    #[error("interrupted after {0} writes; run again to resume")]
    Interrupted(usize),
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub dry_run: bool,
    pub default_org_name: String,
    /// Stop after this many writes (rehearsing an interruption).
    pub stop_after: Option<usize>,
}

/// What a run found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub default_org: Option<OrgId>,
    pub users: usize,
    pub users_migrated: usize,
    pub repos: usize,
    pub repos_migrated: usize,
    pub reviews: usize,
    pub reviews_migrated: usize,
    pub api_keys: usize,
    pub api_keys_scoped: usize,
    /// Keys that could not be scoped to a member of the default org: removed.
    pub api_keys_removed: Vec<String>,
    pub already_migrated: bool,
}

impl Report {
    pub fn render(&self, dry_run: bool) -> String {
        let verb = if dry_run { "would migrate" } else { "migrated" };
        let mut out = format!(
            "users: {} ({verb} {})\nrepos: {} ({verb} {})\nreviews: {} ({verb} {})\napi keys: {} ({} scoped to the default org",
            self.users,
            self.users_migrated,
            self.repos,
            self.repos_migrated,
            self.reviews,
            self.reviews_migrated,
            self.api_keys,
            self.api_keys_scoped
        );
        out.push_str(&format!(
            ", {} {}: {})\n",
            self.api_keys_removed.len(),
            if dry_run { "to remove" } else { "removed" },
            if self.api_keys_removed.is_empty() {
                "none".into()
            } else {
                self.api_keys_removed.join(", ")
            }
        ));
        if let Some(org) = self.default_org {
            out.push_str(&format!("default org: {org}\n"));
        }
        if self.already_migrated {
            out.push_str("schema version 2: already migrated, nothing to do\n");
        }
        out
    }
}

/// Counts writes and stops on request; reports progress on a terminal.
struct Budget {
    done: usize,
    stop_after: Option<usize>,
    tty: bool,
}

impl Budget {
    fn spend(&mut self) -> Result<(), MigrateError> {
        if self.stop_after.is_some_and(|n| self.done >= n) {
            return Err(MigrateError::Interrupted(self.done));
        }
        self.done += 1;
        Ok(())
    }

    fn progress(&self, what: &str, i: usize, total: usize) {
        if self.tty && (i.is_multiple_of(10) || i == total) {
            eprint!("\r{what}: {i}/{total}   ");
            if i == total {
                eprintln!();
            }
        }
    }
}

/// The default org's role for a legacy user: the first admin owns it.
fn roles(users: &[LegacyUser]) -> Result<Vec<Role>, MigrateError> {
    let owner = users
        .iter()
        .position(|u| u.role == Role::Admin || u.role == Role::Owner)
        .ok_or_else(|| MigrateError::Data("no legacy admin to own the default org".into()))?;
    Ok(users
        .iter()
        .enumerate()
        .map(|(i, u)| match (i == owner, u.role) {
            (true, _) => Role::Owner,
            (false, Role::Owner | Role::Admin) => Role::Admin,
            (false, Role::Member) => Role::Member,
        })
        .collect())
}

pub async fn migrate(store: &Store, sealer: &SecretBox, options: &Options) -> Result<Report, MigrateError> {
    let mut budget = Budget {
        done: 0,
        stop_after: options.stop_after,
        tty: std::io::stderr().is_terminal(),
    };
    let schema = store.schema_version().await?;
    let users = store.legacy_users().await?;
    let repos = store.legacy_repos().await?;
    let keys = store.legacy_api_keys().await?;
    let mut report = Report {
        default_org: schema.default_org,
        users: users.len(),
        repos: repos.len(),
        api_keys: keys.len(),
        already_migrated: schema.version >= 2,
        ..Report::default()
    };
    let mut pending_reviews = Vec::new();
    for repo in &repos {
        let reviews = store.legacy_reviews(&repo.id).await?;
        report.reviews += reviews.len();
        pending_reviews.push(reviews.into_iter().filter(|r| !r.migrated).collect::<Vec<_>>());
    }
    let roles = if users.is_empty() { Vec::new() } else { roles(&users)? };
    let migrated_users = |users: &[LegacyUser]| users.iter().filter(|u| u.migrated_user_id.is_none()).count();
    if options.dry_run || report.already_migrated {
        report.users_migrated = migrated_users(&users);
        report.repos_migrated = repos.iter().filter(|r| r.migrated_repo_id.is_none()).count();
        report.reviews_migrated = pending_reviews.iter().map(Vec::len).sum();
        let (scoped, removed) = plan_keys(&keys, &users);
        report.api_keys_scoped = scoped.len();
        report.api_keys_removed = removed.iter().map(|k| format!("{} ({})", k.name, k.id)).collect();
        return Ok(report);
    }

    // 1. The default org, with the legacy webhook secret as its GitHub and Azure secret
    //    (existing provider configurations keep working) and new ones for the others.
    let org = match schema.default_org {
        Some(id) => store
            .org_by_id(&id)
            .await?
            .ok_or_else(|| MigrateError::Data("the recorded default org is missing".into()))?,
        None => {
            let name = OrgName::parse(&options.default_org_name).map_err(|e| MigrateError::Data(e.message))?;
            let org = migration::default_org(&name)?;
            let legacy_secret = store.legacy_webhook_secret().await?;
            let mut sealed: Vec<SealedSecret> = Vec::new();
            for provider in Provider::ALL {
                match (&legacy_secret, provider) {
                    (Some(secret), Provider::Github | Provider::Azure) => {
                        let org_id = org.id.to_string();
                        let ciphertext = sealer
                            .seal(&webhooks::secret_context(&org_id, provider), secret.as_bytes())
                            .await?;
                        let secret = agnus_shared::crypto::WebhookSecret::from_plaintext(secret.clone());
                        sealed.push(SealedSecret {
                            provider,
                            ciphertext,
                            preview: secret.preview(),
                        });
                    }
                    _ => sealed.push(webhooks::new_sealed_secret(sealer, &org.id, provider).await?.1),
                }
            }
            budget.spend()?;
            store.create_default_org(&org, &sealed).await?;
            org
        }
    };
    report.default_org = Some(org.id);

    // 2. Users and their memberships.
    let total = users.len();
    for (i, (user, role)) in users.iter().zip(&roles).enumerate() {
        budget.progress("users", i + 1, total);
        if user.migrated_user_id.is_some() {
            continue;
        }
        budget.spend()?;
        store.migrate_user(&org, user, *role).await?;
        report.users_migrated += 1;
    }

    // 3. Repositories (tokens sealed for the default org), then their review history.
    let total = repos.len();
    for (i, (repo, reviews)) in repos.iter().zip(&pending_reviews).enumerate() {
        budget.progress("repos", i + 1, total);
        let repo_id = match &repo.migrated_repo_id {
            Some(id) => id.clone(),
            None => {
                budget.spend()?;
                let id = migrate_repo(store, sealer, &org, repo).await?;
                report.repos_migrated += 1;
                id
            }
        };
        for chunk in reviews.chunks(45) {
            budget.spend()?;
            store.migrate_reviews(&org.id, repo.provider, &repo_id, chunk).await?;
            report.reviews_migrated += chunk.len();
        }
    }

    // 4. API keys: scoped when they belong to a migrated member, removed otherwise.
    let users = store.legacy_users().await?;
    let (scoped, removed) = plan_keys(&keys, &users);
    for (key, role) in scoped {
        budget.spend()?;
        store.migrate_api_key(&org.id, key, role).await?;
        report.api_keys_scoped += 1;
    }
    for key in removed {
        budget.spend()?;
        store.remove_legacy_api_key(key).await?;
        report.api_keys_removed.push(format!("{} ({})", key.name, key.id));
    }

    budget.spend()?;
    store.set_schema_version(2).await?;
    Ok(report)
}

async fn migrate_repo(
    store: &Store,
    sealer: &SecretBox,
    org: &OrgRecord,
    legacy: &LegacyRepo,
) -> Result<String, MigrateError> {
    let repo_ref = migration::legacy_repo_ref(legacy)?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (token_ciphertext, token_preview) = match &legacy.token {
        Some(token) => {
            let org_id = org.id.to_string();
            let context = [
                ("orgId", org_id.as_str()),
                ("purpose", "repo-token"),
                ("repoId", id.as_str()),
            ];
            (
                Some(sealer.seal(&context, token.as_bytes()).await?),
                Some(format!("…{}", &token[token.len().saturating_sub(4)..])),
            )
        }
        None => (None, None),
    };
    let record = RepoRecord {
        id: id.clone(),
        provider: repo_ref.provider,
        full_name: repo_ref.full_name,
        url: None,
        token_preview,
        created_at: legacy.created_at,
        created_by: "migration".into(),
        token_ciphertext,
    };
    match store.migrate_repo(&org.id, legacy, &record).await {
        Ok(()) => Ok(id),
        Err(StoreError::Conflict(Conflict::RepoTaken)) => Err(MigrateError::Data(format!(
            "repository {} is already connected to another org",
            legacy.full_name
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Keys owned by a migrated admin or member are scoped with that role (never owner);
/// keys without an owner (the single-tenant global key) cannot be scoped.
fn plan_keys<'a>(
    keys: &'a [LegacyApiKey],
    users: &[LegacyUser],
) -> (Vec<(&'a LegacyApiKey, Role)>, Vec<&'a LegacyApiKey>) {
    let mut scoped = Vec::new();
    let mut removed = Vec::new();
    for key in keys {
        match key.owner.as_ref().and_then(|o| users.iter().find(|u| &u.id == o)) {
            Some(owner) => scoped.push((
                key,
                if owner.role == Role::Member {
                    Role::Member
                } else {
                    Role::Admin
                },
            )),
            None => removed.push(key),
        }
    }
    (scoped, removed)
}

/// `agnus migrate down`: reverses the membership backfill (the default org's memberships
/// and the users' stamps); accounts, repositories and history stay, so `migrate` again
/// restores the same state.
pub async fn down(store: &Store) -> Result<usize, MigrateError> {
    let Some(org) = store.schema_version().await?.default_org else {
        return Ok(0);
    };
    let mut removed = 0;
    for user in store.legacy_users().await? {
        if user.migrated_user_id.is_some() {
            store.unmigrate_user(&org, &user).await?;
            removed += 1;
        }
    }
    store.set_schema_version(1).await?;
    Ok(removed)
}
