//! A transaction built operation by operation, each conditional operation with the rule
//! its condition stands for ([`Rule`]).
//!
//! - A second operation on an item already in the transaction is refused when it is added
//!   ([`StoreError::DuplicateTarget`]): DynamoDB would refuse the whole request with a
//!   `ValidationException` (a 500), and the request that names one item twice is the
//!   client's mistake.
//! - So is a 101st operation (DynamoDB's limit, [`MAX_OPS`]).
//! - A cancelled transaction answers the rule of the first operation whose condition
//!   failed. Where one condition guards several rules, DynamoDB returns the item as it was
//!   (`ReturnValuesOnConditionCheckFailure::AllOld`, asked only for those operations) and
//!   the rule tells which part failed from it — no second read, which could see a later
//!   state than the one that failed the condition.

use std::collections::HashSet;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};

use super::{Conflict, Item, Store, StoreError, classify, get_opt_n, get_opt_s};
use crate::domain::Role;

/// DynamoDB's limit of operations in one `TransactWriteItems`.
pub(crate) const MAX_OPS: usize = 100;

/// What the failure of one operation's condition means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// This conflict, whatever the item held.
    Is(Conflict),
    /// The member item a membership change targets, conditioned on "exists, is not the
    /// owner, and made no API key since its count was read as `keys_seen`": gone is
    /// [`Conflict::NotMember`], the owner [`Conflict::TargetIsOwner`], a changed count
    /// [`Refusal::Stale`].
    MemberTarget { keys_seen: Option<i64> },
}

impl From<Conflict> for Rule {
    fn from(c: Conflict) -> Self {
        Self::Is(c)
    }
}

/// Why a transaction was refused: the rule of the first condition that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Conflict(Conflict),
    /// An item changed since the caller read it: read again and retry.
    Stale,
}

impl Rule {
    /// Rules that can only be told apart from the item as it was.
    fn needs_old_item(self) -> bool {
        matches!(self, Self::MemberTarget { .. })
    }

    /// The failed rule, given the item as it was (`None`: there was no item).
    fn explain(self, old: Option<&Item>) -> Refusal {
        match self {
            Self::Is(c) => Refusal::Conflict(c),
            Self::MemberTarget { keys_seen } => match old {
                None => Refusal::Conflict(Conflict::NotMember),
                Some(item) if get_opt_s(item, "role") == Some(Role::Owner.as_str()) => {
                    Refusal::Conflict(Conflict::TargetIsOwner)
                }
                Some(item) if get_opt_n::<i64>(item, "api_keys_created") != keys_seen => Refusal::Stale,
                // Every part of the condition holds on the item as it was: the backend did
                // not say which failed.
                Some(_) => Refusal::Conflict(Conflict::Unknown),
            },
        }
    }
}

/// What a cancelled transaction means, from its reasons (one per operation, in order):
/// `None` if no condition failed (cancelled by a concurrent transaction: worth a retry).
fn cancellation(rules: &[Option<Rule>], reasons: &[CancellationReason]) -> Option<Refusal> {
    if reasons.is_empty() {
        return Some(Refusal::Conflict(Conflict::Unknown));
    }
    let (i, reason) = reasons
        .iter()
        .enumerate()
        .find(|(_, r)| r.code() == Some("ConditionalCheckFailed"))?;
    Some(match rules.get(i).copied().flatten() {
        Some(rule) => rule.explain(reason.item()),
        // A condition nobody named (a bug or a race no rule describes).
        None => Refusal::Conflict(Conflict::Unknown),
    })
}

/// The `pk|sk` of an item's key, as `DuplicateTarget` names it.
fn key_of(key: &Item) -> Result<(String, String), StoreError> {
    match (key.get("pk"), key.get("sk")) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Ok((pk.clone(), sk.clone())),
        _ => Err(StoreError::Backend(
            "a transaction operation without a pk/sk key".into(),
        )),
    }
}

/// A transaction under construction (see the module docs). Not `Debug`: its items hold
/// password hashes and sealed secrets.
#[derive(Default)]
pub(crate) struct Tx {
    ops: Vec<TransactWriteItem>,
    rules: Vec<Option<Rule>>,
    keys: HashSet<(String, String)>,
}

const ALL_OLD: Option<ReturnValuesOnConditionCheckFailure> = Some(ReturnValuesOnConditionCheckFailure::AllOld);

