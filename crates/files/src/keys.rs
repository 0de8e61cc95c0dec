//! Key files and the records of public keys in the compact's TOML files.
//!
//! A private key file holds one line, `PRIVATE+KEY+name+keyid+base64`, and is created with mode
//! 0600, never overwritten. Recording a verifier key edits `parties/<CODE>.toml` (or
//! `compact.toml` for the log operator) in place with `toml_edit`, keeping comments and layout,
//! and replaces the file atomically.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, value};

/// The largest key file read (a key is about 100 bytes).
pub const KEY_FILE_MAX: u64 = 4096;

/// Writes a new private key file with mode 0600. Refuses to overwrite anything.
pub fn write_private_key(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "{} already exists: refusing to overwrite a key",
                path.display()
            )
        } else {
            format!("cannot create {}: {e}", path.display())
        }
    })?;
    f.write_all(format!("{text}\n").as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Reads a private key file: its text, and a warning when others may read it.
pub fn read_private_key(path: &Path) -> Result<(String, Option<String>), String> {
    let meta =
        fs::metadata(path).map_err(|e| format!("cannot read key file {}: {e}", path.display()))?;
    if !meta.is_file() || meta.len() > KEY_FILE_MAX {
        return Err(format!("{} is not a key file", path.display()));
    }
    let mut warning = None;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            warning = Some(format!(
                "key file {} has permissions {mode:04o}: others may read it (chmod 600 {})",
                path.display(),
                path.display()
            ));
        }
    }
    let text = fs::read_to_string(path)
        .map_err(|e| format!("cannot read key file {}: {e}", path.display()))?;
    Ok((text.trim().to_owned(), warning))
}

fn edit(path: &Path, f: impl FnOnce(&mut DocumentMut) -> Result<(), String>) -> Result<(), String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| format!("cannot edit {}: {e}", path.display()))?;
    f(&mut doc)?;
    let (tmp, mut out) = create_temporary(path)?;
    let written = (|| {
        out.write_all(doc.to_string().as_bytes())?;
        // The file keeps its permissions (the temporary file is created 0600).
        out.set_permissions(fs::metadata(path)?.permissions())?;
        out.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", tmp.display()));
    }
    drop(out);
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(format!("cannot replace {}: {e}", path.display()));
    }
    // The rename itself durable: the directory synced (where the platform allows it).
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Creates a new temporary file beside `path` (`NAME.tmp`, or `NAME.PID.N.tmp` when that
/// exists) exclusively: never opening an existing file or following a symlink planted at the
/// name. Mode 0600 until it is complete.
fn create_temporary(path: &Path) -> Result<(PathBuf, fs::File), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let pid = std::process::id();
    let candidates = std::iter::once(format!("{name}.tmp"))
        .chain((0..100).map(|i| format!("{name}.{pid}.{i}.tmp")));
    for candidate in candidates {
        let tmp = path.with_file_name(candidate);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        match options.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot write {}: {e}", tmp.display())),
        }
    }
    Err(format!(
        "cannot write a temporary file beside {}: every name tried exists",
        path.display()
    ))
}

fn date(s: &str) -> Result<Item, String> {
    let d: toml_edit::Datetime = s
        .parse()
        .map_err(|e| format!("malformed date `{s}`: {e}"))?;
    Ok(value(d))
}

/// Records a party's new verifier key in `parties/<code>.toml`. Keys already there that are
/// not retired are retired on `retire_on` (rotation). Returns how many were retired.
pub fn record_party_key(
    dir: &Path,
    code: &str,
    vkey: &str,
    valid_from: Option<&str>,
    retire_on: &str,
) -> Result<usize, String> {
    let path = dir.join("parties").join(format!("{code}.toml"));
    let mut retired = 0;
    edit(&path, |doc| {
        let keys = doc
            .entry("keys")
            .or_insert(Item::ArrayOfTables(toml_edit::ArrayOfTables::new()));
        let Some(keys) = keys.as_array_of_tables_mut() else {
            return Err(format!(
                "{}: `keys` is not an array of tables",
                path.display()
            ));
        };
        for t in keys.iter_mut() {
            if !t.contains_key("retired_on") {
                t.insert("retired_on", date(retire_on)?);
                retired += 1;
            }
        }
        let mut t = Table::new();
        t.insert("key", value(vkey));
        if let Some(v) = valid_from {
            t.insert("valid_from", date(v)?);
        }
        keys.push(t);
        Ok(())
    })?;
    Ok(retired)
}

