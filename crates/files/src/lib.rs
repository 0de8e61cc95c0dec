//! Reads a compact directory from disk into [`SourceFile`]s for the model, within limits, and
//! holds the shipped `kyiv-compact` data set.
//!
//! Layout read: `compact.toml`, optional `rates.toml` and `requirements.toml`, and every
//! `*.toml` directly under `parties/` and `agreements/`. Other files are left alone (keys,
//! READMEs, the store). Problems with a file (unreadable, too large, not UTF-8, a symlink
//! loop) are findings like any other: the file is named, the rest is still read.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use compact_model::{Diagnostic, SourceFile};

pub mod keys;

/// The largest file read, in bytes (16 MiB). Larger files are refused, not truncated.
pub const FILE_SIZE_MAX: u64 = 16 * 1024 * 1024;
/// The most `*.toml` files read from one of `parties/` or `agreements/`.
pub const FILES_PER_DIR_MAX: usize = 10_000;

/// What was read.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Files read as text, ordered by relative path.
    pub files: Vec<SourceFile>,
    /// Problems met while reading.
    pub diagnostics: Vec<Diagnostic>,
    /// Texts (lossily decoded) of files that were refused for not being UTF-8, so that a
    /// finding can still show its line.
    pub refused_texts: BTreeMap<String, String>,
}

impl Loaded {
    /// The text of the file shown as `display`, for rendering a finding.
    pub fn text_of(&self, display: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|f| f.display == display)
            .map(|f| f.text.as_str())
            .or_else(|| self.refused_texts.get(display).map(String::as_str))
    }

    /// True when reading found an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

fn display(dir: &Path, rel: &str) -> String {
    if dir == Path::new(".") || dir.as_os_str().is_empty() {
        rel.to_owned()
    } else {
        dir.join(rel).display().to_string()
    }
}

/// Reads the compact directory `dir`.
pub fn load_dir(dir: &Path) -> Loaded {
    let mut out = Loaded::default();
    let shown = dir.display().to_string();
    match fs::metadata(dir) {
        Err(e) => {
            out.diagnostics.push(Diagnostic::error(
                &shown,
                None,
                format!("cannot read the compact directory: {}", io_reason(&e)),
            ));
            return out;
        }
        Ok(m) if !m.is_dir() => {
            out.diagnostics.push(Diagnostic::error(
                &shown,
                None,
                "not a directory: give the directory that holds compact.toml",
            ));
            return out;
        }
        Ok(_) => {}
    }
    if !dir.join("compact.toml").exists() && fs::symlink_metadata(dir.join("compact.toml")).is_err()
    {
        let empty = fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        out.diagnostics.push(
            Diagnostic::error(
                &shown,
                None,
                if empty {
                    "the directory is empty: a compact directory holds compact.toml, parties/ and agreements/"
                } else {
                    "not a compact directory: there is no compact.toml in it"
                },
            )
            .with_help("see docs/format.md, or `compact demo` for a complete example"),
        );
        return out;
    }
    let mut rels = vec!["compact.toml".to_owned()];
    for optional in ["rates.toml", "requirements.toml"] {
        if fs::symlink_metadata(dir.join(optional)).is_ok() {
            rels.push(optional.to_owned());
        }
    }
    for sub in ["parties", "agreements"] {
        rels.extend(list_toml(dir, sub, &mut out));
    }
    for rel in rels {
        read_one(dir, &rel, &mut out);
    }
    out.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

/// Reads one file (for commands that take a single file, such as `digest`), with the same
/// limits and checks as [`load_dir`].
pub fn load_file(path: &Path) -> Loaded {
    let mut out = Loaded::default();
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    read_one(dir, &name, &mut out);
    out
}

fn list_toml(dir: &Path, sub: &str, out: &mut Loaded) -> Vec<String> {
    let path = dir.join(sub);
    let entries = match fs::read_dir(&path) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            out.diagnostics.push(Diagnostic::error(
                &display(dir, sub),
                None,
                format!("cannot read the directory: {}", io_reason(&e)),
            ));
            return Vec::new();
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            out.diagnostics.push(Diagnostic::warning(
                &display(dir, sub),
                None,
                format!(
                    "skipped a file whose name is not UTF-8: {}",
                    PathBuf::from(&name).display()
                ),
            ));
            continue;
        };
        if name.ends_with(".toml") && !name.starts_with('.') {
            names.push(format!("{sub}/{name}"));
        }
    }
    names.sort();
    if names.len() > FILES_PER_DIR_MAX {
        out.diagnostics.push(Diagnostic::error(
            &display(dir, sub),
            None,
            format!(
                "{} files, more than the limit of {FILES_PER_DIR_MAX}: only the first {FILES_PER_DIR_MAX} are read",
                names.len()
            ),
        ));
        names.truncate(FILES_PER_DIR_MAX);
    }
    names
}

