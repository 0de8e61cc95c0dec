//! The one writer: a thread that owns the log's appends. Submissions waiting together are
//! group-committed: checked in arrival order as one input (a refused submission is answered
//! and taken out, the rest checked again), written in one transaction with one checkpoint,
//! and each answered only once the transaction is durable.

use std::thread::JoinHandle;

use compact_model::{Compact, SourceFile};
use compact_service::AnyStore;
use compact_service::{OperatorClock, Place, Result, ServiceError};
use compact_statement::rules::Code;
use compact_statement::{Kind, Statement};
use compact_store::{AppendError, Ledger};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use signed_note::StandardSigner;
use tokio::sync::{mpsc, oneshot};

use crate::Config;
use crate::problem::Problem;

/// Submissions that may wait for the sequencer.
const INBOX: usize = 4096;
/// The most statements one group commits.
const GROUP_MAX: usize = 20_000;

/// What a submission gets back once written.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Acknowledgement {
    /// Each statement's place in the log, in the order submitted.
    pub entries: Vec<Acknowledged>,
    /// The log's size after the group that wrote them.
    pub size: u64,
    /// The operator's signed checkpoint of that size, which covers them (a C2SP signed note).
    pub checkpoint: String,
}

/// One statement written.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Acknowledged {
    /// Its index in the log.
    pub index: u64,
    /// Its RFC 6962 leaf hash, hex.
    pub leaf_hash: String,
    /// When the log received it (the operator's clock).
    pub received: String,
}

/// A submission: statements written all or none, and where to answer.
#[derive(Debug)]
pub struct Submission {
    /// The statements, in order.
    pub statements: Vec<Statement>,
    /// The answer.
    pub reply: oneshot::Sender<std::result::Result<Acknowledgement, Problem>>,
}

/// The sequencer's thread.
#[derive(Debug)]
pub struct Sequencer {
    handle: JoinHandle<()>,
}

impl Sequencer {
    /// Starts the sequencer of `config.place`: its inbox and its thread. Fails when the
    /// operator's key or the store cannot be used.
    pub fn start(
        config: &Config,
        working: Compact,
        files: Vec<SourceFile>,
    ) -> Result<(mpsc::Sender<Submission>, Sequencer)> {
        let place = config.place.clone();
        let operator =
            compact_service::keys::operator_signer(&place, config.operator_key.as_deref())?.signer;
        let compact = place.govern(working.clone(), &files)?.compact;
        // The store opens for writing now, so that a server that cannot write says so at once.
        Ledger::open(place.store()?, &compact)?;
        let (sender, inbox) = mpsc::channel(INBOX);
        let writer = Writer {
            place,
            working,
            files,
            operator,
            clock: config.clock,
            compact,
        };
        let handle = std::thread::Builder::new()
            .name("sequencer".into())
            .spawn(move || writer.run(inbox))
            .map_err(|e| ServiceError::internal(format!("cannot start the sequencer: {e}")))?;
        Ok((sender, Sequencer { handle }))
    }

    /// Waits for the sequencer to write what it was given (it ends when every sender is gone).
    pub fn join(self) -> Result<()> {
        self.handle
            .join()
            .map_err(|_| ServiceError::internal("the sequencer failed"))
    }
}

struct Writer {
    place: Place,
    working: Compact,
    files: Vec<SourceFile>,
    operator: StandardSigner,
    clock: Option<OperatorClock>,
    compact: Compact,
}

type Reply = oneshot::Sender<std::result::Result<Acknowledgement, Problem>>;

