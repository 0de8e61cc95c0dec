//! `compact witness serve` and `compact keygen --witness`: a witness of C2SP tlog-witness for
//! this or any log ([`compact_witness`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use compact_log::cosignature::Cosigner;

use crate::output::out;

/// `--log ORIGIN=KEY`: a log the witness witnesses and a key it trusts for it.
pub(crate) fn log_arg(s: &str) -> Result<(String, String), String> {
    let (origin, key) = s.split_once('=').ok_or_else(|| {
        format!("`{s}`: expected ORIGIN=KEY, the log's origin line and its verifier key")
    })?;
    let (origin, key) = (origin.trim(), key.trim());
    if origin.is_empty() || key.is_empty() {
        return Err(format!("`{s}`: expected ORIGIN=KEY, both non-empty"));
    }
    Ok((origin.to_owned(), key.to_owned()))
}

/// A file name for a witness's name (`witness.example/w1` → `witness.example_w1`).
fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `compact keygen --witness NAME`: a cosigner key pair; the private key written to `out`
/// (default `DIR/keys/witness-NAME.key`), the verifier key printed.
pub(crate) fn keygen(
    dir: &Path,
    name: &str,
    out: Option<&Path>,
    seed: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let seed: [u8; 32] = match seed {
        Some(text) => {
            use sha2::Digest as _;
            sha2::Sha256::digest(format!("compact witness key\n{text}").as_bytes()).into()
        }
        None => {
            let mut s = [0u8; 32];
            rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut s)
                .map_err(|e| anyhow!("the system's randomness failed: {e}"))?;
            s
        }
    };
    let (skey, vkey) =
        Cosigner::generate(name, &seed).map_err(|e| anyhow!("--witness {name}: {e}"))?;
    let path = out.map_or_else(
        || {
            dir.join("keys")
                .join(format!("witness-{}.key", file_name(name)))
        },
        Path::to_path_buf,
    );
    compact_files::keys::write_private_key(&path, &skey).map_err(|e| anyhow!(e))?;
    out!("witness key {vkey}");
    out!("private key written to {} (keep it secret)", path.display());
    Ok(ExitCode::SUCCESS)
}

/// `compact witness serve`.
pub(crate) fn serve(
    key: &Path,
    logs: &[(String, String)],
    state: &Path,
    listen: SocketAddr,
) -> anyhow::Result<ExitCode> {
    let (skey, warning) = compact_files::keys::read_private_key(key).map_err(|e| anyhow!(e))?;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    let witness = Arc::new(compact_witness::Witness::open(state, &skey, logs)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the witness's runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let local = listener.local_addr()?;
        // The first line says where: a script (or a test) reads the port from it.
        out!("listening on http://{local}");
        eprintln!(
            "compact: witness {} for {} (state {}; Ctrl-C to stop)",
            witness.vkey(),
            logs.iter()
                .map(|(o, _)| o.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            state.display()
        );
        compact_witness::serve(witness, listener, compact_server::shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The witness's state file by default.
pub(crate) fn default_state() -> PathBuf {
    PathBuf::from("witness.sqlite")
}

/// After a local append: the new checkpoint submitted to the witnesses `compact.toml` names,
/// their cosignatures kept beside it; one that does not cosign is a warning, not a failure
/// (the entries are in the log; `compact serve` submits again).
pub(crate) fn after_append(place: &compact_service::Place, compact: &compact_model::Compact) {
    if compact.witnesses.is_empty() {
        return;
    }
    let outcomes = compact_server::witnesses::cosign_latest(place, &compact.witnesses);
    let cosigned = outcomes.iter().filter(|(_, r)| r.is_ok()).count();
    for (name, r) in &outcomes {
        if let Err(e) = r {
            eprintln!("warning: witness {name} did not cosign the new checkpoint: {e}");
        }
    }
    if cosigned < compact.witness_quorum {
        eprintln!(
            "warning: the new checkpoint is cosigned by {cosigned} of the {} witnesses compact.toml's quorum asks: readers that require them refuse it until more cosign",
            compact.witness_quorum
        );
    }
}
