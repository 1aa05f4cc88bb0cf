//! The headers a record needs, kept as text from the moment they are seen
//! (the request's at the call, the response's when it comes): names and
//! values back to back in one string, where a cloned `HeaderMap` took two
//! allocations and a reference count for every value, and as much again to
//! drop.

use std::borrow::Cow;

use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::HeaderMap;
use smallvec::SmallVec;

use super::capture::{self, Shape};

/// Header names (lower case, as `http` keeps them) and values (lossy
/// UTF-8), in the order the map gives them.
#[derive(Debug, Default)]
pub(crate) struct HeaderTexts {
    text: String,
    /// Where each name and each value ends in `text`.
    ends: SmallVec<[(usize, usize); 16]>,
    /// The pair of the first `content-type` and whether its value is
    /// visible ASCII (noted while the map is read: no lookup later).
    content_type: Option<(usize, bool)>,
    /// The pair of the first `content-encoding`.
    content_encoding: Option<usize>,
}

impl HeaderTexts {
    pub(crate) fn new(headers: &HeaderMap) -> HeaderTexts {
        // One pass over the map: room for the usual header, grown if
        // the headers are longer.
        let mut text = String::with_capacity(headers.len() * 48);
        let mut ends = SmallVec::with_capacity(headers.len());
        let (mut content_type, mut content_encoding) = (None, None);
        for (name, value) in headers {
            // Standard names compare as enum tags.
            if content_type.is_none() && name == CONTENT_TYPE {
                content_type = Some((ends.len(), value.to_str().is_ok()));
            } else if content_encoding.is_none() && name == CONTENT_ENCODING {
                content_encoding = Some(ends.len());
            }
            text.push_str(name.as_str());
            let name_end = text.len();
            // Nearly every value is ASCII: checked in one pass.
            match std::str::from_utf8(value.as_bytes()) {
                Ok(value) => text.push_str(value),
                Err(_) => text.push_str(&String::from_utf8_lossy(value.as_bytes())),
            }
            ends.push((name_end, text.len()));
        }
        HeaderTexts {
            text,
            ends,
            content_type,
            content_encoding,
        }
    }

    /// The value of pair `i`.
    fn value(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1].1 };
        &self.text[start..self.ends[i].1][self.ends[i].0 - start..]
    }

    /// Whether the headers say gRPC (`content-type: application/grpc…`).
    pub(crate) fn is_grpc(&self) -> bool {
        self.content_type
            .is_some_and(|(i, _)| self.value(i).starts_with("application/grpc"))
    }

    /// How the body these headers describe is recorded (see
    /// [`capture::shape`]); `grpc` bodies are always binary.
    pub(crate) fn shape(&self, grpc: bool) -> Shape {
        // A type that is not visible ASCII reads as no readable type.
        let content_type = self
            .content_type
            .map(|(i, visible)| if visible { self.value(i) } else { "" });
        capture::shape(
            content_type,
            self.content_encoding.map(|i| self.value(i)),
            grpc,
        )
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut start = 0;
        self.ends.iter().map(move |&(name_end, value_end)| {
            let pair = (&self.text[start..name_end], &self.text[name_end..value_end]);
            start = value_end;
            pair
        })
    }

    /// The first value of `name` (lower case).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The pairs as the record takes them. A `grpc-message` (a
    /// trailers-only gRPC answer's) is decoded as the record's
    /// `grpc_message` is: percent-encoded, its secrets (`Bearer%20…`)
    /// would pass the scanner unseen.
    pub(crate) fn pairs(&self) -> SmallVec<[(&str, Cow<'_, str>); 16]> {
        self.iter()
            .map(|(n, v)| {
                if n == "grpc-message" && v.contains('%') {
                    (
                        n,
                        percent_encoding::percent_decode_str(v).decode_utf8_lossy(),
                    )
                } else {
                    (n, Cow::Borrowed(v))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_in_order_repeats_kept_bytes_lossy() {
        let mut map = HeaderMap::new();
        map.append("content-type", "application/json".parse().unwrap());
        map.append("x-twice", "a".parse().unwrap());
        map.append("x-twice", "b".parse().unwrap());
        map.append("x-empty", "".parse().unwrap());
        map.append(
            "x-latin1",
            http::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
        );
        let texts = HeaderTexts::new(&map);
        let pairs: Vec<(&str, String)> = texts
            .pairs()
            .into_iter()
            .map(|(n, v)| (n, v.into_owned()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("content-type", "application/json".to_owned()),
                ("x-twice", "a".to_owned()),
                ("x-twice", "b".to_owned()),
                ("x-empty", String::new()),
                ("x-latin1", "caf\u{fffd}".to_owned()),
            ]
        );
        assert_eq!(texts.get("x-twice"), Some("a"));
        assert_eq!(texts.get("x-empty"), Some(""));
        assert_eq!(texts.get("x-none"), None);
        assert!(HeaderTexts::default().pairs().is_empty());
    }
}
