//! The bulk statements, which SeaORM runs without the per-row hooks: run
//! through these helpers, they write one `BULK_*` record with the ids of
//! the rows they touched.

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbErr, DeleteMany, EntityTrait, InsertMany, IntoActiveModel,
    UpdateMany,
};

use super::{values, EntityAudit};
use crate::record::{Crud, EventType};

impl EntityAudit {
    /// Runs an `insert_many` with `RETURNING` and writes one
    /// `BULK_CREATE` record with the new rows' ids (and their snapshots as
    /// `instance_repr`, a list). Nothing to insert: no statement, no
    /// record. Needs a database with `RETURNING` (SQLite 3.35+,
    /// PostgreSQL, MariaDB; not MySQL).
    pub async fn insert_many<A, C>(
        &self,
        db: &C,
        insert: InsertMany<A>,
    ) -> Result<Vec<<A::Entity as EntityTrait>::Model>, DbErr>
    where
        A: ActiveModelTrait,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
        C: ConnectionTrait,
    {
        let rows = insert.exec_with_returning(db).await?;
        self.bulk_record(EventType::BulkCreate, &rows);
        Ok(rows)
    }

    /// Runs an `update_many` with `RETURNING` and writes one
    /// `BULK_UPDATE` record with the ids of the rows it changed (and
    /// their new snapshots). The old values are not read: `changes` is
    /// `{}`. No row matched: no record.
    pub async fn update_many<E, C>(
        &self,
        db: &C,
        update: UpdateMany<E>,
    ) -> Result<Vec<E::Model>, DbErr>
    where
        E: EntityTrait,
        C: ConnectionTrait,
    {
        let rows = update.exec_with_returning(db).await?;
        self.bulk_record(EventType::BulkUpdate, &rows);
        Ok(rows)
    }

    /// Runs a `delete_many` with `RETURNING` and writes one
    /// `BULK_DELETE` record with the ids of the rows it deleted (and
    /// their last snapshots). No row matched: no record.
    pub async fn delete_many<E, C>(
        &self,
        db: &C,
        delete: DeleteMany<E>,
    ) -> Result<Vec<E::Model>, DbErr>
    where
        E: EntityTrait,
        C: ConnectionTrait,
    {
        let rows = delete.exec_with_returning(db).await?;
        self.bulk_record(EventType::BulkDelete, &rows);
        Ok(rows)
    }

    fn bulk_record<M: sea_orm::ModelTrait>(&self, kind: EventType, rows: &[M]) {
        if rows.is_empty() {
            return;
        }
        let name = self.model_name::<M::Entity>();
        let ids: Vec<String> = rows.iter().map(values::model_key).collect();
        let snapshots: Option<Vec<values::Row<'_, M>>> = rows
            .iter()
            .map(|row| values::model_snapshot(row, self))
            .collect();
        let model: &dyn std::fmt::Display = &name;
        let mut record = Crud::bulk(kind, model, &ids);
        if let Some(snapshots) = &snapshots {
            record = record.instance(snapshots);
        }
        crate::__emit!("audit.crud", record);
    }
}
