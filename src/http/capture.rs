//! What a captured body is recorded as: JSON as JSON, a form as an object,
//! text as text, and anything else (compressed, not UTF-8, protobuf,
//! octet-stream, images) as `"[binary N bytes]"`.

use crate::record::request::Payload;

/// How a body is recorded, from its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Json,
    Form,
    Text,
    Binary,
}

/// The shape of a body from its `content-type` and `content-encoding`
/// (as text; a type that is not visible ASCII given as `""`); `grpc`
/// bodies are always binary.
pub(crate) fn shape(content_type: Option<&str>, encoding: Option<&str>, grpc: bool) -> Shape {
    if grpc {
        return Shape::Binary;
    }
    if let Some(enc) = encoding {
        if !enc.eq_ignore_ascii_case("identity") && !enc.is_empty() {
            return Shape::Binary;
        }
    }
    let Some(ct) = content_type else {
        // No type: text if it is UTF-8 (checked when represented).
        return Shape::Text;
    };
    // The usual type, as clients write it: no parsing.
    if ct == "application/json" {
        return Shape::Json;
    }
    // Compared without case and without a lower-cased copy.
    let mime = ct.trim().split(';').next().unwrap_or("").trim().as_bytes();
    let (kind, sub) = match mime.iter().position(|&b| b == b'/') {
        Some(slash) => (&mime[..slash], &mime[slash + 1..]),
        None => (mime, &b""[..]),
    };
    let is = |part: &[u8], word: &str| part.eq_ignore_ascii_case(word.as_bytes());
    let ends =
        |suffix: &str| sub.len() >= suffix.len() && is(&sub[sub.len() - suffix.len()..], suffix);
    if is(sub, "json") || ends("+json") {
        Shape::Json
    } else if is(mime, "application/x-www-form-urlencoded") {
        Shape::Form
    } else if is(kind, "text")
        || is(sub, "xml")
        || ends("+xml")
        || is(sub, "javascript")
        || is(sub, "graphql")
        || is(sub, "x-ndjson")
    {
        Shape::Text
    } else {
        Shape::Binary
    }
}

/// The record of a body: `kept` is its first bytes (all of it unless
/// `cut`), `total` its size.
pub(crate) fn represent(shape: Shape, kept: &[u8], total: u64, cut: bool) -> Payload<'_> {
    if total == 0 {
        return Payload::Empty;
    }
    // NUL bytes: UTF-16 or UTF-32 text (declared or not) reads as UTF-8
    // with a NUL between letters, which hides every key and secret from
    // the scanner: recorded by its size like any other binary body.
    if shape == Shape::Binary || kept.contains(&0) {
        return Payload::Binary(total);
    }
    if shape == Shape::Json && !cut {
        // Parsed while it is written; text if it does not parse.
        return Payload::JsonText(kept);
    }
    let text = match std::str::from_utf8(kept) {
        Ok(t) => t,
        // Cut inside a character: the whole characters before it.
        Err(e) if cut && e.error_len().is_none() => {
            std::str::from_utf8(&kept[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return Payload::Binary(total),
    };
    // A form is read as one even when cut (its pairs up to the cut, the
    // last maybe partial): decoded, its keys and values are redacted as in
    // a whole form, where the encoded text (`session%5Fid=…`, a card
    // number with `+` between its groups) hides them from the scanner.
    if shape == Shape::Form {
        return Payload::Pairs(
            form_urlencoded::parse(text.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        );
    }
    Payload::Text(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::headers::HeaderTexts;
    use http::HeaderMap;

    fn h(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        m
    }

    fn shape(map: &HeaderMap, grpc: bool) -> Shape {
        HeaderTexts::new(map).shape(grpc)
    }

    fn is_grpc(map: &HeaderMap) -> bool {
        HeaderTexts::new(map).is_grpc()
    }

    #[test]
    fn shapes_from_headers() {
        assert_eq!(
            shape(&h(&[("content-type", "application/json")]), false),
            Shape::Json
        );
        assert_eq!(
            shape(&h(&[("content-type", " Application/JSON ")]), false),
            Shape::Json
        );
        assert_eq!(shape(&h(&[("accept", "text/plain")]), false), Shape::Text);
        // A type that is not visible ASCII reads as no readable type.
        let mut odd = HeaderMap::new();
        odd.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_bytes(b"text/plain; charset=\xe9").unwrap(),
        );
        assert_eq!(shape(&odd, false), Shape::Binary);
        assert_eq!(
            shape(
                &h(&[
                    ("content-encoding", "identity"),
                    ("content-type", "text/csv")
                ]),
                false
            ),
            Shape::Text
        );
        assert_eq!(
            shape(
                &h(&[("content-type", "application/json; charset=utf-8")]),
                false
            ),
            Shape::Json
        );
        assert_eq!(
            shape(&h(&[("content-type", "application/problem+json")]), false),
            Shape::Json
        );
        assert_eq!(
            shape(
                &h(&[("content-type", "application/x-www-form-urlencoded")]),
                false
            ),
            Shape::Form
        );
        assert_eq!(
            shape(&h(&[("content-type", "text/event-stream")]), false),
            Shape::Text
        );
        assert_eq!(
            shape(&h(&[("content-type", "application/octet-stream")]), false),
            Shape::Binary
        );
        assert_eq!(
            shape(&h(&[("content-type", "application/x-protobuf")]), false),
            Shape::Binary
        );
        assert_eq!(
            shape(
                &h(&[
                    ("content-type", "application/json"),
                    ("content-encoding", "gzip")
                ]),
                false
            ),
            Shape::Binary
        );
        assert_eq!(
            shape(&h(&[("content-type", "application/json")]), true),
            Shape::Binary
        );
        assert!(is_grpc(&h(&[("content-type", "application/grpc+proto")])));
        assert!(!is_grpc(&h(&[("content-type", "application/json")])));
    }

    #[test]
    fn bodies_are_represented_by_shape() {
        assert!(matches!(
            represent(Shape::Json, br#"{"a":1}"#, 7, false),
            Payload::JsonText(_)
        ));
        assert!(
            matches!(represent(Shape::Json, br#"{"a":"#, 100, true), Payload::Text(t) if t == r#"{"a":"#)
        );
        match represent(Shape::Form, b"a=1&b=x+y", 9, false) {
            Payload::Pairs(p) => assert_eq!(
                p,
                vec![("a".into(), "1".into()), ("b".into(), "x y".into())]
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            represent(Shape::Text, &[0xff, 0xfe], 2, false),
            Payload::Binary(2)
        ));
        // Cut inside the two bytes of `é`: the text before it.
        assert!(
            matches!(represent(Shape::Text, &[b'a', 0xc3], 3, true), Payload::Text(t) if t == "a")
        );
        // UTF-16 text: NULs between its letters.
        assert!(matches!(
            represent(Shape::Text, b"p\0w\0=\0x\0", 8, false),
            Payload::Binary(8)
        ));
        assert!(matches!(
            represent(Shape::Binary, b"abc", 3, false),
            Payload::Binary(3)
        ));
        assert!(matches!(
            represent(Shape::Json, b"", 0, false),
            Payload::Empty
        ));
    }
}
