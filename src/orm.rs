#![doc = include_str!("docs/orm.md")]

use std::any::TypeId;
use std::fmt;

use sea_orm::{ActiveModelTrait, DbErr, EntityTrait, IdenStatic, Iterable, ModelTrait};

use crate::diff::Changes;
use crate::record::{Crud, EventType};
use pending::Kept;

mod bulk;
mod old_row;
mod pending;
mod tx;
mod values;

pub use tx::audited_transaction;

/// What an entity's records carry as `instance_repr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Snapshot {
    /// Every column (but the excluded ones). The default.
    All,
    /// No `instance_repr`.
    Off,
    /// Only these columns (the excluded ones still left out).
    Columns(&'static [&'static str]),
}

/// Where an update's old values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OldValues {
    /// Read from the database: `before_save` loads the row by its primary
    /// key (one `SELECT`, on the same connection or transaction), and
    /// `changes` holds, old and new, every column whose value differs. An
    /// update that changes nothing writes no record. The default.
    Read,
    /// Not read: no query is added to an update. `changes` holds every
    /// column the active model sets (`ActiveValue::Set`), its old value
    /// the string [`OLD_NOT_READ`] and its new value as saved. Weaker
    /// than [`Read`](OldValues::Read): the old values are not in the
    /// trail, a column set to the value it already had is listed as a
    /// change, and a column that changed without being set (a trigger)
    /// is not.
    NotRead,
}

/// The old value written in `changes` by an entity whose old values are
/// [not read](OldValues::NotRead).
pub const OLD_NOT_READ: &str = "[not read]";

/// How one entity is audited: its settings, and the functions its
/// `ActiveModelBehavior` hooks call. Made in a `const`, one per entity:
///
/// ```ignore
/// const AUDIT: EntityAudit = EntityAudit::new()
///     .exclude(&["updated_at"])
///     .snapshot(Snapshot::Columns(&["id", "email", "role"]));
/// ```
///
/// See the [module documentation](self) for the hooks.
#[derive(Debug, Clone, Copy)]
pub struct EntityAudit {
    model: Option<&'static str>,
    excluded: &'static [&'static str],
    snapshot: Snapshot,
    old_values: OldValues,
}

impl Default for EntityAudit {
    fn default() -> Self {
        EntityAudit::new()
    }
}

impl EntityAudit {
    /// The defaults: `model` is the table's name, no column excluded, a
    /// snapshot of every column.
    pub const fn new() -> Self {
        EntityAudit {
            model: None,
            excluded: &[],
            snapshot: Snapshot::All,
            old_values: OldValues::Read,
        }
    }

    /// The `model` written in the records, instead of the table's name.
    pub const fn model(mut self, name: &'static str) -> Self {
        self.model = Some(name);
        self
    }

    /// Columns (by their database name) left out of `changes` and
    /// `instance_repr`: an update that changes only these writes no record.
    pub const fn exclude(mut self, columns: &'static [&'static str]) -> Self {
        self.excluded = columns;
        self
    }

    /// What `instance_repr` holds.
    pub const fn snapshot(mut self, snapshot: Snapshot) -> Self {
        self.snapshot = snapshot;
        self
    }

    /// Where an update's old values come from: read from the database
    /// ([`OldValues::Read`], the default) or not read at all
    /// ([`OldValues::NotRead`], no extra query, a weaker record).
    pub const fn old_values(mut self, old_values: OldValues) -> Self {
        self.old_values = old_values;
        self
    }

    /// `None`: no snapshot; `Some(None)`: every column.
    fn snapshot_columns(&self) -> Option<Option<&'static [&'static str]>> {
        match self.snapshot {
            Snapshot::All => Some(None),
            Snapshot::Off => None,
            Snapshot::Columns(columns) => Some(Some(columns)),
        }
    }

    fn model_name<E: EntityTrait>(&self) -> &'static str {
        self.model.unwrap_or_else(|| E::default().table_name())
    }

    /// For `before_save`. On an update, loads the row as it is before the
    /// change (one `SELECT` by primary key, on the same connection or
    /// transaction), for [`after_save`](Self::after_save)'s `changes`;
    /// with [`OldValues::NotRead`], notes the columns set instead.
    /// Nothing is loaded for an insert, or for an update that sets no
    /// column. An error loading the row is returned, so the update does
    /// not happen unrecorded.
    pub async fn before_save<A, C>(&self, active: A, db: &C, insert: bool) -> Result<A, DbErr>
    where
        A: ActiveModelTrait + Send,
        C: sea_orm::ConnectionTrait,
    {
        if insert || !sets_an_audited_column(&active, self) {
            return Ok(active);
        }
        let Some(key) = active.get_primary_key_value() else {
            return Ok(active);
        };
        let entity = TypeId::of::<A::Entity>();
        let set_values = values::set_values(&active);
        if self.old_values == OldValues::NotRead {
            let set = Kept::Set(values::set_columns(&active, self));
            let id = values::key_text(key);
            pending::put(pending::connection(db), entity, id, set_values, set);
            return Ok(active);
        }
        if let Some(old) = old_row::read::<A::Entity, C>(db, key).await? {
            // Under the key as stored, which `after_save`'s model has.
            let id = values::model_key(&old);
            let old = Kept::Row(Box::new(old));
            pending::put(pending::connection(db), entity, id, set_values, old);
        }
        Ok(active)
    }

    /// For `after_save`: a `CREATE` record for an insert; for an update,
    /// an `UPDATE` record with the changed columns, old and new, when
    /// something (not excluded) changed, and none otherwise. Never fails.
    pub fn after_save<M: ModelTrait, C>(&self, model: M, db: &C, insert: bool) -> Result<M, DbErr> {
        let name = self.model_name::<M::Entity>();
        let id = values::model_key(&model);
        let snapshot = values::model_snapshot(&model, self);
        if insert {
            emit(EventType::Create, name, &id, None, snapshot.as_ref());
        } else if let Some(old) = pending::take(
            pending::connection(db),
            TypeId::of::<M::Entity>(),
            id.clone(),
            |set| values::model_has(&model, set),
        ) {
            // Whatever the settings now, as kept by `before_save`.
            let changes = match old {
                Kept::Row(old) => match old.downcast::<<M::Entity as EntityTrait>::Model>() {
                    Ok(old) => values::changed(&*old, &model, self),
                    // Not reached: kept under the entity's type, as its
                    // `Model`.
                    Err(_) => Changes::new(),
                },
                Kept::Set(set) => values::set_changes(&model, &set),
            };
            if !changes.is_empty() {
                emit(
                    EventType::Update,
                    name,
                    &id,
                    Some(&changes),
                    snapshot.as_ref(),
                );
            }
        }
        Ok(model)
    }

    /// For `after_delete`: a `DELETE` record, its snapshot the columns the
    /// active model holds (all of them for a model that was loaded).
    /// Never fails.
    pub fn after_delete<A: ActiveModelTrait>(&self, active: A) -> Result<A, DbErr> {
        let name = self.model_name::<A::Entity>();
        let id = active
            .get_primary_key_value()
            .map(values::key_text)
            .unwrap_or_default();
        let snapshot = values::active_snapshot(&active, self);
        emit(EventType::Delete, name, &id, None, snapshot.as_ref());
        Ok(active)
    }
}

