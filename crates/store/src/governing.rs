//! The terms that govern: the agreement versions both parties signed, as the log holds them.
//!
//! Working files are drafts. For every agreement version both parties signed (the same
//! digest), the text carried in their `agreement.sign` entries replaces the working file of
//! that version (or joins the compact when the file is gone); the compact is then validated
//! again, so the rules, the engine and every report read the signed terms. A working file that
//! differs from what was signed is reported as drift, never used.

use std::collections::BTreeMap;

use compact_model::{Compact, Diagnostic, SourceFile, agreement_alone, check};
use compact_statement::rules::Facts;

/// A working file that is not the text both parties signed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Drift {
    /// Agreement id.
    pub agreement: String,
    /// Version.
    pub version: u32,
    /// The digest both parties signed (which governs).
    pub signed: String,
    /// The working file's digest, when there is a working file of that version.
    pub working: Option<String>,
    /// The working file, if any.
    pub path: Option<String>,
}

/// The compact as it governs, and the working files that differ from it.
#[derive(Clone, Debug)]
pub struct Governing {
    /// The compact with every signed version's terms as signed.
    pub compact: Compact,
    /// Working files that differ from what was signed.
    pub drift: Vec<Drift>,
}

/// The agreed versions: (id, version) to the digest both parties signed and its terms.
fn agreed(facts: &Facts) -> BTreeMap<(String, u32), (String, String)> {
    let mut out = BTreeMap::new();
    for ((id, version), by) in &facts.signatures {
        let mut digests: Vec<&str> = by.values().map(|(_, d)| d.as_str()).collect();
        digests.sort_unstable();
        for d in digests.windows(2).filter_map(|w| match w {
            [a, b] if a == b => Some(*a),
            _ => None,
        }) {
            let Some(text) = facts.terms.get(d) else {
                continue;
            };
            let Ok(terms) = agreement_alone(&SourceFile {
                rel: format!("agreements/{id}.toml"),
                display: format!("{id} version {version} as signed"),
                text: text.clone(),
            }) else {
                continue;
            };
            let both = [&terms.guarantor, &terms.beneficiary]
                .iter()
                .all(|p| by.get(*p).is_some_and(|(_, x)| x == d));
            if both {
                out.insert((id.clone(), *version), (d.to_owned(), text.clone()));
            }
        }
    }
    out
}

/// The compact that governs, from the working files, the compact they make, and the log's
/// facts. Errors when the signed terms no longer fit the rest of the working compact (a
/// pillar or party they name was removed): the findings say where.
pub fn governing(
    files: &[SourceFile],
    working: &Compact,
    facts: &Facts,
) -> Result<Governing, Vec<Diagnostic>> {
    let mut files = files.to_vec();
    let mut drift = Vec::new();
    for ((id, version), (digest, text)) in agreed(facts) {
        match working.agreement(&id, Some(version)) {
            Some(a) if a.digest == digest => {}
            Some(a) => {
                drift.push(Drift {
                    agreement: id.clone(),
                    version,
                    signed: digest.clone(),
                    working: Some(a.digest.clone()),
                    path: Some(a.path.clone()),
                });
                match files.iter_mut().find(|f| f.display == a.path) {
                    Some(f) => {
                        f.display = format!("{} (as signed, digest {digest})", a.path);
                        f.text = text;
                    }
                    None => files.push(signed_file(&id, version, &digest, text)),
                }
            }
            None => {
                drift.push(Drift {
                    agreement: id.clone(),
                    version,
                    signed: digest.clone(),
                    working: None,
                    path: None,
                });
                files.push(signed_file(&id, version, &digest, text));
            }
        }
    }
    if drift.is_empty() {
        return Ok(Governing {
            compact: working.clone(),
            drift,
        });
    }
    let checked = check(&files);
    match checked.compact {
        Some(compact) => Ok(Governing { compact, drift }),
        None => Err(checked.diagnostics),
    }
}

fn signed_file(id: &str, version: u32, digest: &str, text: String) -> SourceFile {
    SourceFile {
        rel: format!("agreements/{id}.v{version}.signed.toml"),
        display: format!("{id} version {version} as signed (digest {digest})"),
        text,
    }
}
