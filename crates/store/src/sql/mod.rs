//! The store shared by every SQL backend, written once as plain Rust generic over the sqlx
//! database: `$N` placeholders and SQL that SQLite and PostgreSQL both take. What differs is a
//! [`Dialect`]: how a write transaction begins, how writers spanning many statements take turns,
//! how the store closes. Monomorphised per backend, so the generic code costs nothing at run time.
//!
//! Every `impl` here carries the same `where` clause: the sqlx capabilities the queries use (an
//! executor, argument binding, and the column types `TEXT` and `BIGINT`). Rust does not carry
//! such bounds from a trait's definition to its users, so they are spelled at each impl.

mod callbacks;
pub(crate) mod directory;
mod robots;
mod tokens;

use crate::error::map;
use crate::migrate::{CREDENTIAL_DIGESTS, Migration};
use dingdir_core::StoreError;
use dingdir_core::clock::Millis;
use dingdir_core::ident::IdSecret;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Transaction, Type};
use std::future::Future;

/// What a backend does its own way. Implemented by the backends this crate ships.
pub trait Dialect: Database + sealed::Sealed {
    /// What a store on this backend keeps beside its pool.
    type Extra: Clone + std::fmt::Debug + Send + Sync + 'static;

    /// Begins a write transaction.
    fn begin_write(pool: &Pool<Self>) -> impl Future<Output = Result<Transaction<'static, Self>, StoreError>> + Send;

    /// Begins a read-only transaction whose statements all see one snapshot of the database.
    fn begin_snapshot(pool: &Pool<Self>)
    -> impl Future<Output = Result<Transaction<'static, Self>, StoreError>> + Send;

    /// Makes writers that span many statements (a seed apply, a migration) take turns, across
    /// every node sharing the database.
    fn serialize_writers(tx: &mut Transaction<'static, Self>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Closes the pool and whatever `extra` holds.
    fn close(pool: &Pool<Self>, extra: &Self::Extra) -> impl Future<Output = ()> + Send;

    /// How many rows a statement changed.
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// The indexes of the table named by the one parameter that are neither a primary key nor
    /// a constraint, as `name` and `ddl` (the statement that creates it): what a bulk import
    /// drops and builds again.
    const SECONDARY_INDEXES: &str;

    /// Readies a transaction that has just filled `tables` for one statement over all of their
    /// rows: the planner's statistics brought up to date and memory for its sorts and hash
    /// joins, where the backend plans with them.
    fn prepare_bulk_statement(
        tx: &mut Transaction<'static, Self>,
        tables: &[&str],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Whether a multi-row `VALUES` list uses anonymous `?` placeholders rather than `$N`.
    /// SQLite looks a numbered parameter's name up by a linear search of the statement's names
    /// each time one is bound, so binding a wide statement costs the square of its width;
    /// anonymous ones are bound by position.
    const ANONYMOUS_VALUES: bool;

    /// Parameters one multi-row statement binds at most: each statement is a round trip to the
    /// connection's worker (SQLite) or the server (PostgreSQL), so a bulk write wants them wide.
    const BULK_PARAMS: usize;
}

mod sealed {
    pub trait Sealed {}
}

#[cfg(feature = "sqlite")]
impl sealed::Sealed for sqlx::Sqlite {}
#[cfg(feature = "postgres")]
impl sealed::Sealed for sqlx::Postgres {}

/// [`Store`](dingdir_core::Store) on the SQL database `DB`.
pub struct SqlStore<DB: Dialect> {
    pub(crate) pool: Pool<DB>,
    pub(crate) extra: DB::Extra,
}

impl<DB: Dialect> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            extra: self.extra.clone(),
        }
    }
}

impl<DB: Dialect> std::fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &DB::NAME)
            .field("extra", &self.extra)
            .finish_non_exhaustive()
    }
}

