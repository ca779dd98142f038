//! GitHub's shapes under `/github`: a token endpoint that answers HTTP 200
//! for errors too, in JSON only when asked to, with `gho_` tokens and
//! comma-separated scopes (no ID token, no refresh); and the REST API's
//! `/user` and `/user/emails`, which want a `User-Agent`.

use serde_json::{Value, json};

use super::server::{Request, Response, json_response, respond, text};
use super::{Inner, Issued, State, has_scope, lock, random};

const GITHUB_DOCS: &str = "https://docs.github.com";

/// A token endpoint error as GitHub gives it: HTTP 200, its own codes, an `error_uri`.
pub(super) fn oauth_error(req: &Request, code: &str, description: &str) -> Response {
    let code = match code {
        "invalid_client" => "incorrect_client_credentials",
        "invalid_grant" => "bad_verification_code",
        c => c,
    };
    let uri = format!(
        "{GITHUB_DOCS}/apps/managing-oauth-apps/{}/#{}",
        "troubleshooting-oauth-app-access-token-request-errors",
        code.replace('_', "-")
    );
    answer(req, &[("error", code), ("error_description", description), ("error_uri", &uri)])
}

/// The token answer for what was `issued`.
pub(super) fn token_answer(st: &mut State, req: &Request, issued: Issued) -> Response {
    let access = format!("gho_{}", random(18));
    let scope = issued.scope.split([' ', ',']).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(",");
    st.access.insert(access.clone(), issued);
    answer(req, &[("access_token", &access), ("token_type", "bearer"), ("scope", &scope)])
}

/// GitHub's token endpoint answers JSON only when asked to.
fn answer(req: &Request, fields: &[(&str, &str)]) -> Response {
    if req.header("accept").is_some_and(|a| a.contains("application/json")) {
        let map: serde_json::Map<String, Value> =
            fields.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
        return json_response(200, &Value::Object(map));
    }
    respond(200, "application/x-www-form-urlencoded; charset=utf-8", crate::form_encode(fields))
}

impl Inner {
    /// `/github/api/user`, or with `emails` `/github/api/user/emails`.
    pub(super) fn github_api(&self, req: &Request, emails: bool) -> Response {
        if req.header("user-agent").is_none() {
            return text(
                403,
                "Request forbidden by administrative rules. Please make sure your request has a \
                 User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api\
                 #user-agent-required). Check https://developer.github.com for other possible causes.",
            );
        }
        let auth = req.header("authorization").unwrap_or_default();
        let token = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("token "));
        let st = lock(&self.state);
        let Some(i) = st.access_token(token, true) else {
            return json_response(
                401,
                &json!({"message": "Bad credentials", "documentation_url": format!("{GITHUB_DOCS}/rest"),
                    "status": "401"}),
            );
        };
        let u = &i.user;
        if !emails {
            return json_response(
                200,
                &json!({"login": u.github_login, "id": u.github_id,
                "node_id": format!("U_{}", u.github_id),
                "avatar_url": format!("https://avatars.example/u/{}", u.github_id),
                "html_url": format!("https://github.com/{}", u.github_login), "type": "User",
                "site_admin": false,
                "name": u.name, "email": u.email, "created_at": "2015-01-01T00:00:00Z"}),
            );
        }
        if !has_scope(&i.scope, "user:email") && !has_scope(&i.scope, "user") {
            return json_response(
                404,
                &json!({"message": "Not Found", "status": "404", "documentation_url": format!(
                    "{GITHUB_DOCS}/rest/users/emails#list-email-addresses-for-the-authenticated-user")}),
            );
        }
        let list: Vec<Value> = u
            .github_emails
            .iter()
            .map(|(email, primary, verified)| {
                let visibility = if *primary {
                    json!(if u.email.as_ref() == Some(email) { "public" } else { "private" })
                } else {
                    Value::Null
                };
                json!({"email": email, "primary": primary, "verified": verified, "visibility": visibility})
            })
            .collect();
        json_response(200, &Value::Array(list))
    }
}
