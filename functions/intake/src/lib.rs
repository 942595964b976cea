//! Webhook intake (product §7): `POST /api/webhooks/{provider}/{orgSlug}`.
//!
//! Order matters: size cap (413) before any HMAC work; then the org and its secret(s);
//! then verification over the raw bytes; only then parsing. Unknown org, deleted org and
//! a bad signature give one identical 401. A verified delivery is claimed in the ledger,
//! enqueued, and only then marked done and answered 202 — any failure on that path is a
//! 503 and the claim is released, so the provider's retry goes through.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use agnus_shared::aws::{DynamoClient, KmsClient, S3Client, SqsSender};
use agnus_shared::cache::TtlCache;
use agnus_shared::config::{IntakeConfig, RateLimit};
use agnus_shared::crypto::{KmsError, SecretBox, WebhookSecret};
use agnus_shared::domain::{OrgId, Provider, Slug};
use agnus_shared::error::ApiError;
use agnus_shared::http::{self, json_response};
use agnus_shared::queue::{DeliveryAttributes, Enqueuer};
use agnus_shared::routes::{self, Matched};
use agnus_shared::store::legacy::LegacyWebhooks;
use agnus_shared::store::{Actor, AuditEvent, Claim, IntakeTarget, RateDecision, Store};
use agnus_shared::webhooks;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use tracing::Instrument;

/// How long a claimed-but-unfinished delivery blocks a concurrent duplicate.
const CLAIM_LEASE_SECS: i64 = 30;
/// At most this many rejected-delivery audit entries per org and provider per hour (the
/// per-provider counters in the webhook listing count every rejection).
const REJECTION_AUDITS_PER_HOUR: u32 = 20;
/// Bound on cached (slug, provider) entries per warm instance.
const CACHE_CAPACITY: usize = 10_000;
/// A separate, small budget for "no such org" answers: a flood of random slugs fills this,
/// never the cache of real orgs.
const UNKNOWN_CACHE_CAPACITY: usize = 1_000;
/// A failed verification against a cached secret reloads it from the store (a rotation
/// may have happened since), at most once per this interval per org and provider — so a
/// flood of forged deliveries cannot turn into a flood of KMS calls.
const RELOAD_AFTER_FAILURE_EVERY: Duration = Duration::from_secs(5);
/// Rejections are counted per warm instance and written at most this often per org and
/// provider: an unauthenticated caller cannot buy a DynamoDB write per request.
const REJECTION_FLUSH_EVERY: Duration = Duration::from_secs(5);

/// An org lookup with its decrypted secret(s), per warm instance.
type Found = (IntakeTarget, Vec<WebhookSecret>);
type CacheKey = (String, Provider);

/// Rejections seen by this instance and not yet written.
#[derive(Debug, Default)]
struct PendingRejections {
    count: u64,
    last_reason: &'static str,
    last_flush: Option<Instant>,
}

/// Everything a request needs, built once per cold start.
#[derive(Debug)]
pub struct IntakeState {
    pub store: Store,
    pub sealer: SecretBox,
    pub enqueuer: Enqueuer,
    pub config: IntakeConfig,
    cache: TtlCache<CacheKey, Found>,
    /// The legacy URLs' settings (written by the migration), cached like the org lookups.
    legacy: TtlCache<(), Option<LegacyWebhooks>>,
    unknown: TtlCache<CacheKey, ()>,
    /// When each entry was last reloaded because a signature failed against it.
    reloaded: TtlCache<CacheKey, ()>,
    rejections: Mutex<HashMap<(OrgId, Provider), (IntakeTarget, PendingRejections)>>,
}

impl IntakeState {
    pub fn new(config: IntakeConfig, dynamodb: DynamoClient, kms: KmsClient, sqs: SqsSender, s3: S3Client) -> Self {
        Self {
            store: Store::new(dynamodb, config.table_name.clone()),
            // Decrypt needs no key id: the ciphertext names its key.
            sealer: SecretBox::new(kms, String::new()),
            enqueuer: Enqueuer::new(
                sqs,
                s3,
                config.queue_url.clone(),
                config.bucket.clone(),
                config.inline_max_bytes,
            ),
            cache: TtlCache::new(config.cache_ttl, CACHE_CAPACITY),
            legacy: TtlCache::new(config.cache_ttl, 1),
            unknown: TtlCache::new(config.cache_ttl, UNKNOWN_CACHE_CAPACITY),
            reloaded: TtlCache::new(RELOAD_AFTER_FAILURE_EVERY, CACHE_CAPACITY),
            rejections: Mutex::new(HashMap::new()),
            config,
        }
    }

    /// Forgets cached lookups (tests; a cold start does the same).
    pub fn clear_cache(&self) {
        self.cache.clear();
        self.unknown.clear();
        self.legacy.clear();
        self.reloaded.clear();
    }

