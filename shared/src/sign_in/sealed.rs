//! Values that travel through the browser signed with HMAC-SHA256: the
//! validated authorization request (a hidden form field, bound to the CSRF
//! cookie) and the signed-in session cookie. Neither writes to the table.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::oauth::Scope;
use crate::secret::SigningKey;

/// The authorization request as `/authorize` validated it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingRequest {
    /// The client.
    pub client_id: String,
    /// The redirect URI the code goes to.
    pub redirect_uri: String,
    /// Whether the request named `redirect_uri` (then the token request must too).
    pub redirect_uri_given: bool,
    /// The validated scope.
    pub scope: Scope,
    /// `state`, echoed exactly.
    pub state: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// OpenID Connect nonce.
    pub nonce: Option<String>,
    /// `prompt=login`: the password is asked even with a session.
    pub force_login: bool,
    /// OpenID Connect `max_age`: a session older than this many seconds
    /// does not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    /// OpenID Connect `login_hint`: the username to fill in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    /// The protected resource (RFC 8707) the tokens will be for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Digest of the CSRF cookie this form is bound to.
    pub csrf: String,
    /// This form's random id: a form that signed someone in is spent.
    pub form: String,
    /// Epoch seconds after which the form is refused.
    pub exp: i64,
}

/// The signed-in session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The signed-in user, as they sign in.
    pub username: String,
    /// The person: the session ends if the username now names someone else.
    pub sub: String,
    /// [`User::credential_tag`](crate::domain::User::credential_tag) when
    /// signing in: the session ends when the password changes.
    pub credential: String,
    /// Epoch seconds after which the session is over.
    pub exp: i64,
    /// When the person signed in with their password (OpenID Connect
    /// `auth_time`), epoch seconds.
    #[serde(default)]
    pub auth_time: i64,
}

/// A browser a person signed in from before (OWASP's device cookie): its
/// failed sign-ins are counted on their own, so strangers' failures cannot
/// lock this person out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// The username signed in with.
    pub username: String,
    /// This cookie's random id, the key of its own failure counter.
    pub id: String,
    /// Epoch seconds after which the cookie is refused.
    pub exp: i64,
}

/// The sign-out form, bound to the CSRF cookie like the sign-in form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignOut {
    /// Digest of the CSRF cookie this form is bound to.
    pub csrf: String,
    /// A registered `post_logout_redirect_uri` to send the person back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
    /// `state`, echoed to `redirect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Epoch seconds after which the form is refused.
    pub exp: i64,
}

/// Something that expires, so [`open`] can refuse it when late.
pub trait Expiring {
    /// Epoch seconds.
    fn exp(&self) -> i64;
}
/// Each sealed value expires at its `exp`.
macro_rules! expiring {
    ($($t:ty),*) => {
        $(impl Expiring for $t {
            fn exp(&self) -> i64 {
                self.exp
            }
        })*
    };
}
expiring!(PendingRequest, Session, Device, SignOut);

/// `payload.tag`, where the tag covers a purpose label and the payload so a
/// value signed for one purpose is refused for another.
pub fn seal<T: Serialize>(key: &SigningKey, purpose: &str, value: &T) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default());
    let tag = crypto::sign(key, format!("{purpose}.{payload}").as_bytes());
    format!("{payload}.{tag}")
}

/// The value, if the tag verifies (in constant time) and it has not expired.
pub fn open<T: DeserializeOwned + Expiring>(
    key: &SigningKey,
    purpose: &str,
    sealed: &str,
    now: i64,
) -> Option<T> {
    let (payload, tag) = sealed.split_once('.')?;
    if !crypto::verify(key, format!("{purpose}.{payload}").as_bytes(), tag) {
        return None;
    }
    let value: T = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    (value.exp() > now).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::new(vec![9; 32])
    }

    #[test]
    fn sealed_session_opens_until_it_expires() {
        let s = Session {
            username: "alice".into(),
            sub: "s".into(),
            credential: "c".into(),
            exp: 100,
            auth_time: 0,
        };
        let sealed = seal(&key(), "session", &s);
        assert_eq!(open::<Session>(&key(), "session", &sealed, 99), Some(s));
        assert_eq!(open::<Session>(&key(), "session", &sealed, 100), None);
    }

    #[test]
    fn tampered_or_repurposed_values_are_refused() {
        let s = Session {
            username: "alice".into(),
            sub: "s".into(),
            credential: "c".into(),
            exp: 100,
            auth_time: 0,
        };
        let sealed = seal(&key(), "session", &s);
        let forged = seal(
            &key(),
            "session",
            &Session {
                username: "mallory".into(),
                sub: "s".into(),
                credential: "c".into(),
                exp: 100,
                auth_time: 0,
            },
        );
        let (Some((payload, _)), Some((_, tag))) = (forged.split_once('.'), sealed.split_once('.')) else {
            panic!("sealed values have a payload and a tag");
        };
        assert_eq!(open::<Session>(&key(), "session", &format!("{payload}.{tag}"), 1), None);
        assert_eq!(open::<Session>(&key(), "login", &sealed, 1), None);
        assert_eq!(open::<Session>(&SigningKey::new(vec![1; 32]), "session", &sealed, 1), None);
        assert_eq!(open::<Session>(&key(), "session", "garbage", 1), None);
    }
}
