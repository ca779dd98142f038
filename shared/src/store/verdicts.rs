//! What the stores' atomic writes decide, given the item as it stands: one
//! rule each, shared by every store (the DynamoDB one reads the item a
//! failed condition returned).

use super::{ConsumeOutcome, Issuance, RotateOutcome, Rotation};
use crate::domain::{AccessTokenRecord, CodeRecord, Grant};

/// What redeeming a code comes to, given the code as it stands, or `None`
/// when it may be redeemed now. Both stores decide with this, the DynamoDB
/// one from the item a failed condition returned.
pub(crate) fn redemption_verdict(code: &CodeRecord, issuance: &Issuance, now: i64) -> Option<ConsumeOutcome> {
    match &code.redeemed {
        // Our own earlier attempt succeeded (an SDK retry): not a replay.
        Some(r) if r.consume_id == issuance.consume_id => Some(ConsumeOutcome::Consumed),
        Some(r) => Some(ConsumeOutcome::Replayed { grant_id: r.grant_id.clone() }),
        None if code.valid_until <= now || code.expires_at <= now => Some(ConsumeOutcome::Invalid),
        None => None,
    }
}

/// The one rule for a live access token, given its unexpired record and
/// its grant as read: the token must name the grant it was stored with, and
/// that grant must still be there and not revoked.
pub fn access_token_is_live(
    at: &AccessTokenRecord,
    grant_id_in_token: Option<&str>,
    grant: Option<&Grant>,
) -> bool {
    if at.grant_id.as_deref() != grant_id_in_token {
        return false;
    }
    match &at.grant_id {
        None => true,
        Some(_) => grant.is_some_and(|g| !g.revoked),
    }
}

/// What presenting a rotation comes to, given the grant as it stands, or
/// `None` when it may rotate now.
pub(crate) fn rotation_verdict(grant: &Grant, rotation: &Rotation, now: i64) -> Option<RotateOutcome> {
    if grant.refresh_digest.as_deref() == Some(rotation.new_digest.as_str()) {
        // Our own earlier attempt succeeded (an SDK retry): not a reuse.
        return Some(RotateOutcome::Rotated);
    }
    if grant.revoked || grant.expires_at <= now {
        return Some(RotateOutcome::Invalid);
    }
    if grant.retired_digests.contains(&rotation.presented_digest) {
        return Some(RotateOutcome::Reused);
    }
    if grant.refresh_digest.as_deref() != Some(rotation.presented_digest.as_str())
        || grant.refresh_expires_at <= now
    {
        return Some(RotateOutcome::Invalid);
    }
    None
}
