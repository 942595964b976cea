use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use aws_credential_types::Credentials;

use super::*;
use crate::config::EmbeddingsConfig;

#[test]
fn inputs_are_cut_on_a_character_boundary() {
    assert_eq!(clip_input("short"), "short");
    let long = format!("{}é", "a".repeat(MAX_INPUT_BYTES - 1));
    assert_eq!(clip_input(&long).len(), MAX_INPUT_BYTES - 1, "é would cross the cap");
    let exact = "b".repeat(MAX_INPUT_BYTES + 10);
    assert_eq!(clip_input(&exact).len(), MAX_INPUT_BYTES);
}

#[test]
fn request_bodies_have_the_documented_shapes() {
    assert_eq!(
        openai_body("m", None, &["a", "b"]),
        json!({"model": "m", "input": ["a", "b"], "encoding_format": "float"})
    );
    assert_eq!(openai_body("m", Some(256), &["a"])["dimensions"], 256);
    assert_eq!(
        titan_body("x", Some(1024)),
        json!({"inputText": "x", "dimensions": 1024, "normalize": true})
    );
    let big = "c".repeat(MAX_INPUT_BYTES * 2);
    assert_eq!(
        titan_body(&big, None)["inputText"].as_str().unwrap().len(),
        MAX_INPUT_BYTES
    );
}

#[test]
fn openai_answers_come_back_in_input_order_and_checked() {
    let body = br#"{"object":"list","data":[
        {"object":"embedding","index":1,"embedding":[0.0,1.0]},
        {"object":"embedding","index":0,"embedding":[1.0,0.0]}],
        "model":"m","usage":{"prompt_tokens":2,"total_tokens":2}}"#;
    let v = parse_openai(body, 2, Some(2)).unwrap();
    assert_eq!((v[0].values(), v[1].values()), (&[1.0, 0.0][..], &[0.0, 1.0][..]));
    let no_index = br#"{"data":[{"embedding":[0.5]},{"embedding":[0.25]}]}"#;
    assert_eq!(parse_openai(no_index, 2, None).unwrap()[1].values(), &[0.25]);
    let bad = |body: &[u8], n, d| parse_openai(body, n, d).unwrap_err();
    assert!(matches!(bad(body, 3, None), EmbeddingsError::Answer(_)), "count");
    assert!(
        matches!(bad(body, 2, Some(3)), EmbeddingsError::Answer(_)),
        "dimensions"
    );
    let repeated = br#"{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]}"#;
    assert!(matches!(bad(repeated, 2, None), EmbeddingsError::Answer(_)));
    let out_of_range = br#"{"data":[{"index":5,"embedding":[1]}]}"#;
    assert!(matches!(bad(out_of_range, 1, None), EmbeddingsError::Answer(_)));
    assert!(matches!(
        bad(br#"{"data":[{"index":0,"embedding":[]}]}"#, 1, None),
        EmbeddingsError::Answer(_)
    ));
    assert!(matches!(bad(b"<html>", 1, None), EmbeddingsError::Answer(_)));
}

