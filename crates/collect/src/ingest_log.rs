//! The durable ingest log in front of the store: append-only segment files of CRC-framed
//! records, written by one thread with group commit (one `fdatasync` covers every request that
//! arrived meanwhile). A request is acknowledged only after the sync that covers it.
//!
//! Record layout: `len: u32 LE | crc32(seq ‖ payload): u32 LE | seq: u64 LE | payload`, where the
//! payload is the request's events in postcard. Recovery reads records until the first torn or
//! corrupt one and truncates the segment there; everything before it was acknowledged.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::thread::JoinHandle;

use waymark_core::Event;

/// A new segment is started once the active one passes this size.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// Requests waiting for the writer before new ones are refused (HTTP 503, retried by clients).
pub const QUEUE_DEPTH: usize = 65_536;
const HEADER: usize = 16;
/// Most requests one group commit takes, so acknowledgement latency stays bounded.
const MAX_GROUP: usize = 8_192;

/// A logged request: its sequence number and events.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub seq: u64,
    pub events: Vec<Event>,
}

/// Why the log could not take or keep an event.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("ingest log {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("ingest log record could not be encoded: {0}")]
    Encode(String),
    #[error("ingest log is full; retry shortly")]
    Busy,
    #[error("ingest log is shutting down")]
    Closed,
    #[error("ingest log failed earlier and refuses writes until restart: {0}")]
    Failed(String),
}

impl waymark_core::HasKind for LogError {
    /// The event was not made durable: the sender may retry (it has not been acknowledged),
    /// except for a record that cannot be encoded, which is a bug.
    fn kind(&self) -> waymark_core::ErrorKind {
        match self {
            LogError::Encode(_) => waymark_core::ErrorKind::Internal,
            _ => waymark_core::ErrorKind::Unavailable,
        }
    }
}

/// Completes one request: its sequence number, or why it failed.
type Ack = tokio::sync::oneshot::Sender<Result<u64, String>>;

enum Msg {
    Append {
        events: Vec<Event>,
        ack: Ack,
    },
    /// Every record with `seq <= applied` is in the store: whole segments below it may go.
    Release(u64),
    Shutdown,
}

struct Segment {
    first_seq: u64,
    path: PathBuf,
}

/// An opened, recovered log that has not started writing yet.
pub struct IngestLog {
    dir: PathBuf,
    segments: Vec<Segment>,
    next_seq: u64,
}

/// What recovery found: every intact record, in order.
pub struct Recovered {
    pub records: Vec<Logged>,
    /// Bytes cut off torn or corrupt tails (normally only after a crash mid-write).
    pub truncated_bytes: u64,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LogError + '_ {
    move |source| LogError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn segment_name(first_seq: u64) -> String {
    format!("{first_seq:020}.log")
}

impl IngestLog {
    /// Opens the log in `dir` (created if missing), recovering every intact record.
    /// `applied_seq` is what the store already holds: new sequence numbers continue after it
    /// even when the log is empty.
    pub fn open(dir: &Path, applied_seq: u64) -> Result<(IngestLog, Recovered), LogError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let mut segments = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
            let entry = entry.map_err(io_err(dir))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(seq) = name
                .strip_suffix(".log")
                .and_then(|s| s.parse::<u64>().ok())
            {
                segments.push(Segment {
                    first_seq: seq,
                    path: entry.path(),
                });
            }
        }
        segments.sort_by_key(|s| s.first_seq);
        let mut records = Vec::new();
        let mut truncated_bytes = 0;
        for seg in &segments {
            let bytes = std::fs::read(&seg.path).map_err(io_err(&seg.path))?;
            let (valid_len, mut recs) = decode_records(&bytes);
            if valid_len < bytes.len() {
                truncated_bytes += (bytes.len() - valid_len) as u64;
                tracing::warn!(
                    segment = %seg.path.display(),
                    cut = bytes.len() - valid_len,
                    "ingest log: truncating a torn or corrupt tail"
                );
                let f = OpenOptions::new()
                    .write(true)
                    .open(&seg.path)
                    .map_err(io_err(&seg.path))?;
                f.set_len(valid_len as u64).map_err(io_err(&seg.path))?;
                f.sync_all().map_err(io_err(&seg.path))?;
            }
            records.append(&mut recs);
        }
        let last = records.last().map(|r| r.seq).unwrap_or(0);
        let next_seq = last.max(applied_seq) + 1;
        Ok((
            IngestLog {
                dir: dir.to_path_buf(),
                segments,
                next_seq,
            },
            Recovered {
                records,
                truncated_bytes,
            },
        ))
    }

    /// Starts the writer thread. Every durable request is forwarded to `downstream` in order,
    /// one message per group commit (so the consumer wakes once per sync, not per request).
    pub fn start(self, downstream: Sender<Vec<Logged>>) -> Result<LogHandle, LogError> {
        let (tx, rx) = mpsc::sync_channel(QUEUE_DEPTH);
        let mut writer = Writer::new(self, downstream)?;
        let thread = std::thread::Builder::new()
            .name("ingest-log".into())
            .spawn(move || writer.run(rx))
            .map_err(io_err(Path::new("<thread>")))?;
        Ok(LogHandle {
            tx,
            thread: std::sync::Arc::new(parking_lot::Mutex::new(Some(thread))),
        })
    }
}

