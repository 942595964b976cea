//! The lean request against the SDK's: both captured at the HTTP client for the same
//! credentials, time, region, endpoint and message, compared byte for byte (method, URI,
//! every header with the Authorization signature, body).
//!
//! Two adjustments to the SDK side, both stated: its telemetry headers are removed, since the
//! lean path does not send them (`x-amz-user-agent`, signed, before it signs; `user-agent`,
//! `amz-sdk-invocation-id` — random per call — and `amz-sdk-request`, unsigned, before it
//! transmits); and the SDK takes the attributes as a `HashMap`, whose order changes per
//! call, so the lean message is given the order the SDK's captured body has.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_sqs::config::{BehaviorVersion, Intercept, Region};
use aws_sdk_sqs::types::MessageAttributeValue;
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_async::time::StaticTimeSource;
use aws_smithy_http_client::test_util::{CaptureRequestReceiver, capture_request};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use aws_types::SdkConfig;

use super::*;

const QUEUE: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/agnus-reviews";
const EMULATOR: &str = "http://127.0.0.1:4570";
const OK: &str =
    r#"{"MD5OfMessageAttributes":"b","MD5OfMessageBody":"a","MessageId":"5fea7756-0ea4-451a-a703-a558b933e274"}"#;

fn time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_000_000)
}

fn credentials(session: bool) -> Credentials {
    Credentials::new(
        "ASIAEXAMPLEEXAMPLE01",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session.then(|| "IQoJb3JpZ2luX2VjEBQaCXVzLWVhc3QtMSJHMEUCIQ/session+token=".to_owned()),
        None,
        "test",
    )
}

fn config(
    endpoint: Option<&str>,
    session: bool,
    http: impl aws_smithy_runtime_api::client::http::HttpClient + 'static,
) -> SdkConfig {
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(SharedCredentialsProvider::new(credentials(session)))
        .time_source(StaticTimeSource::new(time()))
        .sleep_impl(TokioSleep::new())
        .http_client(http);
    if let Some(url) = endpoint {
        builder = builder.endpoint_url(url);
    }
    builder.build()
}

fn ok_response() -> http::Response<SdkBody> {
    http::Response::builder().status(200).body(SdkBody::from(OK)).unwrap()
}

/// Removes the SDK's telemetry headers before it signs (see the module doc).
#[derive(Debug)]
struct WithoutTelemetry;

impl Intercept for WithoutTelemetry {
    fn name(&self) -> &'static str {
        "WithoutTelemetry"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        strip_telemetry(context);
        Ok(())
    }

    /// The invocation id and attempt headers are added after signing (unsigned).
    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        strip_telemetry(context);
        Ok(())
    }
}

fn strip_telemetry(context: &mut BeforeTransmitInterceptorContextMut<'_>) {
    let headers = context.request_mut().headers_mut();
    for name in [
        "user-agent",
        "x-amz-user-agent",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
    ] {
        headers.remove(name);
    }
}

/// One captured request: method, URI, headers sorted by name, body.
#[derive(Debug, PartialEq, Eq)]
struct Wire {
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn wire(receiver: CaptureRequestReceiver) -> Wire {
    let request = receiver.expect_request();
    let mut headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    headers.sort();
    Wire {
        method: request.method().to_owned(),
        uri: request.uri().to_owned(),
        headers,
        body: request.body().bytes().expect("in-memory body").to_vec(),
    }
}

async fn sdk_request(endpoint: Option<&str>, session: bool, body: &str, attributes: &[(&str, &str)]) -> Wire {
    let (http, receiver) = capture_request(Some(ok_response()));
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&config(endpoint, session, http))
            .interceptor(WithoutTelemetry)
            .build(),
    );
    let attributes: HashMap<String, MessageAttributeValue> = attributes
        .iter()
        .map(|(k, v)| {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(*v)
                .build()
                .unwrap();
            ((*k).to_owned(), value)
        })
        .collect();
    let out = sqs
        .send_message()
        .queue_url(QUEUE)
        .message_body(body)
        .set_message_attributes(Some(attributes))
        .send()
        .await
        .unwrap();
    assert_eq!(out.message_id(), Some("5fea7756-0ea4-451a-a703-a558b933e274"));
    wire(receiver)
}

