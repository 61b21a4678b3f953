//! The SQLite store: a file for `serve`, memory for `dev`.

use crate::error::map;
use crate::migrate::SQLITE;
use crate::sql::{Dialect, SqlStore};
use dingdir_core::StoreError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, SqlitePool, Transaction};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
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
pub type SqliteStore = SqlStore<Sqlite>;

/// For an in-memory store, a connection that does nothing but keep the database alive: a memory
/// database lasts as long as its last connection, and the pool closes a connection whose query
/// was cancelled (a store timeout, a client gone), which must not empty `dev`.
pub struct Keeper(Mutex<Option<SqliteConnection>>);

impl std::fmt::Debug for Keeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keeper")
    }
}

/// A name no other in-memory store of this process has: stores share a memory database by name.
fn memory_name() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(
        "file:dingdir-memory-{}-{n}?mode=memory&cache=shared",
        std::process::id()
    )
}

impl SqlStore<Sqlite> {
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
                    .synchronous(SqliteSynchronous::Normal)
                    // Deleted and overwritten rows are zeroed on disk, so a purged digest or a
                    // credential rewritten at an upgrade does not linger in free pages.
                    .pragma("secure_delete", "ON")
                    // 32 MiB of page cache per connection (SQLite's default is 2 MiB): a bulk
                    // import's index inserts stay in memory longer (1M generated people: 107 s at
                    // the default, 84 s at this), and eight connections cost at most 256 MiB.
                    .pragma("cache_size", "-32768")
                    // Statement journals (each multi-row insert's undo, for a constraint failing
                    // half-way) and sorts kept in memory, not in temporary files: a bulk import
                    // wrote and reread every page it changed through one.
                    .pragma("temp_store", "MEMORY"),
                SqlitePoolOptions::new().max_connections(8),
            ),
            // A named database in shared-cache mode, so the keeper and the pool's connection
            // see the same one.
            SqliteTarget::Memory => (
                base.filename(memory_name()).in_memory(true).shared_cache(true),
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None),
            ),
        };
        let keeper = match target {
            SqliteTarget::Memory => {
                let conn = SqliteConnection::connect_with(&options).await.map_err(map)?;
                Some(Arc::new(Keeper(Mutex::new(Some(conn)))))
            }
            SqliteTarget::File(_) => None,
        };
        let pool = pool
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(map)?;
        let store = Self { pool, extra: keeper };
        let rewrote = store.migrate(SQLITE).await?;
        if rewrote && matches!(target, SqliteTarget::File(_)) {
            // The credentials migration 0003 rewrote reach the main file now, not at some later
            // checkpoint, so a copy of the file holds only their digests.
            sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&store.pool)
                .await
                .map_err(map)?;
        }
        Ok(store)
    }
}

impl Dialect for Sqlite {
    type Extra = Option<Arc<Keeper>>;

    /// A write transaction that takes SQLite's write lock up front, so it never fails half-way
    /// on a lock upgrade; this alone serialises writers.
    async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, StoreError> {
        pool.begin_with("BEGIN IMMEDIATE").await.map_err(map)
    }

