//! `compact`: the Kyiv Security Compact as working software.
//!
//! This binary is thin: it parses the command line, reads files through `compact-files`, asks
//! `compact-model` for the answers and prints them. Exit codes: 0 success, 1 invalid input (or
//! any other failure), 2 usage error.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod commands;
mod output;

/// The Kyiv Security Compact as working software: agreements as files, checked, digested.
#[derive(Debug, Parser)]
#[command(
    name = "compact",
    version,
    about = "The Kyiv Security Compact as working software: agreements as files, checked and digested.",
    long_about = None
)]
#[command(after_help = "Exit codes: 0 success, 1 invalid input or failure, 2 usage error.")]
struct Cli {
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
    /// Check and summarise the shipped `kyiv-compact` data set (with --dir, first write it
    /// there, so that other commands can work on it).
    Demo {
        /// Write the data set into this directory (which must not exist or be empty).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Output format of the summary.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
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
        Command::Demo { dir, format } => commands::demo(dir.as_deref(), format),
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
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::from(1)
        }
    }
}
