//! `compact`: the Kyiv Security Compact as working software.
//!
//! This binary is thin: it parses the command line into one argument struct per command
//! (dates, times, years and `--by` into typed values, so that a bad value is a usage error
//! naming the accepted forms), asks `compact-service` for the answers (API v1 types) and renders
//! them as tables, CSV or JSON. Exit codes: 0 success, 1 invalid input (or any other failure),
//! 2 usage error, 75 a transient failure (a busy store, the log growing meanwhile, IO): nothing
//! was refused, and the same command may be run again.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// mimalloc instead of the system allocator: decoding and checking statements allocates many
/// small values, and glibc's allocator spent a third of a status run coalescing free chunks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod activation;
mod browse;
mod bundle;
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
mod witness;

/// The version `--version` prints: the package's, and the commit it was built from
/// (`build.rs`; `unknown` outside a git checkout).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("COMPACT_COMMIT"),
    ")"
);

/// The Kyiv Security Compact as working software: agreements as files, checked, digested.
#[derive(Debug, Parser)]
#[command(
    name = "compact",
    version = VERSION,
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
    /// `submit`, `retract`, `activate`, `threat` and `respond` sign here and post there; `log
    /// checkpoint|prove|consistency` and `verify` fetch there and check here; `log list` lists
    /// the server's entries.
    #[arg(long, global = true, value_name = "URL", env = "COMPACT_SERVER")]
    server: Option<String>,
    /// Where the largest checkpoint accepted of each log is remembered (default:
    /// $XDG_STATE_HOME/compact, else ~/.local/state/compact): a smaller or inconsistent one
    /// shown later is refused.
    #[arg(long, global = true, value_name = "DIR", env = "COMPACT_STATE_DIR")]
    state: Option<PathBuf>,
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
    Check(CheckArgs),
    /// Print the canonical digest (SHA-256 of the RFC 8785 form) of an agreement file.
    Digest(DigestArgs),
    /// Show a part of the compact.
    Show {
        #[command(subcommand)]
        what: Show,
    },
    /// Make an Ed25519 key pair: the private key to DIR/keys/, the verifier key into the
    /// party's file (or compact.toml for the operator).
    Keygen(KeygenArgs),
    /// Create the store for the compact's log (SQLite, or PostgreSQL with --database URL or
    /// [store] url): its first entry pins the operator's key, then the keys of the parties in
    /// DIR/keys are registered.
    Init(InitArgs),
    /// Sign an agreement: append `agreement.sign` for its current digest.
    Sign(SignArgs),
    /// Sign a statement (pledge, allocation, delivery.report, delivery.confirm, ...) and append it.
    #[command(
        after_help = "The payload of each type, field by field, with an example: `compact schema TYPE` (or `compact submit --type TYPE --help`); the list of types: `compact schema`."
    )]
    Submit(SubmitArgs),
    /// The payload of each statement type: its fields, required or optional, what they mean,
    /// and an example that `submit` takes as it is. Without TYPE, the types, one line each.
    Schema(SchemaArgs),
    /// Retract one of your own statements, with a reason: the log keeps both, and every
    /// report counts the entry no more from the retraction. To correct a statement, retract
    /// it, then submit the corrected one.
    Retract(RetractArgs),
    /// Declare an armed attack (the beneficiary): opens an activation that asks every
    /// guarantor with an agreement in force and a consultation clause to respond by its deadline.
    Activate(ActivateArgs),
    /// Set the threat level (the beneficiary): opens an activation for the consultation
    /// clauses that cover a threat at this level.
    Threat(ThreatArgs),
    /// A guarantor's signed response to an activation: the measures it commits.
    Respond(RespondArgs),
    /// The activations, or one activation's timeline: who was asked, who answered, when,
    /// late or missing, and what now falls due.
    Activation(ActivationArgs),
    /// Stress-test the guarantees: what-ifs (--without, --delay), Monte Carlo (--scenarios),
    /// single points of failure, and the rebalancing that would close each gap.
    Stress(StressArgs),
    /// Append signed statements from a JSON-lines file, in batches (one transaction each).
    Import(ImportArgs),
    /// List the agreements with their status from the log.
    Agreements(AgreementsArgs),
    /// What was due, allocated, reported and confirmed, from the log, at a date.
    Status(StatusArgs),
    /// Burden sharing as NATO computes it: the baseline split among the NATO allies by share
    /// of their GDP, beside the military aid each allocated and had confirmed in the year.
    Burden(BurdenArgs),
    /// Compare the log with an independent tracker.
    Reconcile {
        #[command(subcommand)]
        with: Reconcile,
    },
    /// The schedule lines and the log entries behind one commitment's figures.
    Explain(ExplainArgs),
    /// A witness of transparency logs (C2SP tlog-witness): cosigns each checkpoint
    /// consistent with the last it cosigned.
    Witness {
        #[command(subcommand)]
        what: WitnessCommand,
    },
    /// The transparency log: checkpoints, entries, proofs.
    Log {
        #[command(subcommand)]
        what: Log,
    },
    /// The store itself: copy the log to another store (SQLite ↔ PostgreSQL).
    Store {
        #[command(subcommand)]
        what: StoreCommand,
    },
    /// Audit the whole store offline: signatures, payloads, tree, checkpoints, forks.
    Verify(VerifyArgs),
    /// Serve the compact over HTTP: the read API, signed writes (POST /v1/statements) and the
    /// log as C2SP tlog-tiles. Binds loopback unless told otherwise; stops on Ctrl-C or
    /// SIGTERM after the requests in flight.
    Serve(ServeArgs),
    /// Benchmarks of the log (see docs/PERFORMANCE.md).
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
    /// Build a complete compact from the shipped data set in DIR (a temporary directory by
    /// default): keys, every agreement signed, a seeded synthetic history, the audit, and the
    /// headline tables.
    Demo(DemoArgs),
    /// Print a completion script for a shell: `compact completions bash >
    /// ~/.local/share/bash-completion/completions/compact`, `compact completions zsh >
    /// ~/.zfunc/_compact`, `compact completions fish > ~/.config/fish/completions/compact.fish`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on stdout, or with --out-dir write one page per command:
    /// `compact man | man -l -`.
    Man(ManArgs),
}

