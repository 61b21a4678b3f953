//! The SQLite store: a file for `serve`, memory for `dev`.

use crate::error::map;
use crate::migrate::SQLITE;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::path::PathBuf;
use std::time::Duration;

/// Where a SQLite store lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SqliteTarget {
    /// A database file, created when missing.
    File(PathBuf),
    /// A private in-memory database that lives as long as the store.
    Memory,
}

/// [`Store`](dingdir_core::Store) on SQLite.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (or creates) the store and applies pending migrations.
    pub async fn open(target: &SqliteTarget) -> Result<Self, dingdir_core::StoreError> {
        let base = SqliteConnectOptions::new()
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let (options, pool) = match target {
            SqliteTarget::File(path) => (
                base.filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // With WAL, NORMAL keeps every committed transaction across a process crash.
                    .synchronous(SqliteSynchronous::Normal),
                SqlitePoolOptions::new().max_connections(8),
            ),
            // One connection that never closes: each SQLite memory connection is its own database.
            SqliteTarget::Memory => (
                base.in_memory(true),
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None),
            ),
        };
        let pool = pool
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(map)?;
        let store = Self { pool };
        store.migrate(SQLITE).await?;
        Ok(store)
    }

    /// A write transaction that takes SQLite's write lock up front, so it never fails half-way
    /// on a lock upgrade; this alone serialises writers.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>, dingdir_core::StoreError> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(map)
    }

    async fn serialize_writers(_: &mut Transaction<'static, Sqlite>) -> Result<(), dingdir_core::StoreError> {
        Ok(())
    }
}

crate::sql::store_impl!(SqliteStore, sqlx::Sqlite, sqlx::sqlite::SqliteRow);

#[cfg(test)]
mod tests {
    use super::*;

    /// A regression guard: driven from the corp's memberships, the lookup took over a second per
    /// request at a million people. The plan must start from the people_mobile index.
    #[tokio::test]
    async fn the_mobile_lookup_starts_from_the_mobile_index() {
        let store = SqliteStore::open(&SqliteTarget::Memory).await.unwrap();
        let sql = crate::sql::members_by_mobile_sql!();
        let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
            .bind("15000009144")
            .bind("86")
            .bind("dingx")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        let plan: Vec<String> = rows.iter().map(|r| sqlx::Row::get::<String, _>(r, "detail")).collect();
        assert!(plan[0].contains("people_mobile"), "{plan:?}");
        assert!(plan[1].contains("memberships"), "{plan:?}");
    }
}
