//! Black-box tests of the auth function (product §3, §4) against the AWS emulator.

use agnus_tests::*;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

mod login;
mod policy;
mod requests;
mod sessions;
mod signup;

const PASSWORD: &str = "correct horse battery staple";

async fn items_with_email(email: &str) -> usize {
    let ddb = dynamodb().await;
    let mut count = 0;
    let mut start = None;
    loop {
        let out = ddb
            .scan()
            .table_name(table_name())
            .filter_expression("email = :e OR pk = :pk")
            .expression_attribute_values(":e", AttributeValue::S(email.to_owned()))
            .expression_attribute_values(":pk", AttributeValue::S(format!("EMAIL#{email}")))
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        count += out.items().len();
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return count,
        }
    }
}
