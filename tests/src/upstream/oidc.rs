//! The OpenID Connect provider at the base, and what Entra shares with it:
//! the bearer token answer with its ID token, and the user-info endpoint.

use serde_json::{Value, json};

use super::keys::{self, at_hash};
use super::server::{Request, Response, json_response};
use super::{CLIENT_ID, Flavor, Inner, Issued, State, entra, has_scope, lock, merge, now, random};

/// The discovery document of the provider at `base`.
pub(super) fn metadata(base: &str) -> Value {
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "email", "profile", "offline_access"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
            "email", "email_verified", "name"],
        "authorization_response_iss_parameter_supported": true,
    })
}

/// The claims about the person, besides `sub`, that an ID token
/// (`id_token`) or a user-info answer carries: Entra's whatever the scope,
/// the OpenID provider's as the `email` and `profile` scopes allow. A
/// `null` (no such claim) is left out when merged.
fn person(i: &Issued, id_token: bool) -> Value {
    let u = &i.user;
    match i.flavor {
        Flavor::Entra if id_token => entra::id_token_claims(u),
        Flavor::Entra => json!({"email": u.email, "name": u.name}),
        _ => {
            let mut v = json!({});
            if has_scope(&i.scope, "email") {
                merge(&mut v, &json!({"email": u.email, "email_verified": u.email_verified}));
            }
            if has_scope(&i.scope, "profile") {
                merge(&mut v, &json!({"name": u.name}));
            }
            v
        }
    }
}

impl Inner {
    /// The token answer of the OpenID provider and Entra: an access token,
    /// a refresh token (the one presented, when refreshing) and, for the
    /// `openid` scope, an ID token.
    pub(super) fn bearer_tokens(
        &self,
        st: &mut State,
        req: &Request,
        issued: Issued,
        nonce: Option<String>,
        auth_time: i64,
    ) -> Response {
        let (access, refresh) =
            (random(24), req.param("refresh_token").map_or_else(|| random(24), str::to_owned));
        let mut body = json!({"access_token": access, "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": refresh, "scope": issued.scope});
        if has_scope(&issued.scope, "openid")
            && let Some(id_token) = self.id_token(st, &issued, nonce, auth_time, &access)
        {
            body["id_token"] = json!(id_token);
        }
        st.access.insert(access, issued.clone());
        st.refresh.insert(refresh, issued);
        json_response(200, &body)
    }

    /// The ID token, tampered with as the test asked; `None` when it asked for none.
    fn id_token(
        &self,
        st: &mut State,
        i: &Issued,
        nonce: Option<String>,
        auth_time: i64,
        access: &str,
    ) -> Option<String> {
        let (now, u, base) = (now(st.offset), &i.user, &self.base);
        let iss = if i.flavor == Flavor::Entra { entra::issuer(base, &u.tid) } else { base.clone() };
        let mut c = json!({"iss": iss, "sub": u.sub, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
            "auth_time": auth_time, "at_hash": at_hash(access)});
        if let Some(n) = nonce {
            c["nonce"] = json!(n);
        }
        merge(&mut c, &person(i, true));
        let signer = keys::tamper(st.tamper.take(), &mut c, base, now)?;
        Some(self.keys.sign(signer, &c))
    }

    /// The user-info endpoint of the OpenID provider and Entra.
    pub(super) fn userinfo(&self, req: &Request) -> Response {
        let mut st = lock(&self.state);
        let token = req.header("authorization").and_then(|h| h.strip_prefix("Bearer "));
        let Some(i) = st.access_token(token, false).cloned() else {
            return json_response(401, &json!({"error": "invalid_token"}))
                .with_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        };
        if let Some(v) = st.userinfo.take() {
            return json_response(200, &v);
        }
        let mut v = json!({"sub": i.user.sub});
        merge(&mut v, &person(&i, false));
        json_response(200, &v)
    }
}
