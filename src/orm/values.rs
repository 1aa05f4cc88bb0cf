//! SeaORM values as JSON: a row's columns as an object, a primary key as
//! the record's `instance_id`.

use sea_orm::sea_query::ValueTuple;
use sea_orm::sea_query::{self, Value};
use sea_orm::{ActiveModelTrait, ActiveValue, EntityTrait, IdenStatic, Iterable, ModelTrait};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::{EntityAudit, OLD_NOT_READ};
use crate::diff::{diff, Changes};
use crate::unwind;

/// One column value as JSON. Bytes are written as `"[N bytes]"` (raw
/// bytes are neither text nor safe to keep), everything else as
/// `sea_query` converts it; a conversion that panics (a decimal that has
/// no `f64`, say) is the panic marker, never the caller's panic.
pub(super) fn to_json(value: &Value) -> Json {
    match value {
        Value::Bytes(None) => Json::Null,
        Value::Bytes(Some(bytes)) => Json::String(format!("[{} bytes]", bytes.len())),
        other => {
            unwind::catch(|| sea_query::sea_value_to_json_value(other)).unwrap_or_else(Json::String)
        }
    }
}

/// The columns of a row the entity's settings let through: every column
/// but the excluded ones (`keep` further narrows to the snapshot's list).
fn columns<'a, E: EntityTrait>(
    audit: &'a EntityAudit,
    keep: Option<&'static [&'static str]>,
) -> impl Iterator<Item = (E::Column, &'static str)> + 'a {
    E::Column::iter()
        .map(|c| (c, c.as_str()))
        .filter(move |(_, name)| {
            !audit.excluded.contains(name) && keep.as_ref().is_none_or(|k| k.contains(name))
        })
}

/// The changes between a row read before an update and the model saved:
/// the columns (not excluded) whose values differ, old and new, in the
/// order of their names, as [`diff`] of the two rows' JSON makes them
/// (only the differing columns are turned into JSON, and only a JSON
/// object or a name with a `.` or a `\` goes through [`diff`]).
pub(super) fn changed<O, M>(old: &O, new: &M, audit: &EntityAudit) -> Changes
where
    O: ModelTrait,
    M: ModelTrait<Entity = O::Entity>,
{
    let mut columns: Vec<_> = columns::<M::Entity>(audit, None).collect();
    columns.sort_unstable_by_key(|(_, name)| *name);
    let mut differ = Vec::new();
    for (c, name) in columns {
        let (o, n) = (old.get(c), new.get(c));
        if o != n {
            let (o, n) = (to_json(&o), to_json(&n));
            if o != n {
                differ.push((name, o, n));
            }
        }
    }
    let plain = |(name, o, n): &(&str, Json, Json)| {
        !name.contains(['.', '\\']) && !o.is_object() && !n.is_object()
    };
    if differ.iter().all(plain) {
        let mut changes = Changes::new();
        for (name, o, n) in differ {
            changes.push(name, o, n);
        }
        return changes;
    }
    let mut before = Map::new();
    let mut after = Map::new();
    for (name, o, n) in differ {
        before.insert(name.to_owned(), o);
        after.insert(name.to_owned(), n);
    }
    diff(&before, &after)
}

/// A column value written as [`to_json`] makes it, the common scalars
/// straight to the serializer (no `serde_json::Value` made first).
struct Cell<'a>(&'a Value);

impl Serialize for Cell<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Bool(Some(b)) => serializer.serialize_bool(*b),
            Value::TinyInt(Some(n)) => serializer.serialize_i8(*n),
            Value::SmallInt(Some(n)) => serializer.serialize_i16(*n),
            Value::Int(Some(n)) => serializer.serialize_i32(*n),
            Value::BigInt(Some(n)) => serializer.serialize_i64(*n),
            Value::TinyUnsigned(Some(n)) => serializer.serialize_u8(*n),
            Value::SmallUnsigned(Some(n)) => serializer.serialize_u16(*n),
            Value::Unsigned(Some(n)) => serializer.serialize_u32(*n),
            Value::BigUnsigned(Some(n)) => serializer.serialize_u64(*n),
            Value::String(Some(text)) => serializer.serialize_str(text),
            other => to_json(other).serialize(serializer),
        }
    }
}

