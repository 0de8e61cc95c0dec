//! `compact`: the Kyiv Security Compact as working software.
//!
//! This binary is thin: it parses the command line, reads files through `compact-files`, asks
//! `compact-model` for the answers and prints them. Exit codes: 0 success, 1 invalid input (or
//! any other failure), 2 usage error, 75 a transient failure (a busy store, the log growing
//! meanwhile, IO): nothing was refused, and the same command may be run again.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// mimalloc instead of the system allocator: decoding and checking statements allocates many
/// small values, and glibc's allocator spent a third of a status run coalescing free chunks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod activation;
mod bench;
mod bench_status;
mod client;
mod commands;
mod demo;
mod input;
mod ledger;
mod output;
mod reconcile;
mod serve;
mod status;
mod stress;
mod synthetic;

/// The Kyiv Security Compact as working software: agreements as files, checked, digested.
#[derive(Debug, Parser)]
#[command(
    name = "compact",
    version,
    about = "The Kyiv Security Compact as working software: agreements as files, checked and digested.",
    long_about = None
)]
#[command(
    after_help = "Exit codes: 0 success, 1 invalid input or failure, 2 usage error, 75 transient failure (the store stayed busy, IO): run the command again."
)]
struct Cli {
    /// Plain ASCII tables, without box drawing (the default when stdout is not a terminal).
    #[arg(long, global = true)]
    plain: bool,
    /// A compact server (`compact serve`) to talk to instead of the local store: `sign`,
    /// `submit`, `activate`, `threat` and `respond` sign here and post there; `log
    /// checkpoint|prove|consistency` fetch there and check here.
    #[arg(long, global = true, value_name = "URL", env = "COMPACT_SERVER")]
    server: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// Output format for commands that print data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Aligned text for people.
    #[default]
    Table,
    /// JSON for programs.
    Json,
}

