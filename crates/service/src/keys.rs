//! Key files: loading a signer, the verifier key of a private key, seeded keys.

use std::path::{Path, PathBuf};

use compact_files::keys::read_private_key;
use compact_statement::keys;
use signed_note::StandardSigner;

use crate::error::{Context as _, Result, ServiceError};
use crate::place::Place;

/// A signer read from a private key file, and a warning about the file if any (such as
/// permissions others may read).
pub struct KeyFile {
    /// The signer.
    pub signer: StandardSigner,
    /// What is wrong with the file without making it unusable.
    pub warning: Option<String>,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile")
            .field("name", &self.name())
            .field("warning", &self.warning)
            .finish_non_exhaustive()
    }
}

impl KeyFile {
    /// The key's name: the author of what it signs.
    pub fn name(&self) -> String {
        signed_note::Signer::name(&self.signer).to_owned()
    }
}

/// Reads the private key in `path`.
pub fn signer_from(path: &Path) -> Result<KeyFile> {
    let (text, warning) = read_private_key(path).map_err(ServiceError::bad_input)?;
    let signer = keys::signer(&text)
        .map_err(|e| ServiceError::bad_input(format!("{}: {e}", path.display())))?;
    Ok(KeyFile { signer, warning })
}

/// The operator's key file: `path`, or `DIR/keys/operator.key`.
pub fn operator_key_path(place: &Place, path: Option<&Path>) -> PathBuf {
    path.map_or_else(|| place.dir.join("keys/operator.key"), Path::to_path_buf)
}

/// The operator's signer, which signs every checkpoint.
pub fn operator_signer(place: &Place, path: Option<&Path>) -> Result<KeyFile> {
    signer_from(&operator_key_path(place, path))
        .context("the log operator's key signs every checkpoint (--operator-key)")
}

/// The verifier key of a private key file.
pub fn verifier_of(path: &Path) -> Result<String> {
    let (text, _) = read_private_key(path).map_err(ServiceError::bad_input)?;
    keys::verifier_of(&text)
        .map_err(|e| ServiceError::bad_input(format!("{}: {e}", path.display())))
}

/// A key pair from a seed: SHA-256 of a fixed label, the seed and the key's name.
pub fn seeded(name: &str, seed: &str) -> Result<keys::KeyPair> {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(format!("compact keygen\n{seed}\n{name}").as_bytes());
    let bytes: [u8; 32] = d.into();
    keys::from_seed(name, &bytes).map_err(|e| ServiceError::bad_input(e.to_string()))
}

/// The root key file of a party: `keys/CODE.root.key`.
pub fn root_key_path(dir: &Path, code: &str) -> PathBuf {
    dir.join("keys").join(format!("{code}.root.key"))
}

/// The signing key file of a party: `keys/CODE.key`.
pub fn key_path(dir: &Path, code: &str) -> PathBuf {
    dir.join("keys").join(format!("{code}.key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_keys_are_stable_and_named() -> Result<()> {
        let a = seeded("UA", "s")?;
        let b = seeded("UA", "s")?;
        let c = seeded("UA", "t")?;
        assert_eq!(a.verifier, b.verifier);
        assert_ne!(a.verifier, c.verifier);
        assert!(a.verifier.starts_with("UA+"), "{}", a.verifier);
        Ok(())
    }
}