/// `compact schema`.
#[derive(Debug, clap::Args)]
struct SchemaArgs {
    /// The statement type (`delivery.report`, …); all of them, one line each, when absent.
    #[arg(value_name = "TYPE", value_parser = browse::kind_arg)]
    kind: Option<compact_statement::Kind>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// `compact completions`.
#[derive(Debug, clap::Args)]
struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// `compact man`.
#[derive(Debug, clap::Args)]
struct ManArgs {
    /// Write compact.1 and a page per command (compact-status.1, …) into this directory
    /// instead of printing compact.1.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

/// A date on the command line (`--as-of`): `YYYY-MM-DD`, else a usage error naming the form
/// (`compact_service::parse::date`).
fn date_arg(s: &str) -> Result<jiff::civil::Date, String> {
    compact_service::parse::date(s).map_err(|e| e.to_string())
}

/// A time on the command line (`--time`, `--at`, `--valid-from`): a date or RFC 3339, else a
/// usage error naming the forms (`compact_service::parse::time`).
fn time_arg(s: &str) -> Result<jiff::Timestamp, String> {
    compact_service::parse::time(s).map_err(|e| e.to_string())
}

/// A year on the command line (`--year`, `--from-year`, `--from`, `--to`): four digits, else a
/// usage error naming the form (`compact_service::parse::year`).
fn year_arg(s: &str) -> Result<i16, String> {
    compact_service::parse::year(s).map_err(|e| e.to_string())
}

/// A party code on the command line: trimmed (the compact's own case is found later).
fn party_arg(s: &str) -> Result<String, String> {
    let code = s.trim();
    if code.is_empty() {
        return Err("expected a party code such as US or GB".to_owned());
    }
    Ok(code.to_owned())
}

/// `compact check`.
#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The compact directory (same as --dir).
    #[arg(value_name = "DIR", conflicts_with = "dir")]
    path: Option<PathBuf>,
    /// The compact directory.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// `compact digest`.
#[derive(Debug, clap::Args)]
struct DigestArgs {
    /// The agreement file.
    file: PathBuf,
    /// Print the canonical JSON instead of the digest.
    #[arg(long)]
    canonical: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// `compact keygen`.
#[derive(Debug, clap::Args)]
struct KeygenArgs {
    /// The party the key is for.
    #[arg(long, value_name = "CODE", conflicts_with = "operator", value_parser = party_arg)]
    party: Option<String>,
    /// A witness's cosigner key (C2SP tlog-cosignature), named NAME (a schema-less URL such
    /// as witness.example.org/w1): written to DIR/keys/witness-NAME.key, its verifier key
    /// printed.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["party", "operator", "root", "valid_from", "operator_key"])]
    witness: Option<String>,
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
    #[arg(long, value_name = "TIME", value_parser = time_arg)]
    valid_from: Option<jiff::Timestamp>,
    /// Derive the key from this seed instead of the system's randomness (tests, demos).
    #[arg(long, hide = true)]
    seed: Option<String>,
    /// The log operator's private key, which appends the registrations when the store
    /// exists (default: DIR/keys/operator.key).
    #[arg(long, value_name = "FILE")]
    operator_key: Option<PathBuf>,
    #[command(flatten)]
    place: PlaceArgs,
}

/// `compact init`.
#[derive(Debug, clap::Args)]
struct InitArgs {
    /// The log operator's private key (default: DIR/keys/operator.key).
    #[arg(long, value_name = "FILE")]
    operator_key: Option<PathBuf>,
    #[command(flatten)]
    place: PlaceArgs,
}

/// The statement's time and the operator's key, for the commands that append.
#[derive(Debug, clap::Args)]
struct AppendArgs {
    /// The statement's time: a date (midnight UTC) or an RFC 3339 time (default: now).
    #[arg(long, value_name = "TIME", value_parser = time_arg)]
    time: Option<jiff::Timestamp>,
    /// The operator's private key (default: DIR/keys/operator.key).
    #[arg(long, value_name = "FILE")]
    operator_key: Option<PathBuf>,
    #[command(flatten)]
    place: PlaceArgs,
}

/// `compact sign`.
#[derive(Debug, clap::Args)]
struct SignArgs {
    /// The agreement's id.
    agreement: String,
    /// A version other than the latest.
    #[arg(long)]
    version: Option<u32>,
    /// The signing party's private key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    #[command(flatten)]
    append: AppendArgs,
}

/// `compact submit`.
#[derive(Debug, clap::Args)]
struct SubmitArgs {
    /// The statement type: `compact schema` lists them, and `compact schema TYPE` (or
    /// `compact submit --type TYPE --help`) prints its payload's fields with an example.
    #[arg(long = "type", value_name = "TYPE")]
    kind: String,
    /// The payload as JSON, or @FILE.
    #[arg(long)]
    payload: String,
    /// The author's private key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Print the signed statement instead of appending it.
    #[arg(long)]
    print: bool,
    #[command(flatten)]
    append: AppendArgs,
}

/// `compact retract`.
#[derive(Debug, clap::Args)]
struct RetractArgs {
    /// The log entry retracted: one of the author's own pledges, allocations, delivery
    /// reports or confirmations, activations (attack.declare, threat.level) or answers.
    entry: u64,
    /// Why (what was wrong), shown beside the entry in every report.
    #[arg(long)]
    reason: String,
    /// The author's private key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    #[command(flatten)]
    append: AppendArgs,
}

/// `compact activate`.
#[derive(Debug, clap::Args)]
struct ActivateArgs {
    /// The beneficiary's private key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// When the attack began (RFC 3339, or a date for midnight UTC).
    #[arg(long, value_name = "DATETIME", value_parser = time_arg)]
    at: jiff::Timestamp,
    /// What happened.
    #[arg(long)]
    summary: String,
    #[command(flatten)]
    append: AppendArgs,
}

/// `compact threat`.
#[derive(Debug, clap::Args)]
struct ThreatArgs {
    /// The beneficiary's private key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The level, from 1 to the compact's `threat_levels`.
    #[arg(long)]
    level: u8,
    #[command(flatten)]
    append: AppendArgs,
}

/// `compact respond`.
#[derive(Debug, clap::Args)]
struct RespondArgs {
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
    #[command(flatten)]
    append: AppendArgs,
}

/// `compact activation`.
#[derive(Debug, clap::Args)]
struct ActivationArgs {
    /// The activation (its log entry); all when absent.
    id: Option<u64>,
    /// The moment the timeline is for: a date or an RFC 3339 time (default: now).
    #[arg(long, value_name = "DATETIME", value_parser = time_arg)]
    at: Option<jiff::Timestamp>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    #[command(flatten)]
    place: PlaceArgs,
}

/// `compact stress`.
#[derive(Debug, clap::Args)]
struct StressArgs {
    /// Guarantors that withdraw, comma-separated (e.g. US,GB; any case).
    #[arg(long, value_delimiter = ',', value_name = "PARTIES", value_parser = party_arg)]
    without: Vec<String>,
    /// The year they withdraw from (default: the first year).
    #[arg(long, value_name = "YEAR", value_parser = year_arg)]
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
}

/// `compact import`.
#[derive(Debug, clap::Args)]
struct ImportArgs {
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
}

/// `compact agreements`.
#[derive(Debug, clap::Args)]
struct AgreementsArgs {
    /// The date statuses are for, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    as_of: Option<jiff::civil::Date>,
    #[command(flatten)]
    place: PlaceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// What the rows of `compact status` are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ByArg {
    /// One row per guarantor.
    Guarantor,
    /// One row per pillar.
    Pillar,
    /// One row per year.
    Year,
    /// One row per group of guarantors.
    Group,
    /// One row per commitment.
    Commitment,
}

impl ByArg {
    /// The engine's grouping.
    fn by(self) -> compact_engine::report::By {
        use compact_engine::report::By;
        match self {
            ByArg::Guarantor => By::Guarantor,
            ByArg::Pillar => By::Pillar,
            ByArg::Year => By::Year,
            ByArg::Group => By::Group,
            ByArg::Commitment => By::Commitment,
        }
    }

