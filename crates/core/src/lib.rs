//! Waymark's domain types: the stored event, sites, date ranges and the sink the collector
//! hands durable batches to; conversion and funnel definitions, their trigger language, and the
//! logical queries stores answer for them. Nothing here does I/O, so every other crate can
//! depend on it.

pub mod conversion;
pub mod event;
pub mod funnel;
pub mod logical;
pub mod range;
pub mod segment;
pub mod sink;
pub mod site;
pub mod stats;
pub mod trigger;

pub use conversion::{Change, Conversion, ConversionKind, ConversionValue, DefinitionError};
pub use event::{Event, Prop};
pub use funnel::{Funnel, FunnelStep, IdentityMode, StepOrder, StepSource, Window};
pub use logical::{
    ConversionCounts, ConversionQuery, FunnelCounts, FunnelQuery, FunnelRow, StepCount,
    TriggerCount,
};
pub use range::{DateRange, RangeError, TimeBounds};
pub use segment::{Attribute, Filter, FilterOn, FilterOp};
pub use sink::{EventSink, SinkError};
pub use site::{Site, SiteError};
pub use trigger::{
    PageEngagement, PathPattern, PropCondition, PropOp, Subject, Trigger, TriggerError,
};
