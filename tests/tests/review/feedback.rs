//! Feedback links on posted comments: the last signal is recorded and feeds the next prompt.

use super::*;

pub(crate) const APP: &str = "http://localhost:3000";

/// The feedback links of every posted inline comment: (helpful, not helpful) as
/// path-and-query under `APP`.
pub(crate) fn feedback_links(posted: &Value) -> Vec<(String, String)> {
    posted["body"]["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let body = c["body"].as_str().unwrap();
            let links: Vec<String> = body
                .split(&format!("({APP}"))
                .skip(1)
                .map(|rest| rest.split(')').next().unwrap().to_owned())
                .collect();
            assert_eq!(links.len(), 2, "two links on {body}");
            assert!(links[0].contains("&s=helpful&") && links[1].contains("&s=not_helpful&"));
            (links[0].clone(), links[1].clone())
        })
        .collect()
}

pub(crate) fn query_param(link: &str, name: &str) -> String {
    link.split_once('?')
        .unwrap()
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap()
        .to_owned()
}

impl Env {
    /// What a mail scanner or a click does with a link: a GET.
    async fn open(&self, link: &str) -> Answer {
        self.api.call(Call::get(link).header("accept", "*/*")).await
    }

    /// The vote: a POST with the link's signed parameters (here in the query string).
    pub(crate) async fn vote(&self, link: &str) -> Answer {
        self.api.call(Call::post(link)).await
    }

    async fn get_json(&self, path: String) -> Value {
        let a = self.api.call(Call::get(&path).cookie(&self.user.cookie)).await;
        assert_eq!(a.status, 200, "{path}: {:?}", a.json());
        a.json()
    }