    /// Writes every pending rejection count now (tests; a warm instance flushes as it goes).
    pub async fn flush_rejections(&self) {
        let due: Vec<_> = match self.rejections.lock() {
            Ok(mut pending) => pending
                .values_mut()
                .filter(|(_, p)| p.count > 0)
                .map(|(t, p)| (t.clone(), std::mem::take(&mut p.count), p.last_reason))
                .collect(),
            Err(_) => return,
        };
        for (target, count, reason) in due {
            if let Err(e) = self.store.record_rejections(&target, reason, count).await {
                tracing::warn!(error = %e, "could not record rejections");
            }
        }
    }
}

const FUNCTION: &str = "intake";

/// The one answer for unknown org, deleted org, and missing or bad signature.
fn unauthorized() -> Response<Body> {
    json_response(
        StatusCode::UNAUTHORIZED,
        &json!({ "error": { "code": "unauthorized", "message": "unknown organization or invalid webhook signature" } }),
    )
}

fn unavailable(detail: &str) -> Response<Body> {
    tracing::warn!(error.detail = detail, "delivery not accepted: dependency unavailable");
    let mut r = json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({ "error": { "code": "unavailable", "message": "the delivery was not accepted; retry later" } }),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

pub async fn handle(state: &IntakeState, req: Request) -> Response<Body> {
    let span = tracing::info_span!(
        "delivery",
        request_id = %http::request_id(&req),
        provider = tracing::field::Empty,
        org_id = tracing::field::Empty,
        delivery_id = tracing::field::Empty,
        event = tracing::field::Empty,
    );
    async move {
        let response = intake(state, &req).await;
        tracing::info!(status = response.status().as_u16(), "handled");
        response
    }
    .instrument(span)
    .await
}

async fn intake(state: &IntakeState, req: &Request) -> Response<Body> {
    let params = match routes::find(FUNCTION, req.method().as_str(), req.uri().path()) {
        Matched::Route(route, params) if route.path == "/api/webhooks/{provider}" => {
            return legacy_alias(state, req, &params).await;
        }
        Matched::Route(_, params) => params,
        Matched::WrongMethod => return ApiError::MethodNotAllowed.into_response(),
        Matched::NotFound => return ApiError::NotFound.into_response(),
    };
    deliver(state, req, params).await
}

/// Verifies and enqueues one delivery for the org and provider in `params`.
async fn deliver(state: &IntakeState, req: &Request, params: HashMap<String, String>) -> Response<Body> {
    let Ok(provider) = params
        .get("provider")
        .map(String::as_str)
        .unwrap_or_default()
        .parse::<Provider>()
    else {
        return ApiError::NotFound.into_response();
    };
    tracing::Span::current().record("provider", provider.as_str());
    let body: &[u8] = req.body().as_ref();
    if body.len() > state.config.max_body_bytes {
        agnus_shared::metrics::delivery(provider, agnus_shared::metrics::Delivery::Rejected("payload_too_large"));
        return ApiError::PayloadTooLarge {
            limit: state.config.max_body_bytes,
        }
        .into_response();
    }
    if provider == Provider::Github && webhooks::is_form_encoded(req.headers()) {
        agnus_shared::metrics::delivery(provider, agnus_shared::metrics::Delivery::Rejected("form_encoded"));
        return json_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &json!({ "error": { "code": "unsupported_media_type",
                "message": "set the webhook's content type to application/json in the repository's webhook settings" } }),
        );
    }
    let Ok(slug) = Slug::system(params.get("orgSlug").map(String::as_str).unwrap_or_default()) else {
        agnus_shared::metrics::delivery(provider, agnus_shared::metrics::Delivery::Rejected("unknown_org"));
        return unauthorized();
    };
    let (mut target, secrets, cached) = match lookup(state, &slug, provider, false).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            agnus_shared::metrics::delivery(provider, agnus_shared::metrics::Delivery::Rejected("unknown_org"));
            return unauthorized();
        }
        Err(detail) => {
            agnus_shared::metrics::delivery(provider, agnus_shared::metrics::Delivery::Unavailable);
            return unavailable(&detail);
        }
    };
    tracing::Span::current().record("org_id", tracing::field::display(target.org_id()));

    let mut verdict = webhooks::verify(provider, req.headers(), body, &secrets, state.store.now_secs());
    if verdict.is_err() && cached && reload_allowed(state, &slug, provider) {
        // The secret may have been rotated since it was cached: look once more.
        match lookup(state, &slug, provider, true).await {
            Ok(Some((fresh, secrets, _))) => {
                verdict = webhooks::verify(provider, req.headers(), body, &secrets, state.store.now_secs());
                target = fresh;
            }
            Ok(None) => return unauthorized(),
            Err(detail) => return unavailable(&detail),
        }
    }
    if let Err(rejection) = verdict {
        tracing::info!(reason = rejection.reason(), "delivery rejected");
        agnus_shared::metrics::delivery(provider, agnus_shared::metrics::Delivery::Rejected(rejection.reason()));
        record_rejection(state, &target, rejection.reason()).await;
        return unauthorized();
    }

    let meta = webhooks::meta(provider, req.headers(), body);
    let span = tracing::Span::current();
    span.record("delivery_id", meta.delivery_id.as_str());
    span.record("event", meta.event.as_str());

    if meta.is_ping {
        if let Err(e) = state.store.record_delivery(&target, "ping", &meta.delivery_id).await {
            tracing::warn!(error = %e, "could not record ping");
        }
        return json_response(StatusCode::OK, &json!({ "ok": true, "event": "ping" }));
    }

    match state
        .store
        .ledger_claim(&target, &meta.delivery_id, CLAIM_LEASE_SECS)
        .await
    {
        Err(e) => {
            agnus_shared::metrics::delivery(provider, agnus_shared::metrics::Delivery::Unavailable);
            return unavailable(&e.to_string());
        }
        Ok(Claim::InFlight) => {
            agnus_shared::metrics::delivery(provider, agnus_shared::metrics::Delivery::Unavailable);
            return unavailable("the same delivery is being enqueued by another request");
        }
        Ok(Claim::Duplicate) => {
            tracing::info!("duplicate delivery acknowledged, not enqueued again");
            agnus_shared::metrics::delivery(provider, agnus_shared::metrics::Delivery::Duplicate);
            if let Err(e) = state
                .store
                .record_delivery(&target, "duplicate", &meta.delivery_id)
                .await
            {
                tracing::warn!(error = %e, "could not record duplicate");
            }
            return json_response(
                StatusCode::ACCEPTED,
                &json!({ "status": "duplicate", "deliveryId": meta.delivery_id }),
            );
        }
        Ok(Claim::New) => {}
    }

    let attributes = DeliveryAttributes {
        org_id: *target.org_id(),
        provider,
        event: meta.event.clone(),
        delivery_id: meta.delivery_id.clone(),
        received_at: state.store.now_secs(),
        source: "webhook",
    };
    let message_id = match state.enqueuer.enqueue(&attributes, body).await {
        Ok(id) => id,
        Err(e) => {
            if let Err(release) = state.store.ledger_release(&target, &meta.delivery_id).await {
                tracing::warn!(error = %release, "could not release the claim; it expires with its lease");
            }
            agnus_shared::metrics::delivery(provider, agnus_shared::metrics::Delivery::Unavailable);
            return unavailable(&e.to_string());
        }
    };
    // The message is durable from here on: a failure to mark the ledger only risks a
    // duplicate message after the lease, which the worker absorbs (idempotent per delivery).
    if let Err(e) = state.store.ledger_done(&target, &meta.delivery_id, &message_id).await {
        tracing::warn!(error = %e, "enqueued, but the ledger could not be marked done");
    }
    if let Err(e) = state
        .store
        .record_delivery(&target, "accepted", &meta.delivery_id)
        .await
    {
        tracing::warn!(error = %e, "could not record the delivery status");
    }
    tracing::info!(message_id = %message_id, bytes = body.len(), "delivery enqueued");
    agnus_shared::metrics::delivery(provider, agnus_shared::metrics::Delivery::Accepted);
    json_response(
        StatusCode::ACCEPTED,
        &json!({ "status": "accepted", "deliveryId": meta.delivery_id }),
    )
}

