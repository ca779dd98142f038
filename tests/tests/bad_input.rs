//! Every endpoint answers bad input with a 4xx RFC-shaped error, never a
//! 5xx and never a panic. One table, each row a request and what it must get.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroauth_e2e::Server;

/// A row: what is sent and what must come back.
struct Row {
    name: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
    /// The `error` field of a JSON answer, when the answer is JSON.
    error: Option<&'static str>,
}

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

fn row(
    name: &'static str,
    method: &'static str,
    path: &str,
    status: u16,
    error: Option<&'static str>,
) -> Row {
    Row { name, method, path: path.into(), headers: vec![], body: vec![], status, error }
}

impl Row {
    fn body(mut self, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Self {
        if let Some(ct) = content_type {
            self.headers.push(("content-type", ct.to_owned()));
        }
        self.body = body.into();
        self
    }
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

fn basic(raw: &[u8]) -> String {
    format!("Basic {}", STANDARD.encode(raw))
}

#[tokio::test]
async fn bad_input_on_every_endpoint_gets_a_4xx_never_a_5xx() {
    let s = Server::dynamodb().await;
    let m = s
        .client(|c| {
            c.grants = vec!["client_credentials".into(), "authorization_code".into(), "refresh_token".into()];
        })
        .await;
    let id = m.id.clone();
    let secret = m.secret.clone().unwrap();
    let good_basic = basic(format!("{id}:{secret}").as_bytes());
    let cc = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");

    let rows = vec![
        // /token: bodies
        row("should fail because the body is not UTF-8", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(FORM), b"grant_type=\xff\xfe".to_vec()),
        row(
            "should fail because a value is not UTF-8 once decoded",
            "POST",
            "/token",
            400,
            Some("invalid_request"),
        )
        .body(Some(FORM), "grant_type=%FF%FE"),
        row("should fail because the body is oversized", "POST", "/token", 413, Some("invalid_request"))
            .body(Some(FORM), vec![b'a'; 70 * 1024]),
        row("should fail because the JSON is malformed", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(JSON), "{\"grant_type\": "),
        row("should fail because the JSON is an array", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(JSON), "[\"client_credentials\"]"),
        row("should fail because the JSON is a string", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(JSON), "\"client_credentials\""),
        row("should fail because the JSON is null", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(JSON), "null"),
        row("should fail because a JSON value is a boolean", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(JSON), "{\"grant_type\": true}"),
        row("should fail because a JSON value is an object", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(JSON), "{\"grant_type\": {\"a\": 1}}"),
        row("should fail because a JSON value is an array", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(JSON), "{\"scope\": [\"a\"], \"grant_type\": \"client_credentials\"}"),
        row(
            "should fail because a JSON number is not a grant type",
            "POST",
            "/token",
            400,
            Some("unsupported_grant_type"),
        )
        .body(Some(JSON), "{\"grant_type\": 7}"),
        row("should fail because grant_type repeats", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(FORM), "grant_type=client_credentials&grant_type=client_credentials"),
        row("should fail because client_id repeats", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(FORM), format!("{cc}&client_id={id}")),
        row("should fail because Content-Type is missing", "POST", "/token", 400, Some("invalid_request"))
            .body(None, cc.clone()),
        row("should fail because Content-Type is text/plain", "POST", "/token", 400, Some("invalid_request"))
            .body(Some("text/plain"), cc.clone()),
        row("should fail because Content-Type is multipart", "POST", "/token", 400, Some("invalid_request"))
            .body(Some("multipart/form-data; boundary=x"), "--x--"),
        // A well-formed form labelled JSON is read as a form (iiniit's
        // documented curl line); broken JSON that is no form stays refused.
        row("should fail because JSON is broken", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(JSON), "{\"grant_type\": \"client_credentials\""),
        row(
            "should fail because JSON-labelled text is neither",
            "POST",
            "/token",
            400,
            Some("invalid_request"),
        )
        .body(Some(JSON), "grant_type=client_credentials&&scope"),
        row("should fail because the body is empty", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(FORM), ""),
        row("should fail because JSON is empty", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(JSON), ""),
        row(
            "should fail because the grant type is unknown",
            "POST",
            "/token",
            400,
            Some("unsupported_grant_type"),
        )
        .body(Some(FORM), "grant_type=password&username=a&password=b"),
        row(
            "should fail because the implicit grant is not a grant type",
            "POST",
            "/token",
            400,
            Some("unsupported_grant_type"),
        )
        .body(Some(FORM), "grant_type=implicit"),
        // /token: client authentication
        row("should fail because Basic is not base64", "POST", "/token", 401, Some("invalid_client"))
            .body(Some(FORM), "grant_type=client_credentials")
            .header("authorization", "Basic !!!not-base64"),
        row("should fail because Basic has no colon", "POST", "/token", 401, Some("invalid_client"))
            .body(Some(FORM), "grant_type=client_credentials")
            .header("authorization", basic(b"no-colon-here")),
        row("should fail because Basic is not UTF-8", "POST", "/token", 401, Some("invalid_client"))
            .body(Some(FORM), "grant_type=client_credentials")
            .header("authorization", basic(b"\xff\xfe:secret")),
        row(
            "should fail because Basic is not UTF-8 once percent-decoded",
            "POST",
            "/token",
            401,
            Some("invalid_client"),
        )
        .body(Some(FORM), "grant_type=client_credentials")
        .header("authorization", basic(b"%FF:secret")),
        row(
            "should fail because Basic has an empty client id",
            "POST",
            "/token",
            401,
            Some("invalid_client"),
        )
        .body(Some(FORM), "grant_type=client_credentials")
        .header("authorization", basic(b":secret")),
        row(
            "should fail because Basic names an unknown client",
            "POST",
            "/token",
            401,
            Some("invalid_client"),
        )
        .body(Some(FORM), "grant_type=client_credentials")
        .header("authorization", basic(b"nobody:secret")),
        row(
            "should fail because the client authenticates twice",
            "POST",
            "/token",
            400,
            Some("invalid_request"),
        )
        .body(Some(FORM), format!("grant_type=client_credentials&client_secret={secret}"))
        .header("authorization", good_basic.clone()),
        row(
            "should fail because the body client_id differs from Basic",
            "POST",
            "/token",
            400,
            Some("invalid_request"),
        )
        .body(Some(FORM), "grant_type=client_credentials&client_id=other")
        .header("authorization", good_basic.clone()),
        row(
            "should fail because no client authentication is sent",
            "POST",
            "/token",
            401,
            Some("invalid_client"),
        )
        .body(Some(FORM), "grant_type=client_credentials"),
        row(
            "should fail because client_secret comes without client_id",
            "POST",
            "/token",
            400,
            Some("invalid_request"),
        )
        .body(Some(FORM), format!("grant_type=client_credentials&client_secret={secret}")),
        // /token: grant parameters
        row("should fail because the code is missing", "POST", "/token", 400, Some("invalid_request"))
            .body(Some(FORM), "grant_type=authorization_code")
            .header("authorization", good_basic.clone()),
        row("should fail because the code is garbage", "POST", "/token", 400, Some("invalid_grant"))
            .body(Some(FORM), "grant_type=authorization_code&code=garbage")
            .header("authorization", good_basic.clone()),
        row(
            "should fail because the refresh token is missing",
            "POST",
            "/token",
            400,
            Some("invalid_request"),
        )
        .body(Some(FORM), "grant_type=refresh_token")
        .header("authorization", good_basic.clone()),
        row("should fail because the refresh token is garbage", "POST", "/token", 400, Some("invalid_grant"))
            .body(Some(FORM), "grant_type=refresh_token&refresh_token=za_rt_%C3%A9%C3%A9")
            .header("authorization", good_basic.clone()),
        row(
            "should fail because the refresh token has a forged grant id",
            "POST",
            "/token",
            400,
            Some("invalid_grant"),
        )
        .body(Some(FORM), format!("grant_type=refresh_token&refresh_token=za_rt_{}", "A".repeat(65)))
        .header("authorization", good_basic.clone()),
        row(
            "should fail because the scope has forbidden characters",
            "POST",
            "/token",
            400,
            Some("invalid_scope"),
        )
        .body(Some(FORM), "grant_type=client_credentials&scope=a%22b")
        .header("authorization", good_basic.clone()),
        row("should fail because the scope is unknown", "POST", "/token", 400, Some("invalid_scope"))
            .body(Some(FORM), "grant_type=client_credentials&scope=root")
            .header("authorization", good_basic.clone()),
        row(
            "should fail because GET is not a token request",
            "GET",
            "/token",
            405,
            Some("method_not_allowed"),
        ),
        // /revoke and /introspect
        row("should fail because revoke has no token", "POST", "/revoke", 400, Some("invalid_request"))
            .body(Some(FORM), "")
            .header("authorization", good_basic.clone()),
        row("should fail because revoke is unauthenticated", "POST", "/revoke", 401, Some("invalid_client"))
            .body(Some(FORM), "token=x"),
        row(
            "should fail because the token_type_hint is unknown",
            "POST",
            "/revoke",
            400,
            Some("unsupported_token_type"),
        )
        .body(Some(FORM), "token=x&token_type_hint=id_token")
        .header("authorization", good_basic.clone()),
        row("should fail because revoke JSON is malformed", "POST", "/revoke", 400, Some("invalid_request"))
            .body(Some(JSON), "{")
            .header("authorization", good_basic.clone()),
        row("should fail because GET cannot revoke", "GET", "/revoke", 405, Some("method_not_allowed")),
        row(
            "should fail because introspect is unauthenticated",
            "POST",
            "/introspect",
            401,
            Some("invalid_client"),
        )
        .body(Some(FORM), "token=x"),
        row(
            "should fail because introspect has no token",
            "POST",
            "/introspect",
            400,
            Some("invalid_request"),
        )
        .body(Some(FORM), "")
        .header("authorization", good_basic.clone()),
        row(
            "should fail because the introspect body is not UTF-8",
            "POST",
            "/introspect",
            400,
            Some("invalid_request"),
        )
        .body(Some(FORM), b"token=\xff".to_vec())
        .header("authorization", good_basic.clone()),
        // /userinfo
        row("should fail because userinfo has no token", "GET", "/userinfo", 401, Some("invalid_token")),
        row("should fail because userinfo was given Basic", "GET", "/userinfo", 400, Some("invalid_request"))
            .header("authorization", good_basic.clone()),
        row(
            "should fail because the Bearer token is empty",
            "GET",
            "/userinfo",
            400,
            Some("invalid_request"),
        )
        .header("authorization", "Bearer "),
        row(
            "should fail because the Bearer token is garbage",
            "GET",
            "/userinfo",
            401,
            Some("invalid_token"),
        )
        .header("authorization", "Bearer %%%"),
        row(
            "should fail because the token is sent twice",
            "GET",
            "/userinfo?access_token=a",
            400,
            Some("invalid_request"),
        )
        .header("authorization", "Bearer a"),
        row(
            "should fail because the query is not UTF-8",
            "GET",
            "/userinfo?access_token=%FF",
            400,
            Some("invalid_request"),
        ),
        row(
            "should fail because DELETE is not allowed",
            "DELETE",
            "/userinfo",
            405,
            Some("method_not_allowed"),
        ),
        // /authorize and /callback (HTML answers)
        row("should fail because client_id is missing", "GET", "/authorize", 400, None),
        row(
            "should fail because client_id repeats",
            "GET",
            &format!("/authorize?client_id={id}&client_id={id}"),
            400,
            None,
        ),
        row("should fail because the query is not UTF-8", "GET", "/authorize?client_id=%FF", 400, None),
        row("should fail because the client is unknown", "GET", "/authorize?client_id=nobody", 400, None),
        row(
            "should fail because POST is not allowed on authorize",
            "POST",
            "/authorize",
            405,
            Some("method_not_allowed"),
        ),
        row("should fail because the callback form is empty", "POST", "/callback", 400, None)
            .body(Some(FORM), ""),
        row("should fail because the callback request blob is garbage", "POST", "/callback", 400, None)
            .body(Some(FORM), "request=abc.def&decision=approve"),
        row("should fail because the callback body is JSON", "POST", "/callback", 400, None)
            .body(Some(JSON), "{\"request\": 1}"),
        row(
            "should fail because GET is not allowed on callback",
            "GET",
            "/callback",
            405,
            Some("method_not_allowed"),
        ),
        // Anything else
        row("should fail because the path is unknown", "GET", "/nope", 404, Some("not_found")),
        row(
            "should fail because the well-known path takes GET only",
            "POST",
            "/.well-known/openid-configuration",
            405,
            Some("method_not_allowed"),
        ),
    ];
    assert!(rows.len() >= 40, "the table has {} rows", rows.len());

    let mut failures = Vec::new();
    for r in &rows {
        let mut req = s.http.request(r.method.parse().unwrap(), s.url(&r.path)).body(r.body.clone());
        for (k, v) in &r.headers {
            req = req.header(*k, v);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{}: no answer: {e}", r.name));
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        if status >= 500 {
            failures.push(format!("{}: answered {status}: {text}", r.name));
            continue;
        }
        if status != r.status {
            failures.push(format!("{}: expected {}, got {status}: {text}", r.name, r.status));
            continue;
        }
        if let Some(expected) = r.error {
            let got = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned));
            if got.as_deref() != Some(expected) {
                failures.push(format!("{}: expected error {expected}, got {text}", r.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
