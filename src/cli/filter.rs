//! Which records a command wants: the filters of the command line, a
//! literal prefilter on the raw line, and the match on the parsed keys.

use std::borrow::Cow;

use memchr::memmem::Finder;
use time::OffsetDateTime;

use super::args::{FilterArgs, KindArg};
use super::view::View;
use super::when::When;
use crate::record::Kind;

/// The filters: every one given must match; one given several values
/// matches any of them. The default matches every record.
#[derive(Debug, Default)]
pub struct Filter {
    kinds: Vec<Kind>,
    model: Vec<String>,
    event_type: Vec<String>,
    instance_id: Vec<String>,
    user: Vec<String>,
    client_ip: Vec<String>,
    path: Vec<Pattern>,
    method: Vec<String>,
    status: Vec<(u16, u16)>,
    request_id: Vec<String>,
    tenant: Vec<String>,
    since: Option<When>,
    until: Option<When>,
    text: Vec<Vec<u8>>,
    /// Groups of literals: a line can match only if, in every group, one
    /// of the literals is in its raw bytes.
    needles: Vec<Vec<Finder<'static>>>,
}

#[derive(Debug)]
enum Pattern {
    Exact(String),
    Prefix(String),
}

impl Filter {
    /// Builds the filter; times like `1h` count back from `now`.
    ///
    /// # Errors
    ///
    /// A value that does not parse (a time, a status), with what was wrong.
    pub fn new(args: &FilterArgs, now: OffsetDateTime) -> Result<Filter, String> {
        let upper = |v: &[String]| v.iter().map(|s| s.to_ascii_uppercase()).collect::<Vec<_>>();
        let mut filter = Filter {
            kinds: args.kind.iter().map(|k| kind_of(*k)).collect(),
            model: args.model.clone(),
            event_type: upper(&args.event_type),
            instance_id: args.instance_id.clone(),
            user: args.user.clone(),
            client_ip: args.client_ip.clone(),
            path: args
                .path
                .iter()
                .map(|p| match p.strip_suffix('*') {
                    Some(prefix) => Pattern::Prefix(prefix.to_owned()),
                    None => Pattern::Exact(p.clone()),
                })
                .collect(),
            method: upper(&args.method),
            status: args
                .status
                .iter()
                .map(|s| status_range(s))
                .collect::<Result<_, _>>()?,
            request_id: args.request_id.clone(),
            tenant: args.tenant.clone(),
            since: args
                .since
                .as_deref()
                .map(|s| When::parse(s, now))
                .transpose()?,
            until: args
                .until
                .as_deref()
                .map(|s| When::parse(s, now))
                .transpose()?,
            text: args.text.iter().map(|t| escaped(t).into_bytes()).collect(),
            needles: Vec::new(),
        };
        filter.needles = filter.literals();
        Ok(filter)
    }

    /// The kinds asked for (empty: all).
    pub fn kinds(&self) -> &[Kind] {
        &self.kinds
    }