/// The single-tenant URLs `/api/webhooks/github` and `/api/webhooks/azure`: until the
/// sunset the migration stored they are the `default` org's URLs (with `Deprecation`,
/// `Sunset` and a `Link` to the new URL); after it, 410 with the new URL in the body.
/// Without a migration they do not exist (404).
async fn legacy_alias(state: &IntakeState, req: &Request, params: &HashMap<String, String>) -> Response<Body> {
    let provider = params.get("provider").map(String::as_str).unwrap_or_default();
    if !matches!(provider, "github" | "azure") {
        return ApiError::NotFound.into_response();
    }
    let settings = match state.legacy.get(&()) {
        Some(hit) => hit,
        None => match state.store.legacy_webhooks().await {
            Ok(settings) => {
                state.legacy.insert((), settings.clone());
                settings
            }
            Err(e) => return unavailable(&e.to_string()),
        },
    };
    let Some(settings) = settings else {
        return ApiError::NotFound.into_response();
    };
    let sunset = settings.sunset_at;
    let new_path = format!("/api/webhooks/{provider}/default");
    if state.store.now_secs() >= sunset {
        return json_response(
            StatusCode::GONE,
            &json!({ "error": { "code": "gone",
                "message": format!("this webhook URL was retired; point the webhook at {new_path}"),
                "url": new_path } }),
        );
    }
    let mut params = params.clone();
    params.insert("orgSlug".into(), "default".into());
    let mut response = Box::pin(deliver(state, req, params)).await;
    if response.status().is_success() {
        // Shown by the console's migration banner ("last legacy delivery").
        state.store.touch_legacy_webhook_delivery().await;
    }
    let sunset_at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(sunset.max(0) as u64);
    let headers = response.headers_mut();
    headers.insert("deprecation", HeaderValue::from_static("true"));
    if let Ok(v) = HeaderValue::from_str(&http::http_date(sunset_at)) {
        headers.insert("sunset", v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("<{new_path}>; rel=\"successor-version\"")) {
        headers.insert("link", v);
    }
    response
}

/// The org and its valid secret(s) for `provider`, from the warm cache when fresh (and
/// `fresh` is not asked for); the flag says whether the answer came from the cache.
async fn lookup(
    state: &IntakeState,
    slug: &Slug,
    provider: Provider,
    fresh: bool,
) -> Result<Option<(IntakeTarget, Vec<WebhookSecret>, bool)>, String> {
    let key = (slug.as_str().to_owned(), provider);
    if !fresh {
        if let Some((target, secrets)) = state.cache.get(&key) {
            return Ok(Some((target, secrets, true)));
        }
        if state.unknown.get(&key).is_some() {
            return Ok(None);
        }
    }
    let Some(target) = state
        .store
        .intake_target(slug, provider)
        .await
        .map_err(|e| e.to_string())?
    else {
        state.cache.remove(&key);
        state.unknown.insert(key, ());
        return Ok(None);
    };
    let now = state.store.now_secs();
    let hook = target.webhook();
    let mut secrets = Vec::with_capacity(2);
    let mut sealed = vec![hook.ciphertext.as_slice()];
    sealed.extend(hook.previous_if_valid(now));
    for ciphertext in sealed {
        match webhooks::open_secret(&state.sealer, target.org_id(), provider, ciphertext).await {
            Ok(secret) => secrets.push(secret),
            Err(KmsError::Invalid) => {
                tracing::error!("a stored webhook secret does not open under its org's context");
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    state.unknown.remove(&key);
    state.cache.insert(key, (target.clone(), secrets.clone()));
    Ok(Some((target, secrets, false)))
}

/// Whether a failed verification may reload this entry now (at most once per interval).
fn reload_allowed(state: &IntakeState, slug: &Slug, provider: Provider) -> bool {
    let key = (slug.as_str().to_owned(), provider);
    if state.reloaded.get(&key).is_some() {
        return false;
    }
    state.reloaded.insert(key, ());
    true
}

/// Makes a rejected delivery visible to the org's admins: in the per-provider counters
/// of the webhook listing, and in the audit log (rate-limited so a flood of forged
/// requests cannot flood the log). Counts are kept per warm instance and written at most
/// every [`REJECTION_FLUSH_EVERY`] per org and provider — one write for many rejections.
/// Best effort: never changes the 401.
async fn record_rejection(state: &IntakeState, target: &IntakeTarget, reason: &'static str) {
    let key = (*target.org_id(), target.provider());
    let due = match state.rejections.lock() {
        Ok(mut pending) => {
            let (_, p) = pending
                .entry(key)
                .or_insert_with(|| (target.clone(), PendingRejections::default()));
            p.count += 1;
            p.last_reason = reason;
            let due = p.last_flush.is_none_or(|at| at.elapsed() >= REJECTION_FLUSH_EVERY);
            if due {
                p.last_flush = Some(Instant::now());
                Some(std::mem::take(&mut p.count))
            } else {
                None
            }
        }
        Err(_) => None,
    };
    let Some(count) = due else { return };
    if let Err(e) = state.store.record_rejections(target, reason, count).await {
        tracing::warn!(error = %e, "could not record the rejection");
        return;
    }
    let subject = format!("{}:{}", target.org_id(), target.provider());
    let budget = RateLimit::hourly(REJECTION_AUDITS_PER_HOUR);
    if let Ok(RateDecision::Allowed) = state.store.rate_limit_hit("audit-rejections", &subject, budget).await {
        let event = AuditEvent::new("webhook.delivery_rejected", Actor::system("intake"))
            .target(target.provider())
            .details(json!({ "reason": reason, "count": count }));
        if let Err(e) = state.store.append_intake_audit(target, &event).await {
            tracing::warn!(error = %e, "could not audit the rejection");
        }
    }
}