impl Tx {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A put whose condition, if it has one, names no rule (its failure is
    /// [`Conflict::Unknown`]).
    pub(crate) fn put(&mut self, op: Put) -> Result<(), StoreError> {
        self.put_op(op, None)
    }

    /// A put whose condition failing means `rule`.
    pub(crate) fn put_if(&mut self, op: Put, rule: impl Into<Rule>) -> Result<(), StoreError> {
        self.put_op(op, Some(rule.into()))
    }

    pub(crate) fn update(&mut self, op: Update) -> Result<(), StoreError> {
        self.update_op(op, None)
    }

    pub(crate) fn update_if(&mut self, op: Update, rule: impl Into<Rule>) -> Result<(), StoreError> {
        self.update_op(op, Some(rule.into()))
    }

    pub(crate) fn delete(&mut self, op: Delete) -> Result<(), StoreError> {
        self.delete_op(op, None)
    }

    pub(crate) fn delete_if(&mut self, op: Delete, rule: impl Into<Rule>) -> Result<(), StoreError> {
        self.delete_op(op, Some(rule.into()))
    }

    /// A condition check (it writes nothing, so it always names its rule).
    pub(crate) fn check(&mut self, mut op: ConditionCheck, rule: impl Into<Rule>) -> Result<(), StoreError> {
        let rule = rule.into();
        if rule.needs_old_item() {
            op.return_values_on_condition_check_failure = ALL_OLD;
        }
        let key = key_of(&op.key)?;
        self.push(
            key,
            TransactWriteItem::builder().condition_check(op).build(),
            Some(rule),
        )
    }

    fn put_op(&mut self, mut op: Put, rule: Option<Rule>) -> Result<(), StoreError> {
        if rule.is_some_and(Rule::needs_old_item) {
            op.return_values_on_condition_check_failure = ALL_OLD;
        }
        let key = key_of(&op.item)?;
        self.push(key, TransactWriteItem::builder().put(op).build(), rule)
    }

    fn update_op(&mut self, mut op: Update, rule: Option<Rule>) -> Result<(), StoreError> {
        if rule.is_some_and(Rule::needs_old_item) {
            op.return_values_on_condition_check_failure = ALL_OLD;
        }
        let key = key_of(&op.key)?;
        self.push(key, TransactWriteItem::builder().update(op).build(), rule)
    }

    fn delete_op(&mut self, mut op: Delete, rule: Option<Rule>) -> Result<(), StoreError> {
        if rule.is_some_and(Rule::needs_old_item) {
            op.return_values_on_condition_check_failure = ALL_OLD;
        }
        let key = key_of(&op.key)?;
        self.push(key, TransactWriteItem::builder().delete(op).build(), rule)
    }

    fn push(&mut self, key: (String, String), op: TransactWriteItem, rule: Option<Rule>) -> Result<(), StoreError> {
        if self.keys.contains(&key) {
            return Err(StoreError::DuplicateTarget(format!("{}|{}", key.0, key.1)));
        }
        if self.ops.len() >= MAX_OPS {
            return Err(StoreError::Backend(format!(
                "a transaction holds at most {MAX_OPS} operations"
            )));
        }
        self.keys.insert(key);
        self.ops.push(op);
        self.rules.push(rule);
        Ok(())
    }
}

impl Store {
    /// Runs `tx`; a failed condition answers its rule's conflict (a [`Refusal::Stale`],
    /// which only callers of [`Store::transact_unless_stale`] expect, as a retryable 503).
    pub(crate) async fn transact(&self, tx: Tx) -> Result<(), StoreError> {
        if self.transact_unless_stale(tx).await? {
            Ok(())
        } else {
            Err(StoreError::Unavailable(
                "an item changed while it was written; retry".into(),
            ))
        }
    }