    /// A deferred transaction: in WAL mode its first read fixes the snapshot the rest see.
    async fn begin_snapshot(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, StoreError> {
        pool.begin().await.map_err(map)
    }

    async fn serialize_writers(_: &mut Transaction<'static, Sqlite>) -> Result<(), StoreError> {
        Ok(())
    }

    /// Checkpoints a file store's write-ahead log into the file, closes the pool, then lets an
    /// in-memory database go. SQLite also checkpoints when its last connection closes, but of
    /// several pool connections closing at once none may see itself as the last (about one
    /// `generate` in fifteen left its WAL behind); the explicit checkpoint does not depend on it.
    async fn close(pool: &SqlitePool, keeper: &Self::Extra) {
        if keeper.is_none() {
            let _ = sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await;
        }
        pool.close().await;
        let keeper = keeper.as_ref().and_then(|k| k.0.lock().ok().and_then(|mut c| c.take()));
        if let Some(conn) = keeper {
            let _ = conn.close().await;
        }
    }

    /// An index SQLite made for a key or a UNIQUE constraint has no SQL.
    const SECONDARY_INDEXES: &str = "SELECT name, sql AS ddl FROM sqlite_master \
         WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL ORDER BY name";

    /// SQLite plans without statistics unless ANALYZE has run, and dingdir never runs it.
    async fn prepare_bulk_statement(_: &mut Transaction<'static, Sqlite>, _: &[&str]) -> Result<(), StoreError> {
        Ok(())
    }

    const ANONYMOUS_VALUES: bool = true;
    /// Far below SQLite's limit of 32,766.
    const BULK_PARAMS: usize = 4000;

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite's statistics of a million-person store: `ANALYZE` of `dingdir generate --people
    /// 1000000` (2026-12-07), as (table, index, stat). dingdir never runs ANALYZE, and without
    /// statistics SQLite plans by fixed rules that do not depend on the row counts; an operator
    /// may run it on their file, so each plan is checked both ways.
    const STATS_1M: &[(&str, &str, &str)] = &[
        ("corps", "sqlite_autoindex_corps_1", "200 1"),
        ("departments", "departments_children", "28272 142 5 1 1"),
        ("departments", "sqlite_autoindex_departments_1", "28272 142 1"),
        ("member_departments", "member_departments_dept", "1165477 5828 42 1 1"),
        ("member_departments", "member_departments_seq", "1165477 5828 42 1"),
        (
            "member_departments",
            "sqlite_autoindex_member_departments_1",
            "1165477 5828 1 1",
        ),
        ("memberships", "memberships_departures", "39967 200 1 1"),
        ("memberships", "memberships_person", "1109959 1"),
        ("memberships", "sqlite_autoindex_memberships_1", "1109959 5550 1"),
        ("memberships", "sqlite_autoindex_memberships_2", "1109959 5550 1"),
        ("people", "people_login_id", "9990 50 1"),
        ("people", "people_mobile", "1009990 1 1"),
        ("people", "people_normal_mobile", "1000000 1 1"),
        ("people", "sqlite_autoindex_people_1", "1009990 1"),
        ("people", "sqlite_autoindex_people_2", "1009990 1"),
    ];

    /// The plan of `sql` (its parameters bound to `args`), one line per step.
    async fn plan(store: &SqliteStore, sql: &str, args: &[&str]) -> Vec<String> {
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let mut q = sqlx::query(&explain);
        for a in args {
            q = q.bind(*a);
        }
        let rows = q.fetch_all(&store.pool).await.unwrap();
        rows.iter().map(|r| sqlx::Row::get::<String, _>(r, "detail")).collect()
    }

    /// The list and lookup paths each start from their index and never sort or scan, with no
    /// statistics and with a million-person store's: a scan of a table or a temporary B-tree
    /// for an ORDER BY costs the whole table (or department) per request at that size (driven
    /// from the corp's memberships, the mobile lookup once took over a second a request).
    #[tokio::test]
    async fn the_list_and_lookup_paths_seek_their_indexes_at_a_million_people() {
        use crate::sql::directory::{DEPARTMENT_MEMBERS_SQL, department_page_sql, departures_sql};
        let store = SqliteStore::open(&SqliteTarget::Memory).await.unwrap();
        let paths: Vec<(&str, String, &[&str], Vec<&str>)> = vec![
            (
                "getbymobile",
                crate::sql::directory::members_by_mobile_sql(),
                &["15000009144", "86", "dingx"],
                vec![
                    "SEARCH p USING INDEX people_mobile",
                    "SEARCH m USING INDEX sqlite_autoindex_memberships_2",
                ],
            ),
            (
                "v2/user/list, numbered",
                department_page_sql(true),
                &["dingx", "2", "100", "200"],
                vec!["SEARCH d USING INDEX member_departments_seq (corp_id=? AND dept_id=? AND seq>? AND seq<?)"],
            ),
            (
                "v2/user/list, counted",
                department_page_sql(false),
                &["dingx", "2", "100", "0"],
                vec!["SEARCH d USING COVERING INDEX member_departments_dept (corp_id=? AND dept_id=?)"],
            ),
            (
                "listid",
                DEPARTMENT_MEMBERS_SQL.to_owned(),
                &["dingx", "2"],
                vec!["SEARCH d USING COVERING INDEX member_departments_dept (corp_id=? AND dept_id=?)"],
            ),
            (
                "departures",
                departures_sql(),
                &["dingx", "0", "9", "0", "", "100"],
                vec!["SEARCH m USING INDEX memberships_departures (corp_id=? AND left_at>? AND left_at<?)"],
            ),
        ];
        for stats in [false, true] {
            if stats {
                sqlx::raw_sql("ANALYZE").execute(&store.pool).await.unwrap();
                for (tbl, idx, stat) in STATS_1M {
                    sqlx::query("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?1, ?2, ?3)")
                        .bind(*tbl)
                        .bind(*idx)
                        .bind(*stat)
                        .execute(&store.pool)
                        .await
                        .unwrap();
                }
                // Reloads the statistics into the planner.
                sqlx::raw_sql("ANALYZE sqlite_schema")
                    .execute(&store.pool)
                    .await
                    .unwrap();
            }
            for (name, sql, args, want) in &paths {
                let plan = plan(&store, sql, args).await;
                for (step, want) in want.iter().enumerate() {
                    assert!(
                        plan.get(step).is_some_and(|p| p.starts_with(want)),
                        "{name} (statistics: {stats}): step {step} should start with {want:?}: {plan:?}"
                    );
                }
                assert!(
                    plan.iter()
                        .all(|p| !p.starts_with("SCAN") && !p.contains("TEMP B-TREE")),
                    "{name} (statistics: {stats}) scans or sorts: {plan:?}"
                );
            }
        }
    }

    /// An import drops the member tables' secondary indexes and builds them again: afterwards the
    /// store has the very indexes a migrated store has, with the same definitions.
    #[tokio::test]
    async fn an_import_leaves_every_index_as_the_migrations_made_it() {
        use dingdir_core::DirectoryStore;
        async fn indexes(store: &SqliteStore) -> Vec<(String, String)> {
            sqlx::query_as("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
                .fetch_all(&store.pool)
                .await
                .unwrap()
        }
        let seeded = SqliteStore::open(&SqliteTarget::Memory).await.unwrap();
        let demo = include_str!("../../../examples/demo.yaml");
        dingdir_core::seed::apply_text(&seeded, "demo.yaml", demo)
            .await
            .unwrap();
        let directory = seeded.directory().await.unwrap();
        let imported = SqliteStore::open(&SqliteTarget::Memory).await.unwrap();
        let migrated = indexes(&imported).await;
        assert!(migrated.iter().any(|(name, _)| name == "people_mobile"), "{migrated:?}");
        imported.import(&mut std::iter::once(directory.clone())).await.unwrap();
        assert_eq!(indexes(&imported).await, migrated);
        assert_eq!(imported.directory().await.unwrap(), directory);
        // No staging table is left behind.
        let temp: Vec<(String,)> = sqlx::query_as("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
            .fetch_all(&imported.pool)
            .await
            .unwrap();
        assert!(temp.is_empty(), "{temp:?}");
    }

    /// `dingdir dev` lives in memory. A store call cut short (a store timeout, a client gone)
    /// makes the pool close its connection mid-query; the directory must outlive that.
    #[tokio::test]
    async fn an_in_memory_store_outlives_cancelled_calls() {
        use dingdir_core::DirectoryStore;
        let store = SqliteStore::open(&SqliteTarget::Memory).await.unwrap();
        let demo = include_str!("../../../examples/demo.yaml");
        dingdir_core::seed::apply_text(&store, "demo.yaml", demo).await.unwrap();
        // Many callers at once, each cut short after a few hundred microseconds at most: some
        // while waiting for the connection, some mid-query.
        let callers: Vec<_> = (0..32u64)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    for j in 0..50u64 {
                        let limit = Duration::from_micros((i * 37 + j * 11) % 400);
                        let _ = tokio::time::timeout(limit, store.directory()).await;
                    }
                })
            })
            .collect();
        for c in callers {
            c.await.unwrap();
        }
        let directory = store.directory().await.unwrap();
        assert!(!directory.people.is_empty(), "the demo directory is gone");
        assert!(!directory.corps.is_empty(), "the demo directory is gone");
    }

    /// Two in-memory stores of one process are two databases.
    #[tokio::test]
    async fn in_memory_stores_are_separate() {
        use dingdir_core::DirectoryStore;
        let a = SqliteStore::open(&SqliteTarget::Memory).await.unwrap();
        let b = SqliteStore::open(&SqliteTarget::Memory).await.unwrap();
        let demo = include_str!("../../../examples/demo.yaml");
        dingdir_core::seed::apply_text(&a, "demo.yaml", demo).await.unwrap();
        assert!(!a.directory().await.unwrap().people.is_empty());
        assert!(b.directory().await.unwrap().people.is_empty());
    }
}
