//! The keys the filters look at, read from a record's JSON without
//! building it: strings are borrowed from the line when they have no
//! escapes, everything else is skipped (but still checked to be JSON).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::record::Kind;

/// The keys of one record that the filters use. A key the record does
/// not have, or has as `null`, an object or an array, is `None`; numbers
/// and booleans are kept as their text (`user_id: 7` is `"7"`).
#[derive(Debug, Default, PartialEq)]
pub struct View<'a> {
    /// `timestamp`.
    pub timestamp: Option<Cow<'a, str>>,
    /// `level`.
    pub level: Option<Cow<'a, str>>,
    /// `name` (the target).
    pub name: Option<Cow<'a, str>>,
    /// `model`.
    pub model: Option<Cow<'a, str>>,
    /// `event_type` (CRUD).
    pub event_type: Option<Cow<'a, str>>,
    /// `event` (login).
    pub event: Option<Cow<'a, str>>,
    /// `instance_id`.
    pub instance_id: Option<Cow<'a, str>>,
    /// `instance_ids` (bulk CRUD).
    pub instance_ids: Vec<Cow<'a, str>>,
    /// `user_id`.
    pub user_id: Option<Cow<'a, str>>,
    /// `request_id`.
    pub request_id: Option<Cow<'a, str>>,
    /// `tenant`.
    pub tenant: Option<Cow<'a, str>>,
    /// `client_ip` (login) or `request_repr.client_ip` (API).
    pub client_ip: Option<Cow<'a, str>>,
    /// `request_repr.method`.
    pub method: Option<Cow<'a, str>>,
    /// `request_repr.path`.
    pub path: Option<Cow<'a, str>>,
    /// `response_repr.status_code`.
    pub status: Option<Cow<'a, str>>,
}

impl<'a> View<'a> {
    /// Reads the keys out of one JSON line.
    pub fn parse(line: &'a [u8]) -> serde_json::Result<View<'a>> {
        serde_json::from_slice(line)
    }

    /// The record's kind: by its target (`name`), else by its `level`.
    pub fn kind(&self) -> Kind {
        if let Some(name) = &self.name {
            return Kind::of_target(name);
        }
        match self.level.as_deref() {
            Some("AUDIT") => Kind::Audit,
            Some("API") => Kind::Api,
            Some("LOGIN") => Kind::Login,
            _ => Kind::App,
        }
    }
}

/// A scalar as text; `None` for `null`, objects and arrays.
struct Text<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Borrowed(v))))
    }
    fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Owned(v.to_owned()))))
    }
    fn visit_string<E>(self, v: String) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Owned(v))))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Borrowed(if v { "true" } else { "false" }))))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_unit<E>(self) -> Result<Text<'de>, E> {
        Ok(Text(None))
    }
    fn visit_none<E>(self) -> Result<Text<'de>, E> {
        Ok(Text(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
}

/// An array's scalars as text (`instance_ids`); nothing for other values.
struct Texts<'a>(Vec<Cow<'a, str>>);

