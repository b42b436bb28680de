//! Start-up, the background threads and graceful shutdown.
//!
//! Start: open the store → recover the ingest log and replay what the store lacks → restore
//! sites, idempotency keys and open sessions → start the log writer, the batcher and upkeep →
//! serve. Stop: stop accepting → finish every accepted request → the batcher flushes → the store
//! checkpoints. Nothing acknowledged is lost on either path, nor on `kill -9` (replay).

use std::net::SocketAddr;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use waymark_collect::batcher::{run_batcher, BatchPolicy};
use waymark_collect::ingest_log::IngestLog;
use waymark_collect::salt::SaltStore;
use waymark_collect::Collector;
use waymark_store::{Store, StoreConfig, StoreSink};

use crate::access::Clock;
use crate::state::AppState;
use crate::ServerConfig;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] waymark_store::StoreError),
    #[error(transparent)]
    Log(#[from] waymark_collect::ingest_log::LogError),
    #[error(transparent)]
    Collect(#[from] waymark_collect::collector::CollectError),
    #[error(transparent)]
    Salt(#[from] waymark_collect::salt::SaltError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

/// A started server.
pub struct Running {
    /// The bound address (useful with port 0).
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops gracefully and waits until everything accepted is in the store.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.done.await;
    }

    /// Waits until the server stops by itself (it never does unless told).
    pub async fn wait(self) {
        let _ = self.done.await;
    }
}

/// Runs until SIGINT or SIGTERM, then shuts down gracefully.
pub async fn run(config: ServerConfig) -> Result<(), ServerError> {
    let running = start(config).await?;
    tracing::info!(addr = %running.addr, "waymark is listening");
    shutdown_signal().await;
    tracing::info!("shutting down: finishing accepted events");
    running.stop().await;
    tracing::info!("stopped; every accepted event is stored");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Opens everything, replays the log, binds and starts serving.
pub async fn start(config: ServerConfig) -> Result<Running, ServerError> {
    let cfg = config.clone();
    let (state, batcher) = tokio::task::spawn_blocking(move || open(cfg))
        .await
        .map_err(|e| ServerError::Other(e.to_string()))??;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServerError::Listen {
            addr: config.listen,
            source,
        })?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = crate::app::app(state.clone());
    let (upkeep, upkeep_thread) = spawn_upkeep(state.clone())?;
    let done = tokio::spawn(async move {
        let serve = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "server error");
        }
        drop(upkeep);
        let st = state.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let _ = upkeep_thread.join();
            st.log.shutdown();
            let _ = batcher.join();
            if let Err(e) = st.store.checkpoint() {
                tracing::error!(error = %e, "final checkpoint failed; the store will recover from its WAL");
            }
        })
        .await;
    });
    Ok(Running {
        addr,
        shutdown: Some(tx),
        done,
    })
}

fn open(config: ServerConfig) -> Result<(Arc<AppState>, std::thread::JoinHandle<()>), ServerError> {
    let store: Arc<dyn Store> = waymark_store::open(&StoreConfig {
        memory_limit: config.memory_limit.clone(),
        threads: config.threads,
        ..StoreConfig::embedded(&config.data_dir)
    })?;

    // Replay whatever the log holds beyond what the store has.
    let applied = store.applied_seq()?;
    let (log, recovered) = IngestLog::open(&config.data_dir.join("ingest"), applied)?;
    let mut replayed = 0usize;
    let pending: Vec<_> = recovered
        .records
        .into_iter()
        .filter(|r| r.seq > applied)
        .collect();
    let mut pending = pending.into_iter().peekable();
    while pending.peek().is_some() {
        let chunk: Vec<_> = pending.by_ref().take(5_000).collect();
        let last_seq = chunk.last().map(|r| r.seq).unwrap_or(applied);
        let events: Vec<_> = chunk.into_iter().flat_map(|r| r.events).collect();
        store.append_logged(&events, last_seq)?;
        replayed += events.len();
    }
    if replayed > 0 {
        tracing::info!(events = replayed, "replayed events from the ingest log");
    }

    let salts = SaltStore::open(&config.data_dir)?;
    let collector = Arc::new(Collector::new(salts, config.geoip.as_deref())?);
    collector.set_drop_headless(config.drop_headless);
    collector.set_sites(store.sites()?.into_iter().map(|s| s.domain));
    let now = chrono::Utc::now().timestamp_millis();
    // Salts that expired while the server was down go now, not at the first request.
    collector.rotate_salts(now)?;
    collector.remember_keys(
        store.idempotency_keys(now - waymark_collect::idempotency::RETRY_WINDOW_MS)?,
        now,
    );
    for (site, visitor, session, last) in store.recent_sessions(now - 30 * 60 * 1000)? {
        collector.restore_session(&site, visitor, session, last);
    }

    let (tx, rx) = mpsc::channel();
    let handle = log.start(tx)?;
    handle.release(store.applied_seq()?);
    let sink = Box::new(StoreSink(store.clone()));
    let batch_log = handle.clone();
    let batcher = std::thread::Builder::new()
        .name("store-batcher".into())
        .spawn(move || run_batcher(rx, sink, Some(batch_log), BatchPolicy::default()))
        .map_err(|e| ServerError::Other(format!("cannot start the batcher: {e}")))?;
    Ok((
        Arc::new(AppState {
            config,
            collector,
            log: handle,
            store,
            clock: Clock::System,
        }),
        batcher,
    ))
}

/// Every minute: rotate salts (deleting expired ones), cluster and checkpoint the store. On its
/// own thread at background priority, so the clustering pass yields to requests. Dropping the
/// returned sender stops it.
fn spawn_upkeep(
    state: Arc<AppState>,
) -> Result<(mpsc::Sender<()>, std::thread::JoinHandle<()>), ServerError> {
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("upkeep".into())
        .spawn(move || {
            waymark_collect::priority::background();
            while let Err(mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(Duration::from_secs(60))
            {
                if let Err(e) = state
                    .collector
                    .rotate_salts(chrono::Utc::now().timestamp_millis())
                {
                    tracing::error!(error = %e, "salt rotation failed");
                }
                if let Err(e) = state.store.maintain() {
                    tracing::warn!(error = %e, "store upkeep failed");
                }
            }
        })
        .map_err(|e| ServerError::Other(format!("cannot start upkeep: {e}")))?;
    Ok((stop, thread))
}
