//! Adapts any [`EventStore`] to the collector's [`EventSink`], so collect and store never know
//! each other.

use std::sync::Arc;

use waymark_core::{Event, EventSink, SinkError};

use crate::EventStore;

/// An [`EventSink`] writing to a shared store.
pub struct StoreSink(pub Arc<dyn EventStore>);

impl EventSink for StoreSink {
    fn append_logged(&mut self, events: &[Event], last_seq: u64) -> Result<(), SinkError> {
        self.0
            .append_logged(events, last_seq)
            .map_err(|e| SinkError(e.to_string()))
    }
}
