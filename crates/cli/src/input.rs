//! Files named on the command line, read with a cap: a file larger than its kind may be (or
//! an endless one such as `/dev/zero`) is refused quickly with the cap in the message, never
//! read into memory whole.

use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, bail};

/// A proof (`log verify-inclusion --proof`, `log verify-consistency --proof`): 1 MiB.
pub const PROOF_MAX: u64 = 1024 * 1024;
/// A signed checkpoint (`--checkpoint`, `--old-checkpoint`): 64 KiB.
pub const CHECKPOINT_MAX: u64 = 64 * 1024;
/// A verifier-key file (`--key FILE`): 4 KiB.
pub const KEY_MAX: u64 = 4096;
/// A payload file (`submit --payload @FILE`): 64 KiB, the largest statement.
pub const PAYLOAD_MAX: u64 = compact_statement::STATEMENT_SIZE_MAX as u64;
// An import file's caps are `compact_service::ledger::IMPORT_LINE_MAX` and `IMPORT_FILE_MAX`.

/// Reads at most `cap` bytes of `path` (`-` for stdin); more is an error naming `what` and
/// the cap.
pub fn read_capped(path: &Path, cap: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(cap + 1)
            .read_to_end(&mut buf)
            .context("cannot read stdin")?;
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(cap + 1).read_to_end(&mut buf))
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    if buf.len() as u64 > cap {
        bail!(
            "{}: larger than {} bytes ({}), the most {what} may hold",
            path.display(),
            cap,
            human(cap)
        );
    }
    Ok(buf)
}

/// Reads at most `cap` bytes of `path` as UTF-8 text.
pub fn read_text_capped(path: &Path, cap: u64, what: &str) -> anyhow::Result<String> {
    String::from_utf8(read_capped(path, cap, what)?)
        .map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", path.display()))
}

fn human(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}
