//! The operator CLI's library: each subcommand's logic, callable from tests.

pub mod esm;
pub mod gateway;
pub mod mail;
