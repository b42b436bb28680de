//! Waymark's domain types: the stored event, sites, date ranges and the sink the collector
//! hands durable batches to. Nothing here does I/O, so every other crate can depend on it.

pub mod event;
pub mod range;
pub mod site;
pub mod sink;

pub use event::{Event, Prop};
pub use range::{DateRange, RangeError, TimeBounds};
pub use site::{Site, SiteError};
pub use sink::{EventSink, SinkError};