fn io_reason(e: &std::io::Error) -> String {
    // ELOOP has no stable ErrorKind; name it plainly.
    if e.raw_os_error() == Some(40) {
        "too many levels of symbolic links (a symlink loop)".to_owned()
    } else {
        let s = e.to_string();
        s.split(" (os error").next().unwrap_or(&s).to_lowercase()
    }
}

/// A regular file's bytes, at most [`FILE_SIZE_MAX`] (a file that grows while read, or a
/// device such as `/dev/zero`, is refused, never read without end); the error says why, without
/// the path.
fn bounded_bytes(path: &Path) -> Result<Vec<u8>, String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > FILE_SIZE_MAX {
        return Err(format!(
            "file is {} bytes, over the limit of {FILE_SIZE_MAX} bytes (16 MiB)",
            meta.len()
        ));
    }
    let mut bytes = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(FILE_SIZE_MAX + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
    if bytes.len() as u64 > FILE_SIZE_MAX {
        return Err(format!(
            "file grew over the limit of {FILE_SIZE_MAX} bytes (16 MiB) while being read"
        ));
    }
    Ok(bytes)
}

fn read_one(dir: &Path, rel: &str, out: &mut Loaded) {
    let path = dir.join(rel);
    let shown = display(dir, rel);
    let bytes = match bounded_bytes(&path) {
        Ok(b) => b,
        Err(message) => {
            out.diagnostics
                .push(Diagnostic::error(&shown, None, message));
            return;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => out.files.push(SourceFile {
            rel: rel.to_owned(),
            display: shown,
            text,
        }),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            // The lossy text has the same prefix up to `at`, so the offset holds.
            out.diagnostics.push(Diagnostic::error(
                &shown,
                Some(at..at + 1),
                format!(
                    "file is not UTF-8: invalid byte 0x{:02x} at byte offset {at}",
                    e.as_bytes().get(at).copied().unwrap_or(0)
                ),
            ));
            out.refused_texts.insert(shown, lossy);
        }
    }
}

/// The shipped data set, `examples/kyiv-compact`, compiled into the binary.
pub mod embedded {
    use compact_model::SourceFile;
    use include_dir::{Dir, include_dir};

    static KYIV: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../examples/kyiv-compact");