/// Records the log operator's verifier key in `compact.toml` (`[log] operator_key`). Refuses
/// to replace one: checkpoints signed by the old key would no longer verify.
pub fn record_operator_key(dir: &Path, vkey: &str) -> Result<(), String> {
    let path = dir.join("compact.toml");
    edit(&path, |doc| {
        let log = doc.entry("log").or_insert(Item::Table(Table::new()));
        let Some(log) = log.as_table_mut() else {
            return Err(format!("{}: `log` is not a table", path.display()));
        };
        if let Some(old) = log.get("operator_key").and_then(Item::as_str) {
            return Err(format!(
                "{} already names an operator key ({old}): replacing it would orphan every checkpoint it signed",
                path.display()
            ));
        }
        log.insert("operator_key", value(vkey));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn key_files_are_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/GB.key");
        write_private_key(&path, "PRIVATE+KEY+GB+00000000+AAAA").unwrap();
        let (text, warning) = read_private_key(&path).unwrap();
        assert_eq!(text, "PRIVATE+KEY+GB+00000000+AAAA");
        assert_eq!(warning, None);
        let err = write_private_key(&path, "other").unwrap_err();
        assert!(
            err.contains("already exists: refusing to overwrite"),
            "{err}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            let (_, warning) = read_private_key(&path).unwrap();
            assert!(warning.unwrap().contains("has permissions 0644"));
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_temporary_name_is_never_followed() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("parties")).unwrap();
        let p = dir.path().join("parties/GB.toml");
        fs::write(&p, "code = \"GB\"\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let target = dir.path().join("precious");
        fs::write(&target, "untouched").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("parties/GB.toml.tmp")).unwrap();
        record_party_key(dir.path(), "GB", "GB+1+A", None, "2026-01-01").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "untouched");
        assert!(
            fs::symlink_metadata(dir.path().join("parties/GB.toml.tmp"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(fs::read_to_string(&p).unwrap().contains("GB+1+A"));
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        // No temporary file is left behind.
        let left: Vec<_> = fs::read_dir(dir.path().join("parties"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
    }

    #[test]
    fn recording_keys_keeps_the_file_and_rotates() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("parties")).unwrap();
        let p = dir.path().join("parties/GB.toml");
        fs::write(
            &p,
            "# United Kingdom\ncode = \"GB\"  # ISO\nname = \"United Kingdom\"\n",
        )
        .unwrap();
        assert_eq!(
            record_party_key(dir.path(), "GB", "GB+1+A", Some("2024-01-01"), "2026-01-01").unwrap(),
            0
        );
        assert_eq!(
            record_party_key(dir.path(), "GB", "GB+2+B", None, "2026-01-01").unwrap(),
            1
        );
        let text = fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with("# United Kingdom\ncode = \"GB\"  # ISO\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "[[keys]]\nkey = \"GB+1+A\"\nvalid_from = 2024-01-01\nretired_on = 2026-01-01\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("[[keys]]\nkey = \"GB+2+B\"\n"), "{text}");

        fs::write(dir.path().join("compact.toml"), "id = \"x\"\n").unwrap();
        record_operator_key(dir.path(), "x+1+A").unwrap();
        assert!(
            fs::read_to_string(dir.path().join("compact.toml"))
                .unwrap()
                .contains("[log]\noperator_key = \"x+1+A\"")
        );
        assert!(
            record_operator_key(dir.path(), "x+2+B")
                .unwrap_err()
                .contains("already names an operator key")
        );
    }
}
