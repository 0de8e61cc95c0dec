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

use crate::sequencer::Sequencer;
use compact_service::{OperatorClock, Place, ServiceError};
use tokio::net::TcpListener;

mod analyses;
mod dashboard;
mod problem;
mod reads;
mod sequencer;
mod state;
pub mod tiles;
pub mod witnesses;
mod writes;

pub use problem::{Duplicate, Problem};
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

/// `GET /healthz`: the server answers (a trivial handler: the ceiling of this machine).
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, description = "The server runs", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /v1/openapi.json`: this API as an OpenAPI 3.1 document, generated from the handlers
/// and the API v1 types.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn openapi_json() -> axum::response::Response {
    static DOC: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| openapi().to_json().unwrap_or_default().into_bytes());
    reads::json_bytes(body)
}

/// The document's frame; the routes add their paths and schemas.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "compact",
        description = "The Kyiv Security Compact's HTTP API: its reports over the signed log, signed writes, and the log as C2SP tlog-tiles. Amounts are exact decimal strings; refusals are RFC 9457 problem details with a stable code.",
        license(name = "Apache-2.0 OR MIT")
    ),
    paths(tiles::tile),
    tags(
        (name = "reports", description = "The engine's figures over the log"),
        (name = "analyses", description = "Burden sharing, activations, stress and reconciliation"),
        (name = "log", description = "Entries, proofs and keys"),
        (name = "writes", description = "Statements signed by their authors"),
        (name = "tlog-tiles", description = "The log as C2SP tlog-tiles serves it"),
        (name = "meta", description = "The server itself")
    )
)]
struct ApiDoc;

/// Every documented route, with its handler: the router and the OpenAPI document are made
/// from this one list, so no route can be served undocumented.
fn documented() -> utoipa_axum::router::OpenApiRouter<Arc<AppState>> {
    use utoipa::OpenApi as _;
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(openapi_json))
        .routes(routes!(tiles::checkpoint))
        .routes(routes!(reads::log))
        .routes(routes!(reads::keys))
        .routes(routes!(reads::agreements))
        .routes(routes!(reads::agreement))
        .routes(routes!(reads::status))
        .routes(routes!(reads::explain))
        .routes(routes!(reads::entries))
        .routes(routes!(reads::entry))
        .routes(routes!(reads::inclusion))
        .routes(routes!(reads::consistency))
        .routes(routes!(analyses::aid))
        .routes(routes!(analyses::burden))
        .routes(routes!(analyses::activations))
        .routes(routes!(analyses::activation))
        .routes(routes!(analyses::stress))
        .routes(routes!(analyses::reconcile, analyses::reconcile_posted))
        .routes(routes!(problem::describe))
        .routes(routes!(writes::submit))
        // A tile path holds slashes: the route takes the rest of the path (documented above
        // as `/tile/{path}`).
        .route("/tile/{*path}", axum::routing::get(tiles::tile))
}

/// The OpenAPI 3.1 document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = documented().split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    too_large_documented(&mut doc);
    doc
}

/// Every operation that takes a body may be answered `413` (the router's cap, [`BODY_MAX`]):
/// documented here, once, where the cap is set, for those whose handler does not say it.
fn too_large_documented(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let response = ResponseBuilder::new()
        .description("The body is larger than the server takes (16 MiB)")
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build();
    for item in doc.paths.paths.values_mut() {
        for op in [item.post.as_mut(), item.put.as_mut(), item.patch.as_mut()]
            .into_iter()
            .flatten()
        {
            if op.request_body.is_some() {
                op.responses
                    .responses
                    .entry("413".to_owned())
                    .or_insert_with(|| response.clone().into());
            }
        }
    }
}

/// The routes over `state`.
pub fn router(state: Arc<AppState>, config: &Config) -> axum::Router {
    use tower_http::timeout::TimeoutLayer;
    let (routes, _) = documented().split_for_parts();
    routes
        .route("/", axum::routing::get(dashboard::index))
        .route("/dashboard/{*path}", axum::routing::get(dashboard::asset))
        .fallback(problem::no_route)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_MAX))
        // A body over the cap is refused by the extractor, in plain text: answered as a problem.
        .layer(axum::middleware::map_response(too_large_as_problem))
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

/// A `413` answered other than as a problem (a body over [`BODY_MAX`], refused by axum's
/// extractor before the handler runs), answered as the `too-large` problem.
async fn too_large_as_problem(response: axum::response::Response) -> axum::response::Response {
    let problem = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if response.status() != axum::http::StatusCode::PAYLOAD_TOO_LARGE || problem {
        return response;
    }
    axum::response::IntoResponse::into_response(Problem::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        compact_statement::rules::Code::TooLarge.as_str(),
        format!(
            "the request body is larger than {BODY_MAX} bytes (16 MiB), the most a request may carry: nothing was read"
        ),
    ))
}

/// A server ready to answer: the compact read, its store open, the sequencer started.
#[derive(Debug)]
pub struct Ready {
    config: Config,
    state: Arc<AppState>,
    sequencer: Sequencer,
    collectors: witnesses::Collectors,
}

/// Opens what `config` names, so that a failure (no store, no operator key, an invalid
/// compact) is known before anything listens.
pub fn open(config: Config) -> Result<Ready, ServiceError> {
    let (state, sequencer) = AppState::open(&config)?;
    let collectors = witnesses::Collectors::start(&state.place, state.witnesses().0)?;
    Ok(Ready {
        config,
        state,
        sequencer,
        collectors,
    })
}

impl Ready {
    /// Answers on `listener` until `shutdown` completes: then in-flight requests finish and
    /// the sequencer writes what it was given before it stops.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServiceError> {
        let Ready {
            config,
            state,
            sequencer,
            collectors,
        } = self;
        let app = router(state.clone(), &config);
        // The log's records read and filed while the server already answers: the first page
        // of the dashboard (and the first report) need not wait for them. A failure here is
        // the first request's to report.
        let warming = state.clone();
        tokio::task::spawn_blocking(move || {
            if let Ok(size) = warming.size() {
                let _ = warming.with_records(size, |_| ());
            }
        });
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| ServiceError::internal(format!("the server failed: {e}")));
        // Every handler is done: the last sender goes with the state, and the sequencer ends
        // once it has written what it was given.
        // Off the runtime: a PostgreSQL connection closes (and its own runtime ends) as it
        // drops, which may not happen on an async worker.
        tokio::task::spawn_blocking(move || {
            drop(state);
            sequencer.join()?;
            collectors.stop();
            Ok::<(), ServiceError>(())
        })
        .await
        .map_err(|e| ServiceError::internal(format!("the server failed to stop: {e}")))??;
        served
    }
}

/// Opens what `config` names and serves it on `listener` ([`open`], [`Ready::serve`]).
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    open(config)?.serve(listener, shutdown).await
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
