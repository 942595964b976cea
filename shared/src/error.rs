//! The one error type of the HTTP boundary and its one mapping to status + JSON body
//! (`{"error": {"code", "message"}}`). Internal details are logged here, never returned.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde_json::json;

use crate::crypto::CryptoError;
use crate::domain::ValidationError;
use crate::policy::PolicyRefusal;
use crate::store::{Conflict, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed or invalid input (400).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// No valid session (401).
    #[error("authentication required")]
    Unauthenticated,
    /// Login failed; identical for unknown email and wrong password (401).
    #[error("invalid email or password")]
    InvalidCredentials,
    /// A signed link whose signature does not verify (401).
    #[error("{message}")]
    BadSignature { code: &'static str, message: String },
    /// Authenticated but not allowed (403).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// Cross-site or non-JSON state-changing request (403).
    #[error("state-changing requests must be same-site and sent with Content-Type: application/json")]
    CsrfRejected,
    #[error("not found")]
    NotFound,
    /// A named thing was not found (404 with its own code).
    #[error("{message}")]
    NotFoundWhat { code: &'static str, message: String },
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A uniqueness rule would be broken (409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Existed once, no longer usable (410).
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("too many requests; retry after {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// A dependency (DynamoDB, KMS, SQS) is unavailable; the client may retry (503).
    #[error("service temporarily unavailable")]
    Unavailable(String),
    /// A bug or unexpected dependency answer (500); the detail is logged only.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// The one answer for "no such org" and "not your org": existence is not revealed.
    pub fn org_not_found() -> Self {
        Self::NotFoundWhat {
            code: "org_not_found",
            message: "organization not found, or you are not a member".into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden {
            code: "forbidden",
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated | Self::InvalidCredentials | Self::BadSignature { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } | Self::CsrfRejected => StatusCode::FORBIDDEN,
            Self::NotFound | Self::NotFoundWhat { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Gone { .. } => StatusCode::GONE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. }
            | Self::NotFoundWhat { code, .. }
            | Self::Gone { code, .. }
            | Self::BadSignature { code, .. } => code,
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::CsrfRejected => "csrf_rejected",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The HTTP response; the only place an error becomes bytes on the wire.
    pub fn into_response(self) -> Response<Body> {
        match &self {
            Self::Internal(detail) => tracing::error!(error.detail = %detail, "internal error"),
            Self::Unavailable(detail) => tracing::warn!(error.detail = %detail, "dependency unavailable"),
            other => tracing::info!(
                error.code = other.code(),
                status = other.status().as_u16(),
                "request refused"
            ),
        }
        let body = json!({ "error": { "code": self.code(), "message": self.to_string() } });
        let mut response = crate::response::json_response(self.status(), &body);
        if let Self::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
        }
        response
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::BadRequest {
            code: e.code,
            message: e.message,
        }
    }
}

impl From<PolicyRefusal> for ApiError {
    fn from(r: PolicyRefusal) -> Self {
        Self::Forbidden {
            code: r.code,
            message: r.message,
        }
    }
}

impl From<CryptoError> for ApiError {
    fn from(e: CryptoError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let conflict = |code, message: &str| Self::Conflict {
            code,
            message: message.to_owned(),
        };
        let forbidden = |code, message: &str| Self::Forbidden {
            code,
            message: message.to_owned(),
        };
        match e {
            StoreError::Conflict(c) => match c {
                Conflict::EmailTaken => conflict(
                    "email_taken",
                    "an account with this email already exists; log in instead",
                ),
                Conflict::SlugTaken => conflict("slug_taken", "this organization slug is taken; choose another"),
                Conflict::AlreadyMember => {
                    conflict("already_member", "this user is already a member of the organization")
                }
                Conflict::NotMember => Self::NotFoundWhat {
                    code: "member_not_found",
                    message: "no such member in this organization".into(),
                },
                Conflict::TargetIsOwner => conflict(
                    "owner_protected",
                    "the owner cannot be removed, demoted or leave; transfer ownership first",
                ),
                Conflict::ActorLacksRights => forbidden("forbidden", "you do not have the rights for this action"),
                Conflict::NotOwner => forbidden("owner_only", "only the organization owner can do this"),
                Conflict::OrgDeleted => Self::org_not_found(),
                Conflict::NotRestorable => conflict(
                    "not_restorable",
                    "the organization is not deleted, or its grace period has ended",
                ),
                Conflict::RepoTaken => conflict(
                    "repo_taken",
                    "this repository is connected to an organization already; disconnect it there first",
                ),
                Conflict::AlreadyProcessed => conflict("already_processed", "this delivery was processed already"),
                Conflict::InviteNotPending => Self::Gone {
                    code: "invite_gone",
                    message: "this invitation was already used, revoked, replaced or has expired; ask for a new one"
                        .into(),
                },
                Conflict::TooManyKeys => conflict(
                    "too_many_keys",
                    "this member made more than 40 live API keys; revoke some of them first",
                ),
                Conflict::TooManyRules => conflict(
                    "too_many_rules",
                    "this organization has as many review rules as it may; delete or merge some first",
                ),
                Conflict::RepoNotFound => Self::NotFoundWhat {
                    code: "repo_not_found",
                    message: "no such repository in this organization".into(),
                },
                Conflict::Vanished => Self::NotFoundWhat {
                    code: "not_found",
                    message: "it no longer exists (revoked or deleted meanwhile)".into(),
                },
                Conflict::TokenVoided => Self::Gone {
                    code: "token_gone",
                    message: "this link was used already or has expired; ask for a new one".into(),
                },
                Conflict::IndexInProgress => conflict(
                    "index_in_progress",
                    "an index job of this repository is queued or running; wait for it to finish",
                ),
                Conflict::InstallationExists => conflict(
                    "installation_exists",
                    "this GitHub App installation is registered in this organization already",
                ),
                Conflict::Unknown => conflict("conflict", "the request conflicts with the current state"),
            },
            StoreError::BadCursor => Self::bad_request("invalid_cursor", "the pagination cursor is invalid"),
            StoreError::DuplicateTarget(_) => conflict(
                "same_target_twice",
                "the request names the same item twice (for example yourself as the target of your own action)",
            ),
            StoreError::Unavailable(detail) => Self::Unavailable(detail),
            other => Self::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(r.body().as_ref()).unwrap()
    }

    #[test]
    fn internal_details_never_reach_the_client() {
        let r = ApiError::Internal("dynamodb said: table xyz secret detail".into()).into_response();
        assert_eq!(r.status(), 500);
        let b = body(&r);
        assert_eq!(b["error"]["code"], "internal");
        assert!(!b.to_string().contains("secret detail"));
    }

    #[test]
    fn rate_limit_carries_retry_after() {
        let r = ApiError::RateLimited { retry_after_secs: 42 }.into_response();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()[header::RETRY_AFTER], "42");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn validation_errors_are_400_with_their_code() {
        let r = ApiError::from(ValidationError::new("invalid_slug", "bad slug")).into_response();
        assert_eq!(r.status(), 400);
        assert_eq!(body(&r)["error"]["code"], "invalid_slug");
    }
}
