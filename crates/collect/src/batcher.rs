//! Moves durable records from the ingest log into the store in large batches, and tells the
//! log what it may delete. Store errors are retried: the records stay in the log meanwhile.
//!
//! The batcher runs at background priority ([`crate::priority`]): acknowledgements never wait
//! for it, so under load its appends take only the CPU that request handling leaves, and grow
//! larger (cheaper per event) instead of stalling requests.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use waymark_core::{Event, EventSink};

use crate::ingest_log::{LogHandle, Logged};

/// Batching policy.
#[derive(Debug, Clone, Copy)]
pub struct BatchPolicy {
    /// Append once this many events are pending...
    pub max_events: usize,
    /// ...or once the oldest pending event has waited this long.
    pub max_wait: Duration,
}

impl Default for BatchPolicy {
    fn default() -> Self {
        BatchPolicy {
            max_events: 50_000,
            max_wait: Duration::from_millis(500),
        }
    }
}

/// Runs until the log's writer stops (its sender is dropped), then flushes what is pending.
/// Each message is one group commit of the log.
pub fn run_batcher(
    rx: Receiver<Vec<Logged>>,
    mut sink: Box<dyn EventSink>,
    log: Option<LogHandle>,
    policy: BatchPolicy,
) {
    crate::priority::background();
    let mut pending: Vec<Event> = Vec::new();
    let mut last_seq = 0;
    let mut since: Option<Instant> = None;
    loop {
        let timeout = since
            .map(|t| policy.max_wait.saturating_sub(t.elapsed()))
            .unwrap_or(Duration::from_secs(3600));
        let disconnected = match rx.recv_timeout(timeout) {
            Ok(group) => {
                take(group, &mut pending, &mut last_seq);
                since.get_or_insert_with(Instant::now);
                // Take what else is already queued without waiting.
                while pending.len() < policy.max_events {
                    match rx.try_recv() {
                        Ok(group) => take(group, &mut pending, &mut last_seq),
                        Err(_) => break,
                    }
                }
                false
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };
        let due = pending.len() >= policy.max_events
            || since.is_some_and(|t| t.elapsed() >= policy.max_wait)
            || disconnected;
        if due && !pending.is_empty() {
            flush(&mut *sink, &mut pending, last_seq, disconnected);
            since = None;
            if let Some(log) = &log {
                log.release(last_seq);
            }
        }
        if disconnected {
            break;
        }
    }
}

fn take(group: Vec<Logged>, pending: &mut Vec<Event>, last_seq: &mut u64) {
    for rec in group {
        pending.extend(rec.events);
        *last_seq = rec.seq;
    }
}

fn flush(sink: &mut dyn EventSink, pending: &mut Vec<Event>, last_seq: u64, final_flush: bool) {
    let mut delay = Duration::from_millis(50);
    loop {
        match sink.append_logged(pending, last_seq) {
            Ok(()) => {
                pending.clear();
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, events = pending.len(), "store append failed; retrying (events are safe in the ingest log)");
                if final_flush && delay > Duration::from_secs(5) {
                    tracing::error!("giving up at shutdown; the ingest log will replay these events at the next start");
                    return;
                }
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}
