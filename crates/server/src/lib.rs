//! Waymark's HTTP server, grouped so a newcomer knows where a request goes and where a rule
//! lives:
//!
//! - [`app`]: the router; [`runtime`]: start-up, background work and graceful shutdown;
//! - [`error`]: every library error has a kind, and one mapping turns kinds into answers;
//! - [`http`]: client IP, cookies, CSRF;
//! - [`access`]: credentials, principals and permissions, limits, account rules (no routes,
//!   so the CLI takes its rules from here);
//! - [`routes`]: thin handlers (event, stats, reports, definitions, manage, login, share,
//!   assets, health);
//! - [`html`]: the server-rendered pages.
//!
//! Comparison periods and percent changes are insight's rules; the routes only shape them.

pub mod access;
pub mod app;
pub mod config;
pub mod error;
mod html;
pub mod http;
pub mod routes;
pub mod runtime;
pub mod state;

pub use config::ServerConfig;
pub use runtime::{run, Running};
