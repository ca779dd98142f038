//! Mapping between domain records and DynamoDB items, both ways.

use super::item::{
    Builder, Item, Reader, access_key, api_key_key, client_key, code_key, grant_key, malformed, resource_key,
};
use crate::domain::{
    AccessTokenKind, AccessTokenRecord, ApiKey, Client, ClientSource, CodeRecord, Dialect, Grant, GrantType,
    Redemption, Resource, TokenSettings,
};
use crate::oauth::Scope;
use crate::store::StoreError;

impl From<&Client> for Item {
    fn from(c: &Client) -> Self {
        Builder::new(client_key(&c.client_id))
            .s("name", &c.name)
            .opt_s("secret_hash", c.secret_hash.as_deref())
            .list("redirect_uris", c.redirect_uris.iter().cloned())
            .list("grant_types", c.grant_types.iter().map(|g| g.as_str().to_owned()))
            .list("scopes", c.scopes.iter().map(str::to_owned))
            .b("trusted", c.trusted)
            .b("disabled", c.disabled)
            .n("created_at", c.created_at)
            .opt_s("tokens", token_settings(&c.tokens).as_deref())
            .opt_s("source", (c.source != ClientSource::Operator).then(|| c.source.as_str()))
            .opt_n("expires_at", c.expires_at)
            .opt_s(
                "dialect",
                (!c.dialect.is_standard())
                    .then(|| serde_json::to_string(&c.dialect).unwrap_or_default())
                    .as_deref(),
            )
            .0
    }
}

/// A client's token settings as stored: JSON, absent when all are defaults.
fn token_settings(t: &TokenSettings) -> Option<String> {
    (t != &TokenSettings::default()).then(|| serde_json::to_string(t).unwrap_or_default())
}

impl TryFrom<&Item> for Client {
    type Error = StoreError;
    fn try_from(item: &Item) -> Result<Self, StoreError> {
        let r = Reader(item);
        let grant_types = r
            .strings("grant_types")?
            .iter()
            .map(|g| GrantType::parse(g).ok_or_else(|| malformed("grant_types")))
            .collect::<Result<_, _>>()?;
        Ok(Client {
            client_id: r.sk()?,
            name: r.s("name")?,
            secret_hash: r.opt_s("secret_hash")?,
            redirect_uris: r.strings("redirect_uris")?,
            grant_types,
            scopes: Scope::from_tokens(r.strings("scopes")?.iter().map(String::as_str)),
            trusted: r.b("trusted")?,
            disabled: r.b("disabled")?,
            created_at: r.n("created_at")?,
            tokens: match r.opt_s("tokens")? {
                Some(json) => serde_json::from_str(&json).map_err(|_| malformed("tokens"))?,
                None => TokenSettings::default(),
            },
            source: match r.opt_s("source")? {
                Some(s) => ClientSource::parse(&s).ok_or_else(|| malformed("source"))?,
                None => ClientSource::Operator,
            },
            expires_at: r.opt_n("expires_at")?,
            dialect: match r.opt_s("dialect")? {
                Some(json) => serde_json::from_str(&json).map_err(|_| malformed("dialect"))?,
                None => Dialect::default(),
            },
        })
    }
}

impl From<&ApiKey> for Item {
    fn from(k: &ApiKey) -> Self {
        Builder::new(api_key_key(&k.id))
            .s("digest", &k.digest)
            .s("client_id", &k.client_id)
            .opt_s("username", k.username.as_deref())
            .opt_s("sub", k.sub.as_deref())
            .list("scopes", k.scope.iter().map(str::to_owned))
            .n("created_at", k.created_at)
            .n("expires_at", k.expires_at)
            .opt_n("last_used_at", k.last_used_at)
            .0
    }
}

