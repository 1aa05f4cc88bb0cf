//! SeaORM values as JSON: a row's columns as an object, a primary key as
//! the record's `instance_id`.

use sea_orm::sea_query::ValueTuple;
use sea_orm::sea_query::{self, Value};
use sea_orm::{ActiveModelTrait, EntityTrait, IdenStatic, Iterable, ModelTrait};
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
/// the columns (not excluded) whose values differ, as [`diff`] of their
/// JSON (only the differing columns are turned into JSON).
pub(super) fn changed<O, M>(old: &O, new: &M, audit: &EntityAudit) -> Changes
where
    O: ModelTrait,
    M: ModelTrait<Entity = O::Entity>,
{
    let mut before = Map::new();
    let mut after = Map::new();
    for (c, name) in columns::<M::Entity>(audit, None) {
        let (o, n) = (old.get(c), new.get(c));
        if o != n {
            before.insert(name.to_owned(), to_json(&o));
            after.insert(name.to_owned(), to_json(&n));
        }
    }
    if before.is_empty() {
        return Changes::new();
    }
    diff(&before, &after)
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
            map.serialize_entry(name, &to_json(&self.model.get(c)))?;
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
    let parts: Vec<Value> = <M::Entity as EntityTrait>::PrimaryKey::iter()
        .map(|pk| model.get(sea_orm::PrimaryKeyToColumn::into_column(pk)))
        .collect();
    key_text(ValueTuple::Many(parts))
}
