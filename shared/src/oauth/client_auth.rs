//! Client authentication (RFC 6749 2.3): credentials are read one way only,
//! then verified against the client's record into an [`AuthenticatedClient`].

use std::ops::Deref;

use http::HeaderMap;

use crate::app::App;
use crate::crypto;
use crate::domain::Client;
use crate::error::OAuthError;
use crate::http::{Params, basic_credentials};
use crate::secret::ClientSecret;

/// How the client presented itself, before its record is read.
#[derive(Debug)]
pub struct ClientCredentials {
    /// The claimed client id.
    pub client_id: String,
    /// The secret, for confidential clients.
    pub secret: Option<ClientSecret>,
    /// The Basic secret as sent, when it differs from the form-decoded one.
    pub raw_secret: Option<ClientSecret>,
}

/// A client whose credentials were verified for this request. Only
/// [`verify`] makes one, so holding one is proof of authentication.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient(Client);

impl Deref for AuthenticatedClient {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.0
    }
}

impl ClientCredentials {
    /// Reads the credentials from HTTP Basic or the body, one way only
    /// (RFC 6749 2.3: "The client MUST NOT use more than one authentication
    /// method in each request"). No credentials at all is `invalid_client`.
    pub fn from_request(headers: &HeaderMap, params: &Params) -> Result<Self, OAuthError> {
        let basic = basic_credentials(headers)?;
        let body_id = params.get_id("client_id")?;
        let body_secret = params.get("client_secret")?;
        match basic {
            Some(basic) => {
                if body_secret.is_some() {
                    return Err(OAuthError::invalid_request(
                        "the client authenticated twice (Basic and client_secret); use one method",
                    ));
                }
                if body_id.is_some_and(|b| b != basic.client_id) {
                    return Err(OAuthError::invalid_request(
                        "client_id in the body differs from the Basic credentials",
                    ));
                }
                Ok(Self {
                    client_id: basic.client_id,
                    secret: Some(basic.secret),
                    raw_secret: basic.raw_secret,
                })
            }
            None => match (body_id, body_secret) {
                (Some(id), secret) => Ok(Self {
                    client_id: id.to_owned(),
                    secret: secret.map(ClientSecret::new),
                    raw_secret: None,
                }),
                (None, Some(_)) => {
                    Err(OAuthError::invalid_request("client_secret was sent without client_id"))
                }
                (None, None) => Err(OAuthError::invalid_client(
                    "client authentication is required: HTTP Basic, or client_id (+ client_secret) in the body",
                )),
            },
        }
    }
}

/// Checks presented credentials against the client's record: the client must
/// exist and be enabled; a confidential client must present its secret
/// (compared in constant time); a public client must not present one. A
/// Basic secret that was not form-encoded by the client is accepted as sent
/// when the decoded one does not verify: both digests are always compared.
pub fn verify(creds: &ClientCredentials, client: Option<Client>) -> Result<AuthenticatedClient, OAuthError> {
    let fail = || OAuthError::invalid_client("client authentication failed: unknown client or wrong secret");
    let client = client.filter(|c| !c.disabled).ok_or_else(fail)?;
    let matches = |hash: &str, secret: &ClientSecret| crypto::ct_eq(hash, &crypto::digest(secret.secret()));
    match (&client.secret_hash, &creds.secret) {
        (Some(hash), Some(secret)) => {
            let decoded = matches(hash, secret);
            let raw = creds.raw_secret.as_ref().is_some_and(|r| matches(hash, r));
            if decoded | raw { Ok(AuthenticatedClient(client)) } else { Err(fail()) }
        }
        (None, None) => Ok(AuthenticatedClient(client)),
        (None, Some(_)) => {
            Err(OAuthError::invalid_client("this is a public client; it has no secret to send"))
        }
        _ => Err(fail()),
    }
}

