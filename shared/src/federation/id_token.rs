//! Verifying a provider's ID token (OpenID Connect Core 3.1.3.7): the
//! signature with a key of the provider's JWKS, by an algorithm on the
//! allow-list (never `none`, never an HMAC keyed with something public),
//! `iss`, `aud` (and `azp` when there are several audiences), `exp`, `iat`
//! and `nonce` — all against ZeroAuth's clock. Entra's multi-tenant
//! issuer names the tenant the token's `tid` claims.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

/// The signing algorithms an upstream ID token may use.
pub const ALLOWED: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// Seconds of clock difference tolerated on `exp` and `iat`.
pub const LEEWAY: i64 = 60;
/// The oldest `iat` accepted: an ID token is used as soon as it is issued.
pub const MAX_AGE: i64 = 600;

/// What the ID token must say.
pub struct Expect<'a> {
    /// The issuer; for Entra's multi-tenant metadata, a template with
    /// `{tenantid}`, filled from the token's `tid`.
    pub issuer: &'a str,
    /// Other spellings of the same issuer (Google's `accounts.google.com`).
    pub also: &'a [&'a str],
    /// ZeroAuth's client id at the provider.
    pub client_id: &'a str,
    /// The nonce sent with the request.
    pub nonce: Option<&'a str>,
    /// Epoch seconds now.
    pub now: i64,
}

/// Why an ID token was refused, in words for the log and the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the ID token {0}")]
pub struct Refused(pub String);

fn no(why: impl Into<String>) -> Refused {
    Refused(why.into())
}

/// Whether `token` names a key (`kid`) that `keys` lacks: the provider may
/// have rotated, and a fresh key set may have it.
pub fn names_unknown_key(token: &str, keys: &JwkSet) -> bool {
    let kid = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid);
    kid.is_some_and(|k| keys.find(&k).is_none())
}

