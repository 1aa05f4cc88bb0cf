//! The nesting limit: how deep the crate follows a value.
//!
//! A `Serialize` value is turned into JSON through [`to_value`], which
//! wraps the caller's serializer calls in an adapter that counts levels:
//! a compound (sequence, tuple, map, struct, enum variant with data) or a
//! wrapper (`Some`, a newtype) beyond the limit is not followed; the
//! string [`DEPTH_MARKER`] stands in its place. The limit is set for the
//! whole line ([`DEFAULT_MAX_DEPTH`], the record object being level 1), so
//! each value gets what is left at the place it is written. Each level costs a few
//! stack frames (the caller's `Serialize` impl calling back into the
//! adapter), so the limit also bounds how much of the caller's stack the
//! crate can use, whatever the input: a value nested 100,000 deep is
//! written like one nested just past the limit.
//!
//! The JSON writer ([`crate::json::value`]) and [`crate::diff`] stop at the
//! same limit for values that did not come through here.

use std::cell::Cell;

use serde::ser::{
    Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant, Serializer,
};
use serde_json::Value;

use crate::unwind;

/// How deep a line nests by default, the record object itself being level
/// 1 (see [`Builder::max_depth`](crate::Builder::max_depth)): the deepest
/// `serde_json` reads with its default recursion limit (128, which refuses
/// the 128th level), so that every line can be read by it.
pub const DEFAULT_MAX_DEPTH: usize = 127;

/// The fewest levels [`Builder::max_depth`](crate::Builder::max_depth)
/// accepts: the records' own nesting (`changes` → field → `old`).
pub(crate) const MIN_DEPTH_LIMIT: usize = 4;

/// How many levels a value written as a member of the record (`extra`,
/// `instance_repr`, `user_info`, …) may open when lines nest at most
/// `max_depth` deep: one less, for the record object itself.
pub(crate) const fn value_depth(max_depth: usize) -> usize {
    max_depth.saturating_sub(1)
}

/// The highest limit [`Builder::max_depth`](crate::Builder::max_depth)
/// accepts: well within a 2 MiB thread stack.
pub(crate) const MAX_DEPTH_LIMIT: usize = 1024;

/// What a record shows in place of a part of a value nested deeper than
/// the limit (see the [schema](crate::schema), *Size limits*).
pub const DEPTH_MARKER: &str = "[depth limit]";

/// `v` as a JSON value opening at most `max_depth` levels, deeper
/// parts replaced by [`DEPTH_MARKER`] (and `cut` set). A value serde cannot
/// turn into JSON (a map with non-string keys, a failing impl) becomes
/// `"[unserializable: …]"`, and one whose impl panics
/// `"[panicked: …]"`.
pub(crate) fn to_value<T: Serialize + ?Sized>(v: &T, max_depth: usize, cut: &Cell<bool>) -> Value {
    let limited = Limited {
        inner: v,
        room: max_depth,
        cut,
    };
    match unwind::catch(|| serde_json::to_value(limited)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => Value::String(format!("[unserializable: {e}]")),
        Err(panicked) => Value::String(panicked),
    }
}

/// A value serialized with `room` levels left below it.
struct Limited<'a, T: ?Sized> {
    inner: &'a T,
    room: usize,
    cut: &'a Cell<bool>,
}

impl<T: Serialize + ?Sized> Serialize for Limited<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.inner.serialize(Bounded {
            inner: s,
            room: self.room,
            cut: self.cut,
        })
    }
}

/// The serializer adapter: passes scalars through, and wraps what a
/// compound or wrapper holds one level further down.
struct Bounded<'a, S> {
    inner: S,
    room: usize,
    cut: &'a Cell<bool>,
}