async fn lean_request(endpoint: Option<&str>, session: bool, message: &Message<'_>) -> Wire {
    let (http, receiver) = capture_request(Some(ok_response()));
    let sender = SqsSender::from_sdk(&config(endpoint, session, http)).unwrap();
    let id = sender.send_message(message).await.unwrap();
    assert_eq!(id, "5fea7756-0ea4-451a-a703-a558b933e274");
    wire(receiver)
}

/// The attribute names in the order they appear in an SDK body.
fn order_in<'a>(sdk_body: &[u8], attributes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let text = std::str::from_utf8(sdk_body).unwrap();
    let start = text
        .find("\"MessageAttributes\":{")
        .expect("attributes in the SDK body");
    let mut ordered = attributes.to_vec();
    ordered.sort_by_key(|(name, _)| start + text[start..].find(&format!("\"{name}\":{{")).expect("attribute"));
    ordered
}

fn attributes() -> Vec<(&'static str, &'static str)> {
    vec![
        ("org_id", "0f7d9c4e-8a51-4c11-9e2b-3c5d7a9b1e2f"),
        ("provider", "github"),
        ("event", "pull_request"),
        ("delivery_id", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ("received_at", "1795000000"),
        ("encoding", "inline"),
        ("source", "webhook"),
    ]
}

/// Bodies of 1 KiB (plain JSON) and 25 KiB (everything that needs escaping or is
/// multi-byte), plus the edge cases on their own.
fn bodies() -> Vec<String> {
    let mut plain = String::from("{\"action\":\"opened\",\"number\":42,\"pull_request\":{\"title\":\"");
    while plain.len() < 1024 - 3 {
        plain.push('x');
    }
    plain.push_str("\"}}");
    let tricky = "\"quotes\" \\backslash\\ </script><script>alert(1)</script> tab\there \
        newline\n cr\r formfeed\u{c} backspace\u{8} nul\u{0} unit\u{1f} del\u{7f} \
        ünïcödé 日本語 emoji 🚀👩‍👩‍👧 \u{2028}\u{2029} \u{fffd} \u{10ffff} / ";
    let mut big = String::from("{\"diff\":\"");
    while big.len() < 25 * 1024 {
        big.push_str(tricky);
    }
    big.push_str("\"}");
    vec![plain, big, tricky.to_owned(), String::new(), "\u{0}".repeat(3)]
}

#[tokio::test]
async fn lean_request_is_byte_equal_to_the_sdk_request() {
    let attributes = attributes();
    for endpoint in [None, Some(EMULATOR)] {
        for session in [true, false] {
            for body in bodies() {
                let sdk = sdk_request(endpoint, session, &body, &attributes).await;
                let ordered = order_in(&sdk.body, &attributes);
                let message = Message {
                    queue_url: QUEUE,
                    body: &body,
                    attributes: &ordered,
                };
                let lean = lean_request(endpoint, session, &message).await;
                assert_eq!(
                    lean,
                    sdk,
                    "endpoint {endpoint:?}, session {session}, body of {} bytes",
                    body.len()
                );
                assert!(lean.headers.iter().any(|(k, _)| k == "authorization"));
                assert_eq!(lean.headers.iter().any(|(k, _)| k == "x-amz-security-token"), session);
            }
        }
    }
}

#[tokio::test]
async fn request_builder_matches_what_is_sent() {
    let (http, receiver) = capture_request(Some(ok_response()));
    let sender = SqsSender::from_sdk(&config(None, true, http)).unwrap();
    let attributes = attributes();
    let message = Message {
        queue_url: QUEUE,
        body: "{\"a\":1}",
        attributes: &attributes,
    };
    let built = sender
        .request(&message, &sender.identity().await.unwrap(), time())
        .unwrap();
    sender.send_message(&message).await.unwrap();
    let sent = wire(receiver);
    assert_eq!(built.uri().to_string(), sent.uri);
    assert_eq!(built.uri().to_string(), "https://sqs.eu-west-1.amazonaws.com/");
    assert_eq!(built.body().as_ref(), sent.body.as_slice());
    let mut headers: Vec<(String, String)> = built
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    assert_eq!(headers, sent.headers);
}

/// An HTTP client answering each request with the next canned answer, counting calls.
fn answering(
    answers: Vec<(u16, &'static str, Option<&'static str>)>,
) -> (
    aws_smithy_runtime_api::client::http::SharedHttpClient,
    Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let client = aws_smithy_http_client::test_util::infallible_client_fn(move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let (status, body, query_error) = answers[n.min(answers.len() - 1)];
        let mut response = http::Response::builder().status(status);
        if let Some(code) = query_error {
            response = response.header("x-amzn-query-error", code);
        }
        response.body(body).unwrap()
    });
    (client, calls)
}