/// Output format for commands whose output is rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
enum RowsFormat {
    /// Aligned text for people.
    #[default]
    Table,
    /// JSON for programs.
    Json,
    /// CSV for spreadsheets.
    Csv,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a compact directory and summarise it; every problem is reported as
    /// `path:line:col: error: message`.
    Check {
        /// The compact directory (same as --dir).
        #[arg(value_name = "DIR", conflicts_with = "dir")]
        path: Option<PathBuf>,
        /// The compact directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Output format of the summary.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Print the canonical digest (SHA-256 of the RFC 8785 form) of an agreement file.
    Digest {
        /// The agreement file.
        file: PathBuf,
        /// Print the canonical JSON instead of the digest.
        #[arg(long)]
        canonical: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show a part of the compact.
    Show {
        #[command(subcommand)]
        what: Show,
    },
    /// Make an Ed25519 key pair: the private key to DIR/keys/, the verifier key into the
    /// party's file (or compact.toml for the operator).
    Keygen {
        /// The party the key is for.
        #[arg(long, value_name = "CODE", conflicts_with = "operator")]
        party: Option<String>,
        /// A key for the log operator, which signs checkpoints.
        #[arg(long)]
        operator: bool,
        /// Only the party's root key (DIR/keys/CODE.root.key), which registers and revokes its
        /// signing keys; made anyway with a party's first signing key.
        #[arg(long, requires = "party")]
        root: bool,
        /// Write the private key here instead of DIR/keys/.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// When the new key may first sign (a date or RFC 3339 time; default: on registration).
        /// The party's earlier keys sign until then: a rotation never leaves it without a key.
        #[arg(long, value_name = "TIME")]
        valid_from: Option<String>,
        /// Derive the key from this seed instead of the system's randomness (tests, demos).
        #[arg(long, hide = true)]
        seed: Option<String>,
        /// The log operator's private key, which appends the registrations when the store
        /// exists (default: DIR/keys/operator.key).
        #[arg(long, value_name = "FILE")]
        operator_key: Option<PathBuf>,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Create the embedded store (SQLite) for the compact's log: its first entry pins the
    /// operator's key, then the keys of the parties in DIR/keys are registered.
    Init {
        /// The log operator's private key (default: DIR/keys/operator.key).
        #[arg(long, value_name = "FILE")]
        operator_key: Option<PathBuf>,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Sign an agreement: append `agreement.sign` for its current digest.
    Sign {
        /// The agreement's id.
        agreement: String,
        /// A version other than the latest.
        #[arg(long)]
        version: Option<u32>,
        /// The signing party's private key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The statement's time (default: now).
        #[arg(long)]
        time: Option<String>,
        /// The operator's private key (default: DIR/keys/operator.key).
        #[arg(long, value_name = "FILE")]
        operator_key: Option<PathBuf>,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Sign a statement (pledge, allocation, delivery.report, delivery.confirm, ...) and append it.
    Submit {
        /// The statement type.
        #[arg(long = "type", value_name = "TYPE")]
        kind: String,
        /// The payload as JSON, or @FILE.
        #[arg(long)]
        payload: String,
        /// The author's private key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The statement's time (default: now).
        #[arg(long)]
        time: Option<String>,
        /// Print the signed statement instead of appending it.
        #[arg(long)]
        print: bool,
        /// The operator's private key (default: DIR/keys/operator.key).
        #[arg(long, value_name = "FILE")]
        operator_key: Option<PathBuf>,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Declare an armed attack (the beneficiary): opens an activation that asks every
    /// guarantor with an agreement in force and a consultation clause to respond by its deadline.
    Activate {
        /// The beneficiary's private key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// When the attack began (RFC 3339, or a date for midnight UTC).
        #[arg(long, value_name = "DATETIME")]
        at: String,
        /// What happened.
        #[arg(long)]
        summary: String,
        /// The declaration's time, from which deadlines run (default: now).
        #[arg(long)]
        time: Option<String>,
        /// The operator's private key (default: DIR/keys/operator.key).
        #[arg(long, value_name = "FILE")]
        operator_key: Option<PathBuf>,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Set the threat level (the beneficiary): opens an activation for the consultation
    /// clauses that cover a threat at this level.
    Threat {
        /// The beneficiary's private key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The level, from 1 to the compact's `threat_levels`.
        #[arg(long)]
        level: u8,
        /// The statement's time (default: now).
        #[arg(long)]
        time: Option<String>,
        /// The operator's private key (default: DIR/keys/operator.key).
        #[arg(long, value_name = "FILE")]
        operator_key: Option<PathBuf>,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// A guarantor's signed response to an activation: the measures it commits.
    Respond {
        /// The activation (its log entry).
        activation: u64,
        /// The guarantor's private key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The measures: JSON (a list, or {"measures": [...]}) or TOML ([[measures]]), each
        /// with kind (accelerate, pledge or sanctions), description, and optionally commitment
        /// and amount.
        #[arg(long, value_name = "FILE")]
        measures: PathBuf,
        /// The response's time (default: now).
        #[arg(long)]
        time: Option<String>,
        /// The operator's private key (default: DIR/keys/operator.key).
        #[arg(long, value_name = "FILE")]
        operator_key: Option<PathBuf>,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// The activations, or one activation's timeline: who was asked, who answered, when,
    /// late or missing, and what now falls due.
    Activation {
        /// The activation (its log entry); all when absent.
        id: Option<u64>,
        /// The moment the timeline is for (default: now).
        #[arg(long, value_name = "DATETIME")]
        at: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Stress-test the guarantees: what-ifs (--without, --delay), Monte Carlo (--scenarios),
    /// single points of failure, and the rebalancing that would close each gap.
    Stress {
        /// Guarantors that withdraw, comma-separated (e.g. US,GB).
        #[arg(long, value_delimiter = ',', value_name = "PARTIES")]
        without: Vec<String>,
        /// The year they withdraw from (default: the first year).
        #[arg(long, value_name = "YEAR")]
        from_year: Option<i16>,
        /// Months every delivery slips.
        #[arg(long, value_name = "MONTHS")]
        delay: Option<u32>,
        /// Monte Carlo scenarios (at most 1,000,000).
        #[arg(long, value_name = "N")]
        scenarios: Option<u64>,
        /// The seed of the Monte Carlo run.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Limit the Monte Carlo run to the first Y years.
        #[arg(long, value_name = "Y")]
        years: Option<i16>,
        /// The risks file (default: DIR/stress.toml).
        #[arg(long, value_name = "FILE")]
        risks: Option<PathBuf>,
        /// Leave out the risks file's correlated shocks (several guarantors leaving
        /// together): withdrawals independent of one another.
        #[arg(long)]
        no_shocks: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: RowsFormat,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Append signed statements from a JSON-lines file, in batches (one transaction each).
    Import {
        /// One signed statement per line.
        file: PathBuf,
        /// Statements per transaction.
        #[arg(long, default_value_t = ledger::IMPORT_BATCH)]
        batch: usize,
        /// The operator's private key (default: DIR/keys/operator.key).
        #[arg(long, value_name = "FILE")]
        operator_key: Option<PathBuf>,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// List the agreements with their status from the log.
    Agreements {
        /// The date statuses are for (default: today).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        #[command(flatten)]
        place: PlaceArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// What was due, allocated, reported and confirmed, from the log, at a date.
    Status {
        /// The date (default: today); only statements made by then count.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Only the first N log entries (the figures of a published checkpoint).
        #[arg(long, value_name = "N")]
        at_size: Option<u64>,
        /// Rows by guarantor, pillar, year, group or commitment.
        #[arg(long, default_value = "guarantor")]
        by: String,
        #[command(flatten)]
        place: PlaceArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: RowsFormat,
    },
    /// Burden sharing as NATO computes it: the baseline split among the NATO allies by share
    /// of their GDP, beside the military aid each allocated and had confirmed in the year.
    Burden {
        /// The year.
        #[arg(long, default_value_t = 2025)]
        year: i16,
        /// The baseline (NATO's 2024 pledge: a minimum of EUR 40 bn a year).
        #[arg(long, default_value = "40e9 EUR")]
        baseline: String,
        /// Who shares the baseline: the NATO allies (NATO's formula) or every guarantor.
        #[arg(long, value_enum, default_value_t = BurdenBasis::Allies)]
        basis: BurdenBasis,
        /// What counts: military aid (NATO's pledge) or all aid.
        #[arg(long, value_enum, default_value_t = BurdenAid::Military)]
        aid: BurdenAid,
        #[command(flatten)]
        place: PlaceArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: RowsFormat,
    },
    /// Compare the log with an independent tracker.
    Reconcile {
        #[command(subcommand)]
        with: Reconcile,
    },
    /// The schedule lines and the log entries behind one commitment's figures.
    Explain {
        /// The commitment's id.
        commitment: String,
        /// The date (default: today).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        #[command(flatten)]
        place: PlaceArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The transparency log: checkpoints, entries, proofs.
    Log {
        #[command(subcommand)]
        what: Log,
    },
    /// Audit the whole store offline: signatures, payloads, tree, checkpoints, forks.
    Verify {
        /// Checkpoints seen elsewhere (by witnesses) to check against this log.
        #[arg(long, value_name = "FILE")]
        checkpoint: Vec<PathBuf>,
        /// The operator's verifier key as published (or a file holding it): the log's own
        /// key (entry 0) must be this one. Default: compact.toml's `[log] operator_key`.
        #[arg(long, value_name = "KEY")]
        operator_key: Option<String>,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Serve the compact over HTTP: the read API, signed writes (POST /v1/statements) and the
    /// log as C2SP tlog-tiles. Binds loopback unless told otherwise; stops on Ctrl-C or
    /// SIGTERM after the requests in flight.
    Serve {
        /// The address to listen on (port 0 picks a free one).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// The operator's private key (default: DIR/keys/operator.key).
        #[arg(long, value_name = "FILE")]
        operator_key: Option<PathBuf>,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Benchmarks of the log (see docs/PERFORMANCE.md).
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
    /// Build a complete compact from the shipped data set in DIR (a temporary directory by
    /// default): keys, every agreement signed, a seeded synthetic history, the audit, and the
    /// headline tables.
    Demo {
        /// Where to build it (must not exist or be empty).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The seed of the synthetic history and the keys.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Do not serve the dashboard (there is none yet: accepted for scripts).
        #[arg(long)]
        no_serve: bool,
    },
}

/// Where the compact and its store are.
#[derive(Debug, clap::Args)]
struct PlaceArgs {
    /// The compact directory.
    #[arg(long, value_name = "DIR", default_value = ".")]
    dir: PathBuf,
    /// The store (default: DIR/compact.sqlite).
    #[arg(long, value_name = "PATH")]
    database: Option<PathBuf>,
}

impl PlaceArgs {
    fn place(&self) -> ledger::Place {
        ledger::Place {
            dir: self.dir.clone(),
            database: self.database.clone(),
            busy_timeout: None,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// B1: append N signed statements to a new store in DIR (which must not exist).
    Ingest {
        /// Where to build the compact and its store.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Statements to append.
        #[arg(long, default_value_t = 100_000)]
        n: u64,
        /// Statements per transaction.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
    },
    /// B2: audit the store that `bench ingest` built in DIR.
    Verify {
        /// The directory `bench ingest` built.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// B3: proof latency on a tree of N leaves (built in DIR on first use).
    Proofs {
        /// Where to keep the tree.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Leaves.
        #[arg(long, default_value_t = 10_000_000)]
        n: u64,
        /// Proofs of each kind to time.
        #[arg(long, default_value_t = 10_000)]
        samples: usize,
    },
    /// B4: the status report over N deliveries, 40 guarantors and 10 pillars, in a new DIR;
    /// writes the same data as CSV for `bench/b4_duckdb.py`.
    Status {
        /// Where to build the benchmark compact (must not exist).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Deliveries.
        #[arg(long, default_value_t = 1_000_000)]
        n: u64,
        /// The seed of the synthetic deliveries.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// B5: the Monte Carlo on 40 guarantors x 20 years; writes the same input for
    /// `bench/b5_numpy.py`.
    Stress {
        /// Scenarios.
        #[arg(long, default_value_t = 100_000)]
        scenarios: u64,
        /// The seed.
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        /// Where to write the input of the numpy reference.
        #[arg(long, value_name = "FILE", default_value = "b5-input.json")]
        input: PathBuf,
    },
}

/// Who shares a burden-sharing baseline.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum BurdenBasis {
    /// The NATO allies among the guarantors (NATO's formula).
    Allies,
    /// Every guarantor.
    Guarantors,
}

/// What counts as a contribution in burden sharing.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum BurdenAid {
    /// Military aid (NATO's pledge).
    Military,
    /// Military, financial and humanitarian aid.
    All,
}

#[derive(Debug, Subcommand)]
enum Reconcile {
    /// The Kiel Institute's Ukraine Support Tracker: its country-month CSV (data_explorer.csv),
    /// or without FILE the yearly figures the compact carries (tracker/kiel-release29.toml).
    Kiel {
        /// The tracker's CSV (default: the compact's tracker/kiel-release29.toml, or the data
        /// set's own).
        file: Option<PathBuf>,
        /// The first year compared (default: the first year of the log's allocations).
        #[arg(long, value_name = "YEAR")]
        from: Option<i16>,
        /// The last year compared (default: the tracker's last).
        #[arg(long, value_name = "YEAR")]
        to: Option<i16>,
        #[command(flatten)]
        place: PlaceArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: RowsFormat,
    },
}

#[derive(Debug, Subcommand)]
enum Log {
    /// Print the latest signed checkpoint (a C2SP signed note).
    Checkpoint {
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Print the log operator's verifier key.
    PublicKey {
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Print entry N: `{"index", "leaf" (base64 of the exact bytes), "statement"}`.
    Entry {
        /// The entry's index, from 0.
        index: u64,
        #[command(flatten)]
        place: PlaceArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Prove that entry N is in the tree (of the latest size, or --size).
    Prove {
        /// The entry's index.
        index: u64,
        /// The tree size (default: the latest checkpoint's).
        #[arg(long)]
        size: Option<u64>,
        #[command(flatten)]
        place: PlaceArgs,
        /// Output format (JSON only).
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Prove that the tree of size A is a prefix of the tree of size B.
    Consistency {
        /// The older size.
        old: u64,
        /// The newer size.
        new: u64,
        #[command(flatten)]
        place: PlaceArgs,
        /// Output format (JSON only).
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Check an inclusion proof against a checkpoint and the operator's key, without the store.
    VerifyInclusion {
        /// The proof (output of `log prove`), or - for stdin.
        #[arg(long)]
        proof: PathBuf,
        /// The signed checkpoint.
        #[arg(long)]
        checkpoint: PathBuf,
        /// The operator's verifier key, or a file holding it.
        #[arg(long)]
        key: String,
        /// The log's origin (default: the key's name).
        #[arg(long)]
        origin: Option<String>,
    },
    /// Check a consistency proof against a checkpoint (and the older one), without the store.
    VerifyConsistency {
        /// The proof (output of `log consistency`), or - for stdin.
        #[arg(long)]
        proof: PathBuf,
        /// The newer signed checkpoint.
        #[arg(long)]
        checkpoint: PathBuf,
        /// The older signed checkpoint, if at hand.
        #[arg(long)]
        old_checkpoint: Option<PathBuf>,
        /// The operator's verifier key, or a file holding it.
        #[arg(long)]
        key: String,
        /// The log's origin (default: the key's name).
        #[arg(long)]
        origin: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum Show {
    /// One agreement as parsed: its terms, clauses and commitments.
    Agreement {
        /// The agreement's id.
        id: String,
        /// A version other than the latest.
        #[arg(long)]
        version: Option<u32>,
        /// The compact directory.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// The exit code of a transient failure (`EX_TEMPFAIL` of sysexits.h).
const EXIT_TRANSIENT: u8 = 75;

fn main() -> ExitCode {
    let cli = Cli::parse();
    output::set_plain(cli.plain);
    client::set_server(cli.server);
    let result = match cli.command {
        Command::Check { path, dir, format } => {
            let dir = path.or(dir).unwrap_or_else(|| PathBuf::from("."));
            commands::check(&dir, format)
        }
        Command::Digest {
            file,
            canonical,
            format,
        } => commands::digest(&file, canonical, format),
        Command::Show {
            what:
                Show::Agreement {
                    id,
                    version,
                    dir,
                    format,
                },
        } => commands::show_agreement(&dir, &id, version, format),
        Command::Demo {
            dir,
            seed,
            no_serve: _,
        } => demo::demo(dir.as_deref(), seed),
        Command::Keygen {
            party,
            operator,
            root,
            out,
            valid_from,
            seed,
            operator_key,
            place,
        } => ledger::keygen(
            &place.place(),
            party.as_deref(),
            operator,
            root,
            out.as_deref(),
            valid_from.as_deref(),
            seed.as_deref(),
            operator_key.as_deref(),
        ),
        Command::Init {
            operator_key,
            place,
        } => ledger::init(&place.place(), operator_key.as_deref()),
        Command::Sign {
            agreement,
            version,
            key,
            time,
            operator_key,
            place,
        } => ledger::sign(
            &place.place(),
            &agreement,
            version,
            &key,
            time.as_deref(),
            operator_key.as_deref(),
        ),
        Command::Submit {
            kind,
            payload,
            key,
            time,
            print,
            operator_key,
            place,
        } => ledger::submit(
            &place.place(),
            &key,
            &kind,
            &payload,
            time.as_deref(),
            print,
            operator_key.as_deref(),
        ),
        Command::Activate {
            key,
            at,
            summary,
            time,
            operator_key,
            place,
        } => activation::activate(
            &place.place(),
            &key,
            &at,
            &summary,
            time.as_deref(),
            operator_key.as_deref(),
        ),
        Command::Threat {
            key,
            level,
            time,
            operator_key,
            place,
        } => activation::threat(
            &place.place(),
            &key,
            level,
            time.as_deref(),
            operator_key.as_deref(),
        ),
        Command::Respond {
            activation: id,
            key,
            measures,
            time,
            operator_key,
            place,
        } => activation::respond(
            &place.place(),
            id,
            &key,
            &measures,
            time.as_deref(),
            operator_key.as_deref(),
        ),
        Command::Activation {
            id,
            at,
            format,
            place,
        } => activation::show(&place.place(), id, at.as_deref(), format),
        Command::Stress {
            without,
            from_year,
            delay,
            scenarios,
            seed,
            years,
            risks,
            no_shocks,
            format,
            place,
        } => {
            let place = place.place();
            ledger::PlaceExt::compact(&place).and_then(|compact| {
                stress::stress(
                    &place.dir,
                    &compact,
                    &stress::Ask {
                        without,
                        from_year,
                        delay,
                        scenarios,
                        seed,
                        years,
                        risks,
                        no_shocks,
                    },
                    format,
                )
            })
        }
        Command::Import {
            file,
            batch,
            operator_key,
            place,
        } => ledger::import(&place.place(), &file, batch, operator_key.as_deref()),
        Command::Agreements {
            as_of,
            place,
            format,
        } => ledger::agreements(&place.place(), as_of.as_deref(), format),
        Command::Log { what } => match what {
            Log::Checkpoint { place } => ledger::log_checkpoint(&place.place()),
            Log::PublicKey { place } => ledger::log_public_key(&place.place()),
            Log::Entry {
                index,
                place,
                format,
            } => ledger::log_entry(&place.place(), index, format),
            Log::Prove {
                index,
                size,
                place,
                format: _,
            } => ledger::log_prove(&place.place(), index, size),
            Log::Consistency {
                old,
                new,
                place,
                format: _,
            } => ledger::log_consistency(&place.place(), old, new),
            Log::VerifyInclusion {
                proof,
                checkpoint,
                key,
                origin,
            } => ledger::verify_inclusion_cmd(&proof, &checkpoint, &key, origin.as_deref()),
            Log::VerifyConsistency {
                proof,
                checkpoint,
                old_checkpoint,
                key,
                origin,
            } => ledger::verify_consistency_cmd(
                &proof,
                &checkpoint,
                old_checkpoint.as_deref(),
                &key,
                origin.as_deref(),
            ),
        },
        Command::Verify {
            checkpoint,
            operator_key,
            place,
        } => ledger::verify(&place.place(), &checkpoint, operator_key.as_deref()),
        Command::Status {
            as_of,
            at_size,
            by,
            place,
            format,
        } => status::status(&place.place(), as_of.as_deref(), at_size, &by, format),
        Command::Burden {
            year,
            baseline,
            basis,
            aid,
            place,
            format,
        } => status::burden(
            &place.place(),
            year,
            &baseline,
            match basis {
                BurdenBasis::Allies => compact_engine::burden::Basis::NatoAllies,
                BurdenBasis::Guarantors => compact_engine::burden::Basis::AllGuarantors,
            },
            match aid {
                BurdenAid::Military => compact_engine::burden::Aid::Military,
                BurdenAid::All => compact_engine::burden::Aid::All,
            },
            format,
        ),
        Command::Reconcile {
            with:
                Reconcile::Kiel {
                    file,
                    from,
                    to,
                    place,
                    format,
                },
        } => reconcile::kiel(&place.place(), file.as_deref(), from, to, format),
        Command::Explain {
            commitment,
            as_of,
            place,
            format,
        } => status::explain(&place.place(), &commitment, as_of.as_deref(), format),
        Command::Serve {
            listen,
            operator_key,
            place,
        } => serve::serve(&place.place(), listen, operator_key),
        Command::Bench { what } => match what {
            Bench::Ingest { dir, n, batch } => bench::ingest(&dir, n, batch),
            Bench::Verify { dir } => bench::verify(&dir),
            Bench::Proofs { dir, n, samples } => bench::proofs(&dir, n, samples),
            Bench::Status { dir, n, seed } => bench_status::status(&dir, n, seed),
            Bench::Stress {
                scenarios,
                seed,
                input,
            } => stress::bench(scenarios, seed, &input),
        },
    };
    match result {
        Ok(code) => code,
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            // The reader went away (`compact ... | head`): not an error of ours.
            ExitCode::SUCCESS
        }
        Err(e) if ledger::is_transient(&e) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: {e:#}\nerror: a transient failure, not a refusal: run the command again (exit {EXIT_TRANSIENT})"
            );
            ExitCode::from(EXIT_TRANSIENT)
        }
        Err(e) => {
            // A refusal by a rule names the rule's stable code, as the HTTP API does.
            let code = e.chain().find_map(|c| {
                c.downcast_ref::<compact_service::ServiceError>()
                    .and_then(compact_service::ServiceError::refusal_code)
            });
            let _ = match code {
                Some(code) => writeln!(std::io::stderr(), "error[{code}]: {e:#}"),
                None => writeln!(std::io::stderr(), "error: {e:#}"),
            };
            ExitCode::from(1)
        }
    }
}
