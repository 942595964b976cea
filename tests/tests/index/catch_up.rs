//! A review whose pull request is based on a commit the index has not seen queues an
//! incremental job that brings the index to the default branch's head.

use serde_json::json;

use super::*;

const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";

#[tokio::test]
async fn a_review_based_past_the_index_catches_the_index_up() {
    let (env, first) = setup("github", sources(), &[]).await;
    assert_eq!(env.index().await, 1);
    assert_eq!(env.status().await["commit"], first.as_str());
    // The default branch moves on without a push webhook (none configured for pushes).
    let second = env
        .standin
        .source(
            json!({"provider": "github", "repo": env.repo, "files": {"pkg/extra.py": "def more():\n    return 2\n"}}),
        )
        .await;
    // A pull request based on the new commit is reviewed.
    env.review_pr(
        7,
        &second,
        HEAD,
        json!([{"filename": "pkg/app.py", "status": "modified",
                "patch": "@@ -5,2 +5,2 @@ class App:\n     def run(self):\n-        return helper(self.size())\n+        return helper(self.size() + 1)"}]),
    )
    .await;

    let queued = env.status().await;
    assert_eq!(
        (queued["status"].as_str(), queued["kind"].as_str()),
        (Some("queued"), Some("incremental")),
        "{queued}"
    );
    assert_eq!(env.index().await, 1);
    let ready = env.status().await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(
        ready["commit"],
        second.as_str(),
        "caught up with the default branch's head"
    );
    assert_eq!(ready["stats"]["languages"]["python"], 4);
}
