//! API v1 types of the log itself: its head and the keys it holds.

use serde::{Deserialize, Serialize};

/// The log's head (`GET /v1/log`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogHead {
    /// The log's origin: the compact's id.
    pub origin: String,
    /// Its size.
    pub size: u64,
    /// The operator's latest signed checkpoint (a C2SP signed note), if any.
    pub checkpoint: Option<String>,
    /// The operator's verifier key, from the log's `log.init`.
    pub operator_key: Option<String>,
    /// The witnesses `compact.toml` names, whose cosignatures `/checkpoint` carries.
    #[serde(default)]
    pub witnesses: Vec<WitnessKey>,
    /// How many of them must cosign a checkpoint for a reader to accept it.
    #[serde(default)]
    pub quorum: usize,
    /// The date the compact was adopted (YYYY-MM-DD): nothing is due or reported before it.
    #[serde(default)]
    pub adopted_on: String,
}

/// A witness of the log: its name and cosigner verifier key (C2SP tlog-cosignature).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WitnessKey {
    /// Its name, as in its cosignature lines.
    pub name: String,
    /// Its verifier key (signature type 0x04).
    pub key: String,
}

/// Every key the log holds (`GET /v1/keys`, `compact log keys`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicKeys {
    /// The operator's verifier key, which signs every checkpoint.
    pub operator_key: Option<String>,
    /// The parties' keys, by party and key id.
    pub keys: Vec<KeyRow>,
}

/// One party key the log registered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeyRow {
    /// The party.
    pub party: String,
    /// The C2SP verifier key.
    pub key: String,
    /// `root` or `signing`.
    pub role: String,
    /// It signs what the log receives from this time.
    pub valid_from: String,
    /// It signs nothing the log receives from this time.
    pub revoked_from: Option<String>,
    /// The entry that registered it.
    pub entry: u64,
}

impl PublicKeys {
    /// The keys in `facts`.
    pub fn of(facts: &compact_statement::rules::Facts) -> Self {
        PublicKeys {
            operator_key: facts.operator_key.clone(),
            keys: facts
                .keys
                .iter()
                .map(|((party, _), k)| KeyRow {
                    party: party.clone(),
                    key: k.vkey.clone(),
                    role: match k.role {
                        compact_statement::Role::Root => "root",
                        compact_statement::Role::Signing => "signing",
                    }
                    .to_owned(),
                    valid_from: k.valid_from.to_string(),
                    revoked_from: k.revoked_from.map(|t| t.to_string()),
                    entry: k.entry,
                })
                .collect(),
        }
    }
}

/// One log entry as `compact log list` and `GET /v1/entries` show it: who, when, what, and
/// its payload in one line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EntryRow {
    /// Its index in the log.
    pub index: u64,
    /// When the log received it (RFC 3339, UTC): the time that counts.
    pub received: Option<String>,
    /// When its author says it was made (RFC 3339, UTC).
    pub time: String,
    /// Its author: a party code, or the compact's id for the operator's `log.init`.
    pub author: String,
    /// The statement's type (`delivery.report`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its payload in one line, for people (`gb-tranches: 500 shells delivered 2024-06-30,
    /// ref GB-17`).
    pub summary: String,
    /// The log entry it refers to (a confirmation's report, a response's activation, a
    /// retraction's entry, …).
    pub refers_to: Option<u64>,
    /// The `statement.retract` entry that retracted it, if one did: from that entry's receipt
    /// every report counts it no more (the log keeps both).
    #[serde(default)]
    pub retracted_by: Option<u64>,
    /// Its payload as JSON, as signed.
    pub payload: serde_json::Value,
}

/// A page of the log's entries, filtered (`compact log list`, `GET /v1/entries`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EntryList {
    /// The log's size: how many entries it holds.
    pub size: u64,
    /// How many entries pass the filters, on every page.
    pub matched: u64,
    /// `newest-first` (the default, as `git log`) or `oldest-first`.
    pub order: String,
    /// The entries of this page, in that order.
    pub entries: Vec<EntryRow>,
    /// When more entries match beyond this page: the `after` (`--after`) that lists them.
    pub next_after: Option<u64>,
}
