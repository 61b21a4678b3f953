//! dingdir's domain: the directory model (corps, people, memberships, apps), its rules
//! (identifier scoping, mobiles, secrets), the seed format, and the [`Store`] and [`Clock`] ports.
//!
//! This crate knows nothing of HTTP or SQL: it never uses axum, sqlx or reqwest. Gateways shape
//! responses from what it returns; the `dingdir-store` crate implements [`Store`].

pub mod app_robot;
pub mod by_mobile;
mod cache;
pub mod callback;
pub mod change;
pub mod clock;
pub mod contact;
pub mod error;
pub mod group;
pub mod ident;
pub mod intercept;
pub mod iso_time;
mod leave;
pub mod media;
pub mod message;
mod meter;
pub mod mobile;
pub mod model;
pub mod notice;
pub mod org;
mod profile;
pub mod rate;
pub mod robot;
pub mod secret;
pub mod seed;
pub mod service;
pub mod signin;
pub mod stats;
pub mod store;
pub mod stream;
mod throttle;
pub mod token;
mod verify;

pub use clock::{Clock, MovableClock, SystemClock};
pub use error::{Error, Refusal, StoreError};
pub use service::{Caller, Policy, Service, Visibility};
pub use store::{CallbackStore, DirectoryStore, LimitStore, MessageStore, SignInStore, Store, TokenStore};
pub use verify::default_concurrency as default_hash_concurrency;

#[cfg(test)]
mod tests;
