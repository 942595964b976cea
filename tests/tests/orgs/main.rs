//! Black-box tests of the org management function (product §4, §5) against the emulator.

use agnus_tests::*;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

mod access;
mod create;
mod deletion;
mod membership;
mod rules;
mod system_admin;

fn get(path: &str, who: &TestUser) -> Call {
    Call::get(path).cookie(&who.cookie)
}
fn post(path: &str, who: &TestUser, body: Value) -> Call {
    Call::post(path).cookie(&who.cookie).json(&body)
}
fn patch(path: &str, who: &TestUser, body: Value) -> Call {
    Call::new("PATCH", path).cookie(&who.cookie).json(&body)
}
fn delete(path: &str, who: &TestUser) -> Call {
    Call::new("DELETE", path)
        .cookie(&who.cookie)
        .header("content-type", "application/json")
}

async fn members(api: &Api, slug: &str, who: &TestUser) -> Vec<Value> {
    let a = api.call(get(&format!("/api/orgs/{slug}/members?limit=100"), who)).await;
    assert_eq!(a.status, 200, "{:?}", a.json());
    a.json()["members"].as_array().unwrap().clone()
}

fn role_of(members: &[Value], user: &TestUser) -> Option<String> {
    members
        .iter()
        .find(|m| m["userId"] == user.id.as_str())
        .map(|m| m["role"].as_str().unwrap().to_owned())
}

fn owners(members: &[Value]) -> usize {
    members.iter().filter(|m| m["role"] == "owner").count()
}