    /// The groups of literals a matching line must contain. Only values
    /// of printable ASCII are used (writers differ on how they escape
    /// control characters): the crate writes them as they are, in quotes,
    /// so their JSON text is known exactly. A value that reads as a number
    /// is looked for bare, since a record may hold it as a JSON number
    /// (`"user_id":7` matches `--user 7`).
    fn literals(&self) -> Vec<Vec<Finder<'static>>> {
        let mut groups = Vec::new();
        let quoted = |values: &[String], cased: bool| -> Option<Vec<Finder<'static>>> {
            let printable = |v: &String| v.bytes().all(|b| (0x20..0x7f).contains(&b));
            if values.is_empty() || !values.iter().all(printable) {
                return None;
            }
            let mut finders = Vec::new();
            for v in values {
                if serde_json::from_str::<serde_json::Number>(v).is_ok() {
                    finders.push(Finder::new(v.as_bytes()).into_owned());
                    continue;
                }
                finders.push(Finder::new(&format!("\"{}\"", escaped(v))).into_owned());
                if cased {
                    let lower = v.to_ascii_lowercase();
                    finders.push(Finder::new(&format!("\"{}\"", escaped(&lower))).into_owned());
                }
            }
            Some(finders)
        };
        let exact_paths: Vec<String> = self
            .path
            .iter()
            .filter_map(|p| match p {
                Pattern::Exact(p) => Some(p.clone()),
                Pattern::Prefix(_) => None,
            })
            .collect();
        let exact_paths = if exact_paths.len() == self.path.len() {
            exact_paths
        } else {
            Vec::new()
        };
        for (values, cased) in [
            (&self.model, false),
            (&self.event_type, true),
            (&self.instance_id, false),
            (&self.user, false),
            (&self.client_ip, false),
            (&exact_paths, false),
            (&self.method, true),
            (&self.request_id, false),
            (&self.tenant, false),
        ] {
            groups.extend(quoted(values, cased));
        }
        for text in &self.text {
            groups.push(vec![Finder::new(text).into_owned()]);
        }
        groups
    }

    /// Whether the raw line may match: false only when it cannot.
    pub fn prefilter(&self, line: &[u8]) -> bool {
        self.needles
            .iter()
            .all(|group| group.iter().any(|f| f.find(line).is_some()))
    }

    /// Whether the parsed record matches every filter. `line` is its raw
    /// JSON text, for `--text`.
    pub fn matches(&self, view: &View<'_>, line: &[u8]) -> bool {
        let any = |wanted: &[String], have: &Option<Cow<'_, str>>| {
            wanted.is_empty()
                || have
                    .as_deref()
                    .is_some_and(|h| wanted.iter().any(|w| w == h))
        };
        if !self.kinds.is_empty() && !self.kinds.contains(&view.kind()) {
            return false;
        }
        let event_ok = self.event_type.is_empty()
            || [&view.event_type, &view.event].into_iter().any(|e| {
                e.as_deref()
                    .is_some_and(|e| self.event_type.iter().any(|w| w.eq_ignore_ascii_case(e)))
            });
        let instance_ok = self.instance_id.is_empty()
            || self.instance_id.iter().any(|w| {
                view.instance_id.as_deref() == Some(w.as_str())
                    || view.instance_ids.iter().any(|i| i == w)
            });
        let method_ok = self.method.is_empty()
            || view
                .method
                .as_deref()
                .is_some_and(|m| self.method.iter().any(|w| w.eq_ignore_ascii_case(m)));
        let path_ok = self.path.is_empty()
            || view.path.as_deref().is_some_and(|p| {
                self.path.iter().any(|w| match w {
                    Pattern::Exact(w) => w == p,
                    Pattern::Prefix(w) => p.starts_with(w.as_str()),
                })
            });
        let status_ok = self.status.is_empty()
            || view
                .status
                .as_deref()
                .and_then(|s| s.parse::<u16>().ok())
                .is_some_and(|s| self.status.iter().any(|&(lo, hi)| lo <= s && s <= hi));
        let time_ok = |when: &Option<When>, keep: fn(std::cmp::Ordering) -> bool| {
            when.as_ref().is_none_or(|when| {
                view.timestamp
                    .as_deref()
                    .and_then(|t| when.cmp_timestamp(t))
                    .is_some_and(keep)
            })
        };
        event_ok
            && instance_ok
            && method_ok
            && path_ok
            && status_ok
            && any(&self.model, &view.model)
            && any(&self.user, &view.user_id)
            && any(&self.client_ip, &view.client_ip)
            && any(&self.request_id, &view.request_id)
            && any(&self.tenant, &view.tenant)
            && time_ok(&self.since, |o| o.is_ge())
            && time_ok(&self.until, |o| o.is_lt())
            && self
                .text
                .iter()
                .all(|t| memchr::memmem::find(line, t).is_some())
    }
}

/// The crate's kind for a command-line kind.
pub fn kind_of(arg: KindArg) -> Kind {
    match arg {
        KindArg::Audit => Kind::Audit,
        KindArg::Api => Kind::Api,
        KindArg::Login => Kind::Login,
        KindArg::App => Kind::App,
    }
}

/// `s` as it appears inside a JSON string the crate writes (without
/// the quotes).
fn escaped(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted[1..quoted.len().saturating_sub(1).max(1)].to_owned()
}

