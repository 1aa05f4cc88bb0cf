//! The HTML report (`tracing-audit report --html FILE`): one
//! self-contained page, charts as inline SVG made here, no script, and a
//! Content-Security-Policy that forbids the page to fetch anything.
//!
//! ```
//! use tracing_audit::cli::{report, stats::Stats};
//!
//! let mut stats = Stats::default();
//! stats.add(&serde_json::json!({"name": "audit.crud", "user_id": "<script>", "model": "Order"}));
//! let page = report::html(&stats, "Billing audit");
//! assert!(page.contains("&lt;script&gt;") && !page.contains("<script"));
//! ```
//!
//! The page, 1200 pixels wide, starts with five charts at fixed places
//! (each an `<svg>` in a `<figure>` with an `id`), each drawn in its own
//! colour:
//!
//! | chart | `id` | size | colour |
//! |---|---|---|---|
//! | records over time, stacked by kind | `over-time` | 1160 × 260 | AUDIT `#7b3fa0`, API `#2f6fd0`, LOGIN `#1f9e89`, APP `#9a9a9a` |
//! | top users (records) | `top-users` | 560 × 260 | `#e07b00` |
//! | top models (records) | `top-models` | 560 × 260 | `#c23b6b` |
//! | failed logins by client IP | `failed-logins` | 560 × 260 | `#d62728` |
//! | slowest paths (p95 `execution_time`) | `slowest-paths` | 560 × 260 | `#2ca02c` |
//!
//! The tables behind them follow. Every value taken from a record is
//! escaped (records are written by whoever sends a request: a user id
//! can be `<script>…`) and cut to a readable length.

use std::fmt::Write as _;
use std::io;

use serde_json::Value;
use time::macros::format_description;
use time::OffsetDateTime;

use super::args::ReportArgs;
use super::markup::{escaped, text};
use super::stats::{kind_name, PathFigures, Stats};
use super::svg::{bars, columns, Series};
use crate::record::Kind;

/// The colours of the kinds in the records-over-time chart, in
/// [`Kind::ALL`] order.
const KIND_COLORS: [&str; 4] = ["#7b3fa0", "#2f6fd0", "#1f9e89", "#9a9a9a"];
const USERS_COLOR: &str = "#e07b00";
const MODELS_COLOR: &str = "#c23b6b";
const FAILED_COLOR: &str = "#d62728";
const PATHS_COLOR: &str = "#2ca02c";
/// Bars per top-N chart.
const CHART_TOP: usize = 10;
/// Rows per table.
const TABLE_TOP: usize = 50;
/// Characters of a value shown in a table cell.
const CELL_CAP: usize = 120;

const STYLE: &str = "body{margin:0;background:#fff;color:#222;font:14px sans-serif}\
main{width:1160px;padding:20px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px}\
.charts{display:grid;grid-template-columns:560px 560px;grid-auto-rows:290px;gap:16px 40px}\
.wide{grid-column:1/3}figure{margin:0}figcaption{font-weight:bold;height:24px}\
svg{display:block}\
table{border-collapse:collapse}th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}\
th:first-child,td:first-child{text-align:left;max-width:600px;overflow-wrap:anywhere}";

/// The whole page for these figures, titled `title`.
pub fn html(stats: &Stats, title: &str) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" \
         content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>",
    );
    text(&mut out, title, 200);
    let _ = write!(out, "</title><style>{STYLE}</style></head><body><main><h1>");
    text(&mut out, title, 200);
    let _ = write!(
        out,
        "</h1><p>{} records ({} not objects, {} without a timestamp).</p>",
        stats.records(),
        stats.not_objects(),
        stats.untimed()
    );
    charts(&mut out, stats);
    tables(&mut out, stats);
    out.push_str("</main></body></html>\n");
    out
}

/// Counts the records and writes the report page to `out`: the body of
/// the `report --html` command, given the records it scanned.
pub fn run_report<I, W>(records: I, title: &str, out: &mut W) -> io::Result<Stats>
where
    I: IntoIterator<Item = Value>,
    W: io::Write + ?Sized,
{
    let mut stats = Stats::default();
    for record in records {
        stats.add(&record);
    }
    out.write_all(html(&stats, title).as_bytes())?;
    Ok(stats)
}

