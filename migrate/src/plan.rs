//! What a run will do, from the old data and the markers of what is already done: pure,
//! unit-tested. Also the summary (counts per kind, what was skipped and why).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use agnus_shared::crypto::{PasswordHashString, sha256_hex};
use agnus_shared::domain::{Email, OrgId, Provider, RepoRef, Role};
use agnus_shared::store::migration::{
    ImportedCheckpoint, ImportedUser, MAX_TRANSACTION_BYTES, MAX_TRANSACTION_ITEMS, MigratedKind, ReviewComment,
};
use secrecy::ExposeSecret;

use crate::source::{self, Legacy};

/// The marker id of the single system API key.
pub const SYSTEM_API_KEY: &str = "system_api_keys#1";

/// The kinds the summary counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Users,
    Invites,
    Repos,
    Reviews,
    Comments,
    Feedback,
    Checkpoints,
    Settings,
    ApiKeys,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Users,
        Kind::Invites,
        Kind::Repos,
        Kind::Reviews,
        Kind::Comments,
        Kind::Feedback,
        Kind::Checkpoints,
        Kind::Settings,
        Kind::ApiKeys,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Invites => "invites",
            Kind::Repos => "repos",
            Kind::Reviews => "reviews",
            Kind::Comments => "comments",
            Kind::Feedback => "feedback",
            Kind::Checkpoints => "checkpoints",
            Kind::Settings => "settings",
            Kind::ApiKeys => "api keys",
        }
    }
}

/// Per kind: rows in the old database, already migrated by an earlier run, migrated by
/// this one (or that would be, in a dry run), skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub source: usize,
    pub already: usize,
    pub migrated: usize,
    pub skipped: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub dry_run: bool,
    pub default_org: Option<OrgId>,
    pub counts: Vec<(Kind, Count)>,
    /// What was skipped and why (one line each).
    pub skipped: Vec<String>,
    pub legacy_webhooks_until: Option<i64>,
    /// Transactions written.
    pub writes: usize,
}

impl Report {
    pub fn count(&mut self, kind: Kind) -> &mut Count {
        if let Some(i) = self.counts.iter().position(|(k, _)| *k == kind) {
            return &mut self.counts[i].1;
        }
        self.counts.push((kind, Count::default()));
        let last = self.counts.len() - 1;
        &mut self.counts[last].1
    }

    pub fn get(&self, kind: Kind) -> Count {
        self.counts
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, c)| *c)
            .unwrap_or_default()
    }

    pub fn skip(&mut self, kind: Kind, why: String) {
        self.count(kind).skipped += 1;
        self.skipped.push(why);
    }

    pub fn render(&self) -> String {
        let verb = if self.dry_run { "would migrate" } else { "migrated" };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<12} {:>9} {:>9} {:>14} {:>9}",
            "kind", "source", "already", verb, "skipped"
        );
        for kind in Kind::ALL {
            let c = self.get(kind);
            let _ = writeln!(
                out,
                "{:<12} {:>9} {:>9} {:>14} {:>9}",
                kind.as_str(),
                c.source,
                c.already,
                c.migrated,
                c.skipped
            );
        }
        if self.skipped.is_empty() {
            out.push_str("skipped: nothing\n");
        } else {
            out.push_str("skipped:\n");
            for line in &self.skipped {
                let _ = writeln!(out, "  - {line}");
            }
        }
        match self.default_org {
            Some(org) => {
                let _ = writeln!(out, "default org: {org}");
            }
            None => out.push_str("default org: to be created (slug `default`)\n"),
        }
        if let Some(until) = self.legacy_webhooks_until {
            let _ = writeln!(
                out,
                "legacy webhook URLs: aliases of /api/webhooks/{{github,azure}}/default until {}",
                format_rfc3339(until)
            );
        }
        if self.dry_run {
            out.push_str("dry run: nothing was written\n");
        } else {
            let _ = writeln!(out, "transactions written: {}", self.writes);
        }
        out
    }
}

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
    if !has_webhook_secret {
        r.skipped.push(
            "WEBHOOK_SECRET: not set, so `default` gets new GitHub and Azure DevOps secrets and deliveries signed with the old one fail"
                .into(),
        );
    }
    plan
}

