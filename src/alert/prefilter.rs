//! What the caller's thread decides about a finished line before the
//! rules see it: whether any rule could match it, from its kind, its
//! target and at most one scan of the line for a keyword. A line no rule
//! can match costs neither a copy nor a wake-up of the rules thread. The
//! answer is never "no" for a line a rule would match.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::Rule;
use crate::record::{target, Kind};

/// A word a line must hold for a rule to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    /// None: the target is enough.
    None,
    /// `failed_login`, the login records' event.
    FailedLogin,
    /// `DELETE"`: the end of a `DELETE` or `BULK_DELETE` event type.
    Delete,
}

impl Keyword {
    fn found_in(self, line: &[u8]) -> bool {
        match self {
            Keyword::None => true,
            Keyword::FailedLogin => {
                static FAILED: LazyLock<Finder<'static>> =
                    LazyLock::new(|| Finder::new(b"failed_login"));
                FAILED.find(line).is_some()
            }
            Keyword::Delete => holds_delete(line),
        }
    }
}

/// Whether `line` holds `DELETE"`. The search is for its `L`, rare in
/// records (upper case), and each `L` found is checked in place: half
/// the instructions of a substring search for the whole word, which on a
/// CRUD line of 400 bytes is most of what the rules cost the caller.
fn holds_delete(line: &[u8]) -> bool {
    const WORD: &[u8] = b"DELETE\"";
    memchr::memchr_iter(b'L', line).any(|at| at >= 2 && line[at - 2..].starts_with(WORD))
}

/// One rule's test, as the caller's thread runs it.
#[derive(Debug, PartialEq, Eq)]
struct Check {
    /// The target the rule reads (`None`: every one).
    target: Option<Box<str>>,
    keyword: Keyword,
}

/// The tests of every rule, by the kind of record they read.
#[derive(Debug)]
pub(crate) struct Prefilter {
    by_kind: [Vec<Check>; 4],
}

impl Prefilter {
    pub(crate) fn new(rules: &[Rule]) -> Prefilter {
        let mut by_kind: [Vec<Check>; 4] = Default::default();
        for rule in rules {
            let (target, keyword) = rule.prefilter();
            for kind in rule.kinds() {
                let check = Check {
                    target: target.map(Box::from),
                    keyword,
                };
                let checks = &mut by_kind[kind.index()];
                if !checks.contains(&check) {
                    checks.push(check);
                }
            }
        }
        // The tests without a scan first: a line they let through is not
        // scanned at all.
        for checks in &mut by_kind {
            checks.sort_by_key(|c| c.keyword != Keyword::None);
        }
        Prefilter { by_kind }
    }

    /// Whether some rule may match the line of `kind` whose target is
    /// `name` (`None`: not known without parsing it).
    pub(crate) fn wants(&self, kind: Kind, name: Option<&str>, line: &[u8]) -> bool {
        let checks = &self.by_kind[kind.index()];
        if checks.is_empty() || name == Some(target::ALERT) {
            return false;
        }
        checks.iter().any(|c| {
            let target_fits = match (&c.target, name) {
                (Some(t), Some(n)) => **t == *n,
                _ => true,
            };
            target_fits && c.keyword.found_in(line)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delete_is_found_wherever_it_is_and_only_there() {
        assert!(holds_delete(br#"{"event_type":"DELETE"}"#));
        assert!(holds_delete(br#"{"event_type":"BULK_DELETE"}"#));
        assert!(holds_delete(b"DELETE\""));
        assert!(!holds_delete(b"ELETE\""));
        assert!(!holds_delete(br#"{"event_type":"DELETED"}"#));
        assert!(!holds_delete(
            br#"{"L":"LL","event_type":"UPDATE","LDELETED":1}"#
        ));
        // Anywhere: a false alarm costs a parse, a miss an alert.
        assert!(holds_delete(br#"{"L":"LL","xDELETE":1}"#));
        assert!(!holds_delete(b""));
        assert!(!holds_delete(b"L"));
    }

    #[test]
    fn lines_pass_only_where_a_rule_could_match_them() {
        let pre = Prefilter::new(&[
            Rule::failed_logins_per_ip(),
            Rule::failed_logins_per_user(),
            Rule::deleted("Invoice"),
            Rule::server_errors(0.05),
            Rule::matching("root", |_| true).target("audit.login"),
            Rule::matching("jobs", |_| true).target("jobs"),
        ]);
        let crud = Some(target::CRUD);
        let update = br#"{"name":"audit.crud","event_type":"UPDATE"}"#;
        let delete = br#"{"name":"audit.crud","event_type":"DELETE"}"#;
        assert!(!pre.wants(Kind::Audit, crud, update));
        assert!(pre.wants(Kind::Audit, crud, delete));
        // Target unknown: the keyword decides.
        assert!(pre.wants(Kind::Audit, None, delete));
        assert!(!pre.wants(Kind::Audit, None, update));
        assert!(!pre.wants(Kind::Audit, Some("audit.process"), delete));
        assert!(!pre.wants(Kind::Audit, Some(target::ALERT), delete));
        // Every request record, every login record (the root predicate).
        assert!(pre.wants(Kind::Api, Some(target::REQUEST), b"{}"));
        assert!(pre.wants(Kind::Login, Some(target::LOGIN), b"{}"));
        assert!(pre.wants(Kind::App, Some("jobs"), b"{}"));
        assert!(pre.wants(Kind::App, None, b"{}"));
        assert!(!pre.wants(Kind::App, Some("web"), b"{}"));
        // Only the failed-login rules read login records: the keyword.
        let logins = Prefilter::new(&[Rule::failed_logins_per_ip()]);
        assert!(!logins.wants(Kind::Login, Some(target::LOGIN), br#"{"event":"login"}"#));
        assert!(logins.wants(
            Kind::Login,
            Some(target::LOGIN),
            br#"{"event":"failed_login"}"#
        ));
        // No rule for a kind: nothing of it passes.
        assert!(!logins.wants(Kind::Audit, crud, delete));
    }

    #[test]
    fn a_predicate_over_every_record_lets_every_line_through() {
        let pre = Prefilter::new(&[Rule::deleted("Invoice"), Rule::matching("all", |_| true)]);
        for kind in Kind::ALL {
            assert!(pre.wants(kind, Some("anything"), b"{}"));
        }
        assert!(!pre.wants(Kind::Audit, Some(target::ALERT), b"{}"));
    }
}