impl<DB> SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    pub(crate) async fn write(&self) -> Result<Transaction<'static, DB>, StoreError> {
        DB::begin_write(&self.pool).await
    }

    /// Applies pending migrations in one transaction, recorded in `schema_migrations`; nodes
    /// starting at once take turns, so each applies once. Answers whether stored credentials
    /// were rewritten as digests.
    pub(crate) async fn migrate(&self, migrations: &[Migration]) -> Result<bool, StoreError> {
        let mut rewrote = false;
        let mut tx = self.write().await?;
        DB::serialize_writers(&mut tx).await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        for m in migrations {
            let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map)?;
            if done.is_some() {
                continue;
            }
            tracing::info!(migration = m.name, "applying migration");
            sqlx::raw_sql(m.sql).execute(&mut *tx).await.map_err(map)?;
            if m.version == CREDENTIAL_DIGESTS {
                Self::digest_stored_credentials(&mut tx).await?;
                rewrote = true;
            }
            sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
                .bind(m.version)
                .bind(m.name)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        tx.commit().await.map_err(map)?;
        Ok(rewrote)
    }

    /// Rewrites the tokens, codes and refresh tokens stored before digests as their digests (a
    /// stored one is 32 hex, a digest 64), so they keep working and the store no longer holds
    /// them.
    async fn digest_stored_credentials(tx: &mut Transaction<'static, DB>) -> Result<(), StoreError> {
        for (table, column) in [("tokens", "token"), ("auth_codes", "code"), ("refresh_tokens", "token")] {
            let plain: Vec<String> =
                sqlx::query_scalar(&format!("SELECT {column} FROM {table} WHERE length({column}) = 32"))
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map)?;
            for value in plain {
                sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE {column} = $2"))
                    .bind(dingdir_core::secret::digest(&value))
                    .bind(&value)
                    .execute(&mut **tx)
                    .await
                    .map_err(map)?;
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl<DB> dingdir_core::LimitStore for SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn rate_limits(&self) -> Result<Vec<dingdir_proto::admin::RateLimit>, StoreError> {
        let stored: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'rate_limits'")
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        match stored {
            None => Ok(Vec::new()),
            Some(json) => serde_json::from_str(&json).map_err(|_| corrupt("rate limits", &json)),
        }
    }

    async fn set_rate_limits(&self, limits: &[dingdir_proto::admin::RateLimit]) -> Result<(), StoreError> {
        let json = serde_json::to_string(limits).map_err(|e| StoreError::Other(Box::new(e)))?;
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('rate_limits', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(json)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        tx.commit().await.map_err(map)
    }

    async fn hit_window(&self, key: &str, expires_at: Millis) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let hits: i64 = sqlx::query_scalar(
            "INSERT INTO rate_windows (window_key, hits, expires_at) VALUES ($1, 1, $2) \
             ON CONFLICT (window_key) DO UPDATE SET hits = rate_windows.hits + 1 RETURNING hits",
        )
        .bind(key)
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(u64::try_from(hits).unwrap_or(0))
    }

    async fn hit_windows(&self, hits: &[(String, u64)], expires_at: Millis) -> Result<Vec<u64>, StoreError> {
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write().await?;
        let mut counts = Vec::with_capacity(hits.len());
        for (key, n) in hits {
            let n = i64::try_from(*n).unwrap_or(i64::MAX);
            let count: i64 = sqlx::query_scalar(
                "INSERT INTO rate_windows (window_key, hits, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (window_key) DO UPDATE SET hits = rate_windows.hits + excluded.hits RETURNING hits",
            )
            .bind(key.as_str())
            .bind(n)
            .bind(expires_at)
            .fetch_one(&mut *tx)
            .await
            .map_err(map)?;
            counts.push(u64::try_from(count).unwrap_or(0));
        }
        tx.commit().await.map_err(map)?;
        Ok(counts)
    }
}

#[async_trait::async_trait]
impl<DB> dingdir_core::Store for SqlStore<DB>
where
    DB: Dialect,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(map)?;
        Ok(())
    }

    async fn close(&self) {
        DB::close(&self.pool, &self.extra).await;
    }

    async fn id_secret(&self, proposed: &IdSecret) -> Result<IdSecret, StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('id_secret', $1) ON CONFLICT (key) DO NOTHING")
            .bind(proposed.to_hex())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        let stored: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'id_secret'")
            .fetch_one(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        IdSecret::from_hex(&stored).ok_or_else(|| corrupt("id secret", "<redacted>"))
    }

    async fn purge_expired(&self, before: Millis) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let mut n = 0;
        for table in [
            "tokens",
            "auth_codes",
            "refresh_tokens",
            "consent_tickets",
            "rate_windows",
            "chat_sessions",
        ] {
            let done = sqlx::query(&format!("DELETE FROM {table} WHERE expires_at < $1"))
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
            n += DB::rows_affected(&done);
        }
        tx.commit().await.map_err(map)?;
        Ok(n)
    }
}

/// A stored value the domain cannot read.
pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}
