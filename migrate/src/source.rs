//! The single-tenant AgnusAI database (PostgreSQL), read once, in full. Tables the
//! install's version did not have read as empty. Times come back as unix seconds (or
//! milliseconds), converted by PostgreSQL, so no date library is needed.

use secrecy::SecretString;
use tokio_postgres::types::FromSql;
use tokio_postgres::{Client, NoTls, Row};

/// A connection string, kept out of logs (it may carry a password).
#[derive(Debug, Clone)]
pub struct DatabaseUrl(SecretString);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(SecretString::from(url.into()))
    }
    fn expose(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(&self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The message never includes the connection string.
    #[error("postgres: {0}")]
    Postgres(String),
}

impl From<tokio_postgres::Error> for SourceError {
    fn from(e: tokio_postgres::Error) -> Self {
        SourceError::Postgres(e.to_string())
    }
}

/// `users`
#[derive(Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: i64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// `invites` (tokens are plaintext there; only their hash is written here).
#[derive(Clone)]
pub struct Invite {
    pub token: SecretString,
    pub email: Option<String>,
    pub created_by: Option<String>,
    pub used: bool,
    pub created_at: i64,
}

impl std::fmt::Debug for Invite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invite")
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

/// `repos` (the token is plaintext there; it is sealed by KMS here).
#[derive(Clone)]
pub struct Repo {
    pub id: String,
    pub url: String,
    pub platform: String,
    pub token: Option<SecretString>,
    pub repo_path: Option<String>,
    pub indexed_at: Option<i64>,
    pub symbol_count: Option<i64>,
    pub created_at: i64,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("id", &self.id)
            .field("platform", &self.platform)
            .finish_non_exhaustive()
    }
}

/// `reviews`
#[derive(Debug, Clone)]
pub struct Review {
    pub id: String,
    pub repo_id: String,
    pub pr_number: i64,
    pub verdict: Option<String>,
    pub comment_count: Option<i64>,
    pub created_at_millis: i64,
}

/// `review_comments` with its `review_feedback` (if any); the embedding is not read.
#[derive(Debug, Clone)]
pub struct Comment {
    pub id: String,
    pub review_id: String,
    pub path: Option<String>,
    pub line: Option<i64>,
    pub body: Option<String>,
    pub severity: Option<String>,
    pub confidence: Option<f64>,
    pub created_at: i64,
    pub signal: Option<String>,
    pub signal_at: Option<i64>,
}

/// `pr_review_state`
#[derive(Debug, Clone)]
pub struct PrState {
    pub repo_id: String,
    pub pr_number: i64,
    pub platform: String,
    pub last_reviewed_iteration: i64,
    pub updated_at: i64,
}

/// Everything the upgrade reads.
#[derive(Debug, Clone, Default)]
pub struct Legacy {
    pub users: Vec<User>,
    pub invites: Vec<Invite>,
    pub repos: Vec<Repo>,
    /// Ordered by review, then comment time.
    pub reviews: Vec<Review>,
    pub comments: Vec<Comment>,
    /// Feedback rows (each belongs to one comment; read with it).
    pub feedback: usize,
    /// Comments that carry an embedding (skipped: the new system computes its own).
    pub embeddings: usize,
    pub pr_states: Vec<PrState>,
    /// `user_settings.review_depth` values, most common first, with their counts.
    pub review_depths: Vec<(String, i64)>,
    pub system_api_key: Option<(SecretString, i64)>,
    /// Tables this install does not have.
    pub missing_tables: Vec<&'static str>,
    /// Rows left out because a column the upgrade needs is NULL (or of another type) in
    /// this install: the table and why, one each (never a token's value).
    pub unreadable: Vec<(&'static str, String)>,
}

const SECS: &str = "COALESCE(extract(epoch FROM {})::bigint, 0)";

fn secs(column: &str) -> String {
    SECS.replace("{}", column)
}

/// Connects (no TLS: run the upgrade next to the database or through a tunnel).
pub async fn connect(url: &DatabaseUrl) -> Result<Client, SourceError> {
    let (client, connection) = tokio_postgres::connect(url.expose(), NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "postgres connection closed");
        }
    });
    Ok(client)
}

