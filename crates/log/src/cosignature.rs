//! Witness cosignatures as C2SP tlog-cosignature specifies them (`cosignature/v1`, Ed25519):
//! a cosigner's statement that, as of its timestamp, the checkpoint is the largest consistent
//! tree head it has observed for the log its origin line names.
//!
//! A cosignature is a signed-note signature line, `— <name> base64(key ID || timestamp ||
//! signature)`: the key ID is `SHA-256(name || "\n" || 0x04 || public key)[:4]`, the timestamp
//! a big-endian `u64` of POSIX seconds (at most 2^63 - 1), and the Ed25519 signature is over
//! `cosignature/v1\n`, `time <timestamp>\n` and the checkpoint's whole body. `signed_note`
//! carries the lines; the message, the key IDs and the keys are here.
//!
//! Keys: a cosigner's verifier key is a signed-note vkey with signature type 0x04
//! (`<name>+<key ID>+base64(0x04 || public key)`); its private key is written the same way as
//! a signed-note private key (`PRIVATE+KEY+<name>+<key ID>+base64(0x04 || seed)`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use signed_note::{Note, Signer, Verifier, VerifierList, is_key_name_valid, key_id};

/// The signature type of an Ed25519 `cosignature/v1` key.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// The largest timestamp a cosignature may carry.
pub const TIMESTAMP_MAX: u64 = (1 << 63) - 1;

/// Why a cosigner key, a cosignature or a note could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    /// A key is not of the form the spec gives.
    #[error("malformed cosigner key: {0}")]
    Key(&'static str),
    /// The note is not a signed note.
    #[error("malformed note: {0}")]
    Note(String),
    /// A cosignature by a known cosigner does not verify.
    #[error("a cosignature does not verify: {0}")]
    Invalid(String),
    /// A timestamp beyond 2^63 - 1.
    #[error("a cosignature's timestamp must not exceed 2^63 - 1")]
    Timestamp,
}

/// The message an Ed25519 cosigner signs for checkpoint `body` (the note's text, up to and
/// including its final newline) at `timestamp`.
pub fn message(body: &[u8], timestamp: u64) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    m.extend_from_slice(body);
    m
}

/// The key ID of cosigner `name` with Ed25519 public key `public`.
pub fn cosigner_key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut key = Vec::with_capacity(33);
    key.push(ALG_COSIGNATURE_V1);
    key.extend_from_slice(public);
    key_id(name, &key)
}

/// The verifier key of cosigner `name` with Ed25519 public key `public`.
pub fn cosigner_vkey(name: &str, public: &[u8; 32]) -> String {
    let mut key = vec![ALG_COSIGNATURE_V1];
    key.extend_from_slice(public);
    format!(
        "{name}+{:08x}+{}",
        cosigner_key_id(name, public),
        STANDARD.encode(key)
    )
}

/// `(name, key ID, key material after the type byte)` of `<name>+<id>+<base64>` with type 0x04.
fn parse_key(text: &str) -> Result<(String, u32, Vec<u8>), CosignatureError> {
    let mut parts = text.trim().splitn(3, '+');
    let (Some(name), Some(id16), Some(key64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CosignatureError::Key("expected <name>+<key ID>+<key>"));
    };
    if !is_key_name_valid(name) {
        return Err(CosignatureError::Key(
            "the name is empty or holds a space or +",
        ));
    }
    if id16.len() != 8 {
        return Err(CosignatureError::Key("the key ID is not 8 hex digits"));
    }
    let id = u32::from_str_radix(id16, 16)
        .map_err(|_| CosignatureError::Key("the key ID is not hexadecimal"))?;
    let key = STANDARD
        .decode(key64)
        .map_err(|_| CosignatureError::Key("the key is not base64"))?;
    match key.split_first() {
        Some((&ALG_COSIGNATURE_V1, material)) => Ok((name.to_owned(), id, material.to_vec())),
        Some(_) => Err(CosignatureError::Key(
            "not a cosignature/v1 key (signature type 0x04)",
        )),
        None => Err(CosignatureError::Key("the key is empty")),
    }
}

/// A cosigner's private key, stamping each cosignature with the time it is given.
#[derive(Clone)]
pub struct Cosigner {
    name: String,
    id: u32,
    key: SigningKey,
    timestamp: u64,
}

