//! The OpenID Connect parameters of an authorization request (Core
//! 3.1.2.1): `nonce`, `max_age`, `login_hint`, `id_token_hint` and
//! `acr_values`, each checked for shape and size.

use crate::app::App;
use crate::domain::Acr;
use crate::error::OAuthError;
use crate::http::Params;
use crate::oauth::jwt;

/// The longest `nonce` or `login_hint` accepted.
pub const MAX_HINT_BYTES: usize = 255;
/// The longest `id_token_hint` accepted.
pub const MAX_ID_TOKEN_HINT_BYTES: usize = 8 * 1024;

/// The checked OpenID Connect parameters.
#[derive(Debug, Default)]
pub struct OidcParams {
    /// Echoed into the ID token.
    pub nonce: Option<String>,
    /// A session older than this many seconds does not count.
    pub max_age: Option<i64>,
    /// The username to fill in.
    pub login_hint: Option<String>,
    /// The `sub` of a valid `id_token_hint`: the person the client expects.
    pub hinted_sub: Option<String>,
    /// The level `acr_values` asks for ([`Acr::requested`]): values
    /// ZeroAuth does not know are ignored, as OpenID Connect lets it.
    pub acr: Option<Acr>,
}

fn text<'a>(params: &'a Params, name: &str, max: usize) -> Result<Option<&'a str>, OAuthError> {
    match params.get(name)? {
        None => Ok(None),
        Some(v) if v.is_empty() || v.len() > max || v.chars().any(char::is_control) => {
            Err(OAuthError::invalid_request(format!("`{name}` must be 1 to {max} bytes of printable text")))
        }
        Some(v) => Ok(Some(v)),
    }
}

impl OidcParams {
    /// Reads and checks the parameters for `client_id`'s request.
    pub fn parse(app: &App, params: &Params, client_id: &str) -> Result<Self, OAuthError> {
        let nonce = text(params, "nonce", MAX_HINT_BYTES)?.map(str::to_owned);
        let login_hint = text(params, "login_hint", MAX_HINT_BYTES)?.map(str::to_owned);
        let max_age =
            match params.get("max_age")? {
                None => None,
                Some(v) => Some(v.parse::<u32>().map(i64::from).map_err(|_| {
                    OAuthError::invalid_request("`max_age` must be a whole number of seconds")
                })?),
            };
        let hinted_sub = match text(params, "id_token_hint", MAX_ID_TOKEN_HINT_BYTES)? {
            None => None,
            Some(hint) => Some(
                jwt::id_token_subject(app, hint, Some(client_id)).map(|(sub, _)| sub).ok_or_else(|| {
                    OAuthError::invalid_request(
                        "`id_token_hint` is not an ID token this server issued to this client",
                    )
                })?,
            ),
        };
        let acr = text(params, "acr_values", MAX_HINT_BYTES)?.and_then(Acr::requested);
        Ok(Self { nonce, max_age, login_hint, hinted_sub, acr })
    }
}
