//! `compact log bundle` and `compact log verify-bundle`: proof bundles
//! ([`compact_service::bundle`]), made from the local store or a server, verified offline.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use base64::Engine as _;
use compact_log::InclusionProof;
use compact_service::Place;
use compact_service::api::v1::LogEntry;
use compact_service::api::v1log::PublicKeys;
use compact_service::bundle::Bundle;
use compact_statement::Statement;
use compact_store::Reads as _;

use crate::ledger::PlaceExt as _;

use crate::output::out;

/// The key registrations of `author` before entry `index`: what its signature depends on.
fn key_entries(keys: &PublicKeys, author: &str, index: u64) -> Vec<u64> {
    let mut out: Vec<u64> = keys
        .keys
        .iter()
        .filter(|k| k.party == author && k.entry < index)
        .map(|k| k.entry)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// `compact log bundle N`: the bundle of entry N at the latest checkpoint, printed as JSON or
/// written to `out`.
pub(crate) fn bundle(
    place: &Place,
    index: u64,
    out_file: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let bundle = match crate::client::server() {
        Some(server) => from_server(place, &server, index)?,
        None => from_store(place, index)?,
    };
    let json = serde_json::to_string_pretty(&bundle)?;
    match out_file {
        Some(path) => {
            std::fs::write(path, format!("{json}\n"))
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "bundle of entry {index} at size {} written to {}",
                bundle.entry.proof.tree_size,
                path.display()
            );
        }
        None => out!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn from_store(place: &Place, index: u64) -> anyhow::Result<Bundle> {
    let governed = place.governed()?;
    let store = place.store_read_only()?;
    let (size, mut note) = store
        .latest_checkpoint()?
        .ok_or_else(|| anyhow!("the log is empty: there is no checkpoint yet"))?;
    for (_, line) in store.cosignatures(size)? {
        note.extend_from_slice(&line);
    }
    let entry = |i: u64| -> anyhow::Result<(Vec<u8>, InclusionProof)> {
        let leaf = store
            .entry(i)?
            .ok_or_else(|| anyhow!("no entry {i}: the log holds {size}"))?;
        let proof = compact_service::reports::inclusion_proof_in(&store, i, Some(size))?;
        Ok((leaf, proof))
    };
    let (leaf, proof) = entry(index)?;
    let author = Statement::decode(&leaf)?.author;
    let keys = PublicKeys::of(&governed.facts);
    let mut bundled = Vec::new();
    for k in key_entries(&keys, &author, index) {
        let (leaf, proof) = entry(k)?;
        bundled.push((k, leaf, proof));
    }
    Ok(compact_service::bundle::make(
        &note, index, &leaf, proof, bundled,
    )?)
}

fn from_server(
    place: &Place,
    server: &crate::client::Client,
    index: u64,
) -> anyhow::Result<Bundle> {
    // The server's checkpoint, checked and held to what this client accepted before.
    let (note, cp) = crate::ledger::server_checkpoint(place, server)?;
    let entry = |i: u64| -> anyhow::Result<(Vec<u8>, InclusionProof)> {
        let e: LogEntry = server.get_json(&format!("/v1/entries/{i}"))?;
        let leaf = base64::engine::general_purpose::STANDARD
            .decode(&e.leaf)
            .map_err(|_| anyhow!("{}/v1/entries/{i}: the leaf is not base64", server.base()))?;
        let proof: InclusionProof =
            server.get_json(&format!("/v1/entries/{i}/proof?size={}", cp.size))?;
        Ok((leaf, proof))
    };
    let (leaf, proof) = entry(index)?;
    let author = Statement::decode(&leaf)?.author;
    let keys: PublicKeys = server.get_json("/v1/keys")?;
    let mut bundled = Vec::new();
    for k in key_entries(&keys, &author, index) {
        let (leaf, proof) = entry(k)?;
        bundled.push((k, leaf, proof));
    }
    let bundle = compact_service::bundle::make(&note, index, &leaf, proof, bundled)?;
    Ok(bundle)
}

/// `compact log verify-bundle FILE --log-key K [--witness K...] [--quorum N]`.
pub(crate) fn verify(
    file: &Path,
    log_key: &str,
    witnesses: &[String],
    quorum: Option<usize>,
) -> anyhow::Result<ExitCode> {
    let bytes = crate::input::read_capped(file, crate::input::PROOF_MAX * 16, "a bundle")?;
    let bundle: Bundle = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a bundle", file.display()))?;
    let log_key = crate::ledger::verifier_key(log_key)?;
    let witnesses = witnesses
        .iter()
        .map(|w| crate::ledger::verifier_key(w))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let report = compact_service::bundle::verify(&bundle, &log_key, &witnesses, quorum)
        .map_err(|e| anyhow!("{}: {e}", file.display()))?;
    out!("ok: {}", report.words);
    Ok(ExitCode::SUCCESS)
}
