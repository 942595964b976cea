//! `deep` reviews add similar code by embeddings: with embeddings configured the indexer
//! writes a vectors object next to the graph (SSE-KMS, the graph's key + `.vectors`), and a
//! `deep` review of a change to `helper` lists, under "Similar code", a similar function of
//! another file that no call connects to it; a `standard` review does not. Without
//! embeddings no vectors object is written.

use agnus_index::vectors::SymbolVectors;
use serde_json::json;

use super::graph_review::review_helper_change;
use super::*;

/// The test package plus a function like `helper` in another file, called by nobody.
fn with_a_look_alike() -> Value {
    let mut files = sources();
    files["lib/numbers.py"] = json!("def double(x):\n    \"\"\"Doubles x.\"\"\"\n    return x + x\n");
    files
}

/// The vectors object next to the repository's graph: `None` when there is none.
async fn vectors(env: &Env) -> Option<(SymbolVectors, Option<String>)> {
    let (_, key) = index_record_key(&env.repo_id).await;
    let object = agnus_shared::aws::s3(&sdk().await, true)
        .get_object()
        .bucket(&env.indexer.config.bucket)
        .key(format!("{key}.vectors"))
        .send()
        .await
        .ok()?;
    let sse = object.server_side_encryption().map(|s| s.as_str().to_owned());
    let bytes = object.body.collect().await.unwrap().into_bytes();
    Some((SymbolVectors::decode(&bytes).expect("a readable vectors object"), sse))
}

fn prompt_of_last_review(requests: &[Value]) -> String {
    requests.last().expect("an LLM call")["body"]["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_deep_review_lists_similar_code_from_another_file_and_a_standard_one_does_not() {
    let (env, base) = setup("github", with_a_look_alike(), &EMBEDDINGS).await;
    assert_eq!(env.index().await, 1);
    let ready = env.status().await;
    assert_eq!(ready["status"], "ready", "{ready}");
    let (stored, sse) = vectors(&env).await.expect("a vectors object next to the graph");
    assert_eq!(sse.as_deref(), Some("aws:kms"), "encrypted like the graph");
    assert_eq!((stored.model.as_str(), stored.dimensions), ("standin-embed", 256));
    assert!(stored.entries.iter().any(|e| e.qualified == "lib.numbers.double"));
    assert_eq!(
        ready["stats"]["vectors"].as_u64(),
        Some(stored.entries.len() as u64),
        "{ready}"
    );
    assert!(
        !env.standin.requests_to("POST", "/v1/embeddings").await.is_empty(),
        "the symbols were embedded"
    );

    // The default depth (standard): no similar code.
    review_helper_change(&env, &base, 5, "Fine.").await;
    let prompt = prompt_of_last_review(&env.standin.requests_to("POST", "/v1/chat/completions").await);
    assert!(prompt.contains("Related code:"), "{prompt}");
    assert!(!prompt.contains("Similar code"), "{prompt}");
    assert_eq!(env.reviews().await[0]["context"]["similar"], 0);

    let set = env
        .api
        .call(
            Call::new(
                "PATCH",
                &format!("/api/orgs/{}/review-settings/{}", env.user.slug, env.repo_id),
            )
            .cookie(&env.user.cookie)
            .json(&json!({"depth": "deep"})),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.json());
    review_helper_change(&env, &base, 6, "Fine.").await;
    let prompt = prompt_of_last_review(&env.standin.requests_to("POST", "/v1/chat/completions").await);
    let at = prompt
        .find("Similar code")
        .unwrap_or_else(|| panic!("a similar code part: {prompt}"));
    let part = &prompt[at..prompt[at..].find("</untrusted>").map_or(prompt.len(), |end| at + end)];
    assert!(
        part.contains("- lib/numbers.py:1 lib.numbers.double — def double(x)"),
        "the look-alike in another file, inside the fence: {part}"
    );
    assert!(!part.contains("pkg.util.helper "), "not the changed symbol: {part}");
    assert!(!part.contains("App.run"), "not a caller already listed: {part}");
    let context = &env.reviews().await[0]["context"];
    assert!(context["similar"].as_u64().unwrap() >= 1, "{context}");
}

#[tokio::test]
async fn without_embeddings_no_vectors_object_is_written() {
    let (env, _) = setup("github", with_a_look_alike(), &[]).await;
    assert_eq!(env.index().await, 1);
    let ready = env.status().await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["stats"]["vectors"], 0, "{ready}");
    assert!(vectors(&env).await.is_none());
    assert!(env.standin.requests_to("POST", "/v1/embeddings").await.is_empty());
}
