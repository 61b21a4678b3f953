//! Fresh stores for tests, so one set of test definitions runs on every backend.
//!
//! `DINGDIR_TEST_POSTGRES_URL` names a PostgreSQL server the tests may create databases on
//! (`scripts/test` starts a throwaway one). `DINGDIR_TEST_BACKEND` picks the backend of
//! [`fresh_store`]: `sqlite` (default) or `postgres`. In CI (`CI=true`) a test that needs
//! PostgreSQL and finds no server fails instead of skipping.

#![allow(clippy::panic, reason = "test support fails by panicking")]

use crate::{PgStore, SqliteStore, SqliteTarget};
use dingdir_core::Store;
use sqlx::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The backends a test suite runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in memory.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

/// The PostgreSQL server tests may use, if any. Fails in CI when there is none.
pub fn postgres_server() -> Option<String> {
    match std::env::var("DINGDIR_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "CI=true but DINGDIR_TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI (use scripts/test)"
            )
        }
        _ => None,
    }
}

/// Every backend available here: SQLite always, PostgreSQL when a server is configured.
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    if postgres_server().is_some() {
        all.push(Backend::Postgres);
    } else {
        eprintln!("note: DINGDIR_TEST_POSTGRES_URL is not set; PostgreSQL rows are skipped");
    }
    all
}

/// The backend `DINGDIR_TEST_BACKEND` asks for (default SQLite).
pub fn selected_backend() -> Backend {
    match std::env::var("DINGDIR_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// Creates an empty database on the test server and returns its URL.
pub async fn fresh_postgres_database() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let server = postgres_server().unwrap_or_else(|| panic!("DINGDIR_TEST_POSTGRES_URL is not set"));
    let name = format!(
        "dingdir_t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        nanos()
    );
    let mut conn = sqlx::PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("connecting to {server}: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
    let _ = conn.close().await;
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

fn nanos() -> u128 {
    #[expect(clippy::disallowed_methods, reason = "a unique name, not a clock reading")]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000)
        .unwrap_or(0)
}

/// A fresh, empty store on `backend`.
pub async fn store_on(backend: Backend) -> Arc<dyn Store> {
    match backend {
        Backend::Sqlite => Arc::new(
            SqliteStore::open(&SqliteTarget::Memory)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        ),
        Backend::Postgres => {
            let url = fresh_postgres_database().await;
            Arc::new(PgStore::open(&url, 8).await.unwrap_or_else(|e| panic!("{e}")))
        }
    }
}

/// A fresh, empty store on the selected backend.
pub async fn fresh_store() -> Arc<dyn Store> {
    store_on(selected_backend()).await
}
