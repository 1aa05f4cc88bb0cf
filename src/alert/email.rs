//! Alert emails over SMTP (feature `alert-email`, through `lettre`).

use std::fmt;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};

use super::Alert;

/// An address that did not parse, from [`Email::from`] or [`Email::to`].
#[derive(Debug)]
pub struct AddressError {
    address: String,
    source: lettre::address::AddressError,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an email address: {:?}", self.address)
    }
}

impl std::error::Error for AddressError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Alert emails: one plain-text message per alert, sent through an SMTP
/// server, retried like a webhook (3 retries from 1 s).
///
/// The connection is plain SMTP (`lettre` without TLS features, as the
/// crate chooses no TLS backend for you): use a relay on the host or the
/// local network, or give [`transport`](Email::transport) a transport of
/// your own built with `lettre`'s TLS features (and its credentials).
#[derive(Clone)]
pub struct Email {
    transport: SmtpTransport,
    from: Option<Mailbox>,
    to: Vec<Mailbox>,
    pub(crate) retries: u32,
    pub(crate) backoff: Duration,
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Email")
            .field("from", &self.from.as_ref().map(ToString::to_string))
            .field(
                "to",
                &self.to.iter().map(ToString::to_string).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

fn mailbox(address: &str) -> Result<Mailbox, AddressError> {
    address.parse().map_err(|source| AddressError {
        address: address.to_owned(),
        source,
    })
}

impl Email {
    /// Mail through the SMTP server at `host:port`, plain, with a 10 s
    /// timeout.
    pub fn smtp(host: &str, port: u16) -> Email {
        let transport = SmtpTransport::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(10)))
            .build();
        Email::transport(transport)
    }

    /// Mail through a `lettre` transport of your own (TLS, pooling).
    pub fn transport(transport: SmtpTransport) -> Email {
        Email {
            transport,
            from: None,
            to: Vec::new(),
            retries: 3,
            backoff: Duration::from_secs(1),
        }
    }

    /// The sender (`"Alerts <alerts@example.com>"` or a bare address).
    pub fn from(mut self, address: &str) -> Result<Email, AddressError> {
        self.from = Some(mailbox(address)?);
        Ok(self)
    }

    /// A recipient (call again for more).
    pub fn to(mut self, address: &str) -> Result<Email, AddressError> {
        self.to.push(mailbox(address)?);
        Ok(self)
    }

    /// Retries after a failed send (3).
    pub fn retries(mut self, retries: u32) -> Email {
        self.retries = retries;
        self
    }

    /// Sends the alert; the error says why not.
    pub(crate) fn send(&self, alert: &Alert) -> Result<(), String> {
        let from = self.from.clone().ok_or("no sender (Email::from)")?;
        if self.to.is_empty() {
            return Err("no recipient (Email::to)".to_owned());
        }
        let mut message = Message::builder().from(from);
        for to in &self.to {
            message = message.to(to.clone());
        }
        let subject = format!("[audit alert] {}: {}", alert.rule, alert.message);
        let body = format!(
            "{}\n\nrule: {}\nkey: {}\ncount: {}\nalert_id: {}\ntime: {}\n\n{}\n",
            alert.message,
            alert.rule,
            alert.key,
            alert.count,
            alert.alert_id,
            alert.timestamp,
            alert.payload()
        );
        let message = message
            .subject(subject)
            .body(body)
            .map_err(|e| e.to_string())?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