impl TryFrom<&Item> for ApiKey {
    type Error = StoreError;
    fn try_from(item: &Item) -> Result<Self, StoreError> {
        let r = Reader(item);
        Ok(ApiKey {
            id: r.sk()?,
            digest: r.s("digest")?,
            client_id: r.s("client_id")?,
            username: r.opt_s("username")?,
            sub: r.opt_s("sub")?,
            scope: Scope::from_tokens(r.strings("scopes")?.iter().map(String::as_str)),
            created_at: r.n("created_at")?,
            expires_at: r.n("expires_at")?,
            last_used_at: r.opt_n("last_used_at")?,
        })
    }
}

impl From<&Resource> for Item {
    fn from(r: &Resource) -> Self {
        Builder::new(resource_key(&r.uri))
            .list("scopes", r.scopes.iter().map(str::to_owned))
            .list("clients", r.clients.iter().cloned())
            .n("created_at", r.created_at)
            .0
    }
}

impl TryFrom<&Item> for Resource {
    type Error = StoreError;
    fn try_from(item: &Item) -> Result<Self, StoreError> {
        let r = Reader(item);
        Ok(Resource {
            uri: r.sk()?,
            scopes: Scope::from_tokens(r.strings("scopes")?.iter().map(String::as_str)),
            clients: r.strings("clients")?,
            created_at: r.n("created_at")?,
        })
    }
}

impl From<&CodeRecord> for Item {
    fn from(c: &CodeRecord) -> Self {
        Builder::new(code_key(&c.digest))
            .s("client_id", &c.client_id)
            .s("redirect_uri", &c.redirect_uri)
            .b("redirect_uri_given", c.redirect_uri_given)
            .s("scope", &c.scope.to_string())
            .opt_s("username", c.username.as_deref())
            .s("sub", &c.sub)
            .opt_s("code_challenge", c.code_challenge.as_deref())
            .opt_s("nonce", c.nonce.as_deref())
            .opt_s("state", c.state.as_deref())
            .n("issued_at", c.issued_at)
            .n("valid_until", c.valid_until)
            .n("expires_at", c.expires_at)
            .opt_s("redeemed_grant", c.redeemed.as_ref().map(|r| r.grant_id.as_str()))
            .opt_s("consume_id", c.redeemed.as_ref().map(|r| r.consume_id.as_str()))
            .n("auth_time", c.auth_time)
            .amr(&c.amr)
            .opt_s("idp", c.idp.as_deref())
            .opt_s("upstream", c.upstream.as_deref())
            .opt_s("resource", c.resource.as_deref())
            .0
    }
}

/// The redemption recorded on a code item, if any.
pub fn redemption(item: &Item) -> Result<Option<Redemption>, StoreError> {
    let r = Reader(item);
    Ok(match (r.opt_s("redeemed_grant")?, r.opt_s("consume_id")?) {
        (Some(grant_id), Some(consume_id)) => Some(Redemption { grant_id, consume_id }),
        _ => None,
    })
}

impl TryFrom<&Item> for CodeRecord {
    type Error = StoreError;
    fn try_from(item: &Item) -> Result<Self, StoreError> {
        let r = Reader(item);
        let digest = r.s("pk")?.strip_prefix("CODE#").map(str::to_owned).ok_or_else(|| malformed("pk"))?;
        Ok(CodeRecord {
            digest,
            client_id: r.s("client_id")?,
            redirect_uri: r.s("redirect_uri")?,
            redirect_uri_given: r.b("redirect_uri_given")?,
            scope: Scope::from_stored(&r.s("scope")?),
            username: r.opt_s("username")?,
            sub: r.s("sub")?,
            code_challenge: r.opt_s("code_challenge")?,
            nonce: r.opt_s("nonce")?,
            state: r.opt_s("state")?,
            issued_at: r.n("issued_at")?,
            valid_until: r.n("valid_until")?,
            expires_at: r.n("expires_at")?,
            redeemed: redemption(item)?,
            auth_time: r.opt_n("auth_time")?.unwrap_or(0),
            amr: r.amr()?,
            idp: r.opt_s("idp")?,
            upstream: r.opt_s("upstream")?,
            resource: r.opt_s("resource")?,
        })
    }
}