/// A column value as [`Row`] hands it to a serializer, into a JSON value
/// (for the micro-benchmark).
pub(super) fn bench_value(value: &Value) -> Json {
    serde_json::to_value(Cell(value)).unwrap_or(Json::Null)
}

/// A model's columns for `instance_repr`, serialized as a JSON object as
/// they are written (no map built first), in the order of their names as
/// a JSON object's keys are written.
pub(super) struct Row<'a, M> {
    model: &'a M,
    audit: &'a EntityAudit,
    keep: Option<&'static [&'static str]>,
}

impl<M: ModelTrait> Serialize for Row<'_, M> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut columns: Vec<_> = columns::<M::Entity>(self.audit, self.keep).collect();
        columns.sort_unstable_by_key(|(_, name)| *name);
        let mut map = serializer.serialize_map(Some(columns.len()))?;
        for (c, name) in columns {
            map.serialize_entry(name, &Cell(&self.model.get(c)))?;
        }
        map.end()
    }
}

/// The snapshot of a model for `instance_repr`, as the entity's settings
/// say: `None` when snapshots are off.
pub(super) fn model_snapshot<'a, M: ModelTrait>(
    model: &'a M,
    audit: &'a EntityAudit,
) -> Option<Row<'a, M>> {
    let keep = audit.snapshot_columns()?;
    Some(Row { model, audit, keep })
}

/// The snapshot of an active model: the columns it holds a value for
/// (set or unchanged); those it does not hold are left out.
pub(super) fn active_snapshot<A: ActiveModelTrait>(am: &A, audit: &EntityAudit) -> Option<Json> {
    let keep = audit.snapshot_columns()?;
    Some(Json::Object(
        columns::<A::Entity>(audit, keep)
            .filter_map(|(c, name)| Some((name.to_owned(), to_json(&am.get(c).into_value()?))))
            .collect(),
    ))
}

/// The columns an update sets (not excluded): what `before_save` keeps
/// when old values are not read.
pub(super) fn set_columns<A: ActiveModelTrait>(am: &A, audit: &EntityAudit) -> Vec<&'static str> {
    columns::<A::Entity>(audit, None)
        .filter(|(c, _)| am.get(*c).is_set())
        .map(|(_, name)| name)
        .collect()
}

/// The values an active model sets, by column position (for
/// [`pending`](super::pending) to tell this update's row from others).
pub(super) fn set_values<A: ActiveModelTrait>(am: &A) -> Vec<(usize, Value)> {
    <A::Entity as EntityTrait>::Column::iter()
        .enumerate()
        .filter_map(|(i, c)| match am.get(c) {
            ActiveValue::Set(v) => Some((i, v)),
            _ => None,
        })
        .collect()
}

/// Whether `model` holds every value of `set` ([`set_values`]).
pub(super) fn model_has<M: ModelTrait>(model: &M, set: &[(usize, Value)]) -> bool {
    let mut columns = <M::Entity as EntityTrait>::Column::iter().enumerate();
    set.iter().all(|(i, v)| {
        columns
            .by_ref()
            .find(|(at, _)| at == i)
            .is_some_and(|(_, c)| model.get(c) == *v)
    })
}