/// Reads the client's record and verifies the credentials against it: one read.
pub async fn authenticate(app: &App, creds: &ClientCredentials) -> Result<AuthenticatedClient, OAuthError> {
    verify(creds, super::clients::find_in_use(app, &creds.client_id).await?)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use http::header::{AUTHORIZATION, HeaderValue};

    use super::*;
    use crate::error::ErrorCode;
    use crate::http::parse_form;

    fn client(secret: Option<&str>, disabled: bool) -> Client {
        Client {
            client_id: "app".into(),
            name: "App".into(),
            secret_hash: secret.map(crypto::digest),
            redirect_uris: vec![],
            grant_types: vec![],
            scopes: Default::default(),
            trusted: false,
            disabled,
            created_at: 0,
            tokens: Default::default(),
            source: Default::default(),
            expires_at: None,
            dialect: Default::default(),
        }
    }

    fn creds(basic: Option<&str>, body: &str) -> Result<ClientCredentials, OAuthError> {
        let mut h = HeaderMap::new();
        if let Some(b) = basic {
            let v = format!("Basic {}", STANDARD.encode(b));
            h.insert(AUTHORIZATION, HeaderValue::from_str(&v).unwrap());
        }
        ClientCredentials::from_request(&h, &parse_form(body.as_bytes()).unwrap())
    }

    #[test]
    fn credentials_are_read_one_way_only() {
        // name, Basic "id:secret", body, the id and secret read (or the error)
        type Case<'a> = (&'a str, Option<&'a str>, &'a str, Result<(&'a str, Option<&'a str>), ErrorCode>);
        let cases: &[Case<'_>] = &[
            ("should read Basic", Some("app:s3cret"), "", Ok(("app", Some("s3cret")))),
            ("should read the body", None, "client_id=app&client_secret=s3cret", Ok(("app", Some("s3cret")))),
            ("should read a public client's id", None, "client_id=app", Ok(("app", None))),
            (
                "should accept the same id in Basic and body",
                Some("app:s"),
                "client_id=app",
                Ok(("app", Some("s"))),
            ),
            (
                "should fail because two methods were used",
                Some("app:s"),
                "client_secret=s",
                Err(ErrorCode::InvalidRequest),
            ),
            (
                "should fail because the ids differ",
                Some("app:s"),
                "client_id=other",
                Err(ErrorCode::InvalidRequest),
            ),
            (
                "should fail because a secret came without an id",
                None,
                "client_secret=s",
                Err(ErrorCode::InvalidRequest),
            ),
            ("should fail because nothing was sent", None, "", Err(ErrorCode::InvalidClient)),
            (
                "should fail because client_id repeats",
                None,
                "client_id=a&client_id=b",
                Err(ErrorCode::InvalidRequest),
            ),
            ("should fail because Basic has no colon", Some("app"), "", Err(ErrorCode::InvalidClient)),
        ];
        for (name, basic, body, want) in cases {
            let got = creds(*basic, body)
                .map(|c| (c.client_id, c.secret.map(|s| s.secret().to_owned())))
                .map_err(|e| e.code);
            let want = want.map(|(id, s)| (id.to_owned(), s.map(str::to_owned)));
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn verification_checks_the_record() {
        let conf = || client(Some("s3cret"), false);
        // name, what was presented, the record read, the outcome
        type Case<'a> = (&'a str, ClientCredentials, Option<Client>, Result<(), ErrorCode>);
        let cases: &[Case<'_>] = &[
            ("should pass with the right secret", cc(Some("s3cret")), Some(conf()), Ok(())),
            ("should pass a public client without a secret", cc(None), Some(client(None, false)), Ok(())),
            (
                "should fail because the secret is wrong",
                cc(Some("nope")),
                Some(conf()),
                Err(ErrorCode::InvalidClient),
            ),
            (
                "should fail because the secret is missing",
                cc(None),
                Some(conf()),
                Err(ErrorCode::InvalidClient),
            ),
            (
                "should fail because a public client sent one",
                cc(Some("x")),
                Some(client(None, false)),
                Err(ErrorCode::InvalidClient),
            ),
            (
                "should fail because the client is unknown",
                cc(Some("s3cret")),
                None,
                Err(ErrorCode::InvalidClient),
            ),
            (
                "should fail because the client is disabled",
                cc(Some("s3cret")),
                Some(client(Some("s3cret"), true)),
                Err(ErrorCode::InvalidClient),
            ),
        ];
        for (name, creds, record, want) in cases {
            let got = verify(creds, record.clone()).map(|_| ()).map_err(|e| e.code);
            assert_eq!(got, *want, "{name}");
        }
    }

    #[test]
    fn a_basic_secret_the_client_did_not_form_encode_still_verifies() {
        // The secret registered is "a+b%c"; RFC 6749 2.3.1 says send "a%2Bb%25c".
        let record = || Some(client(Some("a+b%c"), false));
        let ok = |basic: &str| verify(&creds(Some(basic), "").unwrap(), record()).map(|_| ());
        assert!(ok("app:a%2Bb%25c").is_ok(), "should pass the encoded secret");
        assert!(ok("app:a+b%c").is_ok(), "should pass the secret as sent, unencoded");
        assert!(ok("app:a b%c").is_err(), "should fail because the secret is another one");
        let decoded_only = client(Some("a b"), false);
        assert!(
            verify(&creds(Some("app:a+b"), "").unwrap(), Some(decoded_only)).is_ok(),
            "should pass a secret whose decoded form is the registered one"
        );
    }

    fn cc(secret: Option<&str>) -> ClientCredentials {
        ClientCredentials { client_id: "app".into(), secret: secret.map(ClientSecret::new), raw_secret: None }
    }
}