/// Runs `report` and gives the exit status. `--html FILE` is refused (a
/// usage error) when it is one of the inputs or an audit file's name in an
/// input directory, and replaced whole, by a rename, once the page is
/// written (see the `output` module).
pub fn run(args: &ReportArgs) -> u8 {
    if let Some(code) = super::output::refused(&args.html, &super::paths(&args.inputs)) {
        return code;
    }
    let (stats, errors, summary) =
        match super::stats::scan_stats(&args.inputs, &args.filter, args.progress) {
            Ok(scanned) => scanned,
            Err(code) => return code,
        };
    let page = html(&stats, &args.title);
    let written = super::output::write_whole(&args.html, page.as_bytes())
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", args.html.display())));
    super::finish(&errors, &summary, written)
}

fn charts(out: &mut String, stats: &Stats) {
    let (width, time_columns) = stats.time_columns();
    let series: Vec<Series<'_>> = Kind::ALL
        .into_iter()
        .map(|k| Series {
            name: kind_name(k),
            color: KIND_COLORS[k.index()],
        })
        .collect();
    let labels: Vec<String> = time_columns
        .iter()
        .map(|(start, _)| time_label(*start, width))
        .collect();
    let values: Vec<Vec<u64>> = time_columns.iter().map(|(_, c)| c.to_vec()).collect();
    out.push_str("<section class=\"charts\">");
    figure(
        out,
        "over-time",
        true,
        &format!("Records over time ({}, UTC)", per(width)),
        &columns(1160, 260, &series, &labels, &values),
    );
    let counted = |items: Vec<(&str, u64)>| -> Vec<(String, f64, String)> {
        items
            .into_iter()
            .take(CHART_TOP)
            .map(|(k, n)| (shown_key(k), n as f64, n.to_string()))
            .collect()
    };
    figure(
        out,
        "top-users",
        false,
        "Top users (records)",
        &bars(560, 260, USERS_COLOR, &counted(stats.users())),
    );
    figure(
        out,
        "top-models",
        false,
        "Top models (records)",
        &bars(560, 260, MODELS_COLOR, &counted(stats.models())),
    );
    figure(
        out,
        "failed-logins",
        false,
        "Failed logins by client IP",
        &bars(
            560,
            260,
            FAILED_COLOR,
            &counted(stats.failed_logins_by_ip()),
        ),
    );
    let slowest: Vec<(String, f64, String)> = slowest(stats.paths())
        .into_iter()
        .take(CHART_TOP)
        .filter_map(|p| Some((p.path.to_owned(), p.p95?, ms(p.p95))))
        .collect();
    figure(
        out,
        "slowest-paths",
        false,
        "Slowest paths (p95 execution time)",
        &bars(560, 260, PATHS_COLOR, &slowest),
    );
    out.push_str("</section>");
}

fn tables(out: &mut String, stats: &Stats) {
    let counted = |items: Vec<(&str, u64)>| -> Vec<Vec<String>> {
        items
            .into_iter()
            .map(|(k, n)| vec![shown_key(k), n.to_string()])
            .collect()
    };
    let kinds = stats
        .kinds()
        .into_iter()
        .map(|(k, n)| vec![k.to_owned(), n.to_string()])
        .collect();
    table(out, "Records by kind", &["kind", "records"], kinds);
    table(
        out,
        "Users",
        &["user_id", "records"],
        counted(stats.users()),
    );
    table(
        out,
        "Models",
        &["model", "records"],
        counted(stats.models()),
    );
    table(
        out,
        "Event types",
        &["event_type", "records"],
        counted(stats.event_types()),
    );
    table(
        out,
        "Logins",
        &["event", "records"],
        counted(stats.logins()),
    );
    table(
        out,
        "Failed logins by client IP",
        &["client_ip", "failed logins"],
        counted(stats.failed_logins_by_ip()),
    );
    let paths = slowest(stats.paths())
        .into_iter()
        .map(|p| p.cells())
        .collect();
    table(
        out,
        "Paths, slowest first (execution time)",
        &PathFigures::HEADINGS,
        paths,
    );
    let (width, time_columns) = stats.time_columns();
    let mut head = vec!["from (UTC)"];
    head.extend(Kind::ALL.map(kind_name));
    let rows = time_columns
        .into_iter()
        .map(|(start, counts)| {
            let mut row = vec![time_label(start, width)];
            row.extend(counts.iter().map(u64::to_string));
            row
        })
        .collect();
    table(
        out,
        &format!("Records over time ({})", per(width)),
        &head,
        rows,
    );
}

