//! The hand-off from the durable ingest log to a store: batches tagged with their log position.

/// A store failure as seen by the collector.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub String);

/// Receives durable events in log order. `last_seq` is the ingest-log sequence number of the
/// last event in the batch; a sink records it atomically with the rows so that replay after a
/// crash appends every logged event exactly once.
pub trait EventSink: Send {
    /// Appends the batch and records `last_seq` in the same transaction.
    fn append_logged(&mut self, events: &[crate::Event], last_seq: u64) -> Result<(), SinkError>;
}
