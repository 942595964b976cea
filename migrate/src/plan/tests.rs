use super::*;
use secrecy::SecretString;

use crate::report::Count;

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
