//! The one OAuth error type (RFC 6749 section 5.2, RFC 6750 section 3.1, RFC 7009, RFC 7662).
//!
//! Every error a client can cause is an [`OAuthError`] with a 4xx status and a
//! description written for the client's developer. Server faults become
//! `server_error` (500). An error may carry a cause: the router logs it with
//! the response, and it is never sent.

use http::StatusCode;

use crate::store::StoreError;

/// The error codes ZeroAuth answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// RFC 6749 5.2: a required parameter is missing, repeated or malformed.
    InvalidRequest,
    /// RFC 6749 5.2: client authentication failed.
    InvalidClient,
    /// RFC 6749 5.2: the code or refresh token is invalid, expired, revoked or not this client's.
    InvalidGrant,
    /// RFC 6749 5.2: the client may not use this grant type.
    UnauthorizedClient,
    /// RFC 6749 5.2: the grant type is not supported.
    UnsupportedGrantType,
    /// RFC 6749 4.1.2.1: the response type is not supported.
    UnsupportedResponseType,
    /// RFC 6749 5.2: the scope is invalid, unknown or wider than allowed.
    InvalidScope,
    /// RFC 6749 4.1.2.1: the resource owner denied the request.
    AccessDenied,
    /// OpenID Connect Core 3.1.2.6: `prompt=none` but nobody is signed in.
    LoginRequired,
    /// OpenID Connect Core 3.1.2.6: `prompt=none` but the client needs consent.
    ConsentRequired,
    /// OpenID Connect Core 3.1.2.6: `prompt=none` but the person must do
    /// more (a second factor).
    InteractionRequired,
    /// RFC 6750 3.1: the access token is missing, expired, revoked or malformed.
    InvalidToken,
    /// RFC 7009 2.2.1: the token type cannot be revoked.
    UnsupportedTokenType,
    /// The server failed; the description says nothing more.
    ServerError,
    /// RFC 6749 4.1.2.1: a dependency is briefly unavailable; try again (503).
    TemporarilyUnavailable,
    /// The path is not one of ZeroAuth's (404).
    NotFound,
    /// The path exists but not for this method (405).
    MethodNotAllowed,
    /// The body is larger than ZeroAuth accepts (413).
    PayloadTooLarge,
    /// The body did not arrive in time (408, local server only).
    RequestTimeout,
    /// RFC 8707 2: the resource is unknown, malformed or not allowed.
    InvalidTarget,
    /// RFC 7591 3.2.2: a redirect URI cannot be registered.
    InvalidRedirectUri,
    /// RFC 7591 3.2.2: other client metadata cannot be registered.
    InvalidClientMetadata,
    /// Too many requests from one address in a window (429).
    TooManyRequests,
    /// An upstream identity provider failed or misbehaved (a page, `502`).
    UpstreamFailed,
}

impl ErrorCode {
    /// The code as sent in the `error` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::InvalidToken => "invalid_token",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge | Self::RequestTimeout => "invalid_request",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::TooManyRequests => "too_many_requests",
            Self::UpstreamFailed => "server_error",
        }
    }

    /// The HTTP status the code is answered with on the back channel.
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidClient | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::AccessDenied => StatusCode::FORBIDDEN,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::UpstreamFailed => StatusCode::BAD_GATEWAY,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An error answered to the client: a code, a description meant for the
/// client's developer, and a cause that is only ever logged.
#[derive(Debug, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    /// The RFC error code.
    pub code: ErrorCode,
    /// A sentence the client's developer can act on.
    pub description: String,
    /// What went wrong underneath, for the log only (never a secret).
    pub cause: Option<String>,
}

impl OAuthError {
    /// A new error with its description.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self { code, description: description.into(), cause: None }
    }

    /// `invalid_request` with a description.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// `invalid_client` with a description.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    /// `invalid_grant` with a description.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    /// `invalid_target` (RFC 8707) with a description.
    pub fn invalid_target(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidTarget, description)
    }

    /// `invalid_scope` with a description.
    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    /// `server_error`: keeps `cause` for the log and tells the client only
    /// that the server failed.
    pub fn server(cause: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::ServerError, "the server failed to complete the request; try again")
            .with_cause(cause)
    }

    /// A storage failure while doing `what` (e.g. "reading the client"),
    /// for `map_err` at the call site. Every [`StoreError`] on a request's
    /// path is the server's fault: a missing item is `Ok(None)` there, and
    /// the caller decides what absence means. A store that is briefly
    /// unavailable (throttled, timing out) is `temporarily_unavailable`
    /// (503, answered with `Retry-After`); anything else is `server_error`.
    pub fn store(what: &'static str) -> impl FnOnce(StoreError) -> Self {
        move |e| match e {
            StoreError::Unavailable(_) => Self::unavailable().with_cause(format!("{what}: {e}")),
            _ => Self::server(format!("{what}: {e}")),
        }
    }

    /// `temporarily_unavailable` (503): a dependency is briefly unavailable.
    pub fn unavailable() -> Self {
        Self::new(
            ErrorCode::TemporarilyUnavailable,
            "the service is briefly unavailable; try again in a moment",
        )
    }

    /// The same error with a cause for the log.
    pub fn with_cause(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// Logs the error where it is turned into a response: server errors
    /// always, others only when they carry a cause.
    pub fn log(&self) {
        match (&self.cause, self.status().is_server_error()) {
            // Someone else's server (or whoever sent a junk code): not ours to alarm on.
            (cause, true) if self.code == ErrorCode::UpstreamFailed => {
                tracing::warn!(
                    code = self.code.as_str(),
                    cause = cause.as_deref(),
                    "an upstream provider failed"
                )
            }
            (cause, true) => {
                tracing::error!(code = self.code.as_str(), cause = cause.as_deref(), "server error")
            }
            (Some(cause), false) => tracing::debug!(code = self.code.as_str(), %cause, "request refused"),
            (None, false) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_keep_their_cause_but_never_send_it() {
        let e = OAuthError::store("reading the client")(StoreError::Backend("connection reset".into()));
        assert_eq!(e.code, ErrorCode::ServerError);
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.description.contains("connection reset"));
        assert!(
            e.cause
                .as_deref()
                .is_some_and(|c| c.contains("reading the client") && c.contains("connection reset"))
        );
    }

    #[test]
    fn a_briefly_unavailable_store_is_temporarily_unavailable() {
        let e = OAuthError::store("writing the code")(StoreError::Unavailable("throttled".into()));
        assert_eq!(
            (e.code, e.status()),
            (ErrorCode::TemporarilyUnavailable, StatusCode::SERVICE_UNAVAILABLE)
        );
        assert!(!e.description.contains("throttled"));
    }
}
