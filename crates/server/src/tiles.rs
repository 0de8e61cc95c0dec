//! The log as C2SP tlog-tiles serves it: `/checkpoint`, hash tiles `/tile/<L>/<N>[.p/<W>]`
//! (height 8: level `L` holds the tree's hashes at height `8 L`) and entry bundles
//! `/tile/entries/<N>[.p/<W>]` (each entry prefixed by its length, big-endian 16 bits).
//! A full tile never changes and is cached for ever; a partial one is served for as long as
//! its width fits the log.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use compact_service::{Result as ServiceResult, ServiceError};
use compact_store::Store as _;
use tlog_tiles::Tile;

use crate::problem::Problem;
use crate::state::AppState;

/// Tile height: 2^8 = 256 hashes or entries per full tile.
pub const HEIGHT: u8 = 8;
/// Entries (or hashes) in a full tile.
pub const WIDTH: u64 = 1 << HEIGHT;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const PARTIAL: &str = "public, max-age=60";

/// `GET /checkpoint`: the operator's latest signed checkpoint, with the cosignatures of the
/// witnesses kept for it. The header `Compact-Cosignatures` says how many are kept and the
/// quorum `compact.toml` asks (`2; quorum=2`); a checkpoint short of it is served anyway.
#[utoipa::path(get, path = "/checkpoint", tag = "tlog-tiles", responses((status = 200, description = "The latest checkpoint (C2SP signed note) with its witnesses' cosignatures (C2SP tlog-cosignature)", body = String, content_type = "text/plain"), (status = 404, description = "An empty log", body = Problem, content_type = "application/problem+json")))]
pub async fn checkpoint(State(state): State<Arc<AppState>>) -> Response {
    let quorum = state.witnesses().1;
    let latest = tokio::task::spawn_blocking(move || {
        state.read(|s| {
            let s = s.snapshot()?;
            let Some((size, mut note)) = s.latest_checkpoint()? else {
                return Ok(None);
            };
            let lines = s.cosignatures(size)?;
            let kept = lines.len();
            for (_, line) in lines {
                note.extend_from_slice(&line);
            }
            Ok(Some((note, kept)))
        })
    })
    .await;
    match latest {
        Ok(Ok(Some((note, kept)))) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
                (header::CACHE_CONTROL, "no-cache".to_owned()),
                (
                    header::HeaderName::from_static("compact-cosignatures"),
                    format!("{kept}; quorum={quorum}"),
                ),
            ],
            note,
        )
            .into_response(),
        Ok(Ok(None)) => Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "the log is empty: there is no checkpoint yet",
        )
        .into_response(),
        Ok(Err(e)) => Problem::from(e).into_response(),
        Err(e) => Problem::from(ServiceError::internal(e.to_string())).into_response(),
    }
}

/// A tile path (after `/tile/`) in the C2SP form, as a tile of height 8.
pub fn parse(path: &str) -> Option<Tile> {
    // What `Tile::from_path` would accept but `Tile::new` refuses (by panicking): a level of
    // 64 or more, a width of 0.
    let level = path.split('/').next()?;
    if level != "entries" && level.parse::<u8>().ok().is_none_or(|l| l >= 64) {
        return None;
    }
    if let Some((_, w)) = path.rsplit_once(".p/")
        && w.parse::<u32>()
            .ok()
            .is_none_or(|w| w == 0 || w >= 1 << HEIGHT)
    {
        return None;
    }
    let go_path = match path.strip_prefix("entries/") {
        Some(rest) => format!("tile/{HEIGHT}/data/{rest}"),
        None => format!("tile/{HEIGHT}/{path}"),
    };
    let tile = Tile::from_path(&go_path).ok()?;
    (tile.width() > 0).then_some(tile)
}

/// The path (from `/`) of entry bundle `n` holding `width` entries (256 when full).
pub fn bundle_path(n: u64, width: u32) -> String {
    let go = Tile::new(HEIGHT, 0, n, width, true).path();
    let rest = go
        .strip_prefix(&format!("tile/{HEIGHT}/data/"))
        .unwrap_or(&go)
        .to_owned();
    format!("/tile/entries/{rest}")
}

/// The entries of a bundle, each prefixed by its length (big-endian, 16 bits).
pub fn bundle_entries(bundle: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut entries = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or("a bundle ends inside an entry's length")?;
        let len = usize::from(u16::from_be_bytes(*len));
        let entry = tail.get(..len).ok_or("a bundle ends inside an entry")?;
        entries.push(entry.to_vec());
        rest = tail.get(len..).unwrap_or_default();
    }
    Ok(entries)
}

