//! The headers of an outbound call kept for its record: names and values
//! copied as text into one buffer (two allocations), instead of a clone of
//! the `HeaderMap` (its tables plus one shared copy of each value), since
//! the map itself goes on to reqwest (the request's) or to the caller (the
//! response's).

use std::borrow::Cow;

use http::HeaderMap;

/// Header names and values as text, in the map's order.
#[derive(Debug, Default)]
pub(crate) struct HeaderTexts {
    text: String,
    /// Where each name ends and where its value ends, in `text`.
    ends: Vec<(usize, usize)>,
}

impl HeaderTexts {
    /// The text of `headers` (values that are not UTF-8, lossily).
    pub(crate) fn of(headers: &HeaderMap) -> HeaderTexts {
        let size = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        let mut texts = HeaderTexts {
            text: String::with_capacity(size),
            ends: Vec::with_capacity(headers.len()),
        };
        for (name, value) in headers {
            texts.text.push_str(name.as_str());
            let name_end = texts.text.len();
            // Nearly every value is ASCII: checked in one pass.
            match std::str::from_utf8(value.as_bytes()) {
                Ok(value) => texts.text.push_str(value),
                Err(_) => texts
                    .text
                    .push_str(&String::from_utf8_lossy(value.as_bytes())),
            }
            texts.ends.push((name_end, texts.text.len()));
        }
        texts
    }

    /// The pairs, as the record takes them.
    pub(crate) fn pairs(&self) -> Vec<(&str, Cow<'_, str>)> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&(name_end, value_end)| {
                let pair = (
                    &self.text[start..name_end],
                    Cow::Borrowed(&self.text[name_end..value_end]),
                );
                start = value_end;
                pair
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn pairs_are_the_maps_in_order_with_repeats_and_lossy_values() {
        let mut map = HeaderMap::new();
        map.insert("content-type", HeaderValue::from_static("application/json"));
        map.append("x-tag", HeaderValue::from_static("a"));
        map.append("x-tag", HeaderValue::from_static("b"));
        map.insert("x-empty", HeaderValue::from_static(""));
        map.insert("x-bytes", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        let texts = HeaderTexts::of(&map);
        let pairs = texts.pairs();
        let got: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (*n, v.as_ref())).collect();
        assert_eq!(
            got,
            [
                ("content-type", "application/json"),
                ("x-tag", "a"),
                ("x-tag", "b"),
                ("x-empty", ""),
                ("x-bytes", "caf\u{fffd}"),
            ]
        );
        assert!(HeaderTexts::of(&HeaderMap::new()).pairs().is_empty());
    }
}
