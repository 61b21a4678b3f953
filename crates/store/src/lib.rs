//! SQL implementations of [`dingdir_core::Store`]: SQLite (feature `sqlite`, the default) and
//! PostgreSQL (feature `postgres`).
//!
//! Schema migrations are embedded in the binary and applied at open, each in its own
//! transaction, recorded in `schema_migrations`. Queries use `$N` placeholders, which SQLite and
//! PostgreSQL both read, so one set of queries serves every backend.

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("dingdir-store needs a backend: enable the `sqlite` or `postgres` feature");

mod error;
mod migrate;
#[cfg(feature = "postgres")]
mod postgres;
pub mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "testing")]
pub mod testing;

#[cfg(feature = "postgres")]
pub use postgres::PgStore;
pub use sql::SqlStore;
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteStore, SqliteTarget};
