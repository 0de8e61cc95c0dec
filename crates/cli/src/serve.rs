//! `compact serve`: the HTTP server of `compact-server` on a tokio runtime.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use compact_service::Place;

use crate::ledger::{PlaceExt as _, operator_clock};

/// Serves the compact in `place` on `listen` until Ctrl-C or SIGTERM.
pub(crate) fn serve(
    place: &Place,
    listen: SocketAddr,
    operator_key: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let mut config = compact_server::Config::new(place.writer()?);
    config.operator_key = operator_key;
    // The system's clock unless COMPACT_CLOCK sets another.
    config.clock = match operator_clock()? {
        compact_service::OperatorClock::Now(_) => None,
        simulated => Some(simulated),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    // Opened before it says it listens, and off the runtime (a PostgreSQL store's client
    // runs its own and may not be used or dropped on an async worker): a compact it cannot
    // serve fails here.
    let listener = runtime.block_on(compact_server::bind(listen))?;
    let ready = compact_server::open(config)?;
    let local = listener.local_addr()?;
    runtime.block_on(async {
        // The first line says where: a script (or a test) reads the port from it.
        println!("listening on http://{local}");
        eprintln!("compact: serving {} (Ctrl-C to stop)", place.dir.display());
        ready
            .serve(listener, compact_server::shutdown_signal())
            .await?;
        eprintln!("compact: stopped; every acknowledged statement is in the log");
        Ok(ExitCode::SUCCESS)
    })
}
