//! Waymark's domain types: the stored event, sites, date ranges and the sink the collector
//! hands durable batches to; conversion and funnel definitions and their trigger language; and
//! [`query`], the one vocabulary of the questions stores answer; and [`ErrorKind`], the closed
//! classification every library error reports. Nothing here does I/O, so every other crate can
//! depend on it.

pub mod conversion;
pub mod error;
pub mod event;
pub mod funnel;
pub mod query;
pub mod range;
pub mod sink;
pub mod site;
pub mod trigger;

pub use chrono_tz::Tz;
pub use conversion::{Change, Conversion, ConversionKind, ConversionValue, DefinitionError};
pub use error::{ErrorKind, HasKind};
pub use event::{Event, Prop};
pub use funnel::{Funnel, FunnelStep, IdentityMode, StepOrder, StepSource, Window};
pub use query::{
    Condition, ConversionCounts, ConversionQuery, Field, Filter, FunnelCounts, FunnelQuery,
    FunnelRow, Goal, Op, StepCount, TriggerCount,
};
pub use range::{DateRange, RangeError, TimeBounds};
pub use sink::{EventSink, SinkError};
pub use site::{Site, SiteError};
pub use trigger::{
    PageEngagement, PathPattern, PropCondition, PropOp, Subject, Trigger, TriggerError,
};
