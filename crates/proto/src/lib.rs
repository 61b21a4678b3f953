//! The wire truth shared by the dingdir server and `dingdir-client`: request and response bodies of
//! both DingTalk gateways, their error envelopes and codes, and the paths they are served at.
//!
//! Whose contract each module is:
//! - [`api`] mirrors DingTalk's new gateway (`api.dingtalk.com`) and [`oapi`] its legacy gateway
//!   (`oapi.dingtalk.com`). They change only with a citation of `shared/spec/WIRE.md` or
//!   `shared/spec/SDK-WIRE.md`.
//! - [`admin`] is dingdir's own admin API under `/_dingdir/`, versioned by us.
//! - [`ids`] and [`scope`] are DingTalk's vocabulary, used by every layer.
//!
//! This crate is serde only: nothing async, no HTTP library.
#![warn(missing_docs)]

pub mod admin;
pub mod api;
pub mod browser;
pub mod ids;
pub mod message;
pub mod oapi;
pub mod scope;
pub mod stream;