#[test]
fn titan_answers_are_checked() {
    let body = br#"{"embedding":[0.6,0.8],"inputTextTokenCount":3,"embeddingsByType":{"float":[0.6,0.8]}}"#;
    assert_eq!(parse_titan(body, Some(2)).unwrap().values(), &[0.6, 0.8]);
    assert!(parse_titan(body, Some(512)).is_err());
    assert!(parse_titan(br#"{"message":"x"}"#, None).is_err());
}

/// A one-request HTTP server: the request's head lines (lower-cased) and body, then
/// `response`.
fn serve_once(response: String) -> (String, mpsc::Receiver<(Vec<String>, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                break;
            }
            lines.push(line.trim_end().to_owned());
        }
        let length: usize = lines
            .iter()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(str::to_owned)
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        tx.send((lines, String::from_utf8(body).unwrap())).unwrap();
        (&stream).write_all(response.as_bytes()).unwrap();
    });
    (url, rx)
}

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn config(api: EmbeddingsApi, model: &str, dimensions: Option<u32>) -> EmbeddingsConfig {
    EmbeddingsConfig {
        api,
        model: model.into(),
        dimensions,
        timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn openai_compatible_servers_get_a_bearer_post_to_embeddings() {
    let (url, seen) = serve_once(ok(r#"{"data":[{"index":0,"embedding":[3.0,4.0]}]}"#));
    let api = EmbeddingsApi::OpenAi {
        base_url: format!("{url}/v1"),
        api_key: Some(SecretString::from("sk-e".to_owned())),
    };
    let embedder = Embedder::new(&config(api, "nomic", None), None);
    let v = embedder.embed_one("fn parse()").await.unwrap();
    assert_eq!(v.values(), &[3.0, 4.0]);
    let (head, body) = seen.recv().unwrap();
    assert_eq!(head[0], "POST /v1/embeddings HTTP/1.1");
    assert!(
        head.iter()
            .any(|l| l.eq_ignore_ascii_case("authorization: Bearer sk-e")),
        "{head:?}"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        json!({"model": "nomic", "input": ["fn parse()"], "encoding_format": "float"})
    );
}

#[tokio::test]
async fn titan_is_invoked_signed_for_bedrock() {
    let (url, seen) = serve_once(ok(r#"{"embedding":[0.6,0.8],"inputTextTokenCount":2}"#));
    let config = bedrock_config(&url);
    let credentials = SharedCredentialsProvider::new(Credentials::new("ANOTREAL", "secret", None, None, "test"));
    let embedder = Embedder::new(&config, Some(credentials));
    assert_eq!(
        embedder.url(),
        format!("{url}/model/amazon.titan-embed-text-v2%3A0/invoke")
    );
    // The answer has 2 dimensions, 256 were asked for: refused, after the request.
    let err = embedder.embed_one("hello").await.unwrap_err();
    assert!(matches!(err, EmbeddingsError::Answer(_)), "{err:?}");
    let (head, body) = seen.recv().unwrap();
    assert_eq!(head[0], "POST /model/amazon.titan-embed-text-v2%3A0/invoke HTTP/1.1");
    let auth = head
        .iter()
        .find_map(|l| l.strip_prefix("authorization: "))
        .expect("signed");
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=ANOTREAL/"), "{auth}");
    assert!(auth.contains("/us-east-1/bedrock/aws4_request"), "{auth}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        json!({"inputText": "hello", "dimensions": 256, "normalize": true})
    );
}

#[tokio::test]
async fn refusals_and_unreachable_endpoints_are_typed_errors() {
    let (url, _seen) =
        serve_once("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into());
    let api = |base: &str| EmbeddingsApi::OpenAi {
        base_url: base.to_owned(),
        api_key: None,
    };
    let embedder = Embedder::new(&config(api(&url), "m", None), None);
    let err = embedder.embed_one("x").await.unwrap_err();
    assert!(
        matches!(err, EmbeddingsError::Call(CallError::RetryLater { status: 503, .. })),
        "{err:?}"
    );
    // The listener is gone: connection refused.
    let embedder = Embedder::new(&config(api(&url), "m", None), None);
    let err = embedder.embed_one("x").await.unwrap_err();
    assert!(
        matches!(err, EmbeddingsError::Call(CallError::RetryLater { status: 0, .. })),
        "{err:?}"
    );
    let too_many = vec!["x"; MAX_BATCH + 1];
    assert_eq!(
        embedder.embed(&too_many).await.unwrap_err(),
        EmbeddingsError::TooManyInputs
    );
    // Bedrock without credentials: refused before any request.
    let bedrock = bedrock_config(&url);
    let err = Embedder::new(&bedrock, None).embed_one("x").await.unwrap_err();
    assert_eq!(err, EmbeddingsError::Call(CallError::Unauthorized(0)));
}

fn bedrock_config(url: &str) -> EmbeddingsConfig {
    EmbeddingsConfig::from_source(&std::collections::HashMap::from(
        [
            ("AGNUS_EMBEDDINGS_PROVIDER", "bedrock"),
            ("AGNUS_EMBEDDINGS_DIMENSIONS", "256"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    ))
    .unwrap()
    .unwrap()
}
