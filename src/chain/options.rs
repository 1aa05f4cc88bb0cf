//! How a chain is configured: the key, the kinds, the checkpoints.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::writer::ChainWriter;
use super::Checkpoint;
use crate::appender::LineTransform;
use crate::Kind;

type OnCheckpoint = Arc<dyn Fn(&Checkpoint) + Send + Sync>;

/// The hash chain's settings, given to
/// [`Builder::chain`](crate::Builder::chain) (or, for an appender of
/// your own, turned into its line transform by
/// [`line_transform`](Self::line_transform)).
///
/// | setting | default |
/// |---|---|
/// | hash | SHA-256; HMAC-SHA256 with [`hmac_key`](Self::hmac_key) |
/// | kinds | `audit.log` and `login.log`; `api.log` with [`api`](Self::api) |
/// | [`checkpoint_every`](Self::checkpoint_every) | 10,000 records |
/// | [`checkpoint_interval`](Self::checkpoint_interval) | 60 s |
/// | checkpoint side file | `<file>.checkpoint` beside the file ([`checkpoint_dir`](Self::checkpoint_dir), [`no_checkpoint_file`](Self::no_checkpoint_file)) |
#[derive(Clone)]
pub struct ChainOptions {
    pub(crate) key: Option<Arc<[u8]>>,
    pub(crate) api: bool,
    pub(crate) every_records: u64,
    pub(crate) every: Option<Duration>,
    pub(crate) checkpoint_file: bool,
    pub(crate) checkpoint_dir: Option<PathBuf>,
    pub(crate) on_checkpoint: Option<OnCheckpoint>,
    #[cfg(feature = "chain-sign")]
    pub(crate) signing_key: Option<Arc<ed25519_dalek::SigningKey>>,
}

impl fmt::Debug for ChainOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainOptions")
            .field("key", &self.key.as_ref().map(|_| "[hidden]"))
            .field("api", &self.api)
            .field("every_records", &self.every_records)
            .field("every", &self.every)
            .field("checkpoint_file", &self.checkpoint_file)
            .field("checkpoint_dir", &self.checkpoint_dir)
            .finish_non_exhaustive()
    }
}

impl Default for ChainOptions {
    fn default() -> Self {
        ChainOptions {
            key: None,
            api: false,
            every_records: 10_000,
            every: Some(Duration::from_secs(60)),
            checkpoint_file: true,
            checkpoint_dir: None,
            on_checkpoint: None,
            #[cfg(feature = "chain-sign")]
            signing_key: None,
        }
    }
}

impl ChainOptions {
    /// The defaults (see the table above).
    pub fn new() -> Self {
        Self::default()
    }

    /// Hashes with HMAC-SHA256 under `key` instead of SHA-256: without the
    /// key nobody can make a chain that verifies, not even a consistent
    /// forgery of every file. Keep the key away from whoever can write the
    /// files.
    pub fn hmac_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.key = Some(Arc::from(key.as_ref()));
        self
    }

    /// Chains `api.log` too (off by default: request records are many and
    /// rarely evidence).
    pub fn api(mut self, on: bool) -> Self {
        self.api = on;
        self
    }

    /// A checkpoint after at most this many records (at least 1).
    pub fn checkpoint_every(mut self, records: u64) -> Self {
        self.every_records = records.max(1);
        self
    }

    /// A checkpoint at least this often while records are written (`None`:
    /// by count only). Checked after each written batch, not by a timer.
    pub fn checkpoint_interval(mut self, every: impl Into<Option<Duration>>) -> Self {
        self.every = every.into();
        self
    }

    /// Writes the checkpoint side files into `dir` rather than beside the
    /// files: somewhere whoever can write the files cannot.
    pub fn checkpoint_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.checkpoint_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// No side file: checkpoints go to [`on_checkpoint`](Self::on_checkpoint)
    /// only.
    pub fn no_checkpoint_file(mut self) -> Self {
        self.checkpoint_file = false;
        self
    }

    /// Hands every checkpoint to `f` as well (on the writer thread: keep it
    /// quick, e.g. send it to a task that stores it in a database, an
    /// object store or a notary). A panic in `f` is caught and reported.
    pub fn on_checkpoint(mut self, f: impl Fn(&Checkpoint) + Send + Sync + 'static) -> Self {
        self.on_checkpoint = Some(Arc::new(f));
        self
    }

    /// Signs every checkpoint with the ed25519 key whose 32-byte secret
    /// seed is `seed` (feature `chain-sign`).
    #[cfg(feature = "chain-sign")]
    pub fn sign_checkpoints(mut self, seed: [u8; 32]) -> Self {
        self.signing_key = Some(Arc::new(ed25519_dalek::SigningKey::from_bytes(&seed)));
        self
    }

    /// Whether `kind`'s file is chained.
    pub(crate) fn chains(&self, kind: Kind) -> bool {
        match kind {
            Kind::Audit | Kind::Login => true,
            Kind::Api => self.api,
            Kind::App => false,
        }
    }

    /// The line transform for an appender of the live file at `live`, to
    /// give to [`AppenderBuilder::line_transform`](crate::appender::AppenderBuilder::line_transform).
    /// Its chain start records say `level` `"AUDIT"` and `service_name`
    /// `"unknown"`; the [`Builder`](crate::Builder) fills in the kind's
    /// level and the service.
    pub fn line_transform(
        &self,
        live: impl AsRef<Path>,
    ) -> impl Fn() -> Box<dyn LineTransform> + Send + Sync + 'static {
        self.transform_for(live.as_ref(), "AUDIT", "unknown")
    }

    pub(crate) fn transform_for(
        &self,
        live: &Path,
        level: &str,
        service: &str,
    ) -> impl Fn() -> Box<dyn LineTransform> + Send + Sync + 'static {
        let options = self.clone();
        let live = live.to_path_buf();
        let (level, service) = (level.to_string(), service.to_string());
        move || -> Box<dyn LineTransform> {
            Box::new(ChainWriter::new(&options, &live, &level, &service))
        }
    }
}