impl<'de> Deserialize<'de> for Texts<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Texts<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Texts<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(Text(item)) = seq.next_element::<Text<'de>>()? {
                    out.extend(item);
                }
                Ok(Texts(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Texts<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Texts(Vec::new()))
            }
            fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Texts<'de>, E> {
                Ok(Texts(Vec::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<Texts<'de>, E> {
                Ok(Texts(Vec::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Texts<'de>, E> {
                Ok(Texts(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Texts<'de>, E> {
                Ok(Texts(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Texts<'de>, E> {
                Ok(Texts(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Texts<'de>, E> {
                Ok(Texts(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<Texts<'de>, E> {
                Ok(Texts(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Which nested object is being read.
#[derive(Clone, Copy)]
enum Level {
    Top,
    Request,
    Response,
}

/// Reads one object's keys into the view; `Top` also descends into
/// `request_repr` and `response_repr`.
struct ObjectVisitor<'v, 'a> {
    view: &'v mut View<'a>,
    level: Level,
}

impl<'de> serde::de::DeserializeSeed<'de> for ObjectVisitor<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let view = self.view;
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            let key = key.unwrap_or_default();
            let slot = match (self.level, key.as_ref()) {
                (Level::Top, "timestamp") => &mut view.timestamp,
                (Level::Top, "level") => &mut view.level,
                (Level::Top, "name") => &mut view.name,
                (Level::Top, "model") => &mut view.model,
                (Level::Top, "event_type") => &mut view.event_type,
                (Level::Top, "event") => &mut view.event,
                (Level::Top, "instance_id") => &mut view.instance_id,
                (Level::Top, "user_id") => &mut view.user_id,
                (Level::Top, "request_id") => &mut view.request_id,
                (Level::Top, "tenant") => &mut view.tenant,
                (Level::Top | Level::Request, "client_ip") => &mut view.client_ip,
                (Level::Request, "method") => &mut view.method,
                (Level::Request, "path") => &mut view.path,
                (Level::Response, "status_code") => &mut view.status,
                (Level::Top, "instance_ids") => {
                    view.instance_ids = map.next_value::<Texts<'de>>()?.0;
                    continue;
                }
                (Level::Top, "request_repr" | "response_repr") => {
                    let level = if key == "request_repr" {
                        Level::Request
                    } else {
                        Level::Response
                    };
                    map.next_value_seed(ObjectVisitor {
                        view: &mut *view,
                        level,
                    })?;
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value::<Text<'de>>()?.0;
        }
        Ok(())
    }

    // `request_repr` or `response_repr` that is not an object: skipped
    // (only the top level must be an object).
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Level::Top = self.level {
            return Err(serde::de::Error::custom(
                "a record is a JSON object, not an array",
            ));
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, _: &'de str) -> Result<(), E> {
        self.not_object()
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        self.not_object()
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        self.not_object()
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        self.not_object()
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        self.not_object()
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        self.not_object()
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.not_object()
    }
}

impl ObjectVisitor<'_, '_> {
    fn not_object<E: serde::de::Error>(&self) -> Result<(), E> {
        match self.level {
            Level::Top => Err(E::custom("a record is a JSON object")),
            _ => Ok(()),
        }
    }
}

impl<'de> Deserialize<'de> for View<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut view = View::default();
        d.deserialize_any(ObjectVisitor {
            view: &mut view,
            level: Level::Top,
        })?;
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_filtered_keys_at_their_depths() {
        let line = br#"{"timestamp":"2026-11-29T10:00:00.000000Z","level":"API","name":"audit.request",
            "user_id":7,"extra":{"user_id":"nested is not it"},"tenant":null,
            "request_repr":{"method":"GET","path":"/a\"b","client_ip":"10.0.0.1","headers":{"path":"x"}},
            "response_repr":{"status_code":404,"body":[1,{"status_code":1}]},
            "instance_ids":["1",2,{"x":1}]}"#;
        let v = View::parse(line).unwrap();
        assert_eq!(v.user_id.as_deref(), Some("7"));
        assert_eq!(v.tenant, None);
        assert_eq!(v.method.as_deref(), Some("GET"));
        assert_eq!(v.path.as_deref(), Some("/a\"b"));
        assert_eq!(v.client_ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(v.status.as_deref(), Some("404"));
        assert_eq!(v.instance_ids, ["1", "2"]);
        assert_eq!(v.kind(), Kind::Api);
        assert!(matches!(v.level, Some(Cow::Borrowed(_))));
    }

    #[test]
    fn malformed_and_non_object_lines_are_errors_odd_nesting_is_not() {
        for bad in [
            &b"{\"a\":"[..],
            b"[1,2]",
            b"\"text\"",
            b"42",
            b"",
            b"{\"a\":1} x",
        ] {
            assert!(
                View::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let odd = View::parse(br#"{"request_repr":"GET /","response_repr":[1],"level":"AUDIT"}"#)
            .unwrap();
        assert_eq!(odd.method, None);
        assert_eq!(odd.kind(), Kind::Audit);
    }
}
