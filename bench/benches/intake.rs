//! The intake hot path in process, warm caches, per provider and payload size: from the
//! API Gateway event as Lambda hands it over (JSON text), through the event parse,
//! verification, delivery metadata and ledger key, to the SQS request as the intake sends it
//! (the lean SendMessage of `agnus-sqs`, serialized and SigV4-signed; claim check to S3 when
//! too large) — excluding only the network (the SDK's HTTP client answers in process).
//! Beside it, the floor components on the same bytes: bare HMAC-SHA256, parsing the event
//! JSON, the send alone (lean, and the SDK's SendMessage it replaced); and
//! the floor itself (`floor/sum`): exactly HMAC + event parse + one JSON-escape pass over
//! the body + one SHA-256 pass over the escaped bytes, what any intake must do at least.

use std::hint::black_box;

use agnus_shared::crypto::{WebhookSecret, hmac_sha256, sha256_hex};
use agnus_shared::domain::{OrgId, Provider};
use agnus_shared::queue::{DeliveryAttributes, Enqueuer};
use agnus_shared::webhooks;
use aws_sdk_sqs::types::MessageAttributeValue;
use aws_smithy_http_client::test_util::infallible_client_fn;
use base64::Engine as _;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lambda_http::RequestExt as _;

const SIZES: [usize; 4] = [1024, 25 * 1024, 256 * 1024, 4 * 1024 * 1024];

/// A `pull_request`-shaped JSON payload of exactly `size` bytes.
fn payload(size: usize) -> String {
    let head = r#"{"action":"opened","number":7,"pull_request":{"title":"Add 🚀","head":{"sha":"ec26c3e57ca3a959ca5aad62de7213c562f8c821"}},"repository":{"full_name":"octo/hello"},"padding":""#;
    let tail = "\"}";
    let pad = size.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(pad))
}

fn headers_for(provider: Provider, secret: &WebhookSecret, body: &str) -> serde_json::Value {
    let sig = format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.hmac_key(), &[body.as_bytes()]))
    );
    match provider {
        Provider::Github => serde_json::json!({"content-type": "application/json", "x-github-event": "pull_request",
            "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "x-hub-signature-256": sig}),
        Provider::Bitbucket => {
            serde_json::json!({"content-type": "application/json", "x-event-key": "pullrequest:created",
            "x-request-uuid": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "x-hub-signature": sig})
        }
        Provider::Gitlab => {
            serde_json::json!({"content-type": "application/json", "x-gitlab-event": "Merge Request Hook",
            "idempotency-key": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "x-gitlab-token": secret.expose()})
        }
        Provider::Azure => serde_json::json!({"content-type": "application/json",
            "authorization": format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("agnus:{}", secret.expose())))}),
    }
}

/// The API Gateway HTTP API (payload 2.0) event, as Lambda hands it to the function.
fn event(provider: Provider, secret: &WebhookSecret, body: &str) -> String {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "POST /api/webhooks/{provider}/{orgSlug}",
        "rawPath": format!("/api/webhooks/{provider}/acme"),
        "rawQueryString": "",
        "headers": headers_for(provider, secret, body),
        "requestContext": {"accountId": "123456789012", "apiId": "api", "domainName": "example.com",
            "domainPrefix": "example", "http": {"method": "POST", "path": format!("/api/webhooks/{provider}/acme"),
            "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "GitHub-Hookshot"},
            "requestId": "r1", "routeKey": "$default", "stage": "$default", "time": "23/Nov/2026:00:00:00 +0000", "timeEpoch": 0},
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}

/// The SQS sender and S3 client, with an HTTP client that answers in process: requests are
/// fully built, serialized and signed, nothing leaves the process.
fn enqueuer() -> Enqueuer {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "bench",
            ))
            .http_client(in_process_http())
            .build(),
    );
    Enqueuer::new(
        agnus_shared::aws::sqs_sender(&sdk_config()).unwrap(),
        s3,
        QUEUE_URL,
        "agnus-payloads",
        240 * 1024,
    )
}

const QUEUE_URL: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/agnus-reviews";

/// Answers every request at once: SQS with a SendMessage result, S3 with an empty 200.
fn in_process_http() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    infallible_client_fn(|req| {
        let body = if req.uri().to_string().contains("sqs") {
            r#"{"MessageId":"5fea7756-0ea4-451a-a703-a558b933e274","MD5OfMessageBody":"00"}"#
        } else {
            ""
        };
        http::Response::builder().status(200).body(body).unwrap()
    })
}

/// What the functions' SDK configuration holds, with the in-process HTTP client.
fn sdk_config() -> aws_types::SdkConfig {
    aws_types::SdkConfig::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_sdk_sqs::config::Credentials::new("AKIDEXAMPLE", "secret", None, None, "bench"),
        ))
        .http_client(in_process_http())
        .build()
}