async fn exists(client: &Client, table: &str) -> Result<bool, SourceError> {
    let row = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&format!("public.{table}")])
        .await?;
    Ok(row.get(0))
}

async fn rows(client: &Client, legacy: &mut Legacy, table: &'static str, sql: &str) -> Result<Vec<Row>, SourceError> {
    if !exists(client, table).await? {
        legacy.missing_tables.push(table);
        return Ok(Vec::new());
    }
    Ok(client.query(sql, &[]).await?)
}

/// A column the upgrade needs: NULL (a nullable column in some installs) or another type
/// is the row's reason to be skipped, never a panic.
fn required<'a, T: FromSql<'a>>(r: &'a Row, i: usize) -> Result<T, String> {
    match r.try_get::<_, Option<T>>(i) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(format!("{} is NULL", r.columns()[i].name())),
        Err(e) => Err(format!("{} cannot be read ({e})", r.columns()[i].name())),
    }
}

/// A column that may be NULL (another type still skips the row).
fn optional<'a, T: FromSql<'a>>(r: &'a Row, i: usize) -> Result<Option<T>, String> {
    r.try_get(i)
        .map_err(|e| format!("{} cannot be read ({e})", r.columns()[i].name()))
}

/// Converts each row; a row that does not convert is recorded in `legacy.unreadable`
/// with its position and, unless the first column is secret (`named`), its id.
fn convert<T>(
    legacy: &mut Legacy,
    table: &'static str,
    named: bool,
    rows: &[Row],
    each: impl Fn(&Row) -> Result<T, String>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(rows.len());
    for (n, r) in rows.iter().enumerate() {
        match each(r) {
            Ok(v) => out.push(v),
            Err(why) => {
                let id = named
                    .then(|| r.try_get::<_, Option<String>>(0).ok().flatten())
                    .flatten()
                    .map(|id| format!(" {id:?}"))
                    .unwrap_or_default();
                legacy
                    .unreadable
                    .push((table, format!("{table} row {}{id}: {why}", n + 1)));
            }
        }
    }
    out
}