/// `404`, `5xx`, `400-499`.
fn status_range(s: &str) -> Result<(u16, u16), String> {
    let bad = || format!("--status {s:?}: give a code (404), a class (5xx) or a range (400-499)");
    let s = s.trim();
    if let Some(class) = s.strip_suffix("xx").or_else(|| s.strip_suffix("XX")) {
        let c: u16 = class.parse().map_err(|_| bad())?;
        if !(1..=9).contains(&c) {
            return Err(bad());
        }
        return Ok((c * 100, c * 100 + 99));
    }
    if let Some((lo, hi)) = s.split_once('-') {
        let lo: u16 = lo.trim().parse().map_err(|_| bad())?;
        let hi: u16 = hi.trim().parse().map_err(|_| bad())?;
        return if lo <= hi { Ok((lo, hi)) } else { Err(bad()) };
    }
    let code: u16 = s.parse().map_err(|_| bad())?;
    Ok((code, code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(f: impl FnOnce(&mut FilterArgs)) -> Filter {
        let mut args = FilterArgs::default();
        f(&mut args);
        Filter::new(&args, OffsetDateTime::now_utc()).unwrap()
    }

    fn check(filter: &Filter, line: &str) -> bool {
        let view = View::parse(line.as_bytes()).unwrap();
        let matched = filter.matches(&view, line.as_bytes());
        // The prefilter never rejects a line that matches.
        assert!(!matched || filter.prefilter(line.as_bytes()), "{line}");
        matched
    }

    const CRUD: &str = r#"{"timestamp":"2026-11-29T10:00:00.000000Z","level":"AUDIT","name":"audit.crud","model":"Order","event_type":"DELETE","instance_id":"42","user_id":"7","tenant":"acme","message":"say \"hi\""}"#;
    const BULK: &str = r#"{"level":"AUDIT","name":"audit.crud","event_type":"BULK_DELETE","instance_id":"1,2","instance_ids":["1","2"],"user_id":"8"}"#;
    const LOGIN: &str = r#"{"level":"LOGIN","name":"audit.login","event":"failed_login","client_ip":"10.0.0.9","user_id":"bob"}"#;
    const API: &str = r#"{"level":"API","name":"audit.request","request_repr":{"method":"POST","path":"/api/orders","client_ip":"10.0.0.1"},"response_repr":{"status_code":503},"request_id":"r-1","user_id":"7"}"#;

    #[test]
    fn the_prefilter_keeps_numeric_ids_and_values_with_control_characters() {
        let numeric = r#"{"level":"AUDIT","name":"audit.crud","event_type":"DELETE","user_id":7,"tenant":12}"#;
        let f = filter(|a| a.user = vec!["7".into()]);
        assert!(check(&f, numeric));
        let f = filter(|a| a.tenant = vec!["12".into()]);
        assert!(check(&f, numeric));
        // The crate writes a backspace as \u0008, serde_json as \b.
        let backspace = r#"{"level":"AUDIT","name":"audit.crud","user_id":"a\u0008b"}"#;
        let f = filter(|a| a.user = vec!["a\u{8}b".into()]);
        assert!(check(&f, backspace));
    }

    #[test]
    fn each_filter_matches_its_key_only() {
        let f = filter(|a| a.user = vec!["7".into()]);
        assert!(check(&f, CRUD) && check(&f, API) && !check(&f, BULK) && !check(&f, LOGIN));
        let f = filter(|a| a.event_type = vec!["delete".into(), "FAILED_LOGIN".into()]);
        assert!(check(&f, CRUD) && check(&f, LOGIN) && !check(&f, BULK) && !check(&f, API));
        let f = filter(|a| a.instance_id = vec!["2".into()]);
        assert!(check(&f, BULK) && !check(&f, CRUD));
        let f = filter(|a| a.client_ip = vec!["10.0.0.1".into(), "10.0.0.9".into()]);
        assert!(check(&f, API) && check(&f, LOGIN) && !check(&f, CRUD));
        let f = filter(|a| a.path = vec!["/api/*".into()]);
        assert!(check(&f, API) && !check(&f, CRUD));
        let f = filter(|a| a.path = vec!["/api".into()]);
        assert!(!check(&f, API));
        let f = filter(|a| a.method = vec!["post".into()]);
        assert!(check(&f, API) && !check(&f, LOGIN));
        let f = filter(|a| a.status = vec!["5xx".into()]);
        assert!(check(&f, API));
        let f = filter(|a| a.status = vec!["400-499".into(), "200".into()]);
        assert!(!check(&f, API));
        let f = filter(|a| a.kind = vec![KindArg::Login, KindArg::Api]);
        assert!(check(&f, API) && check(&f, LOGIN) && !check(&f, CRUD));
        let f = filter(|a| {
            a.model = vec!["Order".into()];
            a.tenant = vec!["acme".into()];
        });
        assert!(check(&f, CRUD) && !check(&f, BULK));
        let f = filter(|a| a.request_id = vec!["r-1".into()]);
        assert!(check(&f, API) && !check(&f, CRUD));
        let f = filter(|a| a.text = vec!["say \"hi".into()]);
        assert!(check(&f, CRUD) && !check(&f, API));
    }

    #[test]
    fn time_range_since_inclusive_until_exclusive() {
        let f = filter(|a| a.since = Some("2026-11-29T10:00:00Z".into()));
        assert!(check(&f, CRUD) && !check(&f, BULK));
        let f = filter(|a| a.until = Some("2026-11-29T10:00:00Z".into()));
        assert!(!check(&f, CRUD));
        let f = filter(|a| a.until = Some("2026-11-29T10:00:00.000001Z".into()));
        assert!(check(&f, CRUD));
    }

    #[test]
    fn prefilter_rejects_lines_without_the_values() {
        let f = filter(|a| {
            a.user = vec!["7".into()];
            a.event_type = vec!["DELETE".into()];
        });
        assert!(f.prefilter(CRUD.as_bytes()));
        assert!(!f.prefilter(API.as_bytes()));
        assert!(!f.prefilter(BULK.as_bytes()));
        // Non-ASCII values are not prefiltered (other writers escape them).
        let f = filter(|a| a.user = vec!["zoë".into()]);
        assert!(f.prefilter(b"{}"));
    }

    #[test]
    fn bad_values_are_errors() {
        for status in ["abc", "0xx", "500-400", "70000"] {
            let args = FilterArgs {
                status: vec![status.into()],
                ..FilterArgs::default()
            };
            assert!(
                Filter::new(&args, OffsetDateTime::now_utc()).is_err(),
                "{status}"
            );
        }
        let args = FilterArgs {
            since: Some("yesterday".into()),
            ..FilterArgs::default()
        };
        assert!(Filter::new(&args, OffsetDateTime::now_utc()).is_err());
    }
}