/// The bytes of `tile` from `store` of `size` entries; `None` if the log does not hold it.
fn read(
    store: &(impl compact_store::Reads + ?Sized),
    tile: Tile,
    size: u64,
) -> ServiceResult<Option<Vec<u8>>> {
    let level = u32::from(tile.level()) * u32::from(HEIGHT);
    // Hashes at height `level` of the tree of `size`: the complete subtrees of 2^level leaves.
    let available = if level >= 64 { 0 } else { size >> level };
    let start = tile.level_index().checked_mul(WIDTH);
    let end = start.and_then(|s| s.checked_add(u64::from(tile.width())));
    let (Some(start), Some(end)) = (start, end) else {
        return Ok(None);
    };
    if end > available {
        return Ok(None);
    }
    if tile.is_data() {
        let mut bundle = Vec::new();
        let mut failure = None;
        store.scan(start, &mut |index, leaf| {
            if index >= end {
                return false;
            }
            match u16::try_from(leaf.len()) {
                Ok(n) => {
                    bundle.extend_from_slice(&n.to_be_bytes());
                    bundle.extend_from_slice(leaf);
                    true
                }
                Err(_) => {
                    failure = Some(index);
                    false
                }
            }
        })?;
        if let Some(index) = failure {
            return Err(ServiceError::internal(format!(
                "entry {index} is longer than an entry bundle can hold"
            )));
        }
        return Ok(Some(bundle));
    }
    let level = u8::try_from(level).unwrap_or(u8::MAX);
    let indexes: Vec<u64> = (start..end)
        .map(|n| compact_log::stored_hash_index(level, n))
        .collect();
    let hashes = store.hashes(&indexes)?;
    Ok(Some(hashes.iter().flat_map(|h| h.0).collect()))
}

/// `GET /tile/{path}`: a hash tile or an entry bundle.
#[utoipa::path(get, path = "/tile/{path}", tag = "tlog-tiles", params(("path" = String, Path, description = "A C2SP tlog-tiles path after /tile/: <L>/<N>[.p/<W>] or entries/<N>[.p/<W>]")), responses((status = 200, description = "The tile", body = Vec<u8>, content_type = "application/octet-stream"), (status = 404, description = "No such tile", body = Problem, content_type = "application/problem+json")))]
pub async fn tile(State(state): State<Arc<AppState>>, Path(path): Path<String>) -> Response {
    let Some(tile) = parse(&path) else {
        return Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("/tile/{path} is not a tile path (C2SP tlog-tiles: /tile/<L>/<N>[.p/<W>] or /tile/entries/<N>[.p/<W>])"),
        )
        .into_response();
    };
    let read = tokio::task::spawn_blocking(move || {
        state.read(|s| {
            let s = s.snapshot()?;
            let size = s.size()?;
            read(&*s, tile, size)
        })
    })
    .await;
    match read {
        Ok(Ok(Some(bytes))) => {
            let cache = if u64::from(tile.width()) == WIDTH {
                IMMUTABLE
            } else {
                PARTIAL
            };
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/octet-stream"),
                    (header::CACHE_CONTROL, cache),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(Ok(None)) => Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("/tile/{path} is beyond the log"),
        )
        .into_response(),
        Ok(Err(e)) => Problem::from(e).into_response(),
        Err(e) => Problem::from(ServiceError::internal(e.to_string())).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_as_c2sp_names_them() {
        let t = parse("0/x001/234").expect("a full tile");
        assert_eq!((t.level(), t.level_index(), t.width()), (0, 1234, 256));
        assert!(!t.is_data());
        let t = parse("entries/000.p/7").expect("a partial bundle");
        assert!(t.is_data());
        assert_eq!(t.width(), 7);
        let t = parse("2/005.p/255").expect("a partial tile");
        assert_eq!((t.level(), t.level_index(), t.width()), (2, 5, 255));
        assert_eq!(bundle_path(1234, 256), "/tile/entries/x001/234");
        assert_eq!(bundle_path(0, 7), "/tile/entries/000.p/7");
        assert_eq!(
            bundle_entries(&[0, 1, b'a', 0, 2, b'b', b'c']),
            Ok(vec![b"a".to_vec(), b"bc".to_vec()])
        );
        assert!(bundle_entries(&[0, 3, b'a']).is_err());
        assert!(bundle_entries(&[0]).is_err());
        for bad in [
            "",
            "0",
            "0/1234",
            "0/01",
            "0/000.p/0",
            "0/000.p/256",
            "x/000",
            "entries/x",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
