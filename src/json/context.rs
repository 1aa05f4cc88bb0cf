//! Members secret by their neighbours (a JSON Web Key's `d` next to its
//! `kty`, OAuth's `code` next to `grant_type`: see
//! [`Policy::secret_members`](crate::redact::Policy::secret_members)),
//! masked once their object is written: text read as it comes may give
//! `d` before `kty`.

use super::transcode::{Keys, Member};
use super::write::plain_string;
use super::Opts;

/// Rewrites the object written from `open` on with the values of its
/// members secret by their neighbours masked; the members' value ranges
/// follow.
pub(super) fn mask_private<K>(
    out: &mut String,
    open: usize,
    members: &mut [Member<K>],
    keys: &impl Keys<K>,
    opts: &Opts<'_>,
) -> std::fmt::Result {
    if members.len() < 2 {
        return Ok(());
    }
    let secret = opts
        .policy
        .secret_members(members.iter().map(|m| keys.key(&m.key)));
    if !secret.any() || !members.iter().any(|m| secret.has(keys.key(&m.key))) {
        return Ok(());
    }
    let mut object = String::with_capacity(out.len() - open);
    let mut last = open;
    for member in members.iter_mut() {
        object.push_str(&out[last..member.value.start]);
        let start = open + object.len();
        if secret.has(keys.key(&member.key)) {
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
