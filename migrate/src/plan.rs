//! What a run will do, from the old data and the markers of what is already done: pure,
//! unit-tested. It fills the run's summary ([`crate::report`]).

use std::collections::{HashMap, HashSet};

use agnus_shared::crypto::{PasswordHashString, sha256_hex};
use agnus_shared::domain::{Email, Provider, RepoRef, Role};
use agnus_shared::store::migration::{
    ImportedCheckpoint, ImportedUser, MAX_TRANSACTION_BYTES, MAX_TRANSACTION_ITEMS, MigratedKind, ReviewComment,
};
use secrecy::ExposeSecret;

use crate::report::{Kind, Report};
use crate::source::{self, Legacy};

/// The marker id of the single system API key.
pub const SYSTEM_API_KEY: &str = "system_api_keys#1";

/// Markers of what earlier runs migrated, per kind (source id → target id).
#[derive(Debug, Clone, Default)]
pub struct Markers(pub HashMap<MigratedKind, HashMap<String, Option<String>>>);

impl Markers {
    pub fn get(&self, kind: MigratedKind) -> &HashMap<String, Option<String>> {
        static EMPTY: std::sync::OnceLock<HashMap<String, Option<String>>> = std::sync::OnceLock::new();
        self.0.get(&kind).unwrap_or_else(|| EMPTY.get_or_init(HashMap::new))
    }
    fn has(&self, kind: MigratedKind, id: &str) -> bool {
        self.get(kind).contains_key(id)
    }
}

#[derive(Debug, Clone)]
pub struct PlannedInvite {
    pub source_id: String,
    pub email: Email,
    pub token_hash: String,
    pub created_by: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct PlannedRepo {
    pub source: source::Repo,
    pub repo_ref: RepoRef,
}

/// A review (part 0) or a further chunk of its comments.
#[derive(Debug, Clone)]
pub struct ReviewPart {
    pub review: source::Review,
    pub part: usize,
    pub comments: Vec<ReviewComment>,
    pub first_comment: usize,
}

impl ReviewPart {
    fn items(&self) -> usize {
        1 + self.comments.len() + usize::from(self.part == 0)
    }
    fn bytes(&self) -> usize {
        600 + self.comments.iter().map(ReviewComment::approx_bytes).sum::<usize>()
    }
}

#[derive(Debug, Clone)]
pub struct PlannedCheckpoint {
    pub repo_source_id: String,
    pub checkpoint: ImportedCheckpoint,
}

/// Everything still to do.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub report: Report,
    pub users: Vec<ImportedUser>,
    /// Old user id → address (for "invited by").
    pub user_emails: HashMap<String, String>,
    pub invites: Vec<PlannedInvite>,
    pub repos: Vec<PlannedRepo>,
    /// Every usable repository (migrated or pending): old id → provider.
    pub all_repos: Vec<(String, Provider)>,
    pub review_parts: Vec<ReviewPart>,
    pub checkpoints: Vec<PlannedCheckpoint>,
    pub review_depth: Option<String>,
    pub import_api_key: bool,
}

impl Plan {
    /// Progress units (rows) the run will write.
    pub fn steps(&self) -> usize {
        self.users.len()
            + self.invites.len()
            + self.repos.len()
            + self.review_parts.len()
            + self.checkpoints.len()
            + usize::from(self.review_depth.is_some())
            + usize::from(self.import_api_key)
    }

    /// Pending reviews, comments and feedback of one repository.
    pub fn pending_for_repo(&self, repo_source_id: &str) -> (usize, usize, usize) {
        self.review_parts
            .iter()
            .filter(|p| p.review.repo_id == repo_source_id)
            .fold((0, 0, 0), |(r, c, f), p| {
                (
                    r + usize::from(p.part == 0),
                    c + p.comments.len(),
                    f + p.comments.iter().filter(|c| c.signal.is_some()).count(),
                )
            })
    }