    /// Every file of the data set, as (relative path, contents).
    pub fn all() -> Vec<(String, &'static [u8])> {
        let mut out = Vec::new();
        collect(&KYIV, &mut out);
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn collect(dir: &'static Dir<'static>, out: &mut Vec<(String, &'static [u8])>) {
        for f in dir.files() {
            out.push((f.path().to_string_lossy().replace('\\', "/"), f.contents()));
        }
        for d in dir.dirs() {
            collect(d, out);
        }
    }

    /// The data set's compact files as sources, shown under `prefix/`.
    pub fn sources(prefix: &str) -> Vec<SourceFile> {
        all()
            .into_iter()
            .filter(|(rel, _)| {
                // The files `load_dir` reads: other files beside them (the stress-test
                // risks, the tracker's figures) are data of other commands.
                ["compact.toml", "rates.toml", "requirements.toml"].contains(&rel.as_str())
                    || (rel.ends_with(".toml")
                        && (rel.starts_with("parties/") || rel.starts_with("agreements/")))
            })
            .filter_map(|(rel, bytes)| {
                let text = std::str::from_utf8(bytes).ok()?.to_owned();
                Some(SourceFile {
                    display: format!("{prefix}/{rel}"),
                    rel,
                    text,
                })
            })
            .collect()
    }
}

/// The text of one file of a compact directory read on its own (an agreement file, as an
/// `agreement.sign` carries it; the tracker's figures): within the limits every compact file is
/// read with (16 MiB, UTF-8).
pub fn read_text(path: &Path) -> Result<String, String> {
    let bytes = bounded_bytes(path).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{}: file is not UTF-8: invalid byte at byte offset {}",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_read_on_its_own_is_bounded_and_utf8() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = dir.path().join("a.toml");
        fs::write(&ok, "id = \"a\"\n").expect("write");
        assert_eq!(read_text(&ok), Ok("id = \"a\"\n".to_owned()));
        let bad = dir.path().join("b.toml");
        fs::write(&bad, [b'a', 0xff]).expect("write");
        let e = read_text(&bad).expect_err("not UTF-8");
        assert!(
            e.ends_with("file is not UTF-8: invalid byte at byte offset 1"),
            "{e}"
        );
        let e = read_text(&dir.path().join("missing.toml")).expect_err("missing");
        assert!(e.contains("missing.toml: cannot read: no such file"), "{e}");
        let e = read_text(dir.path()).expect_err("a directory");
        assert!(e.ends_with("not a regular file"), "{e}");
        #[cfg(unix)]
        {
            let e = read_text(Path::new("/dev/zero")).expect_err("a device");
            assert!(e.ends_with("not a regular file"), "{e}");
        }
    }

    fn write(dir: &Path, rel: &str, bytes: &[u8]) {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(p, bytes).expect("write");
    }

    #[test]
    fn a_missing_directory_is_named() {
        let out = load_dir(Path::new("/nonexistent/compact-dir"));
        assert_eq!(out.diagnostics.len(), 1);
        assert!(
            out.diagnostics[0]
                .message
                .contains("no such file or directory"),
            "{:?}",
            out.diagnostics
        );
    }

    #[test]
    fn an_empty_directory_is_not_a_compact() {
        let t = tempfile::tempdir().expect("temp dir");
        let out = load_dir(t.path());
        assert!(out.has_errors());
        assert!(
            out.diagnostics[0]
                .message
                .contains("the directory is empty")
        );
    }

    #[test]
    fn reads_the_layout_and_skips_other_files() {
        let t = tempfile::tempdir().expect("temp dir");
        write(t.path(), "compact.toml", b"id = 'x'");
        write(t.path(), "parties/GB.toml", b"code = 'GB'");
        write(t.path(), "parties/README.md", b"not read");
        write(t.path(), "agreements/a.toml", b"id = 'a'");
        write(t.path(), "keys/GB.key", b"secret");
        let out = load_dir(t.path());
        let rels: Vec<&str> = out.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(
            rels,
            ["agreements/a.toml", "compact.toml", "parties/GB.toml"]
        );
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn refuses_non_utf8_and_oversized_files_with_their_place() {
        let t = tempfile::tempdir().expect("temp dir");
        write(t.path(), "compact.toml", b"id = 'x'\ntitle = '\xff'\n");
        let big = vec![b'#'; usize::try_from(FILE_SIZE_MAX).expect("fits") + 1];
        write(t.path(), "agreements/big.toml", &big);
        let out = load_dir(t.path());
        assert!(out.files.is_empty());
        let shown: Vec<String> = out
            .diagnostics
            .iter()
            .map(|d| d.header(out.text_of(&d.path)))
            .collect();
        let root = t.path().display();
        assert!(shown.contains(&format!(
            "{root}/compact.toml:2:10: error: file is not UTF-8: invalid byte 0xff at byte offset 18"
        )), "{shown:?}");
        assert!(
            shown.iter().any(|s| s.starts_with(&format!(
                "{root}/agreements/big.toml: error: file is 16777217 bytes"
            ))),
            "{shown:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_is_named() {
        let t = tempfile::tempdir().expect("temp dir");
        write(t.path(), "compact.toml", b"id = 'x'");
        fs::create_dir_all(t.path().join("agreements")).expect("mkdir");
        std::os::unix::fs::symlink("loop.toml", t.path().join("agreements/loop.toml"))
            .expect("symlink");
        let out = load_dir(t.path());
        assert!(
            out.diagnostics
                .iter()
                .any(|d| d.path.ends_with("agreements/loop.toml")
                    && d.message.contains("symlink loop")),
            "{:?}",
            out.diagnostics
        );
    }
}
