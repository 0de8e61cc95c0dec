//! `compact serve`: the compact's HTTP API over [`compact_service`].
//!
//! - **Reads** (`/v1/...`) answer with the service's API v1 types, the same the CLI renders.
//! - **Writes** (`POST /v1/statements`) take statements their authors signed; one sequencer
//!   thread owns the log and group-commits concurrent submissions (one transaction and one
//!   checkpoint per group), answering each only once it is durable.
//! - **The transparency log** as C2SP specifies it: `/checkpoint` and the tlog-tiles static
//!   API (`/tile/<L>/<N>[.p/<W>]`, `/tile/entries/<N>[.p/<W>]`), full tiles cached for ever.
//!
//! Refusals are RFC 9457 problem details whose `code` is the rule's stable code
//! ([`compact_statement::rules::Code`]), the one the CLI prints.
//!
//! **Invariant:** handlers parse and render; every answer is computed by `compact_service`.
//! Nothing here writes to the store but the sequencer.

// A `Problem` is the error of every handler step and becomes the response at once: boxing it
// would only add an allocation to each failed request.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use compact_service::{OperatorClock, Place, ServiceError};
use tokio::net::TcpListener;

mod problem;
mod reads;
mod sequencer;
mod state;
pub mod tiles;
mod writes;

pub use problem::Problem;
pub use sequencer::{Acknowledged, Acknowledgement};
pub use state::AppState;

/// The largest request body: a batch of statements (16 MiB); one statement is at most 64 KiB.
pub const BODY_MAX: usize = 16 * 1024 * 1024;
/// The most statements one request may carry.
pub const BATCH_MAX: usize = 10_000;

/// How a server runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The compact directory and its store.
    pub place: Place,
    /// The operator's key file (signs every checkpoint).
    pub operator_key: Option<PathBuf>,
    /// The operator's clock; `None` is the system's.
    pub clock: Option<OperatorClock>,
    /// How long a request may take before it is answered 503.
    pub request_timeout: Duration,
}

impl Config {
    /// A server of the compact in `place`, on the system's clock.
    pub fn new(place: Place) -> Self {
        Config {
            place,
            operator_key: None,
            clock: None,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// The routes over `state`.
pub fn router(state: Arc<AppState>, config: &Config) -> axum::Router {
    use axum::routing::{get, post};
    use tower_http::timeout::TimeoutLayer;
    axum::Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/checkpoint", get(tiles::checkpoint))
        .route("/tile/{*path}", get(tiles::tile))
        .route("/v1/log", get(reads::log))
        .route("/v1/keys", get(reads::keys))
        .route("/v1/agreements", get(reads::agreements))
        .route("/v1/status", get(reads::status))
        .route("/v1/explain/{commitment}", get(reads::explain))
        .route("/v1/entries/{index}", get(reads::entry))
        .route("/v1/entries/{index}/proof", get(reads::inclusion))
        .route("/v1/consistency", get(reads::consistency))
        .route("/v1/problems/{code}", get(problem::describe))
        .route("/v1/statements", post(writes::submit))
        .fallback(problem::no_route)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_MAX))
        // A panic is a bug; the client gets a problem, the server goes on.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                axum::response::IntoResponse::into_response(Problem::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "a fault of the server (a bug): nothing was written by this request",
                ))
            },
        ))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        .with_state(state)
}

/// Serves `config` on `listener` until `shutdown` completes; then stops accepting, lets the
/// requests in flight finish (every acknowledged write is durable before it is answered) and
/// stops the sequencer.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let (state, sequencer) = AppState::open(&config)?;
    let app = router(state.clone(), &config);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| ServiceError::internal(format!("the server failed: {e}")));
    // Every handler is done: the last sender goes with the state, and the sequencer ends
    // once it has written what it was given.
    drop(state);
    sequencer.join()?;
    served
}

/// Binds `listen` (an address, e.g. `127.0.0.1:8080`; port 0 picks one).
pub async fn bind(listen: SocketAddr) -> Result<TcpListener, ServiceError> {
    TcpListener::bind(listen)
        .await
        .map_err(|e| ServiceError::bad_input(format!("cannot listen on {listen}: {e}")))
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
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
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