/// Whether the update sets a column the entity audits: one that sets only
/// excluded columns (or none) cannot make a record, so nothing is loaded.
fn sets_an_audited_column<A: ActiveModelTrait>(active: &A, audit: &EntityAudit) -> bool {
    <A::Entity as EntityTrait>::Column::iter()
        .any(|c| active.get(c).is_set() && !audit.excluded.contains(&c.as_str()))
}

/// One record through the crate's CRUD path, as the macros write it.
fn emit<S: serde::Serialize>(
    kind: EventType,
    model: &str,
    id: &str,
    changes: Option<&Changes>,
    instance: Option<&S>,
) {
    let model: &dyn fmt::Display = &model;
    let id: &dyn fmt::Display = &id;
    let mut record = Crud::new(kind, model, Some(id));
    if let Some(changes) = changes {
        record = record.changes(changes);
    }
    if let Some(instance) = instance {
        record = record.instance(instance);
    }
    crate::__emit!("audit.crud", record);
}

/// Implements `ActiveModelBehavior` for the `ActiveModel` in scope with
/// the three audit hooks of an [`EntityAudit`] `const`: the one line that
/// replaces `impl ActiveModelBehavior for ActiveModel {}` in an entity's
/// module.
///
/// ```ignore
/// const AUDIT: EntityAudit = EntityAudit::new().exclude(&["updated_at"]);
/// tracing_audit::audited_behavior!(AUDIT);
/// ```
///
/// An entity with hooks of its own calls [`EntityAudit::before_save`],
/// [`after_save`](EntityAudit::after_save) and
/// [`after_delete`](EntityAudit::after_delete) from them instead (see the
/// [module documentation](crate::orm)).
#[macro_export]
macro_rules! audited_behavior {
    ($audit:path) => {
        $crate::audited_behavior!($audit, ActiveModel);
    };
    ($audit:path, $active:ty) => {
        #[$crate::__private::sea_orm::prelude::async_trait::async_trait]
        impl $crate::__private::sea_orm::ActiveModelBehavior for $active {
            async fn before_save<C>(
                self,
                db: &C,
                insert: bool,
            ) -> ::core::result::Result<Self, $crate::__private::sea_orm::DbErr>
            where
                C: $crate::__private::sea_orm::ConnectionTrait,
            {
                $audit.before_save(self, db, insert).await
            }

            async fn after_save<C>(
                model: <<Self as $crate::__private::sea_orm::ActiveModelTrait>::Entity as $crate::__private::sea_orm::EntityTrait>::Model,
                db: &C,
                insert: bool,
            ) -> ::core::result::Result<
                <<Self as $crate::__private::sea_orm::ActiveModelTrait>::Entity as $crate::__private::sea_orm::EntityTrait>::Model,
                $crate::__private::sea_orm::DbErr,
            >
            where
                C: $crate::__private::sea_orm::ConnectionTrait,
            {
                $audit.after_save(model, db, insert)
            }

            async fn after_delete<C>(
                self,
                _db: &C,
            ) -> ::core::result::Result<Self, $crate::__private::sea_orm::DbErr>
            where
                C: $crate::__private::sea_orm::ConnectionTrait,
            {
                $audit.after_delete(self)
            }
        }
    };
}

/// For `benches/orm_values.rs`, through `__private::bench`.
pub(crate) fn bench_value(value: &sea_orm::sea_query::Value) -> serde_json::Value {
    values::bench_value(value)
}
