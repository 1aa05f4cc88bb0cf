//! JSON text written as a record value straight from its bytes, with no
//! `serde_json::Value` in between: [`json_text`].
//!
//! The output is exactly what [`value`](super::value) writes for the
//! `Value` the text parses into, so a captured body reads the same either
//! way: keys sorted (the order of `Value`'s map), a repeated key's last
//! value kept, secret keys masked, string values scanned and capped,
//! numbers as `Value` holds them, values nested deeper than the limit
//! replaced by the depth marker. Text that `Value` would not accept (bad
//! syntax, a number out of range, invalid UTF-8 in a string, nesting past
//! `serde_json`'s recursion limit, trailing characters) is refused with
//! nothing written, since the parsing is `serde_json`'s own.
//!
//! Members are written as they are read. An object whose keys did not
//! arrive in ascending order, or with a key repeated, is put in order
//! afterwards from the written members (their values are not written
//! twice); most objects need no such pass.

use std::borrow::Cow;
use std::fmt::{self, Write};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::write::{data_key, float, int, plain_string, value_string, CutKeys};
use super::Opts;
use crate::nesting::DEPTH_MARKER;

/// Appends the JSON text `bytes` to `out` as [`value`](super::value)
/// would write it once parsed; `false`, with `out` as it was, if it is not
/// JSON that `serde_json::Value` accepts.
pub(crate) fn json_text(out: &mut String, bytes: &[u8], opts: &Opts<'_>) -> bool {
    let start = out.len();
    let truncated = opts.truncated.get();
    // Most bodies are read by the crate's own reader in one pass; what it
    // gives up on is read here by `serde_json`.
    if super::quick::write(out, bytes, opts).is_ok() {
        return true;
    }
    out.truncate(start);
    opts.truncated.set(truncated);
    through_serde(out, bytes, opts)
}

/// [`json_text`] read by `serde_json` alone.
pub(crate) fn through_serde(out: &mut String, bytes: &[u8], opts: &Opts<'_>) -> bool {
    let start = out.len();
    let truncated = opts.truncated.get();
    let mut members = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let written = Emit {
        out,
        opts,
        room: opts.value_depth,
        members: &mut members,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if written.is_err() {
        out.truncate(start);
        opts.truncated.set(truncated);
        return false;
    }
    true
}

/// One member of an object being written: its key (`K`: the key itself,
/// or where it lies in the text), where its value's text lies in the
/// output, and whether writing that value cut anything.
pub(super) struct Member<K> {
    pub(super) key: K,
    pub(super) value: std::ops::Range<usize>,
    pub(super) cut: bool,
}

/// How the text of a [`Member`]'s key is found.
pub(super) trait Keys<K> {
    fn key<'a>(&'a self, key: &'a K) -> &'a str;
}

/// Keys held by the members themselves.
struct Held;

impl Keys<Cow<'_, str>> for Held {
    fn key<'a>(&'a self, key: &'a Cow<'_, str>) -> &'a str {
        key
    }
}

/// Writes the value it is given into `out`.
struct Emit<'a, 'o, 'de> {
    out: &'a mut String,
    opts: &'a Opts<'o>,
    /// Levels the value may still open (see [`value_at`](super::value_at)).
    room: usize,
    /// The members of the objects open around this value, innermost last.
    members: &'a mut Vec<Member<Cow<'de, str>>>,
}

fn failed<E: de::Error>(_: fmt::Error) -> E {
    E::custom("write failed")
}