fn fast_retry_config(http: aws_smithy_runtime_api::client::http::SharedHttpClient) -> SdkConfig {
    config(None, true, http)
        .into_builder()
        .retry_config(
            aws_smithy_types::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .build()
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_then_succeed() {
    let (http, calls) = answering(vec![
        (
            400,
            r#"{"__type":"com.amazonaws.sqs#RequestThrottled","message":"slow down"}"#,
            Some("RequestThrottled;Sender"),
        ),
        (503, "", None),
        (200, OK, None),
    ]);
    let sender = SqsSender::from_sdk(&fast_retry_config(http)).unwrap();
    let attributes = attributes();
    let message = Message {
        queue_url: QUEUE,
        body: "{}",
        attributes: &attributes,
    };
    assert_eq!(
        sender.send_message(&message).await.unwrap(),
        "5fea7756-0ea4-451a-a703-a558b933e274"
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn client_errors_fail_at_once_with_the_service_code() {
    let (http, calls) = answering(vec![(
        400,
        r#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#,
        Some("AWS.SimpleQueueService.NonExistentQueue;Sender"),
    )]);
    let sender = SqsSender::from_sdk(&fast_retry_config(http)).unwrap();
    let message = Message {
        queue_url: QUEUE,
        body: "{}",
        attributes: &[],
    };
    let err = sender.send_message(&message).await.unwrap_err();
    assert!(
        matches!(&err, SendError::Service { status: 400, code, .. } if code == "AWS.SimpleQueueService.NonExistentQueue"),
        "{err:?}"
    );
    assert!(!err.to_string().contains("{}"), "no message body in errors");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);

    // Without the query header, the JSON `__type`.
    let (http, _) = answering(vec![(
        400,
        r#"{"__type":"com.amazonaws.sqs#InvalidParameterValue:x","message":"bad"}"#,
        None,
    )]);
    let sender = SqsSender::from_sdk(&fast_retry_config(http)).unwrap();
    let err = sender.send_message(&message).await.unwrap_err();
    assert!(
        matches!(&err, SendError::Service { code, .. } if code == "InvalidParameterValue"),
        "{err:?}"
    );
}

#[tokio::test]
async fn persistent_server_errors_give_up_after_the_configured_attempts() {
    let (http, calls) = answering(vec![(500, "", None)]);
    let sender = SqsSender::from_sdk(&fast_retry_config(http)).unwrap();
    let message = Message {
        queue_url: QUEUE,
        body: "{}",
        attributes: &[],
    };
    let err = sender.send_message(&message).await.unwrap_err();
    assert!(matches!(err, SendError::Service { status: 500, .. }), "{err:?}");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_hanging_service_times_out() {
    let http = aws_smithy_http_client::test_util::NeverClient::new();
    let config = config(None, true, http)
        .into_builder()
        .timeout_config(
            aws_smithy_types::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(20))
                .operation_timeout(Duration::from_millis(200))
                .build(),
        )
        .retry_config(aws_smithy_types::retry::RetryConfig::standard().with_initial_backoff(Duration::from_millis(1)))
        .build();
    let sender = SqsSender::from_sdk(&config).unwrap();
    let message = Message {
        queue_url: QUEUE,
        body: "{}",
        attributes: &[],
    };
    let started = std::time::Instant::now();
    assert!(matches!(sender.send_message(&message).await, Err(SendError::Timeout)));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_configuration_without_an_http_client_gets_the_sdks_default() {
    // As `aws_config::load` returns it: each SDK client adds its default HTTP client itself.
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(SharedCredentialsProvider::new(credentials(true)))
        .build();
    let sender = SqsSender::from_sdk(&config).unwrap();
    assert_eq!(sender.endpoint().uri, "https://sqs.eu-west-1.amazonaws.com/");
    assert!(matches!(
        SqsSender::from_sdk(&config.into_builder().region(None).build()),
        Err(SetupError::NoRegion)
    ));
}

#[test]
fn the_lambda_trace_id_is_passed_on_encoded_as_the_sdk_does() {
    assert_eq!(
        trace_header_of(false, Some("Root=1-5759e988-bd862e3fe1be46a994272793")),
        None
    );
    assert_eq!(trace_header_of(true, None), None);
    assert_eq!(
        trace_header_of(true, Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")).unwrap(),
        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    );
    assert_eq!(trace_header_of(true, Some("a\nb\u{7f}é")).unwrap(), "a%0Ab%7F%C3%A9");
}

#[tokio::test]
async fn warm_up_sends_one_signed_request_that_sqs_refuses_and_stores_nothing() {
    use std::sync::Mutex;
    /// Each request's headers and body, as sent.
    type Seen = Arc<Mutex<Vec<(http::HeaderMap, Vec<u8>)>>>;
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let http = aws_smithy_http_client::test_util::infallible_client_fn(move |request| {
        let body = request.body().bytes().unwrap_or_default().to_vec();
        record.lock().unwrap().push((request.headers().clone(), body));
        http::Response::builder()
            .status(400)
            .header("x-amzn-query-error", "AWS.SimpleQueueService.MissingParameter;Sender")
            .body(r#"{"__type":"com.amazonaws.sqs#MissingRequiredParameterException","message":"QueueUrl"}"#)
            .unwrap()
    });
    let sender = SqsSender::from_sdk(&fast_retry_config(http)).unwrap();
    assert!(matches!(
        sender.warm_up(Duration::from_secs(1)).await,
        crate::WarmUp::Answered
    ));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "one attempt, the refusal is not retried");
    let (headers, body) = &seen[0];
    assert_eq!(body, b"{}", "names no queue and carries no message");
    assert_eq!(headers["x-amz-target"], "AmazonSQS.SendMessage");
    assert!(
        headers["authorization"]
            .to_str()
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256 Credential="),
        "signed like a delivery"
    );
}

#[tokio::test]
async fn warm_up_reports_a_failing_or_hanging_service_without_retrying() {
    let (http, calls) = answering(vec![(500, "", None)]);
    let sender = SqsSender::from_sdk(&fast_retry_config(http)).unwrap();
    assert!(matches!(
        sender.warm_up(Duration::from_secs(1)).await,
        crate::WarmUp::Failed(SendError::Service { status: 500, .. })
    ));
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);

    let http = aws_smithy_http_client::test_util::NeverClient::new();
    let sender = SqsSender::from_sdk(&config(None, true, http)).unwrap();
    assert!(matches!(
        sender.warm_up(Duration::from_millis(20)).await,
        crate::WarmUp::TimedOut
    ));
}