impl std::fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cosigner")
            .field("name", &self.name)
            .field("id", &format_args!("{:08x}", self.id))
            .finish_non_exhaustive()
    }
}

impl Cosigner {
    /// The cosigner of private key `skey` (`PRIVATE+KEY+<name>+<id>+base64(0x04 || seed)`).
    pub fn new(skey: &str) -> Result<Cosigner, CosignatureError> {
        let rest = skey
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(CosignatureError::Key(
                "a private key starts with PRIVATE+KEY+",
            ))?;
        let (name, id, seed) = parse_key(rest)?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| CosignatureError::Key("an Ed25519 seed is 32 bytes"))?;
        let key = SigningKey::from_bytes(&seed);
        if id != cosigner_key_id(&name, &key.verifying_key().to_bytes()) {
            return Err(CosignatureError::Key("the key ID does not match the key"));
        }
        Ok(Cosigner {
            name,
            id,
            key,
            timestamp: 0,
        })
    }

    /// The private and verifier keys of cosigner `name` from a 32-byte seed.
    pub fn generate(name: &str, seed: &[u8; 32]) -> Result<(String, String), CosignatureError> {
        if !is_key_name_valid(name) {
            return Err(CosignatureError::Key(
                "the name is empty or holds a space or +",
            ));
        }
        let public = SigningKey::from_bytes(seed).verifying_key().to_bytes();
        let mut key = vec![ALG_COSIGNATURE_V1];
        key.extend_from_slice(seed);
        let skey = format!(
            "PRIVATE+KEY+{name}+{:08x}+{}",
            cosigner_key_id(name, &public),
            STANDARD.encode(key)
        );
        Ok((skey, cosigner_vkey(name, &public)))
    }

    /// This cosigner stamping its cosignatures with `timestamp` (POSIX seconds).
    pub fn at(mut self, timestamp: u64) -> Result<Cosigner, CosignatureError> {
        if timestamp > TIMESTAMP_MAX {
            return Err(CosignatureError::Timestamp);
        }
        self.timestamp = timestamp;
        Ok(self)
    }

    /// Its verifier key.
    pub fn vkey(&self) -> String {
        cosigner_vkey(&self.name, &self.key.verifying_key().to_bytes())
    }

    /// Its cosignature of checkpoint `body` (the note's text) as a signature line, `— <name>
    /// <base64>` and a newline.
    pub fn line(&self, body: &[u8]) -> Result<Vec<u8>, CosignatureError> {
        let sig = self
            .sign(body)
            .map_err(|e| CosignatureError::Note(e.to_string()))?;
        let line = signed_note::Signature::new(self.name.clone(), self.id, sig)
            .map_err(|e| CosignatureError::Note(e.to_string()))?;
        Ok(line.to_bytes())
    }

    /// The note `checkpoint` (a signed checkpoint) with this cosigner's cosignature added.
    pub fn cosign(&self, checkpoint: &[u8]) -> Result<Vec<u8>, CosignatureError> {
        let mut note =
            Note::from_bytes(checkpoint).map_err(|e| CosignatureError::Note(e.to_string()))?;
        note.add_sigs(&[self])
            .map_err(|e| CosignatureError::Note(e.to_string()))?;
        Ok(note.to_bytes())
    }
}

impl Signer for Cosigner {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek::SignatureError> {
        let signature = self.key.try_sign(&message(msg, self.timestamp))?;
        let mut out = self.timestamp.to_be_bytes().to_vec();
        out.extend_from_slice(&signature.to_bytes());
        Ok(out)
    }
}

/// A cosigner's verifier: which cosignatures of a note are this cosigner's, and valid.
#[derive(Clone, Debug)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// The verifier of vkey `vkey` (`<name>+<id>+base64(0x04 || public key)`).
    pub fn new(vkey: &str) -> Result<CosignatureVerifier, CosignatureError> {
        let (name, id, public) = parse_key(vkey)?;
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| CosignatureError::Key("an Ed25519 public key is 32 bytes"))?;
        if id != cosigner_key_id(&name, &public) {
            return Err(CosignatureError::Key("the key ID does not match the key"));
        }
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| CosignatureError::Key("not an Ed25519 public key"))?;
        Ok(CosignatureVerifier { name, id, key })
    }

    /// The cosigner's name.
    pub fn cosigner(&self) -> &str {
        &self.name
    }
}

