//! Use cases: one function per thing a person or a system does, whatever the entry point
//! (JSON route, console page, queue worker, CLI). A use case takes a verified principal or
//! [`OrgScope`](crate::store::OrgScope), decides the rights once, writes once (one
//! transaction, with its audit entry) and answers domain values; the adapters in
//! `functions/*` only parse requests and shape responses.
//!
//! Layers, arrows one way: `domain` (types, no I/O) ← `store` (DynamoDB, the only code
//! that builds keys) ← `services` ← adapters. `infra::no_module_imports_itself_in_a_circle`
//! keeps the arrows from turning back.

pub mod access;
pub mod account;
pub mod apikeys;
pub mod feedback;
pub mod index;
pub mod installations;
pub mod invites;
pub mod members;
pub mod orgs;
pub mod repos;
pub mod rules;
pub mod sessions;
pub mod settings;
pub mod webhooks;