fn figure(out: &mut String, id: &str, wide: bool, caption: &str, svg: &str) {
    let class = if wide { " class=\"wide\"" } else { "" };
    let _ = write!(out, "<figure id=\"{id}\"{class}><figcaption>");
    text(out, caption, 200);
    let _ = write!(out, "</figcaption>{svg}</figure>");
}

/// A table of at most [`TABLE_TOP`] rows (a last line says how many more).
fn table(out: &mut String, title: &str, head: &[&str], rows: Vec<Vec<String>>) {
    let _ = write!(out, "<h2>{}</h2><table><tr>", escaped(title, 200));
    for h in head {
        let _ = write!(out, "<th>{}</th>", escaped(h, CELL_CAP));
    }
    out.push_str("</tr>");
    let more = rows.len().saturating_sub(TABLE_TOP);
    if rows.is_empty() {
        out.push_str("<tr><td>(none)</td></tr>");
    }
    for row in rows.into_iter().take(TABLE_TOP) {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escaped(&cell, CELL_CAP));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    if more > 0 {
        let _ = write!(out, "<p>… and {more} more.</p>");
    }
}

/// Paths with a p95, slowest first, then the others by requests.
fn slowest(mut paths: Vec<PathFigures<'_>>) -> Vec<PathFigures<'_>> {
    paths.sort_by(|a, b| match (a.p95, b.p95) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.path.cmp(b.path)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => b.requests.cmp(&a.requests).then(a.path.cmp(b.path)),
    });
    paths
}

/// An empty key (a failed login without an address) shown as `(none)`.
fn shown_key(key: &str) -> String {
    if key.is_empty() {
        "(none)".to_owned()
    } else {
        key.to_owned()
    }
}

fn ms(secs: Option<f64>) -> String {
    secs.map_or_else(|| "-".to_owned(), |s| format!("{:.1} ms", s * 1000.0))
}

/// "per 10 seconds", "per hour", …
fn per(width: i64) -> String {
    match width {
        1 => "per second".to_owned(),
        60 => "per minute".to_owned(),
        3_600 => "per hour".to_owned(),
        86_400 => "per day".to_owned(),
        w if w % 86_400 == 0 => format!("per {} days", w / 86_400),
        w if w % 3_600 == 0 => format!("per {} hours", w / 3_600),
        w if w % 60 == 0 => format!("per {} minutes", w / 60),
        w => format!("per {w} seconds"),
    }
}

/// A bucket's start, as precise as its width needs.
fn time_label(secs: i64, width: i64) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp(secs) else {
        return String::new();
    };
    let formatted = if width >= 86_400 {
        t.format(format_description!("[year]-[month]-[day]"))
    } else if width >= 60 {
        t.format(format_description!("[year]-[month]-[day] [hour]:[minute]"))
    } else {
        t.format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
    };
    formatted.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(records: &[Value]) -> String {
        let mut stats = Stats::default();
        for r in records {
            stats.add(r);
        }
        html(&stats, "t")
    }

    #[test]
    fn hostile_values_come_out_as_text() {
        let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";
        let page = page(&[
            json!({"name": "audit.crud", "user_id": evil, "model": evil, "event_type": evil}),
            json!({"name": "audit.login", "event": evil, "success": false, "client_ip": evil}),
            json!({"name": "audit.request", "request_repr": {"path": evil},
                   "response_repr": {"status_code": 200}, "execution_time": 0.5}),
        ]);
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }

    #[test]
    fn the_page_fetches_nothing() {
        let page = page(&[json!({"timestamp": "2026-11-22T10:00:00Z", "name": "audit.crud"})]);
        assert!(page.contains("Content-Security-Policy"));
        for needle in ["<script", "src=", "href=", "url(", "@import", "<link"] {
            assert!(!page.contains(needle), "{needle} in {page}");
        }
    }

    #[test]
    fn every_chart_is_on_the_page() {
        let page = page(&[]);
        for id in [
            "over-time",
            "top-users",
            "top-models",
            "failed-logins",
            "slowest-paths",
        ] {
            assert!(page.contains(&format!("<figure id=\"{id}\"")), "{id}");
        }
    }

    #[test]
    fn time_labels_follow_the_width() {
        assert_eq!(time_label(0, 1), "1970-01-01 00:00:00");
        assert_eq!(time_label(0, 300), "1970-01-01 00:00");
        assert_eq!(time_label(0, 86_400), "1970-01-01");
        assert_eq!(per(10), "per 10 seconds");
        assert_eq!(per(21_600), "per 6 hours");
    }
}