// ---- RFC 3339 (the sunset date), without a date library ----

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2026-03-01T00:00:00Z`, `2026-03-01T12:00:00+02:00` (fractions ignored) or `2026-03-01`.
pub fn parse_rfc3339(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    let num = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (date, time) = match raw.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (raw, None),
    };
    let mut parts = date.split('-');
    let (y, m, d) = (num(parts.next()?)?, num(parts.next()?)?, num(parts.next()?)?);
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) || date.len() != 10 {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(t) = time {
        let (clock, offset) = if let Some(c) = t.strip_suffix(['Z', 'z']) {
            (c, 0)
        } else {
            let at = t.rfind(['+', '-'])?;
            let (c, o) = t.split_at(at);
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':')?;
            (c, sign * (num(oh)? * 3600 + num(om)? * 60))
        };
        let clock = clock.split('.').next()?;
        let mut hms = clock.split(':');
        let (h, mi, s) = (num(hms.next()?)?, num(hms.next()?)?, num(hms.next()?)?);
        if h > 23 || mi > 59 || s > 60 {
            return None;
        }
        secs += h * 3600 + mi * 60 + s - offset;
    }
    Some(secs)
}

pub fn format_rfc3339(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", t / 3600, t / 60 % 60, t % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn user(id: &str, email: &str, role: &str) -> source::User {
        source::User {
            id: id.into(),
            email: email.into(),
            password_hash: format!("$2a$10${}", "a".repeat(53)),
            role: role.into(),
            created_at: 1,
        }
    }

    #[test]
    fn the_first_admin_owns_default() {
        let users = [
            user("1", "m@x.io", "member"),
            user("2", "a@x.io", "admin"),
            user("3", "b@x.io", "admin"),
        ];
        assert_eq!(roles(&users), [Role::Member, Role::Owner, Role::Admin]);
        assert_eq!(roles(&users[..1]), [Role::Owner], "no admin: the first user");
    }

    #[test]
    fn repo_urls_give_provider_and_full_name() {
        let r = repo_ref("github", "https://github.com/Acme/Api.git").unwrap();
        assert_eq!((r.provider, r.full_name.as_str()), (Provider::Github, "acme/api"));
        let r = repo_ref("azure", "https://dev.azure.com/acme/web/_git/shop").unwrap();
        assert_eq!((r.provider, r.full_name.as_str()), (Provider::Azure, "acme/web/shop"));
        let r = repo_ref("azure", "https://acme.visualstudio.com/web/_git/shop").unwrap();
        assert_eq!(r.full_name, "acme/web/shop");
        assert!(repo_ref("gitlab", "https://gitlab.com/a/b").is_err());
        assert!(repo_ref("github", "https://example.com/a/b").is_err());
    }

    fn comment(i: usize, body: usize) -> ReviewComment {
        ReviewComment {
            source_id: format!("c{i}"),
            path: None,
            line: None,
            body: "x".repeat(body),
            severity: None,
            confidence: None,
            created_at: 0,
            signal: None,
            signal_at: None,
        }
    }

    #[test]
    fn large_reviews_split_into_transactions_that_fit() {
        let parts = split_comments((0..250).map(|i| comment(i, 10)).collect());
        let sizes: Vec<_> = parts.iter().map(|(first, c)| (*first, c.len())).collect();
        assert_eq!(sizes, [(0, 98), (98, 99), (197, 53)]);
        let parts = split_comments((0..10).map(|i| comment(i, 390_000)).collect());
        assert!(parts.len() > 1);
        assert!(
            parts
                .iter()
                .all(|(_, c)| c.iter().map(ReviewComment::approx_bytes).sum::<usize>() <= MAX_TRANSACTION_BYTES)
        );
        assert_eq!(split_comments(Vec::new()).len(), 1, "a review without comments");
    }

    fn legacy() -> Legacy {
        Legacy {
            users: vec![
                user("u1", "Admin@X.io", "admin"),
                user("u2", "admin@x.io", "member"),
                user("u3", "bad", "member"),
            ],
            invites: vec![
                source::Invite {
                    token: SecretString::from("tok1".to_owned()),
                    email: Some("new@x.io".into()),
                    created_by: Some("u1".into()),
                    used: false,
                    created_at: 1,
                },
                source::Invite {
                    token: SecretString::from("tok2".to_owned()),
                    email: Some("old@x.io".into()),
                    created_by: None,
                    used: true,
                    created_at: 1,
                },
            ],
            repos: vec![
                source::Repo {
                    id: "r1".into(),
                    url: "https://github.com/a/b".into(),
                    platform: "github".into(),
                    token: None,
                    repo_path: None,
                    indexed_at: None,
                    symbol_count: None,
                    created_at: 1,
                },
                source::Repo {
                    id: "r2".into(),
                    url: "ftp://nowhere".into(),
                    platform: "github".into(),
                    token: None,
                    repo_path: None,
                    indexed_at: None,
                    symbol_count: None,
                    created_at: 1,
                },
            ],
            reviews: ["r1", "r1", "r2"]
                .iter()
                .enumerate()
                .map(|(i, repo)| source::Review {
                    id: format!("v{i}"),
                    repo_id: (*repo).into(),
                    pr_number: 1,
                    verdict: None,
                    comment_count: None,
                    created_at_millis: 0,
                })
                .collect(),
            comments: (0..6)
                .map(|i| source::Comment {
                    id: format!("c{i}"),
                    review_id: format!("v{}", i % 3),
                    path: None,
                    line: None,
                    body: Some("b".into()),
                    severity: None,
                    confidence: None,
                    created_at: 0,
                    signal: (i == 0 || i == 2).then(|| "accepted".into()),
                    signal_at: None,
                })
                .collect(),
            feedback: 2,
            review_depths: vec![("deep".into(), 3), ("fast".into(), 1)],
            ..Legacy::default()
        }
    }

    #[test]
    fn plan_counts_and_explains_every_skip() {
        let plan = plan(&legacy(), &Markers::default(), false);
        let r = &plan.report;
        assert_eq!(
            r.get(Kind::Users),
            Count {
                source: 3,
                already: 0,
                migrated: 1,
                skipped: 2
            }
        );
        assert_eq!(
            r.get(Kind::Invites),
            Count {
                source: 2,
                already: 0,
                migrated: 1,
                skipped: 1
            }
        );
        assert_eq!(
            r.get(Kind::Repos),
            Count {
                source: 2,
                already: 0,
                migrated: 1,
                skipped: 1
            }
        );
        assert_eq!(
            r.get(Kind::Reviews),
            Count {
                source: 3,
                already: 0,
                migrated: 2,
                skipped: 1
            }
        );
        assert_eq!(
            r.get(Kind::Comments),
            Count {
                source: 6,
                already: 0,
                migrated: 4,
                skipped: 2
            }
        );
        assert_eq!(
            r.get(Kind::Feedback),
            Count {
                source: 2,
                already: 0,
                migrated: 1,
                skipped: 1
            }
        );
        assert_eq!(plan.review_depth.as_deref(), Some("deep"));
        let text = r.render();
        for why in [
            "same address",
            "not valid",
            "already used",
            "ftp://nowhere",
            "WEBHOOK_SECRET",
            "repository r2",
        ] {
            assert!(text.contains(why), "{why} in\n{text}");
        }
        assert_eq!(plan.invites[0].token_hash, sha256_hex(b"tok1"), "only the hash travels");
    }

    #[test]
    fn markers_make_a_second_plan_empty() {
        let first = plan(&legacy(), &Markers::default(), true);
        let mut markers = Markers::default();
        let mut put = |kind, id: String| {
            markers.0.entry(kind).or_insert_with(HashMap::new).insert(id, None);
        };
        first
            .users
            .iter()
            .for_each(|u| put(MigratedKind::User, u.source_id.clone()));
        first
            .invites
            .iter()
            .for_each(|i| put(MigratedKind::Invite, i.source_id.clone()));
        first
            .repos
            .iter()
            .for_each(|r| put(MigratedKind::Repo, r.source.id.clone()));
        first
            .review_parts
            .iter()
            .for_each(|p| put(MigratedKind::Review, p.review.id.clone()));
        put(MigratedKind::Setting, "review_depth".into());
        let second = plan(&legacy(), &markers, true);
        assert_eq!(second.steps(), 0);
        assert_eq!(second.report.get(Kind::Comments).already, 4);
        assert_eq!(second.report.get(Kind::Users).already, 1);
    }

    #[test]
    fn batches_respect_the_transaction_limits() {
        let mut plan = plan(&legacy(), &Markers::default(), true);
        let review = plan.review_parts[0].review.clone();
        plan.review_parts = (0..30)
            .map(|i| ReviewPart {
                review: review.clone(),
                part: 0,
                comments: (0..i % 7).map(|j| comment(j, 100)).collect(),
                first_comment: 0,
            })
            .collect();
        let batches = plan.review_batches();
        assert_eq!(batches.iter().map(|b| b.len()).sum::<usize>(), 30);
        assert!(
            batches
                .iter()
                .all(|b| b.iter().map(ReviewPart::items).sum::<usize>() <= MAX_TRANSACTION_ITEMS)
        );
        assert!(batches.len() > 1);
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-03-01T00:00:00Z"), Some(1_772_323_200));
        assert_eq!(parse_rfc3339("2026-03-01"), Some(1_772_323_200));
        assert_eq!(parse_rfc3339("2026-03-01T02:00:00.5+02:00"), Some(1_772_323_200));
        assert_eq!(parse_rfc3339("2026-02-28T19:00:00-05:00"), Some(1_772_323_200));
        for bad in [
            "",
            "2026-13-01",
            "2026-3-1",
            "tomorrow",
            "2026-03-01T25:00:00Z",
            "2026-03-01T00:00:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(format_rfc3339(1_772_323_200), "2026-03-01T00:00:00Z");
        assert_eq!(parse_rfc3339(&format_rfc3339(1_800_000_123)), Some(1_800_000_123));
    }
}