/// The changes of an update whose old values were not read: each column
/// [`set_columns`] noted, [`OLD_NOT_READ`] and its value as saved.
pub(super) fn set_changes<M: ModelTrait>(model: &M, set: &[&'static str]) -> Changes {
    let mut changes = Changes::new();
    for c in <M::Entity as EntityTrait>::Column::iter() {
        if set.contains(&c.as_str()) {
            changes.push(c.as_str(), OLD_NOT_READ, to_json(&model.get(c)));
        }
    }
    changes
}

/// A primary key as the record's `instance_id`: a one-column key as its
/// value's text (`42`, `inv_2041`), a composite key as a JSON array
/// (`[7,"en"]`).
pub(super) fn key_text(key: ValueTuple) -> String {
    let mut parts: Vec<Json> = key.into_iter().map(|v| to_json(&v)).collect();
    if parts.len() == 1 {
        match parts.pop() {
            Some(Json::String(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        }
    } else {
        Json::Array(parts).to_string()
    }
}

/// The primary key of a model.
pub(super) fn model_key<M: ModelTrait>(model: &M) -> String {
    let mut parts: Vec<Value> = <M::Entity as EntityTrait>::PrimaryKey::iter()
        .map(|pk| model.get(sea_orm::PrimaryKeyToColumn::into_column(pk)))
        .collect();
    if parts.len() == 1 {
        if let Some(value) = parts.pop() {
            return key_text(ValueTuple::One(value));
        }
    }
    key_text(ValueTuple::Many(parts))
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Value, ValueTuple};
    use serde_json::json;

    use super::{changed, key_text, to_json, Cell};
    use crate::orm::EntityAudit;

    #[allow(unreachable_pub)]
    mod doc {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "doc")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            pub title: String,
            #[sea_orm(column_name = "a.b")]
            pub dotted: i32,
            pub meta: Json,
            pub score: f64,
            pub updated_at: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    /// The changes as the whole rows' JSON maps gave them before.
    fn by_whole_rows(old: &doc::Model, new: &doc::Model, audit: &EntityAudit) -> crate::Changes {
        let map = |m: &doc::Model| -> serde_json::Map<String, serde_json::Value> {
            super::columns::<doc::Entity>(audit, None)
                .map(|(c, name)| (name.to_owned(), to_json(&sea_orm::ModelTrait::get(m, c))))
                .collect()
        };
        crate::diff(&map(old), &map(new))
    }

    #[test]
    fn changes_are_those_of_the_whole_rows_json() {
        let audit = EntityAudit::new().exclude(&["updated_at"]);
        let base = doc::Model {
            id: 1,
            title: "a".to_owned(),
            dotted: 1,
            meta: json!({"etag": "x", "tags": [1]}),
            score: 1.0,
            updated_at: 1,
        };
        let mut edits: Vec<doc::Model> = Vec::new();
        let mut m = base.clone();
        m.title = "b".to_owned();
        m.score = 2.5;
        edits.push(m);
        let mut m = base.clone();
        m.dotted = 2;
        edits.push(m);
        let mut m = base.clone();
        m.meta = json!({"etag": "y", "tags": [1], "new": {"k": 1}});
        m.title = "c".to_owned();
        edits.push(m);
        let mut m = base.clone();
        m.meta = json!("not an object");
        edits.push(m);
        let mut m = base.clone();
        m.updated_at = 9;
        edits.push(m);
        let mut m = base.clone();
        m.score = f64::NAN;
        edits.push(m);
        edits.push(base.clone());
        for new in &edits {
            let got = changed(&base, new, &audit);
            assert_eq!(got, by_whole_rows(&base, new, &audit), "{new:?}");
            assert_eq!(
                serde_json::to_string(&got).unwrap(),
                serde_json::to_string(&by_whole_rows(&base, new, &audit)).unwrap()
            );
        }
        assert_eq!(
            changed(&base, &edits[1], &audit)
                .iter()
                .next()
                .unwrap()
                .field,
            "a\\.b"
        );
        assert!(changed(&base, &edits[4], &audit).is_empty());
    }

    fn values() -> Vec<Value> {
        vec![
            Value::Bool(Some(true)),
            Value::TinyInt(Some(-8)),
            Value::SmallInt(Some(-300)),
            Value::Int(Some(i32::MIN)),
            Value::BigInt(Some(i64::MAX)),
            Value::TinyUnsigned(Some(200)),
            Value::SmallUnsigned(Some(60000)),
            Value::Unsigned(Some(u32::MAX)),
            Value::BigUnsigned(Some(u64::MAX)),
            Value::String(Some("inv_\"2041\"".to_owned())),
            Value::String(None),
            Value::Int(None),
            Value::Double(Some(1.5)),
            Value::Char(Some('x')),
            Value::Bytes(Some(vec![1, 2, 3])),
            Value::Json(Some(Box::new(json!({"a": [1, {"b": null}]})))),
        ]
    }

    #[test]
    fn a_cell_serializes_as_its_json() {
        for v in values() {
            assert_eq!(
                serde_json::to_value(Cell(&v)).unwrap(),
                to_json(&v),
                "{v:?}"
            );
        }
    }

    #[test]
    fn a_one_column_key_is_its_values_text() {
        for v in values() {
            let general = match to_json(&v) {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            assert_eq!(key_text(ValueTuple::One(v.clone())), general, "{v:?}");
        }
        assert_eq!(
            key_text(ValueTuple::Two(Value::from(7), Value::from("en"))),
            r#"[7,"en"]"#
        );
    }
}
