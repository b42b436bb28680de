//! Waymark's HTTP server: the Events API (`POST /api/event`), `/health`, `/metrics` and the
//! tracker script, wired to the collector, the durable ingest log and the store.

pub mod client_ip;
pub mod config;
pub mod conversions_api;
pub mod error;
pub mod event;
pub mod runtime;
pub mod state;
pub mod tracker;

pub use config::ServerConfig;
pub use runtime::{run, Running};
