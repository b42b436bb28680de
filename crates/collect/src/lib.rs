//! The way in: the Events API payload, enrichment at ingest, visitor identity (daily salts),
//! sessions, the durable ingest log and the batcher that feeds the store.
//!
//! Flow: [`payload::Payload::parse`] → [`collector::Collector::process`] →
//! [`ingest_log::LogHandle::append`] (acknowledged once synced) → [`batcher::run_batcher`] →
//! an [`waymark_core::EventSink`].

pub mod batcher;
pub mod collector;
pub mod idempotency;
pub mod ingest_log;
pub mod payload;
pub mod priority;
pub mod salt;
pub mod session;

pub use collector::{Collector, DropReason, Outcome, RequestMeta};
pub use payload::{Payload, PayloadError};
