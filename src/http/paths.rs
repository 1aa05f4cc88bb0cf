//! Path patterns for `include`, `exclude` and `skip_body`: matched against
//! the request path, without regular expressions, so a request costs a few
//! string comparisons.
//!
//! - `/exact/path`: that path only;
//! - `/prefix/*`: the prefix itself and everything under it;
//! - `*.ext` (any pattern starting with `*`): every path ending so.

/// One pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pattern {
    Exact(Box<str>),
    /// The part before `/*`, without its slash.
    Prefix(Box<str>),
    Suffix(Box<str>),
}

impl Pattern {
    pub(crate) fn new(pattern: &str) -> Pattern {
        if let Some(stem) = pattern.strip_suffix("/*") {
            Pattern::Prefix(stem.into())
        } else if let Some(tail) = pattern.strip_prefix('*') {
            Pattern::Suffix(tail.into())
        } else {
            Pattern::Exact(pattern.into())
        }
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        match self {
            Pattern::Exact(p) => path == &**p,
            Pattern::Prefix(stem) => path
                .strip_prefix(&**stem)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
            Pattern::Suffix(tail) => path.ends_with(&**tail),
        }
    }
}

/// Whether any pattern of `set` matches `path`.
pub(crate) fn any(set: &[Pattern], path: &str) -> bool {
    set.iter().any(|p| p.matches(path))
}

/// The URI the record shows: the one the client asked for. A router
/// nested under a prefix (axum's `Router::nest`) hands its layers the
/// request with the prefix taken off and keeps the client's as
/// `OriginalUri` (feature `axum`); patterns still match the path as the
/// wrapped service sees it.
pub(crate) fn recorded_uri(parts: &http::request::Parts) -> http::Uri {
    #[cfg(feature = "axum")]
    if let Some(original) = parts.extensions.get::<axum::extract::OriginalUri>() {
        return original.0.clone();
    }
    parts.uri.clone()
}

/// What is excluded unless [`AuditLayer::keep_default_paths`] says
/// otherwise: probes, metrics, the favicon and static files.
///
/// [`AuditLayer::keep_default_paths`]: super::AuditLayer::keep_default_paths
pub(crate) const DEFAULT_EXCLUDES: &[&str] = &[
    "/health",
    "/health/*",
    "/healthz",
    "/livez",
    "/readyz",
    "/ready",
    "/ping",
    "/metrics",
    "/favicon.ico",
    "/robots.txt",
    "/static/*",
    "/assets/*",
    "*.css",
    "*.js",
    "*.map",
    "*.png",
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.svg",
    "*.ico",
    "*.woff",
    "*.woff2",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_prefix_and_suffix_patterns() {
        let exact = Pattern::new("/api/login");
        assert!(exact.matches("/api/login"));
        assert!(!exact.matches("/api/login/x"));
        let prefix = Pattern::new("/static/*");
        assert!(prefix.matches("/static"));
        assert!(prefix.matches("/static/a/b.txt"));
        assert!(!prefix.matches("/staticky"));
        let suffix = Pattern::new("*.css");
        assert!(suffix.matches("/x/site.css"));
        assert!(!suffix.matches("/x/site.cssx"));
    }
}