impl Writer {
    fn run(mut self, mut inbox: mpsc::Receiver<Submission>) {
        loop {
            // The ledger stays open between groups (its facts are read again under the write
            // lock of each); it is opened again after a failure, and when the terms changed.
            let compact = self.compact.clone();
            let mut ledger: Option<Ledger<'_, AnyStore>> = None;
            loop {
                let Some(group) = next_group(&mut inbox) else {
                    return;
                };
                let terms_changed = group
                    .iter()
                    .flat_map(|s| &s.statements)
                    .any(|st| st.kind() == Kind::AgreementSign);
                let open_new = || {
                    self.place
                        .store()
                        .and_then(|s| Ledger::open(s, &compact).map_err(ServiceError::from))
                };
                // The write lock first. A ledger kept from an earlier group whose connection
                // was lost meanwhile (its database restarted) is replaced once, so that the
                // group is written on a new connection rather than refused.
                let begun = match ledger.take() {
                    Some(mut l) => match l.begin_write() {
                        Ok(()) => Ok(l),
                        Err(compact_store::StoreError::Transient(_)) => {
                            drop(l);
                            open_new().and_then(|mut l| {
                                l.begin_write().map(|()| l).map_err(ServiceError::from)
                            })
                        }
                        Err(e) => Err(e.into()),
                    },
                    None => open_new()
                        .and_then(|mut l| l.begin_write().map(|()| l).map_err(ServiceError::from)),
                };
                match begun {
                    Ok(mut l) => {
                        if self.commit(&mut l, group) {
                            ledger = Some(l);
                        }
                    }
                    Err(e) => fail_all(group, e),
                }
                if terms_changed {
                    break;
                }
            }
            drop(ledger);
            // What both parties signed governs: read the compact again.
            if let Ok(g) = self.place.govern(self.working.clone(), &self.files) {
                self.compact = g.compact;
            }
        }
    }

    /// Writes what of `group` the rules accept, in the transaction `ledger` began (holding
    /// the write lock), and answers every submission. False when the ledger failed (it is
    /// opened again for the next group).
    fn commit(&self, ledger: &mut Ledger<'_, AnyStore>, group: Vec<Submission>) -> bool {
        let clock = self
            .clock
            .unwrap_or_else(|| OperatorClock::Now(Timestamp::now()))
            .store_clock();
        let mut alive = group;
        // Duplicates of a statement submitted in the same group: answered after the commit,
        // with the index the first got.
        let mut repeated: Vec<(Reply, Statement)> = Vec::new();
        // Batches refused as duplicates: answered after the commit, with every statement of
        // the batch then in the log.
        let mut repeated_batches: Vec<(Submission, usize, String)> = Vec::new();
        let written = loop {
            if alive.is_empty() {
                break Ok(None);
            }
            let flat: Vec<Statement> = alive
                .iter()
                .flat_map(|s| s.statements.iter().cloned())
                .collect();
            match ledger.prepare(&flat, &self.operator, flat.len(), clock) {
                Ok(batches) => match ledger.write(&batches, &mut |_| {}) {
                    Ok(()) => break Ok(batches.into_iter().next()),
                    Err(e) => break Err(e),
                },
                Err(AppendError::Refused {
                    position,
                    code,
                    reason,
                }) => {
                    let Some((k, at)) = locate(&alive, position) else {
                        break Err(AppendError::Log(format!(
                            "a refusal at {position} of {} statements",
                            flat.len()
                        )));
                    };
                    let sub = alive.remove(k);
                    let statement = sub.statements.get(at).cloned();
                    let many = sub.statements.len() > 1;
                    if code == Code::Duplicate && many {
                        repeated_batches.push((sub, at, reason));
                        continue;
                    }
                    if code == Code::Duplicate
                        && !many
                        && let Some(st) = statement
                    {
                        match ledger.already_logged(&st) {
                            Ok(Some(index)) => {
                                let _ = sub.reply.send(Err(duplicate(index, &reason)));
                            }
                            _ => repeated.push((sub.reply, st)),
                        }
                        continue;
                    }
                    let mut p = Problem::from(ServiceError::refused(
                        code.as_str(),
                        format!("refused: {reason}: nothing of this submission was written"),
                    ));
                    if many {
                        p.position = Some(at);
                    }
                    let _ = sub.reply.send(Err(p));
                }
                Err(e) => break Err(e),
            }
        };
        let healthy = match written {
            Ok(Some(batch)) => match ledger.end_write(true) {
                Ok(()) => {
                    acknowledge(alive, &batch);
                    true
                }
                Err(e) => {
                    fail_all(alive, e.into());
                    false
                }
            },
            Ok(None) => ledger.end_write(false).is_ok(),
            Err(e) => {
                let _ = ledger.end_write(false);
                let healthy = matches!(e, AppendError::Refused { .. });
                fail_all(alive, e.into());
                healthy
            }
        };
        for (reply, st) in repeated {
            let answer = match ledger.already_logged(&st) {
                Ok(Some(index)) => duplicate(index, "submitted twice at once"),
                _ => Problem::from(ServiceError::refused(
                    Code::Duplicate.as_str(),
                    "refused: the same statement was submitted twice at once, and neither was written",
                )),
            };
            let _ = reply.send(Err(answer));
        }
        for (sub, at, reason) in repeated_batches {
            let answer = duplicates(ledger, &sub.statements, at, &reason);
            let _ = sub.reply.send(Err(answer));
        }
        healthy
    }
}