/// Verifies `token` against `keys` and `expect`; its claims, and the
/// issuer it was verified against (Entra: the tenant's).
pub fn verify(token: &str, keys: &JwkSet, expect: &Expect<'_>) -> Result<(Value, String), Refused> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| no("is not a signed JWT"))?;
    if !ALLOWED.contains(&header.alg) {
        return Err(no(format!("is signed with {:?}, which is not allowed", header.alg)));
    }
    let jwk = match header.kid.as_deref() {
        Some(kid) => {
            keys.find(kid).ok_or_else(|| no(format!("names a key ({kid}) the provider does not publish")))?
        }
        None => match keys.keys.as_slice() {
            [only] => only,
            _ => return Err(no("names no key, and the provider publishes several")),
        },
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|_| no("names a key ZeroAuth cannot use"))?;
    let mut v = Validation::new(header.alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(token, &key, &v)
        .map_err(|_| no("has a signature that does not verify"))?
        .claims;
    let issuer = check_claims(&claims, expect)?;
    Ok((claims, issuer))
}

/// The claims' checks, after the signature: the issuer verified against.
pub fn check_claims(claims: &Value, expect: &Expect<'_>) -> Result<String, Refused> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let iss = text("iss").ok_or_else(|| no("has no issuer"))?;
    let issuer = if expect.issuer.contains("{tenantid}") {
        let tid = text("tid").filter(|t| is_guid(t)).ok_or_else(|| no("names no tenant (tid)"))?;
        expect.issuer.replace("{tenantid}", tid)
    } else {
        expect.issuer.to_owned()
    };
    if iss != issuer && !expect.also.contains(&iss) {
        return Err(no(format!("was issued by {iss:?}, not {issuer:?}")));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !audiences.contains(&expect.client_id) {
        return Err(no("is for another audience"));
    }
    if audiences.len() > 1 && text("azp") != Some(expect.client_id) {
        return Err(no("has several audiences and does not name ZeroAuth as its authorized party"));
    }
    if let Some(azp) = text("azp").filter(|a| *a != expect.client_id) {
        return Err(no(format!("was obtained by another party ({azp})")));
    }
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    let exp = number("exp").ok_or_else(|| no("has no expiry"))?;
    if exp.saturating_add(LEEWAY) <= expect.now {
        return Err(no("has expired"));
    }
    let iat = number("iat").ok_or_else(|| no("has no issue time"))?;
    if iat > expect.now.saturating_add(LEEWAY) || iat < expect.now.saturating_sub(MAX_AGE) {
        return Err(no("was issued at a time that does not fit"));
    }
    match (expect.nonce, text("nonce")) {
        (Some(want), Some(got)) if crate::crypto::ct_eq(want, got) => {}
        (None, None) => {}
        _ => return Err(no("does not carry this sign-in's nonce")),
    }
    if text("sub").is_none_or(str::is_empty) {
        return Err(no("names no subject"));
    }
    Ok(issuer)
}

/// Whether `s` is a GUID such as Entra's tenant ids.
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn expect<'a>(issuer: &'a str, nonce: Option<&'a str>) -> Expect<'a> {
        Expect { issuer, also: &["accounts.google.com"], client_id: "za", nonce, now: NOW }
    }

    fn good() -> Value {
        json!({"iss": "https://idp.example", "aud": "za", "sub": "u1", "exp": NOW + 300, "iat": NOW, "nonce": "n"})
    }

    fn with(changes: Value) -> Value {
        let mut c = good();
        for (k, v) in changes.as_object().into_iter().flatten() {
            if v.is_null() {
                c.as_object_mut().map(|o| o.remove(k));
            } else if let Some(o) = c.as_object_mut() {
                o.insert(k.clone(), v.clone());
            }
        }
        c
    }

    #[test]
    fn each_claim_is_checked_against_what_the_sign_in_expects() {
        let e = expect("https://idp.example", Some("n"));
        let cases: Vec<(&str, Value, bool)> = vec![
            ("as issued", good(), true),
            ("another issuer", with(json!({"iss": "https://evil.example"})), false),
            ("Google's other spelling", with(json!({"iss": "accounts.google.com"})), true),
            ("another audience", with(json!({"aud": "other"})), false),
            ("one of two audiences, no azp", with(json!({"aud": ["za", "other"]})), false),
            ("one of two audiences, azp us", with(json!({"aud": ["za", "other"], "azp": "za"})), true),
            ("azp someone else", with(json!({"azp": "other"})), false),
            ("expired", with(json!({"exp": NOW - 61})), false),
            ("expired within the leeway", with(json!({"exp": NOW - 30})), true),
            ("no exp", with(json!({"exp": null})), false),
            ("issued in the future", with(json!({"iat": NOW + 3600})), false),
            ("issued long ago", with(json!({"iat": NOW - 3600})), false),
            ("another nonce", with(json!({"nonce": "m"})), false),
            ("no nonce", with(json!({"nonce": null})), false),
            ("no subject", with(json!({"sub": null})), false),
        ];
        for (name, claims, ok) in cases {
            assert_eq!(check_claims(&claims, &e).is_ok(), ok, "{name}: {:?}", check_claims(&claims, &e));
        }
        let unasked = check_claims(&good(), &expect("https://idp.example", None));
        assert!(unasked.is_err(), "a nonce nobody sent");
    }

    #[test]
    fn an_entra_token_is_checked_against_its_own_tenant() {
        let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        let e = expect("https://login.example/{tenantid}/v2.0", Some("n"));
        let iss = format!("https://login.example/{tid}/v2.0");
        let ok = with(json!({"iss": iss, "tid": tid}));
        assert_eq!(check_claims(&ok, &e), Ok(iss.clone()));
        let other = with(json!({"iss": iss, "tid": "00000000-0000-0000-0000-000000000001"}));
        assert!(check_claims(&other, &e).is_err(), "the issuer names another tenant than tid");
        assert!(check_claims(&with(json!({"iss": iss, "tid": "../x"})), &e).is_err(), "tid is a GUID");
        assert!(check_claims(&with(json!({"iss": iss})), &e).is_err(), "no tid");
    }
}