    /// The name, for the key column's header.
    fn name(self) -> &'static str {
        match self {
            ByArg::Guarantor => "guarantor",
            ByArg::Pillar => "pillar",
            ByArg::Year => "year",
            ByArg::Group => "group",
            ByArg::Commitment => "commitment",
        }
    }
}

/// `compact status`.
#[derive(Debug, clap::Args)]
struct StatusArgs {
    /// The date, YYYY-MM-DD (default: today); only statements made by then count.
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    as_of: Option<jiff::civil::Date>,
    /// Only the first N log entries (the figures of a published checkpoint).
    #[arg(long, value_name = "N")]
    at_size: Option<u64>,
    /// Rows by guarantor, pillar, year, group or commitment.
    #[arg(long, value_enum, default_value_t = ByArg::Guarantor)]
    by: ByArg,
    #[command(flatten)]
    place: PlaceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: RowsFormat,
}

/// `compact burden`.
#[derive(Debug, clap::Args)]
struct BurdenArgs {
    /// The year.
    #[arg(long, default_value_t = 2025, value_parser = year_arg)]
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
}

/// `compact explain`.
#[derive(Debug, clap::Args)]
struct ExplainArgs {
    /// The commitment's id.
    commitment: String,
    /// The date, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    as_of: Option<jiff::civil::Date>,
    #[command(flatten)]
    place: PlaceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// `compact verify`.
#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// Checkpoints seen elsewhere (by witnesses) to check against this log.
    #[arg(long, value_name = "FILE")]
    checkpoint: Vec<PathBuf>,
    /// The operator's verifier key as published (or a file holding it): the log's own
    /// key (entry 0) must be this one. Default: compact.toml's `[log] operator_key`.
    #[arg(long, value_name = "KEY")]
    operator_key: Option<String>,
    #[command(flatten)]
    place: PlaceArgs,
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Copy the log (entries, hashes, signed checkpoints, cosignatures, the projection) into a
    /// new store: an SQLite file or an empty PostgreSQL database. The copy is proved by a
    /// full audit and the source's root.
    Copy(StoreCopyArgs),
}

/// `compact store copy`.
#[derive(Debug, clap::Args)]
struct StoreCopyArgs {
    /// The new store: a file that does not exist, or a `postgres://` URL of a database that
    /// holds no store (its password from COMPACT_DATABASE_PASSWORD when the URL has none).
    #[arg(long, value_name = "FILE|URL")]
    to: String,
    #[command(flatten)]
    place: PlaceArgs,
}

/// `compact serve`.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The address to listen on (port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// The operator's private key (default: DIR/keys/operator.key).
    #[arg(long, value_name = "FILE")]
    operator_key: Option<PathBuf>,
    #[command(flatten)]
    place: PlaceArgs,
}

/// `compact demo`.
#[derive(Debug, clap::Args)]
struct DemoArgs {
    /// Where to build it (must not exist or be empty).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The seed of the synthetic history and the keys.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Do not serve the dashboard afterwards (it is served only when stdout is a terminal,
    /// until Ctrl-C).
    #[arg(long)]
    no_serve: bool,
    /// The store: DIR/compact.sqlite by default; an SQLite file, or an empty PostgreSQL
    /// database as a `postgres://` URL, which compact.toml then names (without a password:
    /// later commands read it from COMPACT_DATABASE_PASSWORD).
    #[arg(long, value_name = "PATH|URL")]
    database: Option<String>,
}

/// Where the compact and its store are.
#[derive(Debug, clap::Args)]
struct PlaceArgs {
    /// The compact directory.
    #[arg(long, value_name = "DIR", default_value = ".")]
    dir: PathBuf,
    /// The store: an SQLite file, or a PostgreSQL database as a `postgres://` URL (default:
    /// compact.toml's `[store] url`, else DIR/compact.sqlite). The password, if any, is read
    /// from COMPACT_DATABASE_PASSWORD when the URL has none.
    #[arg(long, value_name = "PATH|URL", env = "COMPACT_DATABASE_URL")]
    database: Option<String>,
}

impl PlaceArgs {
    fn place(&self) -> ledger::Place {
        ledger::place_of(&self.dir, self.database.as_deref())
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
        /// Also into a new store in this (empty) PostgreSQL database, after SQLite in DIR,
        /// both rates in one run.
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
    },
    /// B6 writes: the compact of `bench ingest` in DIR (which must not exist), and N
    /// statements signed by GB, one per line, in DIR/statements.jsonl, for a load tool to
    /// post to `compact serve`.
    Statements {
        /// Where to build the compact and its store.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Statements to sign.
        #[arg(long, default_value_t = 200_000)]
        n: u64,
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
        /// Build and time the tree in this (empty, or holding this bench's tree) PostgreSQL
        /// database instead of DIR (a Unix socket: `postgresql://USER@%2Fpath%2Fto%2Fsock:PORT/DB`).
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
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
    /// B4 end to end: the same compact with its log (the deliveries signed, checked and
    /// appended through the ledger) in a store in a new DIR, for timing `compact status`.
    StatusStore {
        /// Where to build the benchmark compact and its store (must not exist).
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
    Kiel(KielArgs),
}

/// `compact reconcile kiel`.
#[derive(Debug, clap::Args)]
struct KielArgs {
    /// The tracker's CSV (default: the compact's tracker/kiel-release29.toml, or the data
    /// set's own).
    file: Option<PathBuf>,
    /// The first year compared (default: the first year of the log's allocations).
    #[arg(long, value_name = "YEAR", value_parser = year_arg)]
    from: Option<i16>,
    /// The last year compared (default: the tracker's last).
    #[arg(long, value_name = "YEAR", value_parser = year_arg)]
    to: Option<i16>,
    #[command(flatten)]
    place: PlaceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: RowsFormat,
}

#[derive(Debug, Subcommand)]
enum WitnessCommand {
    /// Serve `POST /add-checkpoint` for the logs named, until Ctrl-C or SIGTERM.
    Serve(WitnessServeArgs),
}

/// `compact witness serve`.
#[derive(Debug, clap::Args)]
struct WitnessServeArgs {
    /// The witness's private key (`compact keygen --witness NAME`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// A log to witness: its origin and a verifier key it trusts for it (repeat for more
    /// logs or keys).
    #[arg(long = "log", value_name = "ORIGIN=KEY", required = true, value_parser = witness::log_arg)]
    logs: Vec<(String, String)>,
    /// The SQLite file that keeps the checkpoint cosigned last per log.
    #[arg(long, value_name = "FILE", default_value_os_t = witness::default_state())]
    state: PathBuf,
    /// The address to listen on (port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
    listen: std::net::SocketAddr,
}

/// `compact log bundle`.
#[derive(Debug, clap::Args)]
struct BundleArgs {
    /// The entry's index.
    index: u64,
    /// Write the bundle here instead of printing it.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    place: PlaceArgs,
}

/// `compact log verify-bundle`.
#[derive(Debug, clap::Args)]
struct VerifyBundleArgs {
    /// The bundle (`compact log bundle N --out FILE`).
    file: PathBuf,
    /// The log's verifier key (the operator's), or a file holding it.
    #[arg(long, value_name = "KEY")]
    log_key: String,
    /// A witness's verifier key, or a file holding it (repeat for more).
    #[arg(long = "witness", value_name = "KEY")]
    witnesses: Vec<String>,
    /// How many of the witnesses must have cosigned (default: all given).
    #[arg(long, value_name = "N")]
    quorum: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum Log {
    /// Browse the log like `git log`: entry, receipt time, author, type and what it says, newest
    /// first (--reverse: oldest first), filtered by author, type and receipt date.
    List(ListArgs),
    /// Write a proof bundle of entry N: the entry, its inclusion proof, the checkpoint with
    /// its witnesses' cosignatures, and the key registrations its signature depends on.
    Bundle(BundleArgs),
    /// Verify a proof bundle offline, with the log's key and the witnesses' keys.
    VerifyBundle(VerifyBundleArgs),
    /// Print the latest signed checkpoint (a C2SP signed note).
    Checkpoint(PlaceOnly),
    /// Print the log operator's verifier key.
    PublicKey(PlaceOnly),
    /// Print entry N: `{"index", "leaf" (base64 of the exact bytes), "statement"}`.
    Entry(EntryArgs),
    /// Prove that entry N is in the tree (of the latest size, or --size).
    Prove(ProveArgs),
    /// Prove that the tree of size A is a prefix of the tree of size B.
    Consistency(ConsistencyArgs),
    /// Check an inclusion proof against a checkpoint and the operator's key, without the store.
    VerifyInclusion(VerifyInclusionArgs),
    /// Check a consistency proof against a checkpoint (and the older one), without the store.
    VerifyConsistency(VerifyConsistencyArgs),
}

/// `compact log list`.
#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Only the entries this party signed (any case; the compact's id for the operator's
    /// log.init).
    #[arg(long, value_name = "CODE", value_parser = party_arg)]
    party: Option<String>,
    /// Only the entries of this statement type (`compact schema` lists them).
    #[arg(long, value_name = "TYPE")]
    kind: Option<String>,
    /// Only the entries the log received on or after this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    from: Option<jiff::civil::Date>,
    /// Only the entries the log received on or before this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    to: Option<jiff::civil::Date>,
    /// At most N entries; 0 for all of them.
    #[arg(long, value_name = "N", default_value_t = 20)]
    limit: usize,
    /// Only the entries after entry N in the order listed: the next page, as the last line
    /// of a page says.
    #[arg(long, value_name = "N")]
    after: Option<u64>,
    /// Oldest first (default: newest first, as `git log`).
    #[arg(long)]
    reverse: bool,
    #[command(flatten)]
    place: PlaceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// A log command that needs only the place.
#[derive(Debug, clap::Args)]
struct PlaceOnly {
    #[command(flatten)]
    place: PlaceArgs,
}

/// `compact log entry`.
#[derive(Debug, clap::Args)]
struct EntryArgs {
    /// The entry's index, from 0.
    index: u64,
    #[command(flatten)]
    place: PlaceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

/// `compact log prove`.
#[derive(Debug, clap::Args)]
struct ProveArgs {
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
}

/// `compact log consistency`.
#[derive(Debug, clap::Args)]
struct ConsistencyArgs {
    /// The older size.
    old: u64,
    /// The newer size.
    new: u64,
    #[command(flatten)]
    place: PlaceArgs,
    /// Output format (JSON only).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

/// `compact log verify-inclusion`.
#[derive(Debug, clap::Args)]
struct VerifyInclusionArgs {
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
}

/// `compact log verify-consistency`.
#[derive(Debug, clap::Args)]
struct VerifyConsistencyArgs {
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
}

#[derive(Debug, Subcommand)]
enum Show {
    /// One agreement as parsed: its terms, clauses and commitments.
    Agreement(ShowAgreementArgs),
}

/// `compact show agreement`.
#[derive(Debug, clap::Args)]
struct ShowAgreementArgs {
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
}

/// The exit code of a transient failure (`EX_TEMPFAIL` of sysexits.h).
const EXIT_TRANSIENT: u8 = 75;

/// Runs one command.
fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check(a) => {
            let dir = a.path.or(a.dir).unwrap_or_else(|| PathBuf::from("."));
            commands::check(&dir, a.format)
        }
        Command::Digest(a) => commands::digest(&a.file, a.canonical, a.format),
        Command::Show {
            what: Show::Agreement(a),
        } => commands::show_agreement(&a.dir, &a.id, a.version, a.format),
        Command::Demo(a) => {
            demo::demo(a.dir.as_deref(), a.seed, !a.no_serve, a.database.as_deref())
        }
        Command::Keygen(KeygenArgs {
            witness: Some(name),
            out,
            seed,
            place,
            ..
        }) => witness::keygen(&place.place().dir, &name, out.as_deref(), seed.as_deref()),
        Command::Keygen(a) => ledger::keygen(
            &a.place.place(),
            a.party.as_deref(),
            a.operator,
            a.root,
            a.out.as_deref(),
            a.valid_from,
            a.seed.as_deref(),
            a.operator_key.as_deref(),
        ),
        Command::Init(a) => ledger::init(&a.place.place(), a.operator_key.as_deref()),
        Command::Sign(a) => ledger::sign(
            &a.append.place.place(),
            &a.agreement,
            a.version,
            &a.key,
            a.append.time,
            a.append.operator_key.as_deref(),
        ),
        Command::Submit(a) => ledger::submit(
            &a.append.place.place(),
            &a.key,
            &a.kind,
            &a.payload,
            a.append.time,
            a.print,
            a.append.operator_key.as_deref(),
        ),
        Command::Retract(a) => ledger::retract(
            &a.append.place.place(),
            a.entry,
            &a.reason,
            &a.key,
            a.append.time,
            a.append.operator_key.as_deref(),
        ),
        Command::Activate(a) => activation::activate(
            &a.append.place.place(),
            &a.key,
            a.at,
            &a.summary,
            a.append.time,
            a.append.operator_key.as_deref(),
        ),
        Command::Threat(a) => activation::threat(
            &a.append.place.place(),
            &a.key,
            a.level,
            a.append.time,
            a.append.operator_key.as_deref(),
        ),
        Command::Respond(a) => activation::respond(
            &a.append.place.place(),
            a.activation,
            &a.key,
            &a.measures,
            a.append.time,
            a.append.operator_key.as_deref(),
        ),
        Command::Activation(a) => activation::show(&a.place.place(), a.id, a.at, a.format),
        Command::Stress(a) => {
            let place = a.place.place();
            let compact = ledger::PlaceExt::compact(&place)?;
            stress::stress(
                &place.dir,
                &compact,
                &compact_service::stress::StressAsk {
                    without: a.without,
                    from_year: a.from_year,
                    delay: a.delay,
                    scenarios: a.scenarios,
                    seed: a.seed,
                    years: a.years,
                    no_shocks: a.no_shocks,
                },
                a.risks.as_deref(),
                a.format,
            )
        }
        Command::Import(a) => ledger::import(
            &a.place.place(),
            &a.file,
            a.batch,
            a.operator_key.as_deref(),
        ),
        Command::Agreements(a) => ledger::agreements(&a.place.place(), a.as_of, a.format),
        Command::Schema(a) => browse::schema_cmd(a.kind, a.format),
        Command::Completions(a) => completions(a.shell),
        Command::Man(a) => man(a.out_dir.as_deref()),
        Command::Witness {
            what: WitnessCommand::Serve(a),
        } => witness::serve(&a.key, &a.logs, &a.state, a.listen),
        Command::Log { what } => match what {
            Log::List(a) => browse::log_list(
                &a.place.place(),
                &compact_service::entries::EntryFilter {
                    party: a.party,
                    kind: a.kind,
                    from: a.from,
                    to: a.to,
                    limit: (a.limit > 0).then_some(a.limit),
                    after: a.after,
                    oldest_first: a.reverse,
                },
                a.format,
            ),
            Log::Bundle(a) => bundle::bundle(&a.place.place(), a.index, a.out.as_deref()),
            Log::VerifyBundle(a) => bundle::verify(&a.file, &a.log_key, &a.witnesses, a.quorum),
            Log::Checkpoint(a) => ledger::log_checkpoint(&a.place.place()),
            Log::PublicKey(a) => ledger::log_public_key(&a.place.place()),
            Log::Entry(a) => ledger::log_entry(&a.place.place(), a.index, a.format),
            Log::Prove(a) => ledger::log_prove(&a.place.place(), a.index, a.size),
            Log::Consistency(a) => ledger::log_consistency(&a.place.place(), a.old, a.new),
            Log::VerifyInclusion(a) => {
                ledger::verify_inclusion_cmd(&a.proof, &a.checkpoint, &a.key, a.origin.as_deref())
            }
            Log::VerifyConsistency(a) => ledger::verify_consistency_cmd(
                &a.proof,
                &a.checkpoint,
                a.old_checkpoint.as_deref(),
                &a.key,
                a.origin.as_deref(),
            ),
        },
        Command::Store {
            what: StoreCommand::Copy(a),
        } => ledger::store_copy(&a.place.place(), &a.to),
        Command::Verify(a) => {
            ledger::verify(&a.place.place(), &a.checkpoint, a.operator_key.as_deref())
        }
        Command::Status(a) => status::status(
            &a.place.place(),
            a.as_of,
            a.at_size,
            a.by.by(),
            a.by.name(),
            a.format,
        ),
        Command::Burden(a) => status::burden(
            &a.place.place(),
            a.year,
            &a.baseline,
            match a.basis {
                BurdenBasis::Allies => compact_engine::burden::Basis::NatoAllies,
                BurdenBasis::Guarantors => compact_engine::burden::Basis::AllGuarantors,
            },
            match a.aid {
                BurdenAid::Military => compact_engine::burden::Aid::Military,
                BurdenAid::All => compact_engine::burden::Aid::All,
            },
            a.format,
        ),
        Command::Reconcile {
            with: Reconcile::Kiel(a),
        } => reconcile::kiel(&a.place.place(), a.file.as_deref(), a.from, a.to, a.format),
        Command::Explain(a) => status::explain(&a.place.place(), &a.commitment, a.as_of, a.format),
        Command::Serve(a) => serve::serve(&a.place.place(), a.listen, a.operator_key),
        Command::Bench { what } => bench(what),
    }
}

/// `compact completions SHELL`: the completion script of every command and option.
fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory as _;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "compact", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}

/// `compact man`: the manual page on stdout, or a page per command in `out_dir`.
fn man(out_dir: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    use clap::CommandFactory as _;
    let cmd = Cli::command();
    match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("cannot write the pages in {}", dir.display()))?;
            output::out!("{}", dir.display());
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            std::io::stdout().lock().write_all(&page)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `compact submit --type TYPE --help`: the command's help, then the payload schema of TYPE;
/// `None` when the arguments ask for something else (clap answers them).
fn submit_help_with_schema(
    args: &[String],
) -> Option<(String, &'static compact_statement::schema::Schema)> {
    use clap::CommandFactory as _;
    let at = args.iter().position(|a| a == "submit")?;
    let rest = args.get(at + 1..)?;
    if !rest.iter().any(|a| a == "--help" || a == "-h") {
        return None;
    }
    let kind = rest.iter().enumerate().find_map(|(i, a)| {
        if a == "--type" {
            rest.get(i + 1).cloned()
        } else {
            a.strip_prefix("--type=").map(str::to_owned)
        }
    })?;
    let schema = compact_statement::schema::schema(compact_statement::Kind::parse(kind.trim())?)?;
    let mut cmd = Cli::command();
    cmd.build();
    let help = cmd.find_subcommand_mut("submit")?.render_long_help();
    Some((
        format!(
            "{help}\nThe payload of {} (`compact schema {}`):\n",
            schema.kind, schema.kind
        ),
        schema,
    ))
}

/// `compact bench`: runs one benchmark of `compact_bench` and prints its figures.
fn bench(what: Bench) -> anyhow::Result<ExitCode> {
    let mut note = |s: String| eprintln!("{s}");
    let report = match what {
        Bench::Ingest {
            dir,
            n,
            batch,
            postgres: None,
        } => compact_bench::ingest(&dir, n, batch)?,
        Bench::Ingest {
            dir,
            n,
            batch,
            postgres: Some(url),
        } => compact_bench::ingest_postgres(&dir, &url, n, batch)?,
        Bench::Statements { dir, n } => compact_bench::statements(&dir, n)?,
        Bench::Verify { dir } => compact_bench::verify(&dir)?,
        Bench::Proofs {
            dir,
            n,
            samples,
            postgres: None,
        } => compact_bench::proofs(&dir, n, samples, &mut note)?,
        Bench::Proofs {
            n,
            samples,
            postgres: Some(url),
            ..
        } => compact_bench::proofs_postgres(&url, n, samples, &mut note)?,
        Bench::Status { dir, n, seed } => {
            // B4_RUNS=N times N engine runs instead of 3 (for profiling).
            let runs = std::env::var("B4_RUNS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(3);
            compact_bench::status(&dir, n, seed, runs, &mut note)?
        }
        Bench::StatusStore { dir, n, seed } => {
            compact_bench::status_store(&dir, n, seed, &mut note)?
        }
        Bench::Stress {
            scenarios,
            seed,
            input,
        } => compact_bench::stress(scenarios, seed, &input)?,
    };
    for line in &report.lines {
        output::out!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some((help, schema)) = submit_help_with_schema(&args) {
        let shown = write!(std::io::stdout().lock(), "{help}")
            .map_err(anyhow::Error::from)
            .and_then(|()| browse::print_schema(schema));
        return if shown.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    let cli = Cli::parse();
    output::set_plain(cli.plain);
    client::set_server(cli.server);
    client::set_state(cli.state);
    let result = run(cli.command);
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
                "error: {e:#} (a transient failure, not a refusal: run the command again; exit {EXIT_TRANSIENT})"
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
