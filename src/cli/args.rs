//! The command line, as `clap` reads it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit status:
  0  records were found (query, export, stats, report) or the follow ended
     normally (tail)
  1  no record matched
  2  usage error: an unknown option or a value that does not parse
  3  an input could not be read (missing, unreadable, corrupt .gz) or the
     output could not be written; the other inputs are still read
Malformed lines are reported on stderr as FILE:LINE and never change the
exit status.";

/// Answers from the files `tracing-audit` writes: query, export, tail,
/// stats, report.
#[derive(Debug, Parser)]
#[command(name = "tracing-audit", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Prints the matching records, oldest first: a table on a terminal,
    /// JSON lines otherwise.
    #[command(after_help = EXIT_CODES)]
    Query(QueryArgs),
    /// Writes the matching records as CSV, a JSON array or JSON lines,
    /// streamed.
    #[command(after_help = EXIT_CODES)]
    Export(ExportArgs),
    /// Prints the last records, then (with -f) new ones as they are
    /// written, across rotations.
    #[command(after_help = EXIT_CODES)]
    Tail(TailArgs),
    /// Figures over the matching records: counts by kind, event type,
    /// model and user; failed logins per client IP; requests, error rate
    /// and p50/p95/p99 execution time per path.
    #[command(after_help = EXIT_CODES)]
    Stats(StatsArgs),
    /// Writes one self-contained HTML page (charts and tables, no script,
    /// nothing fetched) about the matching records.
    #[command(after_help = EXIT_CODES)]
    Report(ReportArgs),
    /// Checks the hash chains of a directory's audit files (feature
    /// `chain`); its exit statuses are its own, listed in its help.
    #[cfg(feature = "chain")]
    Verify(crate::cli::verify::VerifyArgs),
}

/// Where the records are read from.
#[derive(Debug, Clone, Args)]
pub struct Inputs {
    /// Log directories (every kind's live, rotated and .gz files) or
    /// single files. Default: `audit_logs`.
    #[arg(value_name = "DIR|FILE")]
    pub paths: Vec<PathBuf>,
}

/// Which records: every filter given must match (AND); a filter given
/// several times matches any of its values (OR).
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// Record kinds: audit, api, login, app (comma-separated or repeated).
    /// In a directory, only these kinds' files are read.
    #[arg(long, value_enum, value_delimiter = ',', help_heading = "Filters")]
    pub kind: Vec<KindArg>,
    /// The `model` of CRUD records.
    #[arg(long, help_heading = "Filters")]
    pub model: Vec<String>,
    /// `event_type` of CRUD records (CREATE, DELETE, BULK_UPDATE, …) or
    /// `event` of login records (login, logout, failed_login); any case.
    #[arg(long, value_delimiter = ',', help_heading = "Filters")]
    pub event_type: Vec<String>,
    /// `instance_id` of CRUD records, or one of a bulk record's `instance_ids`.
    #[arg(long, help_heading = "Filters")]
    pub instance_id: Vec<String>,
    /// `user_id`.
    #[arg(long, visible_alias = "user-id", help_heading = "Filters")]
    pub user: Vec<String>,
    /// The client address: `request_repr.client_ip` (API) or `client_ip`
    /// (login).
    #[arg(long, help_heading = "Filters")]
    pub client_ip: Vec<String>,
    /// `request_repr.path` of inbound requests; a trailing `*` matches a
    /// prefix (`/api/*`).
    #[arg(long, help_heading = "Filters")]
    pub path: Vec<String>,
    /// `request_repr.method` (GET, POST, …); any case.
    #[arg(long, value_delimiter = ',', help_heading = "Filters")]
    pub method: Vec<String>,
    /// `response_repr.status_code`: `404`, a class `5xx`, or a range
    /// `400-499`.
    #[arg(long, value_delimiter = ',', help_heading = "Filters")]
    pub status: Vec<String>,
    /// `request_id`.
    #[arg(long, help_heading = "Filters")]
    pub request_id: Vec<String>,
    /// `tenant`.
    #[arg(long, help_heading = "Filters")]
    pub tenant: Vec<String>,
    /// Records at or after this time: RFC 3339 (`2026-11-29T10:00:00Z`,
    /// any offset) or an age back from now (`90s`, `15m`, `1h`, `7d`, `2w`).
    #[arg(long, help_heading = "Filters")]
    pub since: Option<String>,
    /// Records before this time (same forms as --since).
    #[arg(long, help_heading = "Filters")]
    pub until: Option<String>,
    /// Text anywhere in the record's JSON line (keys and values;
    /// case-sensitive; `"` and `\` as written in JSON are matched as the
    /// characters they stand for).
    #[arg(long, help_heading = "Filters")]
    pub text: Vec<String>,
}