impl<'de> DeserializeSeed<'de> for Emit<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Emit<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.out.push_str("null");
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        int(self.out, v).map_err(failed)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        int(self.out, v).map_err(failed)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // `Value` holds a non-finite float as `null`, as `float` writes it.
        float(self.out, v).map_err(failed)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        value_string(self.out, v, self.opts).map_err(failed)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.room == 0 {
            return too_deep(self.out, self.opts, Check.visit_seq(seq));
        }
        self.out.push('[');
        let mut first = true;
        loop {
            let start = self.out.len();
            if !std::mem::take(&mut first) {
                self.out.push(',');
            }
            let element = Emit {
                out: &mut *self.out,
                opts: self.opts,
                room: self.room - 1,
                members: &mut *self.members,
            };
            if seq.next_element_seed(element)?.is_none() {
                self.out.truncate(start);
                break;
            }
        }
        self.out.push(']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.room == 0 {
            return too_deep(self.out, self.opts, Check.visit_map(map));
        }
        let Emit {
            out,
            opts,
            room,
            members,
        } = self;
        out.push('{');
        let open = out.len();
        let outer_cut = opts.truncated.get();
        let base = members.len();
        let mut in_order = true;
        let (mut first, mut cut_keys) = (true, CutKeys::new());
        while let Some(key) = map.next_key_seed(Key)? {
            if members.len() > base && members[members.len() - 1].key >= key {
                in_order = false;
            }
            data_key(out, &mut first, &key, opts, &mut cut_keys).map_err(failed)?;
            let start = out.len();
            let before = opts.truncated.replace(false);
            if opts.policy.is_secret_key(&key) {
                map.next_value_seed(Check)?;
                plain_string(out, opts.policy.mask()).map_err(failed)?;
            } else {
                map.next_value_seed(Emit {
                    out: &mut *out,
                    opts,
                    room: room - 1,
                    members: &mut *members,
                })?;
            }
            let cut = opts.truncated.get();
            opts.truncated.set(before || cut);
            members.push(Member {
                key,
                value: start..out.len(),
                cut,
            });
        }
        super::context::mask_private(out, open, &mut members[base..], &Held, opts)
            .map_err(failed)?;
        if !in_order {
            reorder(out, open, &mut members[base..], &Held, opts, outer_cut).map_err(failed)?;
        }
        members.truncate(base);
        out.push('}');
        Ok(())
    }
}

/// Rewrites the members of the object written from `open` on in the
/// order of their keys, each key once with its last value, as `Value`'s
/// map holds them. Keys are written again (a cut key is numbered by its
/// place in the new order); the record's `truncated` mark is what the
/// kept members cut.
pub(super) fn reorder<K>(
    out: &mut String,
    open: usize,
    members: &mut [Member<K>],
    keys: &impl Keys<K>,
    opts: &Opts<'_>,
    outer_cut: bool,
) -> fmt::Result {
    // Stable: a repeated key's values stay in the order they came, and
    // the last is kept.
    members.sort_by(|a, b| keys.key(&a.key).cmp(keys.key(&b.key)));
    let mut object = String::with_capacity(out.len() - open);
    let (mut first, mut cut_keys) = (true, CutKeys::new());
    opts.truncated.set(outer_cut);
    for (i, member) in members.iter().enumerate() {
        if members
            .get(i + 1)
            .is_some_and(|next| keys.key(&next.key) == keys.key(&member.key))
        {
            continue;
        }
        data_key(
            &mut object,
            &mut first,
            keys.key(&member.key),
            opts,
            &mut cut_keys,
        )?;
        object.push_str(&out[member.value.clone()]);
        if member.cut {
            opts.truncated.set(true);
        }
    }
    out.truncate(open);
    out.push_str(&object);
    Ok(())
}

/// A container nested deeper than the limit: checked to the end (so that
/// text `Value` refuses is refused here too), written as the marker.
fn too_deep<E>(out: &mut String, opts: &Opts<'_>, checked: Result<(), E>) -> Result<(), E>
where
    E: de::Error,
{
    checked?;
    opts.truncated.set(true);
    plain_string(out, DEPTH_MARKER).map_err(failed)
}

/// An object key, borrowed from the text when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Reads a value without keeping it, accepting what `Value` accepts (a
/// float out of range is refused, which `IgnoredAny` would let by).
struct Check;

impl<'de> DeserializeSeed<'de> for Check {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Check)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Key)?.is_some() {
            map.next_value_seed(Check)?;
        }
        Ok(())
    }
}

/// Writes `bytes` through [`json_text`] into any writer (through a string
/// when it is not one); `false`, nothing written, if it is not JSON.
pub(crate) fn json_text_into<W: Write + ?Sized>(
    out: &mut W,
    bytes: &[u8],
    opts: &Opts<'_>,
) -> Result<bool, fmt::Error> {
    let mut text = String::new();
    if !json_text(&mut text, bytes, opts) {
        return Ok(false);
    }
    out.write_str(&text)?;
    Ok(true)
}

#[cfg(test)]
pub(super) mod tests {

    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;
    use crate::json::value;
    use crate::redact::Policy;

