//! Waymark's HTTP server: the Events API (`POST /api/event`), `/health`, `/metrics`, the
//! tracker script and the conversions and funnels API, wired to the collector, the durable
//! ingest log, the store and insight.

pub mod access_api;
pub mod accounts;
pub mod auth;
pub mod client_ip;
pub mod config;
pub mod conversions_api;
pub mod dashboard;
pub mod error;
pub mod event;
pub mod openapi;
mod pages;
pub mod runtime;
pub mod share;
pub mod state;
pub mod stats_api;
pub mod tracker;

pub use config::ServerConfig;
pub use runtime::{run, Running};
