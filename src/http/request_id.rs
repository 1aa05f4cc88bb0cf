//! The request id (an incoming `x-request-id` when it is sane, else a new
//! UUIDv7).

use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderName, HeaderValue};

/// `x-request-id`, the header the id is read from and echoed in (a
/// constant: no name parsed per request).
pub(crate) const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest incoming request id kept.
pub(crate) const MAX_LEN: usize = 128;

/// Whether an incoming id can be kept as it is: 1 to [`MAX_LEN`] bytes of
/// `[A-Za-z0-9._:-]`, nothing a log reader or a header could trip on.
pub(crate) fn is_sane(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// The request id, as the header value echoed on the response: the
/// incoming value itself when it is sane (no copy), else a new UUIDv7 (the
/// crate's event-id code).
/// Also says whether the id is new (made here, not the client's).
pub(crate) fn pick_header(incoming: Option<&HeaderValue>) -> (HeaderValue, bool) {
    match incoming {
        Some(id) if is_sane(id.as_bytes()) => (id.clone(), false),
        // Hex digits and hyphens: always a valid header value.
        _ => (
            HeaderValue::from_bytes(&fresh()).unwrap_or(HeaderValue::from_static("invalid")),
            true,
        ),
    }
}

/// A new UUIDv7, hyphenated, lower case.
fn fresh() -> [u8; uuid::fmt::Hyphenated::LENGTH] {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    crate::event_id::at(since)
        .hyphenated()
        .encode_lower(&mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`pick_header`] over raw bytes, as text.
    fn pick(incoming: Option<&[u8]>) -> String {
        let incoming = incoming.and_then(|b| HeaderValue::from_bytes(b).ok());
        let (picked, made) = pick_header(incoming.as_ref());
        assert_eq!(made, !incoming.is_some_and(|id| is_sane(id.as_bytes())));
        String::from_utf8_lossy(picked.as_bytes()).into_owned()
    }

    #[test]
    fn sane_ids_are_kept_and_others_replaced() {
        assert_eq!(pick(Some(b"req-1.a_b:c")), "req-1.a_b:c");
        for hostile in [
            &b""[..],
            b"a b",
            b"a\nb",
            b"<script>",
            b"\"quoted\"",
            "é".as_bytes(),
            &[b'a'; 129],
        ] {
            let id = pick(Some(hostile));
            assert_ne!(id.as_bytes(), hostile);
            let uuid = uuid::Uuid::parse_str(&id).unwrap();
            assert_eq!(uuid.get_version_num(), 7);
        }
        assert_eq!(pick(Some(&[b'a'; 128])).len(), 128);
        assert_eq!(pick(None).len(), 36);
    }
}