    /// The old way (parse to `Value`, write it) and the new, with a small
    /// cap and depth so that cuts happen: (output, truncated) each, `None`
    /// when refused.
    fn both(text: &[u8], cap: usize, depth: usize) -> [Option<(String, bool)>; 2] {
        let policy = Policy::default();
        let run = |new: bool| {
            let (out, truncated) = crate::json::with_own_opts(&policy, cap, depth, |opts| {
                let mut out = String::from("x");
                let ok = if new {
                    json_text(&mut out, text, opts)
                } else {
                    match serde_json::from_slice::<Value>(text) {
                        Ok(v) => value(&mut out, &v, opts).is_ok(),
                        Err(_) => false,
                    }
                };
                ok.then_some(out)
            });
            out.map(|out| (out, truncated))
        };
        [run(false), run(true)]
    }

    fn same(text: &[u8], cap: usize, depth: usize) {
        let [old, new] = both(text, cap, depth);
        assert_eq!(old, new, "{}", String::from_utf8_lossy(text));
    }

    #[test]
    fn writes_what_value_writes() {
        for text in [
            r#"{"b":1,"a":2}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":{"z":1,"y":[1,{"q":2,"p":3}]},"a":"last"}"#,
            r#"{"password":"hunter2","user":"bob"}"#,
            r#"{"password":[1e400]}"#,
            r#"{"k":"Bearer abcdefghijkl","n":-0,"f":1e2,"g":-1.5e-7,"big":123456789012345678901234}"#,
            r#"{"aaaaaaaaaaaa1":1,"aaaaaaaaaaaa2":{"x":"0123456789abcdef"},"aaaaaaaaaaaa1":3}"#,
            r#"{"\u0062":1,"a":"\n\"é"}"#,
            r#"[[[[1]]],{"a":{"b":{"c":1}}}]"#,
            r#"[[[[1e400]]]]"#,
            r#"  {"a" : [ ] , "b":{}}  "#,
            r#"{"a":1} x"#,
            r#"{"a":1,}"#,
            r#""only a string""#,
            "123",
            "",
            r#"{"a":"\ud800"}"#,
        ] {
            same(text.as_bytes(), 12, 3);
        }
        same(b"{\"a\":\"\xff\"}", 12, 3);
        let deep = "[".repeat(200) + &"]".repeat(200);
        same(deep.as_bytes(), 12, 3);
        let deep = "[".repeat(127) + &"]".repeat(127);
        same(deep.as_bytes(), 12, 300);
    }

    /// JSON text with keys in any order, repeated keys, secret keys and
    /// values, escapes, long keys and strings, deep nesting.
    pub(in crate::json) fn text() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            prop::sample::select(vec![
                "a",
                "b",
                "id",
                "name",
                "password",
                "token",
                "access",
                "é",
                "a\\\"b",
                "\\u0061",
                "kkkkkkkkkkkkkkkkkx",
                "kkkkkkkkkkkkkkkky",
                "api_key",
                "refresh"
            ])
            .prop_map(str::to_owned),
            "[a-z]{0,3}",
        ];
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:e}")),
            Just("1e400".to_owned()),
            Just("-0".to_owned()),
            Just("123456789012345678901234567890".to_owned()),
            prop::sample::select(vec![
                "\"x\"",
                "\"Bearer abcdefghijklmnop\"",
                "\"4111 1111 1111 1111\"",
                "\"tab\\there \\u00e9\"",
                "\"https://user:pw@host/p\"",
                "\"a long string value, longer than the cap\"",
                "\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln\"",
            ])
            .prop_map(str::to_owned),
        ];
        leaf.prop_recursive(6, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((key.clone(), inner), 0..6).prop_map(|m| {
                    let members: Vec<String> = m
                        .into_iter()
                        .map(|(k, v)| format!("\"{k}\" : {v}"))
                        .collect();
                    format!("{{ {} }}", members.join(" ,"))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn same_output_as_through_value(
            text in text(),
            cap in 4usize..40,
            depth in 1usize..8,
            cut in any::<prop::sample::Index>(),
            mutate in any::<bool>(),
        ) {
            let mut bytes = text.into_bytes();
            if mutate && !bytes.is_empty() {
                // Broken text: both refuse it, or both read it alike.
                bytes.truncate(cut.index(bytes.len()));
            }
            same(&bytes, cap, depth);
        }
    }
}
