//! The library every AgnusAI Lambda links.
//!
//! A request's way through: API Gateway event → [`pipeline`] routes it on the function's
//! route enum ([`routes`]), applies the CSRF rule and opens the span → the function's
//! adapter parses the body and calls a use case in [`services`] (or the [`store`] for a
//! plain read; keys are built only there) → [`crypto`] hashes and signs → an
//! [`error::ApiError`] or a JSON body goes back.

pub mod aws;
pub mod cache;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod email;
pub mod embeddings;
pub mod env;
pub mod error;
pub mod events;
pub mod feedback;
pub mod github_app;
pub mod http;
pub mod index_jobs;
pub mod metrics;
pub mod openapi;
pub mod permissions;
pub mod pipeline;
pub mod policy;
pub mod principal;
pub mod prompt_fence;
pub mod provider_api;
pub mod push;
pub mod queue;
pub mod repo_access;
pub mod repo_token;
pub mod response;
pub mod review_report;
pub mod review_settings;
pub mod reviewer;
pub mod rfc3339;
pub mod routes;
pub mod rules;
pub mod services;
pub mod session;
pub mod sigv4;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod trigger;
pub mod webhooks;
pub mod whole;