/// Decodes records from the start of a segment; returns the length of the intact prefix.
fn decode_records(bytes: &[u8]) -> (usize, Vec<Logged>) {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + HEADER <= bytes.len() {
        let len = u32::from_le_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]])
            as usize;
        let crc = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]);
        let end = pos + HEADER + len;
        if end > bytes.len() {
            break;
        }
        let body = &bytes[pos + 8..end];
        if crc32fast::hash(body) != crc {
            break;
        }
        let mut seq_bytes = [0u8; 8];
        seq_bytes.copy_from_slice(&body[..8]);
        let Ok(events) = postcard::from_bytes::<Vec<Event>>(&body[8..]) else {
            break;
        };
        out.push(Logged {
            seq: u64::from_le_bytes(seq_bytes),
            events,
        });
        pos = end;
    }
    (pos, out)
}

fn encode_record(buf: &mut Vec<u8>, seq: u64, events: &[Event]) -> Result<(), LogError> {
    let start = buf.len();
    buf.extend_from_slice(&[0u8; 8]);
    buf.extend_from_slice(&seq.to_le_bytes());
    // Straight into the group's buffer (no intermediate allocation); a failed record is cut
    // back out so the records around it stay intact.
    if let Err(e) = postcard::to_io(events, &mut *buf) {
        buf.truncate(start);
        return Err(LogError::Encode(e.to_string()));
    }
    let len = (buf.len() - start - HEADER) as u32;
    let crc = crc32fast::hash(&buf[start + 8..]);
    buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// A cheap, cloneable handle for appending to the running log.
#[derive(Clone)]
pub struct LogHandle {
    tx: SyncSender<Msg>,
    thread: std::sync::Arc<parking_lot::Mutex<Option<JoinHandle<()>>>>,
}

impl LogHandle {
    /// Appends one request's events; resolves with its sequence number once it is on disk.
    pub async fn append(&self, events: Vec<Event>) -> Result<u64, LogError> {
        let (ack, done) = tokio::sync::oneshot::channel();
        self.tx
            .try_send(Msg::Append { events, ack })
            .map_err(|e| match e {
                TrySendError::Full(_) => LogError::Busy,
                TrySendError::Disconnected(_) => LogError::Closed,
            })?;
        match done.await {
            Ok(Ok(seq)) => Ok(seq),
            Ok(Err(msg)) => Err(LogError::Failed(msg)),
            Err(_) => Err(LogError::Closed),
        }
    }

    /// Blocking variant of [`LogHandle::append`] for non-async callers.
    pub fn append_blocking(&self, events: Vec<Event>) -> Result<u64, LogError> {
        let (ack, done) = tokio::sync::oneshot::channel();
        self.tx
            .send(Msg::Append { events, ack })
            .map_err(|_| LogError::Closed)?;
        match done.blocking_recv() {
            Ok(Ok(seq)) => Ok(seq),
            Ok(Err(msg)) => Err(LogError::Failed(msg)),
            Err(_) => Err(LogError::Closed),
        }
    }

    /// Tells the log which records the store now holds, so whole segments can be deleted.
    pub fn release(&self, applied_seq: u64) {
        let _ = self.tx.try_send(Msg::Release(applied_seq));
    }

    /// Finishes every accepted request, stops the writer and waits for it. Idempotent.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Msg::Shutdown);
        if let Some(t) = self.thread.lock().take() {
            let _ = t.join();
        }
    }
}

