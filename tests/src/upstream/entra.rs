//! Microsoft Entra's shapes (v2.0, multi-tenant) under `/entra`: issuers
//! per tenant, the `{tenantid}` placeholder in the `common` discovery
//! document, and the claims its ID tokens carry (`tid`, `oid`, `xms_edov`,
//! no `email_verified`). Its authorization and token endpoints are the
//! shared ones ([`super::oauth`]), its token answer and user-info the
//! OpenID provider's ([`super::oidc`]).

use serde_json::{Value, json};

use super::UpstreamUser;

/// The issuer of `tenant` (a tenant id, or the literal `{tenantid}`).
pub(super) fn issuer(base: &str, tenant: &str) -> String {
    format!("{base}/entra/{tenant}/v2.0")
}

/// The discovery document at `/entra/<tenant>/v2.0/.well-known/openid-configuration`.
pub(super) fn metadata(base: &str, tenant: &str) -> Value {
    let at = format!("{base}/entra/{tenant}");
    let tid = if tenant == "common" { "{tenantid}" } else { tenant };
    json!({
        "issuer": issuer(base, tid),
        "authorization_endpoint": format!("{at}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{at}/oauth2/v2.0/token"),
        "jwks_uri": format!("{at}/discovery/v2.0/keys"),
        "userinfo_endpoint": format!("{base}/entra/oidc/userinfo"),
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported":
            ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce",
            "preferred_username", "name", "tid", "ver", "at_hash", "email", "oid"],
        "tenant_region_scope": "EU",
    })
}

/// The claims about `u` an Entra ID token carries, whatever the scope
/// (`xms_edov` only when set).
pub(super) fn id_token_claims(u: &UpstreamUser) -> Value {
    json!({"ver": "2.0", "tid": u.tid, "oid": u.oid, "email": u.email, "name": u.name,
        "preferred_username": u.email.clone().unwrap_or_else(|| u.sub.clone()),
        "xms_edov": u.xms_edov})
}
