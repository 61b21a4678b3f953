//! SQL implementations of [`dingdir_core::Store`]: SQLite (feature `sqlite`, the default).
//!
//! Schema migrations are embedded in the binary and applied at open, each in its own
//! transaction, recorded in `schema_migrations`. Queries use `$N` placeholders, which SQLite and
//! PostgreSQL both read, so one set of queries serves every backend.

#[cfg(not(feature = "sqlite"))]
compile_error!("dingdir-store needs a backend: enable the `sqlite` feature");

mod error;
mod migrate;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteStore, SqliteTarget};
