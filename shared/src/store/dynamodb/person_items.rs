//! People's items on DynamoDB, both ways: a person (`PERSON / <sub>`), a
//! credential (`CRED#<sub> / <kind>:<id>`), and a person as an earlier
//! release kept them (`USER / <username>`, the password on the same item).

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::item::{self, Builder, Item, Reader, malformed};
use crate::domain::{Credential, CredentialData, User};
use crate::store::StoreError;

impl From<&User> for Item {
    fn from(u: &User) -> Self {
        Builder::new(item::person_key(&u.sub))
            .opt_s("username", u.username.as_deref())
            .opt_s("email", u.email.as_deref())
            .opt_s("name", u.name.as_deref())
            .b("disabled", u.disabled)
            .n("created_at", u.created_at)
            .n("epoch", u.epoch)
            .b("email_verified", u.email_verified)
            .n("tokens_revoked_at", u.tokens_revoked_at)
            .opt_s("upstream", upstream_json(u).as_deref())
            .opt_s("passkey_user", u.passkey_user.as_deref())
            .0
    }
}

/// The person's linked upstream identities as one JSON attribute (absent
/// when there are none, as on every record of an earlier release).
fn upstream_json(u: &User) -> Option<String> {
    if u.upstream.is_empty() { None } else { serde_json::to_string(&u.upstream).ok() }
}

impl TryFrom<&Item> for User {
    type Error = StoreError;
    fn try_from(item: &Item) -> Result<Self, StoreError> {
        let r = Reader(item);
        Ok(User {
            sub: r.sk()?,
            username: r.opt_s("username")?,
            email: r.opt_s("email")?,
            name: r.opt_s("name")?,
            disabled: r.b("disabled")?,
            created_at: r.n("created_at")?,
            epoch: r.opt_n("epoch")?.unwrap_or(0),
            // Absent on a record of an earlier release: the operator set the address.
            email_verified: r.opt_b("email_verified")?.unwrap_or(true),
            tokens_revoked_at: r.opt_n("tokens_revoked_at")?.unwrap_or(0),
            upstream: match r.opt_s("upstream")? {
                Some(json) => serde_json::from_str(&json).map_err(|_| malformed("upstream"))?,
                None => Vec::new(),
            },
            passkey_user: r.opt_s("passkey_user")?,
        })
    }
}

impl From<&Credential> for Item {
    fn from(c: &Credential) -> Self {
        Builder::new(item::credential_key(c))
            .s("sub", &c.sub)
            .s("id", &c.id)
            .s("data", &serde_json::to_string(&c.data).unwrap_or_default())
            .n("created_at", c.created_at)
            .0
    }
}

impl TryFrom<&Item> for Credential {
    type Error = StoreError;
    fn try_from(item: &Item) -> Result<Self, StoreError> {
        let r = Reader(item);
        let data: CredentialData = serde_json::from_str(&r.s("data")?).map_err(|_| malformed("data"))?;
        Ok(Credential { sub: r.s("sub")?, id: r.s("id")?, data, created_at: r.n("created_at")? })
    }
}

/// A legacy item as the person and password it holds.
pub(super) fn legacy(item: &Item) -> Result<(User, Credential), StoreError> {
    let r = Reader(item);
    let person = User {
        sub: r.s("sub")?,
        username: Some(r.sk()?),
        email: r.opt_s("email")?,
        name: r.opt_s("name")?,
        disabled: r.b("disabled")?,
        created_at: r.n("created_at")?,
        // Sessions of the earlier release were bound to the sign-outs count.
        epoch: r.opt_n("sign_outs")?.unwrap_or(0),
        email_verified: true,
        tokens_revoked_at: 0,
        upstream: vec![],
        passkey_user: None,
    };
    let password = Credential::password(&person.sub, r.s("password_hash")?, person.created_at);
    Ok((person, password))
}

impl super::DynamoStore {
    /// A put of `person` that holds only if the stored record's epoch is
    /// still `read_epoch`: no sign-out, reset or disabling since it was read.
    /// A record without an epoch reads as epoch 0, so it holds at 0.
    pub(super) fn put_at_epoch(
        &self,
        person: &User,
        read_epoch: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let condition = match read_epoch {
            0 => "attribute_exists(pk) AND (#epoch = :epoch OR attribute_not_exists(#epoch))",
            _ => "attribute_exists(pk) AND #epoch = :epoch",
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(person.into()))
            .condition_expression(condition)
            .expression_attribute_names("#epoch", "epoch")
            .expression_attribute_values(":epoch", AttributeValue::N(read_epoch.to_string()))
            .build()
            .map_err(super::people::build_err)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}