/// Reads the whole single-tenant data set in one repeatable-read snapshot.
pub async fn read(client: &mut Client) -> Result<Legacy, SourceError> {
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let client: &Client = tx.client();
    let mut legacy = Legacy::default();

    let sql = format!(
        "SELECT id, email, password_hash, role, {} FROM users ORDER BY created_at NULLS LAST, id",
        secs("created_at")
    );
    let found = rows(client, &mut legacy, "users", &sql).await?;
    legacy.users = convert(&mut legacy, "users", true, &found, |r| {
        Ok(User {
            id: required(r, 0)?,
            email: required(r, 1)?,
            password_hash: required(r, 2)?,
            role: required(r, 3)?,
            created_at: required(r, 4)?,
        })
    });

    let sql = format!(
        "SELECT token, email, created_by, used_at IS NOT NULL, {} FROM invites ORDER BY created_at NULLS LAST, token",
        secs("created_at")
    );
    let found = rows(client, &mut legacy, "invites", &sql).await?;
    legacy.invites = convert(&mut legacy, "invites", false, &found, |r| {
        Ok(Invite {
            token: SecretString::from(required::<String>(r, 0)?),
            email: optional(r, 1)?,
            created_by: optional(r, 2)?,
            used: required(r, 3)?,
            created_at: required(r, 4)?,
        })
    });

    let sql = format!(
        "SELECT repo_id, repo_url, platform, token, repo_path, extract(epoch FROM indexed_at)::bigint, \
         symbol_count::bigint, {} FROM repos ORDER BY created_at NULLS LAST, repo_id",
        secs("created_at")
    );
    let found = rows(client, &mut legacy, "repos", &sql).await?;
    legacy.repos = convert(&mut legacy, "repos", true, &found, |r| {
        Ok(Repo {
            id: required(r, 0)?,
            url: required(r, 1)?,
            platform: required(r, 2)?,
            token: optional::<String>(r, 3)?.map(SecretString::from),
            repo_path: optional(r, 4)?,
            indexed_at: optional(r, 5)?,
            symbol_count: optional(r, 6)?,
            created_at: required(r, 7)?,
        })
    });

    let sql = "SELECT id, repo_id, pr_number::bigint, verdict, comment_count::bigint, \
               COALESCE((extract(epoch FROM created_at) * 1000)::bigint, 0) \
               FROM reviews ORDER BY repo_id, created_at NULLS LAST, id";
    let found = rows(client, &mut legacy, "reviews", sql).await?;
    legacy.reviews = convert(&mut legacy, "reviews", true, &found, |r| {
        Ok(Review {
            id: required(r, 0)?,
            repo_id: required(r, 1)?,
            pr_number: required(r, 2)?,
            verdict: optional(r, 3)?,
            comment_count: optional(r, 4)?,
            created_at_millis: required(r, 5)?,
        })
    });

    let has_feedback = exists(client, "review_feedback").await?;
    if !has_feedback {
        legacy.missing_tables.push("review_feedback");
    }
    let sql = if has_feedback {
        format!(
            "SELECT c.id, c.review_id, c.path, c.line::bigint, c.body, c.severity, c.confidence::float8, {}, \
             f.signal, extract(epoch FROM f.created_at)::bigint \
             FROM review_comments c LEFT JOIN review_feedback f ON f.comment_id = c.id \
             ORDER BY c.review_id, c.created_at NULLS LAST, c.id",
            secs("c.created_at")
        )
    } else {
        format!(
            "SELECT c.id, c.review_id, c.path, c.line::bigint, c.body, c.severity, c.confidence::float8, {}, \
             NULL::text, NULL::bigint FROM review_comments c ORDER BY c.review_id, c.created_at NULLS LAST, c.id",
            secs("c.created_at")
        )
    };
    let found = rows(client, &mut legacy, "review_comments", &sql).await?;
    legacy.comments = convert(&mut legacy, "review_comments", true, &found, |r| {
        Ok(Comment {
            id: required(r, 0)?,
            review_id: required(r, 1)?,
            path: optional(r, 2)?,
            line: optional(r, 3)?,
            body: optional(r, 4)?,
            severity: optional(r, 5)?,
            confidence: optional(r, 6)?,
            created_at: required(r, 7)?,
            signal: optional(r, 8)?,
            signal_at: optional(r, 9)?,
        })
    });
    if has_feedback {
        legacy.feedback = client
            .query_one("SELECT count(*) FROM review_feedback", &[])
            .await?
            .get::<_, i64>(0) as usize;
    }
    let has_embedding: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = 'review_comments' AND column_name = 'embedding')",
            &[],
        )
        .await?
        .get(0);
    if has_embedding {
        legacy.embeddings = client
            .query_one("SELECT count(*) FROM review_comments WHERE embedding IS NOT NULL", &[])
            .await?
            .get::<_, i64>(0) as usize;
    }

    let sql = format!(
        "SELECT repo_id, pr_number::bigint, platform, COALESCE(last_reviewed_iteration, 0)::bigint, {} \
         FROM pr_review_state ORDER BY repo_id, pr_number, platform",
        secs("updated_at")
    );
    let found = rows(client, &mut legacy, "pr_review_state", &sql).await?;
    legacy.pr_states = convert(&mut legacy, "pr_review_state", true, &found, |r| {
        Ok(PrState {
            repo_id: required(r, 0)?,
            pr_number: required(r, 1)?,
            platform: required(r, 2)?,
            last_reviewed_iteration: required(r, 3)?,
            updated_at: required(r, 4)?,
        })
    });

    let sql = "SELECT review_depth, count(*) FROM user_settings WHERE review_depth IS NOT NULL \
               GROUP BY review_depth ORDER BY count(*) DESC, review_depth";
    let found = rows(client, &mut legacy, "user_settings", sql).await?;
    legacy.review_depths = convert(&mut legacy, "user_settings", false, &found, |r| {
        Ok((required(r, 0)?, required(r, 1)?))
    });

    let sql = format!(
        "SELECT api_key, {} FROM system_api_keys WHERE id = 1",
        secs("created_at")
    );
    let found = rows(client, &mut legacy, "system_api_keys", &sql).await?;
    legacy.system_api_key = convert(&mut legacy, "system_api_keys", false, &found, |r| {
        Ok((SecretString::from(required::<String>(r, 0)?), required(r, 1)?))
    })
    .into_iter()
    .next();

    tx.commit().await?;
    Ok(legacy)
}