impl Verifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Some((stamp, signature)) = sig.split_first_chunk::<8>() else {
            return false;
        };
        let timestamp = u64::from_be_bytes(*stamp);
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        timestamp <= TIMESTAMP_MAX
            && self
                .key
                .verify(&message(msg, timestamp), &signature)
                .is_ok()
    }
}

/// A valid cosignature a note carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosigned {
    /// The cosigner's name.
    pub cosigner: String,
    /// When it cosigned (POSIX seconds).
    pub timestamp: u64,
}

/// The valid cosignatures of `note` by the cosigners `known`; lines of other keys are
/// ignored, as the spec requires. A line of a known cosigner that does not verify is an error.
pub fn cosignatures(
    note: &[u8],
    known: &[CosignatureVerifier],
) -> Result<Vec<Cosigned>, CosignatureError> {
    let parsed = Note::from_bytes(note).map_err(|e| CosignatureError::Note(e.to_string()))?;
    let list = VerifierList::new(
        known
            .iter()
            .map(|v| Box::new(v.clone()) as Box<dyn Verifier>)
            .collect(),
    );
    let (verified, _unknown) = match parsed.verify(&list) {
        Ok(v) => v,
        // Not one known signature: none of these cosigners signed it.
        Err(signed_note::NoteError::UnverifiedNote) => return Ok(Vec::new()),
        Err(e) => return Err(CosignatureError::Invalid(e.to_string())),
    };
    Ok(verified
        .iter()
        .filter_map(|s| {
            let stamp = s.signature().first_chunk::<8>()?;
            Some(Cosigned {
                cosigner: s.name().to_owned(),
                timestamp: u64::from_be_bytes(*stamp),
            })
        })
        .collect())
}

