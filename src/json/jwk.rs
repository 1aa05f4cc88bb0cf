//! The private members of a JSON Web Key, masked once its object is
//! written: text read as it comes may give `d` before `kty`.

use super::transcode::{Keys, Member};
use super::write::plain_string;
use super::Opts;
use crate::redact::Policy;

/// The key every JSON Web Key has.
pub(super) const KTY: &str = "kty";

/// Rewrites the object written from `open` on with the values of its
/// private JWK members (`d`, `p`, `k` …) masked, when it has a `kty`
/// member; the members' value ranges follow.
pub(super) fn mask_private<K>(
    out: &mut String,
    open: usize,
    members: &mut [Member<K>],
    keys: &impl Keys<K>,
    opts: &Opts<'_>,
) -> std::fmt::Result {
    let is_jwk = opts.policy.masks_jwks()
        && members.iter().any(|m| keys.key(&m.key) == KTY)
        && members
            .iter()
            .any(|m| Policy::is_jwk_private(keys.key(&m.key)));
    if !is_jwk {
        return Ok(());
    }
    let mut object = String::with_capacity(out.len() - open);
    let mut last = open;
    for member in members.iter_mut() {
        object.push_str(&out[last..member.value.start]);
        let start = open + object.len();
        if Policy::is_jwk_private(keys.key(&member.key)) {
            plain_string(&mut object, opts.policy.mask())?;
            member.cut = false;
        } else {
            object.push_str(&out[member.value.clone()]);
        }
        last = member.value.end;
        member.value = start..open + object.len();
    }
    object.push_str(&out[last..]);
    out.truncate(open);
    out.push_str(&object);
    Ok(())
}