impl From<&Grant> for Item {
    fn from(g: &Grant) -> Self {
        Builder::new(grant_key(&g.grant_id))
            .s("client_id", &g.client_id)
            .opt_s("username", g.username.as_deref())
            .s("sub", &g.sub)
            .s("scope", &g.scope.to_string())
            .opt_s("refresh_digest", g.refresh_digest.as_deref())
            .list("retired", g.retired_digests.iter().cloned())
            .n("refresh_expires_at", g.refresh_expires_at)
            .b("revoked", g.revoked)
            .n("created_at", g.created_at)
            .n("expires_at", g.expires_at)
            .n("auth_time", g.auth_time)
            .amr(&g.amr)
            .opt_s("idp", g.idp.as_deref())
            .opt_s("upstream", g.upstream.as_deref())
            .opt_s("resource", g.resource.as_deref())
            .opt_s(
                "last_rotation",
                g.last_rotation.as_ref().and_then(|l| serde_json::to_string(l).ok()).as_deref(),
            )
            .0
    }
}

impl TryFrom<&Item> for Grant {
    type Error = StoreError;
    fn try_from(item: &Item) -> Result<Self, StoreError> {
        let r = Reader(item);
        let grant_id = r.s("pk")?.strip_prefix("GRANT#").map(str::to_owned).ok_or_else(|| malformed("pk"))?;
        Ok(Grant {
            grant_id,
            client_id: r.s("client_id")?,
            username: r.opt_s("username")?,
            sub: r.s("sub")?,
            scope: Scope::from_stored(&r.s("scope")?),
            // Grants written before refresh digests were optional say "none".
            refresh_digest: r.opt_s("refresh_digest")?.filter(|d| d != "none"),
            retired_digests: r.strings("retired")?,
            refresh_expires_at: r.n("refresh_expires_at")?,
            revoked: r.b("revoked")?,
            created_at: r.n("created_at")?,
            expires_at: r.n("expires_at")?,
            auth_time: r.opt_n("auth_time")?.unwrap_or(0),
            amr: r.amr()?,
            idp: r.opt_s("idp")?,
            upstream: r.opt_s("upstream")?,
            resource: r.opt_s("resource")?,
            last_rotation: match r.opt_s("last_rotation")? {
                Some(json) => Some(serde_json::from_str(&json).map_err(|_| malformed("last_rotation"))?),
                None => None,
            },
        })
    }
}

impl From<&AccessTokenRecord> for Item {
    fn from(a: &AccessTokenRecord) -> Self {
        Builder::new(access_key(&a.digest))
            .opt_s("grant_id", a.grant_id.as_deref())
            .s("client_id", &a.client_id)
            .opt_s("username", a.username.as_deref())
            .opt_s("sub", a.sub.as_deref())
            .s("scope", &a.scope.to_string())
            .n("issued_at", a.issued_at)
            .n("expires_at", a.expires_at)
            .opt_s("audience", a.audience.as_deref())
            .opt_s("kind", (a.kind != AccessTokenKind::Opaque).then(|| a.kind.as_str()))
            .0
    }
}

impl TryFrom<&Item> for AccessTokenRecord {
    type Error = StoreError;
    fn try_from(item: &Item) -> Result<Self, StoreError> {
        let r = Reader(item);
        let digest = r.s("pk")?.strip_prefix("AT#").map(str::to_owned).ok_or_else(|| malformed("pk"))?;
        Ok(AccessTokenRecord {
            digest,
            grant_id: r.opt_s("grant_id")?,
            client_id: r.s("client_id")?,
            username: r.opt_s("username")?,
            sub: r.opt_s("sub")?,
            scope: Scope::from_stored(&r.s("scope")?),
            issued_at: r.n("issued_at")?,
            expires_at: r.n("expires_at")?,
            audience: r.opt_s("audience")?,
            kind: match r.opt_s("kind")? {
                Some(k) => AccessTokenKind::parse(&k).ok_or_else(|| malformed("kind"))?,
                None => AccessTokenKind::default(),
            },
        }
        .with_legacy_kind())
    }
}