    /// The org's id, from the review history's key owner (the org API).
    pub(crate) async fn org_id(&self) -> String {
        self.get_json(format!("/api/orgs/{}", self.user.slug)).await["org"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[tokio::test]
async fn feedback_links_record_the_last_signal_and_feed_the_next_prompt() {
    let app = [("AGNUS_APP_BASE_URL", APP)];
    let (env, other) = tokio::join!(setup(&app), setup(&app));
    let slug = env.user.slug.clone();
    let rule = env
        .api
        .call(
            Call::post(&format!("/api/orgs/{slug}/rules"))
                .cookie(&env.user.cookie)
                .json(&json!({"name": "Parsing is total", "description": "No panics on input.", "category": "correctness"})),
        )
        .await;
    assert_eq!(rule.status, 201, "{:?}", rule.json());
    let rule_id = rule.json()["rule"]["id"].as_str().unwrap().to_owned();
    for e in [&env, &other] {
        e.serve_pr(json!({"head_sha": HEAD, "base_sha": BASE, "title": "Checked parse"}))
            .await;
        e.standin
            .llm_answers(&[json!({
                "summary": "Parse change.",
                "comments": [
                    {"path": "src/parse.rs", "line": 11, "body": "`unwrap` can panic.", "severity": "major", "ruleId": rule_id},
                    {"path": "src/parse.rs", "line": 12, "body": "Overflow on `b + 1`.", "severity": "minor"}
                ]
            })])
            .await;
        e.deliver("pull_request.opened.json", HEAD).await;
        assert_eq!(e.review().await, (1, 1, 0));
    }
    let posted = env.posted().await;
    assert_eq!(posted.len(), 1);
    let links = feedback_links(&posted[0]);
    assert_eq!(links.len(), 2);
    let body0 = posted[0]["body"]["comments"][0]["body"].as_str().unwrap();
    assert!(
        body0.starts_with(&format!("**major** · rule *Parsing is total* (`{rule_id}`): `unwrap` can panic.\n\n<sub>Was this comment useful? [Helpful]({APP}/api/feedback?o=")),
        "{body0}"
    );
    let org_id = env.org_id().await;
    assert_eq!(query_param(&links[0].0, "o"), org_id);

    // Opening a link (a mail scanner prefetching it, a developer clicking it) records
    // nothing: it is a page whose form POSTs the same signed parameters.
    let untouched = env.get_json(format!("/api/orgs/{slug}/feedback")).await;
    for link in [&links[0].0, &links[0].1, &links[1].0, &links[1].1] {
        let page = env.open(link).await;
        assert_eq!(page.status, 200);
        assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
        let html = String::from_utf8_lossy(&page.body);
        assert!(
            html.contains("<form method=\"post\" action=\"/api/feedback\">"),
            "{html}"
        );
        for name in ["o", "c", "s", "sig"] {
            let value = query_param(link, name);
            assert!(
                html.contains(&format!("name=\"{name}\" value=\"{value}\"")),
                "{name}: {html}"
            );
        }
        assert!(!html.contains("<script"), "{html}");
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
            "{csp}"
        );
    }
    assert!(
        String::from_utf8_lossy(&env.open(&links[0].1).await.body).contains("not helpful"),
        "the page says what is being rated"
    );
    assert_eq!(env.get_json(format!("/api/orgs/{slug}/feedback")).await, untouched);
    for kind in ["repos", "rules"] {
        for row in untouched[kind].as_array().unwrap() {
            assert_eq!(
                (&row["helpful"], &row["notHelpful"]),
                (&json!(0), &json!(0)),
                "{untouched}"
            );
        }
    }

    // The page's form: the signed parameters in a form body, no session, no JSON.
    let form = env
        .api
        .call(
            Call::post("/api/feedback")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin")
                .raw_body(links[0].0.split_once('?').unwrap().1.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(
        (form.status, form.json()),
        (200, json!({"signal": "helpful", "changed": true}))
    );
    // Helpful, no session; the same link again changes nothing.
    let first = env.vote(&links[0].0).await;
    assert_eq!(
        (first.status, first.json()),
        (200, json!({"signal": "helpful", "changed": false}))
    );
    let replay = env.vote(&links[0].0).await;
    assert_eq!(
        (replay.status, replay.json()),
        (200, json!({"signal": "helpful", "changed": false}))
    );
    // The last signal wins: not helpful replaces helpful (counted once).
    let changed = env.vote(&links[0].1).await;
    assert_eq!(
        (changed.status, changed.json()),
        (200, json!({"signal": "not_helpful", "changed": true}))
    );
    assert_eq!(env.vote(&links[1].0).await.status, 200);
    // A browser (the page's form) gets a page, not JSON.
    let page = env
        .api
        .call(Call::post(&links[1].0).header("accept", "text/html,*/*"))
        .await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("recorded as helpful"), "{html}");
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");

    let stats = env.get_json(format!("/api/orgs/{slug}/feedback")).await;
    assert_eq!(
        stats["repos"],
        json!([{"kind": "repo", "id": env.repo_id, "helpful": 1, "notHelpful": 1}])
    );
    assert_eq!(
        stats["rules"],
        json!([{"kind": "rule", "id": rule_id, "helpful": 0, "notHelpful": 1}])
    );

    // Tampered and foreign signatures: 401, nothing recorded.
    let sig = query_param(&links[1].1, "sig");
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let tampered = links[1]
        .1
        .replace(&format!("sig={sig}"), &format!("sig={flipped}{}", &sig[1..]));
    assert_eq!(env.vote(&tampered).await.status, 401);
    let other_links = feedback_links(&other.posted().await[0]);
    let other_sig = query_param(&other_links[1].1, "sig");
    let foreign = links[1].1.replace(&format!("sig={sig}"), &format!("sig={other_sig}"));
    let refused = env.vote(&foreign).await;
    assert_eq!(
        refused.status, 401,
        "another org's key does not sign this org's comments"
    );
    assert_eq!(refused.json()["error"]["code"], "invalid_signature");
    let edited_signal = links[1].0.replace("s=helpful", "s=not_helpful");
    assert_eq!(env.vote(&edited_signal).await.status, 401, "the signal is signed");
    assert_eq!(env.vote("/api/feedback?o=x&c=y&s=helpful&sig=z").await.status, 400);
    assert_eq!(env.open("/api/feedback?o=x&c=y&s=helpful&sig=z").await.status, 400);
    let stats_after = env.get_json(format!("/api/orgs/{slug}/feedback")).await;
    assert_eq!(stats_after, stats);

    // A link older than 90 days, signed with the org's real key: 410.
    let sdk = sdk().await;
    let key_item = aws_sdk_dynamodb::Client::new(&sdk)
        .get_item()
        .table_name(table_name())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("ORG#{org_id}")),
        )
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("FEEDBACKKEY".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the first review made the org's feedback key");
    let sealed = key_item["sealed"].as_b().unwrap().as_ref().to_vec();
    let org: agnus_shared::domain::OrgId = org_id.parse().unwrap();
    let key =
        agnus_shared::crypto::FeedbackKey::open(&SecretBox::new(aws_sdk_kms::Client::new(&sdk), ""), &org, &sealed)
            .await
            .unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let old = agnus_shared::feedback::CommentId::new(now_ms - 91 * 86_400_000);
    let signal = agnus_shared::feedback::Signal::Helpful;
    let expired = agnus_shared::feedback::FeedbackLink::url("", &org, &old, signal, &key.sign(&org, &old, signal));
    let gone = env.vote(&expired).await;
    assert_eq!(
        (gone.status, gone.json()["error"]["code"].as_str()),
        (410, Some("feedback_link_expired"))
    );

    // The rule's violations over 30 days: members of this org only.
    let violations = env
        .get_json(format!("/api/orgs/{slug}/rules/{rule_id}/violations"))
        .await;
    let list = violations["violations"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{violations}");
    assert_eq!(
        (&list[0]["repoId"], &list[0]["pr"], &list[0]["path"], &list[0]["line"]),
        (&json!(env.repo_id), &json!(2), &json!("src/parse.rs"), &json!(11))
    );
    assert_eq!(list[0]["excerpt"], "`unwrap` can panic.");
    let foreign_view = other
        .api
        .call(Call::get(&format!("/api/orgs/{slug}/rules/{rule_id}/violations")).cookie(&other.user.cookie))
        .await;
    assert_eq!(foreign_view.status, 404);

    // The next review of this repository shows the model what the developers said.
    env.standin
        .llm_answers(&[json!({"summary": "Again.", "comments": []})])
        .await;
    env.deliver("pull_request.reopened.json", HEAD).await;
    assert_eq!(env.review().await, (1, 1, 0));
    let llm = env.standin.requests_to("POST", "/v1/chat/completions").await;
    let prompt = llm.last().unwrap()["body"]["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(prompt.contains("<team_feedback>"), "{prompt}");
    assert!(
        prompt.contains("<example rating=\"not_helpful\" path=\"src/parse.rs\">`unwrap` can panic.</example>"),
        "{prompt}"
    );
    assert!(prompt.contains("<example rating=\"helpful\" path=\"src/parse.rs\">Overflow on `b + 1`.</example>"));
    // The other org's prompt never had this org's feedback.
    let other_prompt = other.standin.requests_to("POST", "/v1/chat/completions").await[0]["body"].to_string();
    assert!(!other_prompt.contains("team_feedback"));
}
