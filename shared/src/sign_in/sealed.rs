//! Values that travel through the browser signed with HMAC-SHA256 and
//! expire: the pending request (a hidden form field), the session and
//! device cookies, the sign-out form. None writes to the table.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::secret::SigningKey;

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
impl Expiring for SignOut {
    fn exp(&self) -> i64 {
        self.exp
    }
}

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

    fn form(state: &str) -> SignOut {
        SignOut { csrf: "c".into(), redirect: None, state: Some(state.into()), exp: 100 }
    }

    #[test]
    fn a_sealed_value_opens_until_it_expires() {
        let sealed = seal(&key(), "sign-out", &form("a"));
        assert_eq!(open::<SignOut>(&key(), "sign-out", &sealed, 99), Some(form("a")));
        assert_eq!(open::<SignOut>(&key(), "sign-out", &sealed, 100), None);
    }

    #[test]
    fn tampered_or_repurposed_values_are_refused() {
        let sealed = seal(&key(), "sign-out", &form("a"));
        let forged = seal(&key(), "sign-out", &form("mallory"));
        let (Some((payload, _)), Some((_, tag))) = (forged.split_once('.'), sealed.split_once('.')) else {
            panic!("sealed values have a payload and a tag");
        };
        assert_eq!(open::<SignOut>(&key(), "sign-out", &format!("{payload}.{tag}"), 1), None);
        assert_eq!(open::<SignOut>(&key(), "login", &sealed, 1), None);
        assert_eq!(open::<SignOut>(&SigningKey::new(vec![1; 32]), "sign-out", &sealed, 1), None);
        assert_eq!(open::<SignOut>(&key(), "sign-out", "garbage", 1), None);
    }
}