    /// The pending review parts packed into transactions (item and byte limits).
    pub fn review_batches(&self) -> Vec<&[ReviewPart]> {
        let mut batches = Vec::new();
        let (mut start, mut items, mut bytes) = (0, 0, 0);
        for (i, part) in self.review_parts.iter().enumerate() {
            if i > start
                && (items + part.items() > MAX_TRANSACTION_ITEMS || bytes + part.bytes() > MAX_TRANSACTION_BYTES)
            {
                batches.push(&self.review_parts[start..i]);
                (start, items, bytes) = (i, 0, 0);
            }
            items += part.items();
            bytes += part.bytes();
        }
        if start < self.review_parts.len() {
            batches.push(&self.review_parts[start..]);
        }
        batches
    }
}

/// The new role of each old user: the first admin owns `default` (or, with no admin,
/// the first user), other admins are admins, everyone else a member.
pub fn roles(users: &[source::User]) -> Vec<Role> {
    let owner = users
        .iter()
        .position(|u| u.role.eq_ignore_ascii_case("admin"))
        .unwrap_or(0);
    users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            if i == owner {
                Role::Owner
            } else if u.role.eq_ignore_ascii_case("admin") {
                Role::Admin
            } else {
                Role::Member
            }
        })
        .collect()
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) && hash.len() == 60
}

/// The repository identity of an old `repos` row (`platform` + `repo_url`).
pub fn repo_ref(platform: &str, url: &str) -> Result<RepoRef, String> {
    let provider = match platform.to_ascii_lowercase().as_str() {
        "github" => Provider::Github,
        "azure" => Provider::Azure,
        other => return Err(format!("unknown platform {other:?}")),
    };
    RepoRef::parse(provider, url).map_err(|e| e.message)
}

/// Splits a review's comments into parts that each fit one transaction.
fn split_comments(comments: Vec<ReviewComment>) -> Vec<(usize, Vec<ReviewComment>)> {
    let mut parts: Vec<(usize, Vec<ReviewComment>)> = vec![(0, Vec::new())];
    let mut bytes = 600;
    for (i, c) in comments.into_iter().enumerate() {
        let cap = if parts.len() == 1 {
            MAX_TRANSACTION_ITEMS - 2
        } else {
            MAX_TRANSACTION_ITEMS - 1
        };
        let last = parts.last().map_or(0, |p| p.1.len());
        if last >= cap || (last > 0 && bytes + c.approx_bytes() > MAX_TRANSACTION_BYTES) {
            parts.push((i, Vec::new()));
            bytes = 600;
        }
        bytes += c.approx_bytes();
        if let Some(p) = parts.last_mut() {
            p.1.push(c);
        }
    }
    parts
}

