//! The read of an update's old row: `SELECT <every column> FROM <table>
//! WHERE <primary key> = …`, its SQL text built once per entity and
//! backend.
//!
//! The statement has no `LIMIT` (a primary key matches at most one row).
//! SeaORM's `Select::one` adds `LIMIT ?` with the `1` bound as a
//! parameter, and SQLite (3.47 and later) plans a `LIMIT` from its bound
//! value: every new binding then expires the prepared statement, which
//! SQLite prepares again on each run, about half the read's cost. The
//! same SQL text each time also lets the driver's statement cache find
//! the prepared statement.
//!
//! Every column is read, not only those the update sets: `after_save`
//! compares the whole row, so a column the database changed by itself (a
//! trigger) is in `changes` too.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use sea_orm::sea_query::ValueTuple;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, Iterable,
    PrimaryKeyToColumn, QueryFilter, QueryTrait, Statement,
};

/// Per entity type and backend: the SQL text, or `None` when the built
/// statement does not bind exactly the key's values (then it is built
/// for each read).
type Texts = HashMap<TypeId, Vec<(DbBackend, Option<Arc<str>>)>>;

static TEXTS: LazyLock<RwLock<Texts>> = LazyLock::new(Default::default);

/// The row of `E` whose primary key is `key`, as it is now, on `db`.
pub(super) async fn read<E, C>(db: &C, key: ValueTuple) -> Result<Option<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let stmt = statement::<E>(db.get_database_backend(), key);
    match db.query_one_raw(stmt).await? {
        Some(row) => E::Model::from_query_result(&row, "").map(Some),
        None => Ok(None),
    }
}

fn statement<E: EntityTrait>(backend: DbBackend, key: ValueTuple) -> Statement {
    let id = TypeId::of::<E>();
    let known = TEXTS
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&id)
        .and_then(|texts| texts.iter().find(|(b, _)| *b == backend))
        .map(|(_, sql)| sql.clone());
    if let Some(Some(sql)) = known {
        return Statement::from_sql_and_values(backend, &*sql, key);
    }
    let built = build::<E>(backend, key.clone());
    if known.is_none() {
        // Kept only if the values bound are the key's, in its order: the
        // text can then be bound to any other key.
        let same = built.values.as_ref().is_some_and(|v| {
            v.0.iter()
                .eq(key.clone().into_iter().collect::<Vec<_>>().iter())
        });
        let mut texts = TEXTS
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let texts = texts.entry(id).or_default();
        if texts.iter().all(|(b, _)| *b != backend) {
            texts.push((backend, same.then(|| Arc::from(built.sql.as_str()))));
        }
    }
    built
}

fn build<E: EntityTrait>(backend: DbBackend, key: ValueTuple) -> Statement {
    let mut find = E::find();
    for (pk, value) in E::PrimaryKey::iter().zip(key) {
        find = find.filter(pk.into_column().eq(value));
    }
    find.build(backend)
}

#[cfg(test)]
mod tests {
    use sea_orm::entity::prelude::*;
    use sea_orm::sea_query::Value;

    use super::*;

    #[allow(unreachable_pub)]
    mod pair {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "pair")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub a: i32,
            #[sea_orm(primary_key, auto_increment = false)]
            pub b: String,
            pub note: String,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    fn key(a: i32, b: &str) -> ValueTuple {
        ValueTuple::Many(vec![Value::from(a), Value::from(b)])
    }

    #[test]
    fn no_limit_and_the_same_text_bound_to_each_key() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres, DbBackend::MySql] {
            let first = statement::<pair::Entity>(backend, key(1, "x"));
            let second = statement::<pair::Entity>(backend, key(2, "y"));
            assert_eq!(first.sql, build::<pair::Entity>(backend, key(1, "x")).sql);
            assert_eq!(first.sql, second.sql);
            assert!(!first.sql.to_uppercase().contains("LIMIT"), "{}", first.sql);
            assert_eq!(
                second.values.map(|v| v.0),
                Some(vec![Value::from(2), Value::from("y")])
            );
            assert_eq!(second.db_backend, backend);
        }
    }

    #[test]
    fn reads_every_column() {
        let sql = statement::<pair::Entity>(DbBackend::Sqlite, key(1, "x")).sql;
        for column in pair::Column::iter() {
            assert!(sql.contains(&format!("\"{}\"", column.as_str())), "{sql}");
        }
    }
}