fn bench_intake(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let enqueuer = enqueuer();
    let org = OrgId::new();
    for provider in Provider::ALL {
        let secret = WebhookSecret::generate(provider);
        // The warm cache the intake consults first (org lookup + decrypted secret).
        let cache = agnus_shared::cache::TtlCache::new(std::time::Duration::from_secs(60), 10_000);
        cache.insert(("acme".to_owned(), provider), Some((org, vec![secret.clone()])));
        let mut group = c.benchmark_group(format!("intake/{provider}"));
        for size in SIZES {
            let body = payload(size);
            let ev = event(provider, &secret, &body);
            group.throughput(Throughput::Bytes(size as u64));
            if size >= 1024 * 1024 {
                group.sample_size(20);
            } else {
                group.sample_size(60);
            }
            group.bench_with_input(BenchmarkId::from_parameter(size), &ev, |b, ev| {
                b.iter(|| {
                    rt.block_on(async {
                        let req = lambda_http::request::from_str(black_box(ev)).unwrap();
                        let body: &[u8] = req.body().as_ref();
                        let (org, secrets) = cache.get(&("acme".to_owned(), provider)).flatten().unwrap();
                        webhooks::verify(provider, req.headers(), body, &secrets, 0).unwrap();
                        let meta = webhooks::meta(provider, req.headers(), body);
                        let ledger_key = format!("ORG#{org}|DELIVERY#{provider}#{}", meta.delivery_id);
                        let attrs = DeliveryAttributes {
                            org_id: org,
                            provider,
                            event: meta.event,
                            delivery_id: meta.delivery_id,
                            received_at: 0,
                            source: "webhook",
                        };
                        let id = enqueuer.enqueue(&attrs, body).await.unwrap();
                        black_box((ledger_key, id, req.request_context_ref().is_some()))
                    })
                })
            });
        }
        group.finish();
    }
}

fn bench_floors(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let enqueuer = enqueuer();
    let sdk_sqs = aws_sdk_sqs::Client::new(&sdk_config());
    let org = OrgId::new();
    let secret = WebhookSecret::generate(Provider::Github);
    let mut group = c.benchmark_group("floor");
    for size in SIZES {
        let body = payload(size);
        let ev = event(Provider::Github, &secret, &body);
        group.throughput(Throughput::Bytes(size as u64));
        group.sample_size(if size >= 1024 * 1024 { 20 } else { 60 });
        group.bench_with_input(BenchmarkId::new("hmac_sha256", size), &body, |b, body| {
            b.iter(|| hmac_sha256(black_box(secret.hmac_key()), &[black_box(body.as_bytes())]))
        });
        group.bench_with_input(BenchmarkId::new("event_parse", size), &ev, |b, ev| {
            b.iter(|| lambda_http::request::from_str(black_box(ev)).unwrap())
        });
        let mut escaped = Vec::with_capacity(body.len() * 2 + 2);
        group.bench_with_input(BenchmarkId::new("json_escape", size), &body, |b, body| {
            b.iter(|| {
                escaped.clear();
                serde_json::to_writer(&mut escaped, black_box(body.as_str())).unwrap();
                escaped.len()
            })
        });
        group.bench_with_input(BenchmarkId::new("sha256", size), &body, |b, body| {
            b.iter(|| sha256_hex(black_box(body.as_bytes())))
        });
        // The floor: the four essential passes in sequence, on the same bytes.
        group.bench_with_input(BenchmarkId::new("sum", size), &ev, |b, ev| {
            b.iter(|| {
                let req = lambda_http::request::from_str(black_box(ev)).unwrap();
                let body: &[u8] = req.body().as_ref();
                let mac = hmac_sha256(secret.hmac_key(), &[body]);
                escaped.clear();
                serde_json::to_writer(&mut escaped, std::str::from_utf8(body).unwrap()).unwrap();
                black_box((mac, sha256_hex(&escaped)))
            })
        });
        let attrs = DeliveryAttributes {
            org_id: org,
            provider: Provider::Github,
            event: "pull_request".into(),
            delivery_id: "72d3162e-cc78-11e3-81ab-4c9367dc0958".into(),
            received_at: 0,
            source: "webhook",
        };
        group.bench_with_input(BenchmarkId::new("sqs_send_serialize_sign", size), &body, |b, body| {
            b.iter(|| {
                rt.block_on(enqueuer.enqueue(&attrs, black_box(body.as_bytes())))
                    .unwrap()
            })
        });
        // The same message through the SDK's SendMessage, the path the lean one replaced.
        if size <= 240 * 1024 {
            let attributes: std::collections::HashMap<String, MessageAttributeValue> = [
                ("org_id", org.to_string()),
                ("provider", "github".to_owned()),
                ("event", "pull_request".to_owned()),
                ("delivery_id", attrs.delivery_id.clone()),
                ("received_at", "0".to_owned()),
                ("encoding", "inline".to_owned()),
                ("source", "webhook".to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| {
                let value = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(v)
                    .build()
                    .unwrap();
                (k.to_owned(), value)
            })
            .collect();
            group.bench_with_input(BenchmarkId::new("sqs_send_sdk", size), &body, |b, body| {
                b.iter(|| {
                    rt.block_on(
                        sdk_sqs
                            .send_message()
                            .queue_url(QUEUE_URL)
                            .message_body(black_box(body.as_str()))
                            .set_message_attributes(Some(attributes.clone()))
                            .send(),
                    )
                    .unwrap()
                })
            });
        }
    }
    group.finish();
}

type OrgKey = (String, Provider);
type OrgSecrets = Option<(OrgId, Vec<WebhookSecret>)>;

/// The warm org lookup (slug → org and decrypted secret) with 1 and with 10,000 orgs
/// cached: what the number of orgs costs a warm intake per delivery.
fn bench_org_lookup(c: &mut Criterion) {
    use agnus_shared::cache::TtlCache;
    let mut group = c.benchmark_group("org_lookup_cached");
    for orgs in [1usize, 10_000] {
        let cache: TtlCache<OrgKey, OrgSecrets> = TtlCache::new(std::time::Duration::from_secs(60), 20_000);
        for i in 0..orgs {
            cache.insert(
                (format!("org-{i:05}"), Provider::Github),
                Some((OrgId::new(), vec![WebhookSecret::generate(Provider::Github)])),
            );
        }
        let key = (format!("org-{:05}", orgs / 2), Provider::Github);
        group.bench_with_input(BenchmarkId::from_parameter(orgs), &key, |b, key| {
            b.iter(|| cache.get(black_box(key)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_intake, bench_floors, bench_org_lookup);
criterion_main!(benches);