impl<'a, S: Serializer> Bounded<'a, S> {
    /// The value `v` one level below this one.
    fn below<T: ?Sized>(&self, v: &'a T) -> Limited<'a, T> {
        Limited {
            inner: v,
            room: self.room - 1,
            cut: self.cut,
        }
    }

    /// Whether this level is beyond the limit (and says so).
    fn full(&self) -> bool {
        if self.room == 0 {
            self.cut.set(true);
            true
        } else {
            false
        }
    }

    fn marker(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_str(DEPTH_MARKER)
    }
}

/// A compound being written: open (its parts one level down), or beyond
/// the limit (its parts ignored, the marker written at the end).
enum Compound<'a, S, C> {
    Open {
        inner: C,
        room: usize,
        cut: &'a Cell<bool>,
    },
    Cut(S),
}

impl<'a, S: Serializer, C> Compound<'a, S, C> {
    fn new(
        b: Bounded<'a, S>,
        open: impl FnOnce(S) -> Result<C, S::Error>,
    ) -> Result<Self, S::Error> {
        if b.full() {
            return Ok(Compound::Cut(b.inner));
        }
        Ok(Compound::Open {
            inner: open(b.inner)?,
            room: b.room - 1,
            cut: b.cut,
        })
    }

    /// Runs `f` on the open compound with the part wrapped one level down.
    fn part<T: Serialize + ?Sized>(
        &mut self,
        v: &T,
        f: impl FnOnce(&mut C, &Limited<'_, T>) -> Result<(), S::Error>,
    ) -> Result<(), S::Error> {
        match self {
            Compound::Open { inner, room, cut } => f(
                inner,
                &Limited {
                    inner: v,
                    room: *room,
                    cut,
                },
            ),
            Compound::Cut(_) => Ok(()),
        }
    }

    fn end(self, f: impl FnOnce(C) -> Result<S::Ok, S::Error>) -> Result<S::Ok, S::Error> {
        match self {
            Compound::Open { inner, .. } => f(inner),
            Compound::Cut(s) => s.serialize_str(DEPTH_MARKER),
        }
    }
}

impl<S: Serializer> SerializeSeq for Compound<'_, S, S::SerializeSeq> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), S::Error> {
        self.part(v, |c, v| c.serialize_element(v))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        Compound::end(self, SerializeSeq::end)
    }
}

impl<S: Serializer> SerializeTuple for Compound<'_, S, S::SerializeTuple> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), S::Error> {
        self.part(v, |c, v| c.serialize_element(v))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        Compound::end(self, SerializeTuple::end)
    }
}

impl<S: Serializer> SerializeTupleStruct for Compound<'_, S, S::SerializeTupleStruct> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), S::Error> {
        self.part(v, |c, v| c.serialize_field(v))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        Compound::end(self, SerializeTupleStruct::end)
    }
}

impl<S: Serializer> SerializeTupleVariant for Compound<'_, S, S::SerializeTupleVariant> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), S::Error> {
        self.part(v, |c, v| c.serialize_field(v))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        Compound::end(self, SerializeTupleVariant::end)
    }
}

impl<S: Serializer> SerializeMap for Compound<'_, S, S::SerializeMap> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), S::Error> {
        self.part(k, |c, k| c.serialize_key(k))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), S::Error> {
        self.part(v, |c, v| c.serialize_value(v))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        Compound::end(self, SerializeMap::end)
    }
}

impl<S: Serializer> SerializeStruct for Compound<'_, S, S::SerializeStruct> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), S::Error> {
        self.part(v, |c, v| c.serialize_field(key, v))
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        match self {
            Compound::Open { inner, .. } => inner.skip_field(key),
            Compound::Cut(_) => Ok(()),
        }
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        Compound::end(self, SerializeStruct::end)
    }
}

impl<S: Serializer> SerializeStructVariant for Compound<'_, S, S::SerializeStructVariant> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), S::Error> {
        self.part(v, |c, v| c.serialize_field(key, v))
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        match self {
            Compound::Open { inner, .. } => inner.skip_field(key),
            Compound::Cut(_) => Ok(()),
        }
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        Compound::end(self, SerializeStructVariant::end)
    }
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method(self, $($arg: $ty),*) -> Result<S::Ok, S::Error> {
                self.inner.$method($($arg),*)
            }
        )*
    };
}