/// The distinct cosigners among `known` that validly cosigned `note`, by name, sorted: what a
/// quorum counts (a witness counts once, however many lines it added).
pub fn cosigners(
    note: &[u8],
    known: &[CosignatureVerifier],
) -> Result<Vec<String>, CosignatureError> {
    let mut names: Vec<String> = cosignatures(note, known)?
        .into_iter()
        .map(|c| c.cosigner)
        .collect();
    names.sort_unstable();
    names.dedup();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checkpoint of the spec's example.
    const BODY: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    /// The spec's example note: the log's signature and a witness's cosignature.
    const SPEC_NOTE: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

    /// A known answer computed independently of this code (Python's `cryptography`, from the
    /// spec's text): seed SHA-256("compact witness known answer"), the spec's checkpoint, the
    /// spec's time.
    const KAT_SEED: &str = "0581ded427afe1ecffe0dd65c6b2193cc51922c83e7c2194f0849069c4494f73";
    const KAT_VKEY: &str =
        "witness.example.com/w1+fd0ae238+BEJVU6VRzXO+8Awri2bePwfeFOwL/qiYo+7W5jUhSNco";
    const KAT_LINE: &str = "\u{2014} witness.example.com/w1 /QriOAAAAABkGFDLZm9bQVRkTYbY4rdoB6ktZLGn5/63QlvYZErvvC47FmsXMQGASjaQhG6nY4PvJmBj3vRctWVfSC/QCDm+tLBqAQ==\n";

    fn kat_seed() -> [u8; 32] {
        hex::decode(KAT_SEED).unwrap().try_into().unwrap()
    }

    fn unsigned_checkpoint() -> Vec<u8> {
        // A note needs one signature to parse: the log's, from the spec's example.
        let log_line = SPEC_NOTE.lines().nth(4).unwrap();
        format!("{BODY}\n{log_line}\n").into_bytes()
    }

    #[test]
    fn the_message_is_the_spec_s() {
        assert_eq!(
            String::from_utf8(message(BODY.as_bytes(), 1_679_315_147)).unwrap(),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn the_spec_s_cosignature_line_carries_its_time() {
        let line = SPEC_NOTE.lines().nth(5).unwrap();
        let sig = signed_note::Signature::from_bytes(line.as_bytes()).unwrap();
        assert_eq!(sig.name(), "witness.example.com/w1");
        assert_eq!(sig.signature().len(), 8 + 64);
        let stamp = u64::from_be_bytes(*sig.signature().first_chunk::<8>().unwrap());
        assert_eq!(
            stamp, 1_679_315_147,
            "the time of the spec's message example"
        );
    }

    #[test]
    fn a_cosignature_matches_an_independent_implementation() {
        let (skey, vkey) = Cosigner::generate("witness.example.com/w1", &kat_seed()).unwrap();
        assert_eq!(vkey, KAT_VKEY);
        let cosigner = Cosigner::new(&skey).unwrap().at(1_679_315_147).unwrap();
        let cosigned = cosigner.cosign(&unsigned_checkpoint()).unwrap();
        let text = String::from_utf8(cosigned.clone()).unwrap();
        assert!(text.ends_with(KAT_LINE), "{text}");
        assert_eq!(cosigner.line(BODY.as_bytes()).unwrap(), KAT_LINE.as_bytes());
        let v = CosignatureVerifier::new(KAT_VKEY).unwrap();
        assert_eq!(
            cosignatures(&cosigned, &[v]).unwrap(),
            vec![Cosigned {
                cosigner: "witness.example.com/w1".into(),
                timestamp: 1_679_315_147
            }]
        );
    }

    #[test]
    fn unknown_keys_are_ignored_and_a_bad_known_one_refused() {
        let (skey, vkey) = Cosigner::generate("w1.example", &[7; 32]).unwrap();
        let (_, other) = Cosigner::generate("w2.example", &[8; 32]).unwrap();
        let cosigned = Cosigner::new(&skey)
            .unwrap()
            .at(1_700_000_000)
            .unwrap()
            .cosign(&unsigned_checkpoint())
            .unwrap();
        let w2 = CosignatureVerifier::new(&other).unwrap();
        assert_eq!(cosignatures(&cosigned, &[w2]).unwrap(), vec![]);
        // The spec's own witness line is of a key nobody here knows: ignored.
        let w1 = CosignatureVerifier::new(&vkey).unwrap();
        assert!(
            cosignatures(SPEC_NOTE.as_bytes(), std::slice::from_ref(&w1))
                .unwrap()
                .is_empty()
        );
        // Every byte of the cosignature's base64 changed in turn: never a valid cosignature.
        let text = String::from_utf8(cosigned).unwrap();
        let start = text.rfind(' ').unwrap() + 1;
        for i in start..text.len() - 2 {
            let mut bytes = text.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            if let Ok(found) = cosignatures(&bytes, std::slice::from_ref(&w1)) {
                assert!(found.is_empty(), "byte {i} changed, still valid");
            }
        }
    }

    #[test]
    fn a_changed_checkpoint_or_time_fails() {
        let (skey, vkey) = Cosigner::generate("w1.example", &[7; 32]).unwrap();
        let cosigner = Cosigner::new(&skey).unwrap().at(5).unwrap();
        let v = CosignatureVerifier::new(&vkey).unwrap();
        let line = cosigner.sign(BODY.as_bytes()).unwrap();
        assert!(v.verify(BODY.as_bytes(), &line));
        assert!(!v.verify(BODY.replace("20852163", "20852164").as_bytes(), &line));
        let mut later = line.clone();
        later[7] = 6;
        assert!(!v.verify(BODY.as_bytes(), &later));
        let mut beyond = line;
        beyond[0] = 0x80;
        assert!(!v.verify(BODY.as_bytes(), &beyond));
        assert_eq!(
            Cosigner::new(&skey).unwrap().at(1 << 63).unwrap_err(),
            CosignatureError::Timestamp
        );
    }

    #[test]
    fn malformed_keys_are_refused() {
        let (skey, vkey) = Cosigner::generate("w1.example", &[7; 32]).unwrap();
        for bad in [
            "",
            "w1.example",
            "w1.example+00000000+BEJVU6VRzXO+8Awri2bePwfeFOwL/qiYo+7W5jUhSNco",
            &vkey.replacen("+B", "+A", 1),
            &vkey.replace("w1.example", "w1 example"),
            "w1.example+zzzzzzzz+BA==",
        ] {
            assert!(CosignatureVerifier::new(bad).is_err(), "{bad:?}");
        }
        assert!(
            Cosigner::new(&vkey).is_err(),
            "a verifier key is no private key"
        );
        assert!(Cosigner::new(&skey.replace("w1.example", "w2.example")).is_err());
        // A log's own (type 0x01) key is no cosigner key.
        assert!(
            CosignatureVerifier::new(
                "example.com/behind-the-sofa+8d66cf3f+AQ4aV2tzqx7ZNM5ZGLF0XFd4CTXmy7SuwMI3RIu3Zg0q"
            )
            .is_err()
        );
    }
}