struct Writer {
    dir: PathBuf,
    segments: Vec<Segment>,
    file: File,
    file_len: u64,
    next_seq: u64,
    downstream: Sender<Vec<Logged>>,
    failed: Option<String>,
    buf: Vec<u8>,
}

impl Writer {
    fn new(log: IngestLog, downstream: Sender<Vec<Logged>>) -> Result<Writer, LogError> {
        let IngestLog {
            dir,
            mut segments,
            next_seq,
        } = log;
        if segments.is_empty() {
            segments.push(Segment {
                first_seq: next_seq,
                path: dir.join(segment_name(next_seq)),
            });
        }
        let path = segments.last().map(|s| s.path.clone()).unwrap_or_default();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let file_len = file.seek(SeekFrom::End(0)).map_err(io_err(&path))?;
        sync_dir(&dir)?;
        Ok(Writer {
            dir,
            segments,
            file,
            file_len,
            next_seq,
            downstream,
            failed: None,
            buf: Vec::with_capacity(1 << 20),
        })
    }

    fn run(&mut self, rx: Receiver<Msg>) {
        let mut group = Vec::with_capacity(1024);
        'outer: while let Ok(first) = rx.recv() {
            let mut shutdown = false;
            let mut pending = Some(first);
            while let Some(msg) = pending.take() {
                match msg {
                    Msg::Append { events, ack } => group.push((events, ack)),
                    Msg::Release(seq) => self.release(seq),
                    Msg::Shutdown => shutdown = true,
                }
                if group.len() < MAX_GROUP && !shutdown {
                    pending = rx.try_recv().ok();
                }
            }
            if !group.is_empty() {
                self.commit(&mut group);
            }
            if shutdown {
                // Requests already queued were accepted by the server: finish them too.
                while let Ok(msg) = rx.try_recv() {
                    if let Msg::Append { events, ack } = msg {
                        group.push((events, ack));
                    }
                }
                if !group.is_empty() {
                    self.commit(&mut group);
                }
                break 'outer;
            }
        }
    }

    fn commit(&mut self, group: &mut Vec<(Vec<Event>, Ack)>) {
        if let Some(reason) = &self.failed {
            for (_, ack) in group.drain(..) {
                let _ = ack.send(Err(reason.clone()));
            }
            return;
        }
        self.buf.clear();
        let first_seq = self.next_seq;
        let mut encoded = Vec::with_capacity(group.len());
        for (events, ack) in group.drain(..) {
            match encode_record(&mut self.buf, self.next_seq, &events) {
                Ok(()) => {
                    encoded.push((self.next_seq, events, ack));
                    self.next_seq += 1;
                }
                Err(e) => {
                    let _ = ack.send(Err(e.to_string()));
                }
            }
        }
        if encoded.is_empty() {
            return;
        }
        match self.write_and_sync() {
            Ok(()) => {
                let mut durable = Vec::with_capacity(encoded.len());
                for (seq, events, ack) in encoded {
                    let _ = ack.send(Ok(seq));
                    durable.push(Logged { seq, events });
                }
                let _ = self.downstream.send(durable);
                if self.file_len >= SEGMENT_BYTES {
                    if let Err(e) = self.roll() {
                        self.fail(e.to_string());
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "ingest log write failed");
                self.next_seq = first_seq;
                for (_, _, ack) in encoded {
                    let _ = ack.send(Err(e.to_string()));
                }
                // Cut anything half-written so later records stay readable after recovery.
                let path = self.active_path();
                let cut = self
                    .file
                    .set_len(self.file_len)
                    .and_then(|_| self.file.sync_data());
                if let Err(e2) = cut {
                    self.fail(format!("{}: {e2}", path.display()));
                }
            }
        }
    }

    fn write_and_sync(&mut self) -> Result<(), LogError> {
        let path = self.active_path();
        self.file.write_all(&self.buf).map_err(io_err(&path))?;
        self.file.sync_data().map_err(io_err(&path))?;
        self.file_len += self.buf.len() as u64;
        Ok(())
    }

    fn active_path(&self) -> PathBuf {
        self.segments
            .last()
            .map(|s| s.path.clone())
            .unwrap_or_default()
    }

    fn fail(&mut self, reason: String) {
        tracing::error!(%reason, "ingest log refuses further writes");
        self.failed = Some(reason);
    }

    fn roll(&mut self) -> Result<(), LogError> {
        let path = self.dir.join(segment_name(self.next_seq));
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        sync_dir(&self.dir)?;
        self.segments.push(Segment {
            first_seq: self.next_seq,
            path,
        });
        self.file_len = 0;
        Ok(())
    }

    /// Deletes closed segments whose every record is in the store.
    fn release(&mut self, applied: u64) {
        while self.segments.len() > 1 && self.segments[1].first_seq <= applied + 1 {
            let seg = self.segments.remove(0);
            if let Err(e) = std::fs::remove_file(&seg.path) {
                tracing::warn!(segment = %seg.path.display(), error = %e, "could not delete applied log segment");
            }
        }
    }
}

fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str) -> Event {
        Event {
            site_id: "s.example".into(),
            name: name.into(),
            ..Event::default()
        }
    }

    #[test]
    fn records_survive_reopen_and_torn_tails_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (log, rec) = IngestLog::open(dir.path(), 0).unwrap();
        assert!(rec.records.is_empty());
        let (tx, rx) = mpsc::channel();
        let h = log.start(tx).unwrap();
        assert_eq!(h.append_blocking(vec![ev("a")]).unwrap(), 1);
        assert_eq!(h.append_blocking(vec![ev("b"), ev("c")]).unwrap(), 2);
        h.shutdown();
        assert_eq!(rx.iter().flatten().count(), 2);

        // Simulate a crash mid-write: garbage after the last record.
        let seg = dir.path().join(segment_name(1));
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&[9, 0, 0, 0, 1, 2, 3]).unwrap();
        drop(f);

        let (log, rec) = IngestLog::open(dir.path(), 0).unwrap();
        assert_eq!(rec.truncated_bytes, 7);
        assert_eq!(rec.records.len(), 2);
        assert_eq!(rec.records[1].events[1].name, "c");
        let (tx, _rx) = mpsc::channel();
        let h = log.start(tx).unwrap();
        assert_eq!(h.append_blocking(vec![ev("d")]).unwrap(), 3);
        h.shutdown();
        let (_, rec) = IngestLog::open(dir.path(), 0).unwrap();
        assert_eq!(rec.records.len(), 3);
    }

    #[test]
    fn sequence_continues_after_applied_when_log_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = IngestLog::open(dir.path(), 41).unwrap();
        let (tx, _rx) = mpsc::channel();
        let h = log.start(tx).unwrap();
        assert_eq!(h.append_blocking(vec![ev("a")]).unwrap(), 42);
        h.shutdown();
    }
}