impl<'a, S: Serializer> Serializer for Bounded<'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<'a, S, S::SerializeSeq>;
    type SerializeTuple = Compound<'a, S, S::SerializeTuple>;
    type SerializeTupleStruct = Compound<'a, S, S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<'a, S, S::SerializeTupleVariant>;
    type SerializeMap = Compound<'a, S, S::SerializeMap>;
    type SerializeStruct = Compound<'a, S, S::SerializeStruct>;
    type SerializeStructVariant = Compound<'a, S, S::SerializeStructVariant>;

    forward! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_f32(v: f32);
        serialize_f64(v: f64);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<S::Ok, S::Error> {
        if self.full() {
            return self.marker();
        }
        let below = self.below(v);
        self.inner.serialize_some(&below)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        if self.full() {
            return self.marker();
        }
        let below = self.below(v);
        self.inner.serialize_newtype_struct(name, &below)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        if self.full() {
            return self.marker();
        }
        let below = self.below(v);
        self.inner
            .serialize_newtype_variant(name, index, variant, &below)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        Compound::new(self, |s| s.serialize_seq(len))
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        Compound::new(self, |s| s.serialize_tuple(len))
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        Compound::new(self, |s| s.serialize_tuple_struct(name, len))
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        Compound::new(self, |s| {
            s.serialize_tuple_variant(name, index, variant, len)
        })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        Compound::new(self, |s| s.serialize_map(len))
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Compound::new(self, |s| s.serialize_struct(name, len))
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Compound::new(self, |s| {
            s.serialize_struct_variant(name, index, variant, len)
        })
    }

    fn collect_str<T: std::fmt::Display + ?Sized>(self, v: &T) -> Result<S::Ok, S::Error> {
        self.inner.collect_str(v)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `depth` arrays, one inside the other, built as it is serialized.
    struct Deep(usize);

    impl Serialize for Deep {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(1))?;
            if self.0 > 1 {
                seq.serialize_element(&Deep(self.0 - 1))?;
            }
            seq.end()
        }
    }

    fn depth(v: &Value) -> usize {
        let mut d = 0;
        let mut v = v;
        loop {
            match v {
                Value::Array(items) if !items.is_empty() => v = &items[0],
                Value::Array(_) => return d + 1,
                _ => return d,
            }
            d += 1;
        }
    }

    #[test]
    fn values_within_the_limit_are_whole() {
        let cut = Cell::new(false);
        let v = json!({"a": [1, {"b": null}], "c": "x"});
        assert_eq!(to_value(&v, 3, &cut), v);
        assert!(!cut.get());
        assert_eq!(depth(&to_value(&Deep(5), 5, &cut)), 5);
        assert!(!cut.get());
    }

    #[test]
    fn deeper_parts_become_the_marker() {
        let cut = Cell::new(false);
        let v = to_value(&json!({"a": {"b": {"c": 1}}, "d": 2}), 2, &cut);
        assert_eq!(v, json!({"a": {"b": DEPTH_MARKER}, "d": 2}));
        assert!(cut.get());
        let v = to_value(&Deep(1_000_000), 4, &cut);
        assert_eq!(v, json!([[[[DEPTH_MARKER]]]]));
    }

    #[test]
    fn panics_and_errors_become_strings() {
        struct Boom;
        impl Serialize for Boom {
            fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                panic!("no")
            }
        }
        let cut = Cell::new(false);
        assert_eq!(to_value(&Boom, 8, &cut), json!("[panicked: no]"));
        let mut bad = std::collections::BTreeMap::new();
        bad.insert(vec![1], 1);
        assert!(to_value(&bad, 8, &cut)
            .as_str()
            .unwrap()
            .starts_with("[unserializable: "));
    }
}
