//! SeaORM values as JSON: a row's columns as an object, a primary key as
//! the record's `instance_id`.

use sea_orm::sea_query::ValueTuple;
use sea_orm::sea_query::{self, Value};
use sea_orm::{ActiveModelTrait, EntityTrait, IdenStatic, Iterable, ModelTrait};
use serde_json::{Map, Value as Json};

use super::{EntityAudit, OLD_NOT_READ};
use crate::diff::Changes;
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

/// A model's columns as a JSON object, the excluded ones left out.
pub(super) fn model_json<M: ModelTrait>(model: &M, audit: &EntityAudit) -> Map<String, Json> {
    columns::<M::Entity>(audit, None)
        .map(|(c, name)| (name.to_owned(), to_json(&model.get(c))))
        .collect()
}

/// The snapshot of a model for `instance_repr`, as the entity's settings
/// say: `None` when snapshots are off.
pub(super) fn model_snapshot<M: ModelTrait>(model: &M, audit: &EntityAudit) -> Option<Json> {
    let keep = audit.snapshot_columns()?;
    Some(Json::Object(
        columns::<M::Entity>(audit, keep)
            .map(|(c, name)| (name.to_owned(), to_json(&model.get(c))))
            .collect(),
    ))
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

/// The columns an update sets (not excluded), each with the old value
/// [`OLD_NOT_READ`]: what `before_save` keeps when old values are not read.
pub(super) fn set_columns<A: ActiveModelTrait>(am: &A, audit: &EntityAudit) -> Map<String, Json> {
    columns::<A::Entity>(audit, None)
        .filter(|(c, _)| am.get(*c).is_set())
        .map(|(_, name)| (name.to_owned(), Json::from(OLD_NOT_READ)))
        .collect()
}

/// The changes of an update whose old values were not read: each column
/// [`set_columns`] noted, [`OLD_NOT_READ`] and its value as saved.
pub(super) fn set_changes<M: ModelTrait>(model: &M, set: &Map<String, Json>) -> Changes {
    let mut changes = Changes::new();
    for c in <M::Entity as EntityTrait>::Column::iter() {
        if let Some(old) = set.get(c.as_str()) {
            changes.push(c.as_str(), old, to_json(&model.get(c)));
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
