//! What an alert does besides its record: webhooks, emails, callbacks.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Alert;

/// A callback run with each alert, on the delivery thread.
pub(crate) type Callback = Arc<dyn Fn(&Alert) + Send + Sync>;

/// One way of delivering an alert.
#[derive(Clone)]
pub(crate) enum Action {
    Webhook(Arc<Webhook>),
    #[cfg(feature = "alert-email")]
    Email(Arc<super::Email>),
    Callback(Callback),
}

impl Action {
    /// The retries after a failed attempt, and the first backoff.
    pub(crate) fn retry(&self) -> (u32, Duration) {
        match self {
            Action::Webhook(w) => (w.retries, w.backoff),
            #[cfg(feature = "alert-email")]
            Action::Email(e) => (e.retries, e.backoff),
            Action::Callback(_) => (0, Duration::ZERO),
        }
    }
}

/// A webhook: the alert's JSON payload POSTed to a URL, signed with
/// HMAC-SHA256 in `X-Signature: sha256=<hex>` when a secret is set.
///
/// Delivery is off the application's threads: each attempt has a timeout
/// (5 s), a failed one (no answer, or a status other than 2xx) is retried
/// with exponential backoff and jitter (5 retries, from 200 ms), and an
/// alert that could not be delivered is counted
/// ([`AlertStats::deliveries_failed`](super::AlertStats::deliveries_failed)).
///
/// The client is `reqwest`'s, without a TLS backend: for `https://` URLs
/// enable one (`rustls-tls` or `native-tls`) in your own `reqwest`
/// dependency.
#[derive(Clone)]
pub struct Webhook {
    pub(crate) url: String,
    secret: Option<Vec<u8>>,
    pub(crate) timeout: Duration,
    retries: u32,
    backoff: Duration,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.shown_url())
            .field("secret", &self.secret.as_ref().map(|_| "[REDACTED]"))
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl Webhook {
    /// A webhook to `url`, unsigned until [`secret`](Webhook::secret).
    pub fn new(url: impl Into<String>) -> Webhook {
        Webhook {
            url: url.into(),
            secret: None,
            timeout: Duration::from_secs(5),
            retries: 5,
            backoff: Duration::from_millis(200),
        }
    }

    /// The HMAC-SHA256 key: every POST carries
    /// `X-Signature: sha256=<hex of HMAC(secret, body)>`.
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Webhook {
        self.secret = Some(secret.as_ref().to_vec());
        self
    }

    /// The timeout of one attempt (5 s). At most a century
    /// ([`MAX_WINDOW`](super::MAX_WINDOW)): a longer one, up to
    /// `Duration::MAX`, counts as that.
    pub fn timeout(mut self, timeout: Duration) -> Webhook {
        self.timeout = timeout.min(super::MAX_WINDOW);
        self
    }

    /// Retries after a failed attempt (5).
    pub fn retries(mut self, retries: u32) -> Webhook {
        self.retries = retries;
        self
    }

    /// The wait before the first retry (200 ms), doubled for each next one
    /// (at most 60 s), plus up to half again at random.
    pub fn backoff(mut self, backoff: Duration) -> Webhook {
        self.backoff = backoff;
        self
    }

    /// The URL as reports show it: without credentials, query or
    /// fragment, which may hold secrets.
    pub(crate) fn shown_url(&self) -> String {
        match reqwest::Url::parse(&self.url) {
            Ok(mut url) => {
                let _ = url.set_username("");
                let _ = url.set_password(None);
                url.set_query(None);
                url.set_fragment(None);
                url.to_string()
            }
            Err(_) => "[unparsable URL]".to_owned(),
        }
    }

    /// The `X-Signature` value for `body`, if a secret is set.
    pub(crate) fn signature(&self, body: &[u8]) -> Option<String> {
        let secret = self.secret.as_ref()?;
        Some(sign(secret, body))
    }
}

/// `sha256=<hex of HMAC-SHA256(secret, body)>`: what a receiver compares
/// with the `X-Signature` header (in constant time).
///
/// ```
/// # #[cfg(feature = "alert")] {
/// let sig = tracing_audit::alert::sign(b"key", b"The quick brown fox jumps over the lazy dog");
/// assert_eq!(sig, "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
/// # }
/// ```
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The wait before retry `attempt` (0 for the first retry): `base`
/// doubled per attempt, at most 60 s, plus up to half again at random.
pub(crate) fn backoff(base: Duration, attempt: u32) -> Duration {
    let doubled = base.saturating_mul(1u32 << attempt.min(20));
    let capped = doubled.min(Duration::from_secs(60));
    capped + capped.mul_f64(fastrand::f64() * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_millis(100);
        for attempt in 0..4 {
            let d = backoff(base, attempt);
            let floor = base * (1 << attempt);
            assert!(d >= floor && d <= floor + floor / 2, "{attempt}: {d:?}");
        }
        assert!(backoff(base, 40) <= Duration::from_secs(90));
    }

    #[test]
    fn reports_show_the_url_without_credentials_or_query() {
        let w = Webhook::new("http://bob:pw@127.0.0.1:9/hook?token=abc#x");
        assert_eq!(w.shown_url(), "http://127.0.0.1:9/hook");
        assert!(!format!("{w:?}").contains("abc"));
        assert_eq!(Webhook::new("not a url").shown_url(), "[unparsable URL]");
    }

    #[test]
    fn the_secret_is_not_printed() {
        let w = Webhook::new("http://127.0.0.1/").secret("hunter2");
        assert!(!format!("{w:?}").contains("hunter2"));
        assert!(w.signature(b"x").is_some_and(|s| s.starts_with("sha256=")));
        assert!(Webhook::new("http://x/").signature(b"x").is_none());
    }
}
