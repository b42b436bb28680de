//! The thin handlers, one file per surface: each parses the request, checks access
//! ([`crate::access::authorize`]), calls collect, insight or the store, and shapes the answer.
//! Errors go back with `?` ([`crate::error`] decides their status). Each module exports
//! `routes()`, merged by [`crate::app::app`].
//!
//! - [`event`]: `POST /api/event` (the Events API);
//! - [`stats`]: `POST /api/v2/query` (the Stats API v2);
//! - [`reports`]: conversion and funnel reports;
//! - [`definitions`]: conversions, funnels, templates and trigger checks;
//! - [`manage`]: the session, sites, API keys, shared links, users and grants;
//! - [`login`]: the entry page, sign-in and sign-out (HTML);
//! - [`share`]: shared links in the browser (HTML);
//! - [`assets`]: the dashboard, the tracker script and the OpenAPI document;
//! - [`health`]: `/health` and `/metrics`.

pub mod assets;
pub mod definitions;
pub mod event;
pub mod health;
pub mod login;
pub mod manage;
pub mod reports;
pub mod share;
pub mod stats;