pub fn plan(legacy: &Legacy, markers: &Markers, has_webhook_secret: bool) -> Plan {
    let mut plan = Plan::default();
    let r = &mut plan.report;
    for table in &legacy.missing_tables {
        r.skipped
            .push(format!("table {table}: not in this database (read as empty)"));
    }

    // Users.
    let roles = roles(&legacy.users);
    let mut seen = HashSet::new();
    r.count(Kind::Users).source = legacy.users.len();
    for (u, role) in legacy.users.iter().zip(roles) {
        plan.user_emails.insert(u.id.clone(), u.email.trim().to_lowercase());
        if markers.has(MigratedKind::User, &u.id) {
            r.count(Kind::Users).already += 1;
            seen.insert(u.email.trim().to_lowercase());
            continue;
        }
        let email = match Email::parse(&u.email) {
            Ok(e) => e,
            Err(_) => {
                r.skip(Kind::Users, format!("user {}: the address is not valid", u.id));
                continue;
            }
        };
        if !seen.insert(email.as_str().to_owned()) {
            r.skip(
                Kind::Users,
                format!("user {}: a second account with the same address", u.id),
            );
            continue;
        }
        if !is_bcrypt(&u.password_hash) {
            r.skip(Kind::Users, format!("user {}: the password hash is not bcrypt", u.id));
            continue;
        }
        r.count(Kind::Users).migrated += 1;
        plan.users.push(ImportedUser {
            source_id: u.id.clone(),
            email,
            password_hash: PasswordHashString::from_stored(u.password_hash.clone()),
            role,
            created_at: u.created_at,
        });
    }

    // Invites: unused ones, not for someone who already has an account.
    r.count(Kind::Invites).source = legacy.invites.len();
    let mut used = 0;
    for i in &legacy.invites {
        let source_id = sha256_hex(i.token.expose_secret().as_bytes());
        if markers.has(MigratedKind::Invite, &source_id) {
            r.count(Kind::Invites).already += 1;
            continue;
        }
        if i.used {
            used += 1;
            r.count(Kind::Invites).skipped += 1;
            continue;
        }
        let short = &source_id[..8];
        let Some(email) = i.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
            r.skip(Kind::Invites, format!("invite {short}…: no valid address"));
            continue;
        };
        if seen.contains(email.as_str()) {
            r.skip(
                Kind::Invites,
                format!("invite {short}…: {email} already has an account"),
            );
            continue;
        }
        r.count(Kind::Invites).migrated += 1;
        plan.invites.push(PlannedInvite {
            source_id,
            email,
            token_hash: sha256_hex(i.token.expose_secret().as_bytes()),
            created_by: i.created_by.clone(),
            created_at: i.created_at,
        });
    }
    if used > 0 {
        r.skipped
            .push(format!("{used} invites: already used (nothing to carry over)"));
    }

    // Repositories.
    r.count(Kind::Repos).source = legacy.repos.len();
    let mut usable = HashSet::new();
    for repo in &legacy.repos {
        let parsed = match repo_ref(&repo.platform, &repo.url) {
            Ok(p) => p,
            Err(why) => {
                r.skip(Kind::Repos, format!("repository {} ({}): {why}", repo.id, repo.url));
                continue;
            }
        };
        usable.insert(repo.id.clone());
        plan.all_repos.push((repo.id.clone(), parsed.provider));
        if markers.has(MigratedKind::Repo, &repo.id) {
            r.count(Kind::Repos).already += 1;
            continue;
        }
        r.count(Kind::Repos).migrated += 1;
        plan.repos.push(PlannedRepo {
            source: repo.clone(),
            repo_ref: parsed,
        });
    }

    // Reviews with their comments and feedback.
    let mut by_review: HashMap<&str, Vec<&source::Comment>> = HashMap::new();
    for c in &legacy.comments {
        by_review.entry(c.review_id.as_str()).or_default().push(c);
    }
    r.count(Kind::Reviews).source = legacy.reviews.len();
    r.count(Kind::Comments).source = legacy.comments.len();
    r.count(Kind::Feedback).source = legacy.feedback;
    let mut skipped_by_repo: HashMap<&str, usize> = HashMap::new();
    for review in &legacy.reviews {
        let comments: Vec<ReviewComment> = by_review
            .remove(review.id.as_str())
            .unwrap_or_default()
            .into_iter()
            .map(|c| ReviewComment {
                source_id: c.id.clone(),
                path: c.path.clone(),
                line: c.line,
                body: c.body.clone().unwrap_or_default(),
                severity: c.severity.clone(),
                confidence: c.confidence,
                created_at: c.created_at,
                signal: c.signal.clone(),
                signal_at: c.signal_at,
            })
            .collect();
        let feedback = comments.iter().filter(|c| c.signal.is_some()).count();
        if !usable.contains(&review.repo_id) {
            *skipped_by_repo.entry(review.repo_id.as_str()).or_default() += 1;
            r.count(Kind::Reviews).skipped += 1;
            r.count(Kind::Comments).skipped += comments.len();
            r.count(Kind::Feedback).skipped += feedback;
            continue;
        }
        for (part, (first, chunk)) in split_comments(comments).into_iter().enumerate() {
            let done = if part == 0 {
                markers.has(MigratedKind::Review, &review.id)
            } else {
                markers.has(MigratedKind::ReviewPart, &format!("{part}#{}", review.id))
            };
            let signals = chunk.iter().filter(|c| c.signal.is_some()).count();
            let count = |r: &mut Report, kind: Kind, n: usize| {
                let c = r.count(kind);
                if done { c.already += n } else { c.migrated += n }
            };
            if part == 0 {
                count(r, Kind::Reviews, 1);
            }
            count(r, Kind::Comments, chunk.len());
            count(r, Kind::Feedback, signals);
            if !done {
                plan.review_parts.push(ReviewPart {
                    review: review.clone(),
                    part,
                    comments: chunk,
                    first_comment: first,
                });
            }
        }
    }
    let mut skipped_repos: Vec<_> = skipped_by_repo.into_iter().collect();
    skipped_repos.sort();
    for (repo, n) in skipped_repos {
        r.skipped
            .push(format!("{n} reviews of repository {repo}: the repository was skipped"));
    }
    let orphans: usize = by_review.values().map(Vec::len).sum();
    if orphans > 0 {
        r.count(Kind::Comments).skipped += orphans;
        r.skipped
            .push(format!("{orphans} comments: their review does not exist"));
    }
    if legacy.embeddings > 0 {
        r.skipped.push(format!(
            "{} comment embeddings: not migrated (the review engine computes its own)",
            legacy.embeddings
        ));
    }

    // The review engine's checkpoints.
    r.count(Kind::Checkpoints).source = legacy.pr_states.len();
    let providers: HashMap<&str, Provider> = plan.all_repos.iter().map(|(id, p)| (id.as_str(), *p)).collect();
    for s in &legacy.pr_states {
        let source_id = format!("{}#{}#{}", s.repo_id, s.pr_number, s.platform);
        let Some(provider) = providers.get(s.repo_id.as_str()) else {
            r.skip(
                Kind::Checkpoints,
                format!("pr_review_state {source_id}: the repository was skipped"),
            );
            continue;
        };
        if markers.has(MigratedKind::Checkpoint, &source_id) {
            r.count(Kind::Checkpoints).already += 1;
            continue;
        }
        r.count(Kind::Checkpoints).migrated += 1;
        plan.checkpoints.push(PlannedCheckpoint {
            repo_source_id: s.repo_id.clone(),
            checkpoint: ImportedCheckpoint {
                source_id,
                repo_id: String::new(),
                provider: *provider,
                pr_number: s.pr_number.max(0) as u64,
                last_reviewed_iteration: s.last_reviewed_iteration,
                updated_at: s.updated_at,
            },
        });
    }

    // Settings: the most common review depth becomes the org's.
    let settings: i64 = legacy.review_depths.iter().map(|(_, n)| n).sum();
    if let Some((depth, n)) = legacy.review_depths.first() {
        r.count(Kind::Settings).source = 1;
        if markers.has(MigratedKind::Setting, "review_depth") {
            r.count(Kind::Settings).already += 1;
        } else {
            r.count(Kind::Settings).migrated += 1;
            plan.review_depth = Some(depth.clone());
        }
        if legacy.review_depths.len() > 1 {
            r.skipped.push(format!(
                "review depth: {n} of {settings} users chose {depth:?}, the org's setting now; the other choices are not kept"
            ));
        }
    }

    // The system API key.
    if legacy.system_api_key.is_some() {
        r.count(Kind::ApiKeys).source = 1;
        if markers.has(MigratedKind::ApiKey, SYSTEM_API_KEY) {
            r.count(Kind::ApiKeys).already += 1;
        } else {
            r.count(Kind::ApiKeys).migrated += 1;
            plan.import_api_key = true;
        }
    }
    // Rows the old database could not give (a NULL where the upgrade needs a value):
    // counted in their kind and named, never a panic (`source::read`).
    for (table, why) in &legacy.unreadable {
        let kind = match *table {
            "users" => Kind::Users,
            "invites" => Kind::Invites,
            "repos" => Kind::Repos,
            "reviews" => Kind::Reviews,
            "review_comments" => Kind::Comments,
            "pr_review_state" => Kind::Checkpoints,
            "user_settings" => Kind::Settings,
            _ => Kind::ApiKeys,
        };
        r.count(kind).source += 1;
        r.skip(kind, format!("{why}: skipped"));
    }
    if !has_webhook_secret {
        r.skipped.push(
            "WEBHOOK_SECRET: not set, so `default` gets new GitHub and Azure DevOps secrets and deliveries signed with the old one fail"
                .into(),
        );
    }
    plan
}

#[cfg(test)]
mod tests;
