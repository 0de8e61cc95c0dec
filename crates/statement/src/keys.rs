//! Ed25519 keys in the C2SP signed-note formats: verifier key `name+keyid+base64`, private key
//! `PRIVATE+KEY+name+keyid+base64`. Generation takes the randomness it is given, so that a
//! seeded run makes the same keys.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signed_note::StandardSigner;

use crate::StatementError;

/// The signed-note algorithm byte for Ed25519.
const ALG_ED25519: u8 = 1;

/// A key pair: the private key text and the verifier key text.
#[derive(Clone)]
pub struct KeyPair {
    /// `PRIVATE+KEY+name+keyid+base64`: secret.
    pub private: String,
    /// `name+keyid+base64`: public.
    pub verifier: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

/// A key pair named `name` from a 32-byte Ed25519 seed.
pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<KeyPair, StatementError> {
    if !valid_name(name) {
        return Err(StatementError::Key(format!("invalid key name `{name}`")));
    }
    let signing = ed25519_dalek::SigningKey::from_bytes(seed);
    let mut public = vec![ALG_ED25519];
    public.extend_from_slice(signing.verifying_key().as_bytes());
    let id = signed_note::key_id(name, &public);
    let mut private = vec![ALG_ED25519];
    private.extend_from_slice(seed);
    Ok(KeyPair {
        private: format!("PRIVATE+KEY+{name}+{id:08x}+{}", B64.encode(private)),
        verifier: format!("{name}+{id:08x}+{}", B64.encode(public)),
    })
}

/// A key pair named `name` from the operating system's random source.
pub fn generate(name: &str) -> Result<KeyPair, StatementError> {
    let mut seed = [0u8; 32];
    rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut seed)
        .map_err(|e| StatementError::Key(format!("no randomness: {e}")))?;
    from_seed(name, &seed)
}

/// Reads a private key's text (a key file's contents).
pub fn signer(text: &str) -> Result<StandardSigner, StatementError> {
    StandardSigner::new(text.trim()).map_err(|e| {
        StatementError::Key(format!(
            "not a private key (expected PRIVATE+KEY+name+keyid+base64): {e}"
        ))
    })
}

/// The verifier key of a private key's text.
pub fn verifier_of(text: &str) -> Result<String, StatementError> {
    let corrupt =
        || StatementError::Key("not a private key (expected PRIVATE+KEY+name+keyid+base64)".into());
    let rest = text
        .trim()
        .strip_prefix("PRIVATE+KEY+")
        .ok_or_else(corrupt)?;
    let mut parts = rest.splitn(3, '+');
    let (name, _id, b64) = (
        parts.next().ok_or_else(corrupt)?,
        parts.next().ok_or_else(corrupt)?,
        parts.next().ok_or_else(corrupt)?,
    );
    let bytes = B64.decode(b64).map_err(|_| corrupt())?;
    let seed: [u8; 32] = bytes
        .get(1..)
        .and_then(|s| s.try_into().ok())
        .filter(|_| bytes.first() == Some(&ALG_ED25519))
        .ok_or_else(corrupt)?;
    // Also checks the key id against the derived public key.
    signer(text)?;
    Ok(from_seed(name, &seed)?.verifier)
}

/// A signed-note key name: non-empty, no spaces, no `+`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use signed_note::{Signer, Verifier};

    #[test]
    fn seeded_keys_are_reproducible_and_work() {
        let a = from_seed("GB", &[7; 32]).unwrap();
        let b = from_seed("GB", &[7; 32]).unwrap();
        assert_eq!(a.private, b.private);
        assert!(a.private.starts_with("PRIVATE+KEY+GB+"));
        assert!(a.verifier.starts_with("GB+"));
        let s = signer(&a.private).unwrap();
        let sig = s.sign(b"hello").unwrap();
        let v = signed_note::StandardVerifier::new(&a.verifier).unwrap();
        assert!(v.verify(b"hello", &sig));
        assert_eq!(verifier_of(&a.private).unwrap(), a.verifier);
        assert_ne!(generate("GB").unwrap().private, a.private);
    }

    #[test]
    fn corrupt_or_truncated_keys_are_refused() {
        let a = from_seed("GB", &[7; 32]).unwrap();
        let truncated = &a.private[..a.private.len() - 6];
        assert!(signer(truncated).is_err());
        assert!(verifier_of(truncated).is_err());
        assert!(signer("hello").is_err());
        let wrong_id = a.private.replacen("+GB+", "+GB+0", 1);
        assert!(signer(&wrong_id).is_err());
        assert!(from_seed("G B", &[1; 32]).is_err());
    }
}