/// The 409 of a batch refused as a duplicate (of statement `at`, for `reason`): every
/// statement of the batch in the log, with the index it has, so that the client can drop
/// them and post the rest. A batch none of whose statements is in the log repeats one of its
/// own (or of a batch refused beside it): refused at `at`.
fn duplicates(
    ledger: &Ledger<'_, AnyStore>,
    statements: &[Statement],
    at: usize,
    reason: &str,
) -> Problem {
    let mut found = Vec::new();
    for (position, st) in statements.iter().enumerate() {
        match ledger.already_logged(st) {
            Ok(Some(index)) => found.push(crate::problem::Duplicate { position, index }),
            Ok(None) => {}
            Err(e) => return Problem::from(ServiceError::from(e)),
        }
    }
    let detail = if found.is_empty() {
        format!("refused: {reason}: nothing of this submission was written")
    } else {
        format!(
            "{} of the batch's {} statements are already in the log (each in `duplicates`, with its index): nothing of this submission was written",
            found.len(),
            statements.len()
        )
    };
    let mut p = Problem::from(ServiceError::refused(Code::Duplicate.as_str(), detail));
    p.position = Some(at);
    p.index = found.iter().find(|d| d.position == at).map(|d| d.index);
    p.duplicates = found;
    p
}

/// The next group: the first submission waiting (blocking until one comes; `None` once every
/// sender is gone), and those waiting behind it, up to [`GROUP_MAX`] statements.
fn next_group(inbox: &mut mpsc::Receiver<Submission>) -> Option<Vec<Submission>> {
    let first = inbox.blocking_recv()?;
    let mut count = first.statements.len();
    let mut group = vec![first];
    while count < GROUP_MAX {
        match inbox.try_recv() {
            Ok(s) => {
                count += s.statements.len();
                group.push(s);
            }
            Err(_) => break,
        }
    }
    Some(group)
}

/// Answers every submission of `group` with `e`.
fn fail_all(group: Vec<Submission>, e: ServiceError) {
    let p = Problem::from(e);
    for s in group {
        let _ = s.reply.send(Err(p.clone()));
    }
}

/// The 409 of a statement already at `index`.
fn duplicate(index: u64, reason: &str) -> Problem {
    let mut p = Problem::from(ServiceError::refused(
        Code::Duplicate.as_str(),
        format!("already in the log at entry {index} ({reason}): nothing was written"),
    ));
    p.index = Some(index);
    p
}

/// The submission holding statement `position` of the group's input, and its place in it.
fn locate(alive: &[Submission], position: usize) -> Option<(usize, usize)> {
    let mut start = 0;
    for (k, s) in alive.iter().enumerate() {
        let end = start + s.statements.len();
        if position < end {
            return Some((k, position - start));
        }
        start = end;
    }
    None
}

/// Answers each submission with its entries in `batch`, in order.
fn acknowledge(alive: Vec<Submission>, batch: &compact_store::Batch) {
    let checkpoint = String::from_utf8_lossy(&batch.checkpoint).into_owned();
    let mut entries = batch.entries.iter().enumerate();
    for s in alive {
        let mine: Vec<Acknowledged> = entries
            .by_ref()
            .take(s.statements.len())
            .map(|(i, e)| Acknowledged {
                index: batch.first_index + i as u64,
                leaf_hash: compact_log::hex_hash(&e.leaf_hash),
                received: Statement::decode(&e.leaf)
                    .ok()
                    .and_then(|st| st.received)
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
            })
            .collect();
        let _ = s.reply.send(Ok(Acknowledgement {
            entries: mine,
            size: batch.size,
            checkpoint: checkpoint.clone(),
        }));
    }
}
