//! The user known from the request itself, before any handler runs: a
//! closure of the application's, or (opt-in) the `sub` claim of a bearer
//! JWT, read WITHOUT verifying its signature.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::request::Parts;

/// The longest token looked at: a JWT in a header is far shorter.
const MAX_TOKEN: usize = 8 * 1024;

/// The `sub` claim of `Authorization: Bearer <jwt>`, decoded without
/// verification: anyone can write any `sub` into an unsigned or forged
/// token, so this names who the request *claims* to come from. A `sub`
/// that is a number is written as its digits; anything else is `None`.
pub(crate) fn jwt_sub(parts: &Parts) -> Option<String> {
    let value = parts
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.len() > MAX_TOKEN {
        return None;
    }
    let mut segments = token.trim().split('.');
    let (_header, payload, _signature) = (segments.next()?, segments.next()?, segments.next()?);
    if segments.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    match claims.get("sub")? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(auth: &str) -> Parts {
        http::Request::builder()
            .header("authorization", auth)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    fn jwt(claims: &str) -> String {
        let enc = |s: &str| URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", enc(r#"{"alg":"none"}"#), enc(claims))
    }

    #[test]
    fn sub_is_read_from_a_bearer_jwt() {
        let p = parts(&format!("Bearer {}", jwt(r#"{"sub":"alice"}"#)));
        assert_eq!(jwt_sub(&p).as_deref(), Some("alice"));
        let p = parts(&format!("bearer {}", jwt(r#"{"sub":42}"#)));
        assert_eq!(jwt_sub(&p).as_deref(), Some("42"));
        for bad in [
            format!("Basic {}", jwt(r#"{"sub":"alice"}"#)),
            format!("Bearer {}", jwt(r#"{"name":"alice"}"#)),
            format!("Bearer {}", jwt(r#"{"sub":{"x":1}}"#)),
            "Bearer not-a-jwt".to_owned(),
            "Bearer a.!!!.c".to_owned(),
            "Bearer".to_owned(),
        ] {
            assert_eq!(jwt_sub(&parts(&bad)), None, "{bad}");
        }
    }
}