/// A record kind on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// CRUD and process records (`audit.log`, level AUDIT).
    Audit,
    /// Requests and outbound calls (`api.log`, level API).
    Api,
    /// Logins, logouts, failed logins (`login.log`, level LOGIN).
    Login,
    /// Application logs (`app.log`).
    App,
}

/// `query`.
#[derive(Debug, Clone, Args)]
pub struct QueryArgs {
    /// The inputs.
    #[command(flatten)]
    pub inputs: Inputs,
    /// The filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output: `table` (one readable line per record, the default on a
    /// terminal) or `json` (the records' JSON lines as written, the
    /// default otherwise).
    #[arg(long, short = 'o', value_enum)]
    pub output: Option<QueryOutput>,
    /// Stop after this many records.
    #[arg(long, short = 'n')]
    pub limit: Option<u64>,
    /// The progress bar.
    #[command(flatten)]
    pub progress: ProgressArgs,
}

/// `query --output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryOutput {
    /// One aligned, readable line per record, control characters escaped.
    Table,
    /// The records' JSON lines, byte for byte as in the files.
    Json,
}

/// `export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The inputs.
    #[command(flatten)]
    pub inputs: Inputs,
    /// The filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// `csv` (fixed columns per kind, nested values as JSON text), `json`
    /// (one array) or `jsonl` (JSON lines).
    #[arg(long, short = 'f', value_enum)]
    pub format: ExportFormat,
    /// CSV cells exactly as recorded. By default a text cell a spreadsheet
    /// would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or
    /// a carriage return, and not a number) is written with a leading `'`.
    #[arg(long)]
    pub csv_raw: bool,
    /// Write here instead of stdout.
    #[arg(long, short = 'O', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The progress bar.
    #[command(flatten)]
    pub progress: ProgressArgs,
}

/// `export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON array of the records.
    Json,
    /// One record per line.
    Jsonl,
}

/// `tail`.
#[derive(Debug, Clone, Args)]
pub struct TailArgs {
    /// The inputs.
    #[command(flatten)]
    pub inputs: Inputs,
    /// The filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Keep going: print records as they are written, following each file
    /// across rotation, until interrupted.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// How many of the last matching records to print first.
    #[arg(long, short = 'n', default_value_t = 10)]
    pub lines: usize,
    /// Output, as for `query`.
    #[arg(long, short = 'o', value_enum)]
    pub output: Option<QueryOutput>,
    /// How often to look for new lines, in milliseconds.
    #[arg(long, default_value_t = 250, value_name = "MS")]
    pub poll_ms: u64,
}

/// `stats`.
#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// The inputs.
    #[command(flatten)]
    pub inputs: Inputs,
    /// The filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output: `table` (aligned text, the default) or `json` (every
    /// figure, every entry of every list).
    #[arg(long, short = 'o', value_enum, default_value = "table")]
    pub output: StatsOutput,
    /// Entries per list in the table (users, models, paths, …).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// The progress bar.
    #[command(flatten)]
    pub progress: ProgressArgs,
}

/// `stats --output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsOutput {
    /// Aligned text tables.
    Table,
    /// One JSON object.
    Json,
}

/// `report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The inputs.
    #[command(flatten)]
    pub inputs: Inputs,
    /// The filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// The HTML file to write (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
    /// The page's title.
    #[arg(long, default_value = "Audit report")]
    pub title: String,
    /// The progress bar.
    #[command(flatten)]
    pub progress: ProgressArgs,
}

/// The progress bar.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct ProgressArgs {
    /// No progress bar (it is shown only on a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
}