    /// Runs `tx`; `Ok(false)`: a [`Rule`] found an item changed since the caller read it
    /// (read again and retry).
    pub(crate) async fn transact_unless_stale(&self, tx: Tx) -> Result<bool, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(tx.ops))
            .send()
            .await;
        let se = match result {
            Ok(_) => return Ok(true),
            Err(SdkError::ServiceError(se)) => se,
            Err(e) => return Err(classify(e)),
        };
        let TransactWriteItemsError::TransactionCanceledException(tce) = se.err() else {
            return Err(classify(SdkError::ServiceError(se)));
        };
        let reasons = tce.cancellation_reasons();
        match cancellation(&tx.rules, reasons) {
            Some(Refusal::Conflict(c)) => Err(StoreError::Conflict(c)),
            Some(Refusal::Stale) => Ok(false),
            // Cancelled by a concurrent transaction on the same items: retryable. Only the
            // codes: the reasons may carry items.
            None => Err(StoreError::Unavailable(format!(
                "transaction cancelled: {:?}",
                reasons.iter().map(CancellationReason::code).collect::<Vec<_>>()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{n, s};

    fn key(pk: &str, sk: &str) -> Item {
        Item::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
    }

    fn put(pk: &str, sk: &str) -> Put {
        Put::builder()
            .table_name("t")
            .set_item(Some(key(pk, sk)))
            .build()
            .unwrap()
    }

    fn delete(pk: &str, sk: &str) -> Delete {
        Delete::builder()
            .table_name("t")
            .set_key(Some(key(pk, sk)))
            .build()
            .unwrap()
    }

    fn check(pk: &str, sk: &str) -> ConditionCheck {
        ConditionCheck::builder()
            .table_name("t")
            .set_key(Some(key(pk, sk)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .unwrap()
    }

    fn failed(item: Option<Item>) -> CancellationReason {
        CancellationReason::builder()
            .code("ConditionalCheckFailed")
            .set_item(item)
            .build()
    }

    fn fine() -> CancellationReason {
        CancellationReason::builder().code("None").build()
    }

    #[test]
    fn a_second_operation_on_one_item_is_refused_when_added() {
        let mut tx = Tx::new();
        tx.put(put("ORG#a", "MEMBER#1")).unwrap();
        tx.check(check("ORG#a", "MEMBER#2"), Conflict::ActorLacksRights)
            .unwrap();
        // Same partition, other sort key; same sort key, other partition: different items.
        tx.delete(delete("ORG#b", "MEMBER#1")).unwrap();
        let err = tx.check(check("ORG#a", "MEMBER#1"), Conflict::ActorLacksRights);
        assert!(
            matches!(&err, Err(StoreError::DuplicateTarget(k)) if k == "ORG#a|MEMBER#1"),
            "{err:?}"
        );
        let err = tx.delete_if(delete("ORG#a", "MEMBER#2"), Conflict::Vanished);
        assert!(matches!(err, Err(StoreError::DuplicateTarget(_))));
        assert_eq!(tx.ops.len(), 3, "refused operations are not added");
        assert_eq!(tx.rules, [None, Some(Rule::Is(Conflict::ActorLacksRights)), None]);
    }

    #[test]
    fn a_transaction_holds_at_most_100_operations() {
        let mut tx = Tx::new();
        for i in 0..MAX_OPS {
            tx.put(put("P", &i.to_string())).unwrap();
        }
        assert!(matches!(tx.put(put("P", "one more")), Err(StoreError::Backend(_))));
    }

    #[test]
    fn only_rules_that_read_the_old_item_ask_for_it() {
        let mut tx = Tx::new();
        tx.delete_if(delete("A", "1"), Rule::MemberTarget { keys_seen: None })
            .unwrap();
        tx.delete_if(delete("A", "2"), Conflict::Vanished).unwrap();
        tx.check(check("A", "3"), Rule::MemberTarget { keys_seen: Some(1) })
            .unwrap();
        let asked: Vec<_> = tx
            .ops
            .iter()
            .map(|op| {
                op.delete()
                    .and_then(|d| d.return_values_on_condition_check_failure.clone())
                    .or_else(|| {
                        op.condition_check()
                            .and_then(|c| c.return_values_on_condition_check_failure.clone())
                    })
            })
            .collect();
        assert_eq!(asked, [ALL_OLD, None, ALL_OLD]);
    }

    #[test]
    fn the_first_failed_condition_names_the_conflict() {
        let rules = [
            None,
            Some(Rule::Is(Conflict::SlugTaken)),
            Some(Rule::Is(Conflict::EmailTaken)),
        ];
        let refusal = |reasons: &[CancellationReason]| cancellation(&rules, reasons);
        assert_eq!(
            refusal(&[fine(), failed(None), failed(None)]),
            Some(Refusal::Conflict(Conflict::SlugTaken))
        );
        assert_eq!(
            refusal(&[fine(), fine(), failed(None)]),
            Some(Refusal::Conflict(Conflict::EmailTaken))
        );
        // An operation that names no rule: a conflict nobody can explain.
        assert_eq!(
            refusal(&[failed(None), failed(None), fine()]),
            Some(Refusal::Conflict(Conflict::Unknown))
        );
        // No reasons at all: the backend did not say which.
        assert_eq!(refusal(&[]), Some(Refusal::Conflict(Conflict::Unknown)));
        // Cancelled for another reason (a concurrent transaction): a retry, not a conflict.
        let busy = CancellationReason::builder().code("TransactionConflict").build();
        assert_eq!(refusal(&[fine(), busy, fine()]), None);
    }

    #[test]
    fn a_membership_target_is_told_apart_by_the_item_as_it_was() {
        let rules = [Some(Rule::MemberTarget { keys_seen: Some(2) }), None];
        let member = |role: &str, keys: Option<i64>| {
            let mut item = key("ORG#a", "MEMBER#1");
            item.insert("role".into(), s(role));
            if let Some(k) = keys {
                item.insert("api_keys_created".into(), n(k));
            }
            Some(item)
        };
        let refusal = |old: Option<Item>| cancellation(&rules, &[failed(old), fine()]);
        assert_eq!(refusal(None), Some(Refusal::Conflict(Conflict::NotMember)));
        assert_eq!(
            refusal(member("owner", Some(2))),
            Some(Refusal::Conflict(Conflict::TargetIsOwner))
        );
        assert_eq!(
            refusal(member("owner", Some(3))),
            Some(Refusal::Conflict(Conflict::TargetIsOwner)),
            "an owner is refused whatever keys it made"
        );
        assert_eq!(refusal(member("admin", Some(3))), Some(Refusal::Stale));
        assert_eq!(refusal(member("admin", None)), Some(Refusal::Stale));
        assert_eq!(
            refusal(member("admin", Some(2))),
            Some(Refusal::Conflict(Conflict::Unknown))
        );
        let never = [Some(Rule::MemberTarget { keys_seen: None })];
        assert_eq!(
            cancellation(&never, &[failed(member("member", Some(1)))]),
            Some(Refusal::Stale)
        );
        assert_eq!(
            cancellation(&never, &[failed(member("member", None))]),
            Some(Refusal::Conflict(Conflict::Unknown))
        );
    }
}
