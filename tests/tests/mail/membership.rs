//! Membership changes (joined, removed, ownership transferred) mail the people concerned.

use super::*;

/// The one message to `to` whose subject contains `subject`.
async fn the_mail(to: &str, subject: &str) -> SentMail {
    let found: Vec<SentMail> = inbox(to)
        .await
        .into_iter()
        .filter(|m| m.subject.contains(subject))
        .collect();
    assert_eq!(found.len(), 1, "one \"{subject}\" mail to {to}: {found:?}");
    found.into_iter().next().unwrap()
}

/// `member` joins `owner`'s org as `role` by accepting an invitation with their session.
async fn join(api: &Api, owner: &TestUser, member: &TestUser, role: &str) {
    api.add_member(owner, &owner.slug, member, role).await;
}

#[tokio::test]
async fn joining_mails_the_new_member_you_were_added() {
    let api = mail_api(&[]).await;
    let owner = api.user().await;
    // A new account, by the link in the invitation mail.
    let newcomer = unique_email("newcomer");
    let created = api
        .call(post(
            &format!("/api/orgs/{}/invites", owner.slug),
            Some(&owner.cookie),
            json!({"email": newcomer, "role": "admin"}),
        ))
        .await;
    assert_eq!(created.status, 201);
    assert!(
        inbox(&newcomer).await.iter().all(|m| !m.subject.contains("added")),
        "not before accepting"
    );
    let token = token_in(&the_mail(&newcomer, "Join").await, "invite");
    let accepted = api
        .call(post(
            "/api/auth/accept-invite",
            None,
            json!({"token": token, "password": PASSWORD}),
        ))
        .await;
    assert_eq!(accepted.status, 201, "{:?}", accepted.json());
    let added = the_mail(&newcomer, "You were added to Test Org").await;
    assert!(
        added.body.contains("You are now a member of Test Org as admin."),
        "{}",
        added.body
    );
    assert!(
        added.links.contains(&format!("{APP}/orgs/{}", owner.slug)),
        "{:?}",
        added.links
    );
    assert!(
        added.links.iter().all(|l| !l.contains("/invite/")),
        "no invitation link in it"
    );
    // An existing account, accepting with its session.
    let member = api.user().await;
    join(&api, &owner, &member, "member").await;
    let added = the_mail(&member.email, "You were added to Test Org").await;
    assert!(added.body.contains("as member."), "{}", added.body);
    // The owner is not told twice (the invitation was theirs).
    assert!(inbox(&owner.email).await.iter().all(|m| !m.subject.contains("added")));
}

#[tokio::test]
async fn removing_a_member_mails_them_and_only_them() {
    let api = mail_api(&[]).await;
    let owner = api.user().await;
    let member = api.user().await;
    join(&api, &owner, &member, "member").await;
    let removed = api
        .call(Call::new("DELETE", &format!("/api/orgs/{}/members/{}", owner.slug, member.id)).cookie(&owner.cookie))
        .await;
    assert_eq!(removed.status, 204, "{:?}", removed.json());
    let mail = the_mail(&member.email, "You were removed from Test Org").await;
    assert!(
        mail.body.contains("You are no longer a member of Test Org."),
        "{}",
        mail.body
    );
    assert!(inbox(&owner.email).await.iter().all(|m| !m.subject.contains("removed")));
    // Leaving on one's own is not a removal: no mail.
    let leaver = api.user().await;
    join(&api, &owner, &leaver, "member").await;
    let left = api
        .call(post(
            &format!("/api/orgs/{}/leave", owner.slug),
            Some(&leaver.cookie),
            json!({}),
        ))
        .await;
    assert_eq!(left.status, 204);
    assert!(
        inbox(&leaver.email)
            .await
            .iter()
            .all(|m| !m.subject.contains("removed"))
    );
}

#[tokio::test]
async fn a_transfer_mails_the_new_and_the_old_owner() {
    let api = mail_api(&[]).await;
    let owner = api.user().await;
    let heir = api.user().await;
    join(&api, &owner, &heir, "admin").await;
    let moved = api
        .call(post(
            &format!("/api/orgs/{}/transfer", owner.slug),
            Some(&owner.cookie),
            json!({"userId": heir.id}),
        ))
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.json());
    let new_owner = the_mail(&heir.email, "You are now the owner of Test Org").await;
    assert!(
        new_owner.body.contains("Ownership of Test Org was transferred to you."),
        "{}",
        new_owner.body
    );
    assert!(new_owner.links.contains(&format!("{APP}/orgs/{}", owner.slug)));
    let old_owner = the_mail(&owner.email, "You transferred ownership of Test Org").await;
    assert!(
        old_owner.body.contains(&heir.email),
        "names the new owner: {}",
        old_owner.body
    );
    assert!(old_owner.body.contains("as admin"), "{}", old_owner.body);
}

#[tokio::test]
async fn a_failed_membership_mail_never_fails_the_change() {
    // An unverified sender: SES (and the emulator) refuse every message.
    let api = mail_api_from(&[], Some("unverified@nowhere.example")).await;
    let owner = api.user().await;
    let heir = api.user().await;
    let gone = api.user().await;
    join(&api, &owner, &heir, "admin").await;
    join(&api, &owner, &gone, "member").await;
    let removed = api
        .call(Call::new("DELETE", &format!("/api/orgs/{}/members/{}", owner.slug, gone.id)).cookie(&owner.cookie))
        .await;
    assert_eq!(removed.status, 204);
    let moved = api
        .call(post(
            &format!("/api/orgs/{}/transfer", owner.slug),
            Some(&owner.cookie),
            json!({"userId": heir.id}),
        ))
        .await;
    assert_eq!(moved.status, 200);
    for user in [&owner, &heir, &gone] {
        assert!(inbox(&user.email).await.is_empty(), "nothing was sent");
    }
    let members = api
        .call(Call::get(&format!("/api/orgs/{}/members", owner.slug)).cookie(&heir.cookie))
        .await
        .json();
    let role = |id: &str| {
        members["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["userId"] == id)
            .map(|m| m["role"].as_str().unwrap().to_owned())
    };
    assert_eq!(role(&heir.id).as_deref(), Some("owner"));
    assert_eq!(role(&owner.id).as_deref(), Some("admin"));
    assert_eq!(role(&gone.id), None, "removed although the mail failed");
}
