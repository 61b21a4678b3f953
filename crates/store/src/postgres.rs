//! The PostgreSQL store: several stateless dingdir nodes on one database.

use crate::error::map;
use crate::migrate::POSTGRES;
use crate::sql::{Dialect, SqlStore};
use dingdir_core::StoreError;
use sqlx::postgres::{PgPoolOptions, PgQueryResult};
use sqlx::{PgPool, Postgres, Transaction};
use std::time::Duration;

/// The advisory lock that serialises migrations and seed applies across nodes.
const WRITERS_LOCK: i64 = 0x0064_696e_6764_6972;

/// [`Store`](dingdir_core::Store) on PostgreSQL.
pub type PgStore = SqlStore<Postgres>;

impl SqlStore<Postgres> {
    /// Connects with a pool of `max_connections` and applies pending migrations (serialised
    /// across nodes by an advisory lock).
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, dingdir_core::StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(map)?;
        let store = Self { pool, extra: () };
        // Rewritten credentials' old row versions stay until VACUUM (docs/SECURITY.md).
        store.migrate(POSTGRES).await?;
        Ok(store)
    }
}

impl Dialect for Postgres {
    type Extra = ();

    async fn begin_write(pool: &PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
        pool.begin().await.map_err(map)
    }

    async fn begin_snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
        pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(map)
    }

    /// Row locks and unique indexes keep single statements safe; a seed apply or a migration
    /// spans many, so two nodes doing one at once take turns on an advisory lock.
    async fn serialize_writers(tx: &mut Transaction<'static, Postgres>) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITERS_LOCK)
            .execute(&mut **tx)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn close(pool: &PgPool, _: &()) {
        pool.close().await;
    }

    /// An index backing a key or a UNIQUE constraint is named after its constraint.
    const SECONDARY_INDEXES: &str = "SELECT i.indexname::text AS name, i.indexdef AS ddl FROM pg_indexes i \
         WHERE i.schemaname = current_schema() AND i.tablename = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
         WHERE c.conname = i.indexname AND c.connamespace = current_schema()::regnamespace) ORDER BY i.indexname";

    /// The import's numbering joins two freshly filled tables and sorts a million rows: planned
    /// on the statistics of empty tables, and in the default 4 MB of work memory, it took 54 s
    /// for a million people.
    async fn prepare_bulk_statement(
        tx: &mut Transaction<'static, Postgres>,
        tables: &[&str],
    ) -> Result<(), StoreError> {
        sqlx::query(&format!("ANALYZE {}", tables.join(", ")))
            .execute(&mut **tx)
            .await
            .map_err(map)?;
        sqlx::query("SET LOCAL work_mem = '256MB'")
            .execute(&mut **tx)
            .await
            .map_err(map)?;
        Ok(())
    }

    const ANONYMOUS_VALUES: bool = false;
    /// Far below PostgreSQL's limit of 65,535 parameters a statement.
    const BULK_PARAMS: usize = 4000;

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }
}
