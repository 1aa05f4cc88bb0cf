//! Checkpoints: the last `seq` and `hash` written, kept apart from the
//! files (a side file, written atomically, and/or a callback), optionally
//! signed with an ed25519 key, so that a verifier can tell when the tail
//! of a chain was cut.
//!
//! The side file holds one JSON object:
//!
//! ```text
//! {"file":"audit.log","seq":42,"hash":"<64 hex>","timestamp":"…","signature":"<128 hex>","public_key":"<64 hex>"}
//! ```
//!
//! `signature` (and `public_key`, which names the key, not a reason to
//! trust it) are there when checkpoints are signed: ed25519 over the bytes
//! of [`Checkpoint::signed_message`], `tracing-audit checkpoint <file>
//! <seq> <hash>` (single spaces, no newline).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::de::Error as _;

/// The last record of a chain at some moment: what a verifier needs to
/// notice that records after it were removed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checkpoint {
    /// The live file's name (`audit.log`): which chain.
    pub file: String,
    /// The last record's `seq`.
    pub seq: u64,
    /// The last record's `hash` (64 lowercase hex digits).
    pub hash: String,
    /// When the checkpoint was taken (RFC 3339, UTC).
    pub timestamp: String,
    /// The ed25519 signature of [`signed_message`](Self::signed_message),
    /// in hex, when checkpoints are signed.
    pub signature: Option<String>,
    /// The signer's public key in hex, when checkpoints are signed.
    pub public_key: Option<String>,
}

impl Checkpoint {
    /// The bytes a signature covers:
    /// `tracing-audit checkpoint <file> <seq> <hash>`.
    pub fn signed_message(&self) -> Vec<u8> {
        format!(
            "tracing-audit checkpoint {} {} {}",
            self.file, self.seq, self.hash
        )
        .into_bytes()
    }

    /// The checkpoint as one line of JSON, ending in `\n`.
    pub fn to_json(&self) -> String {
        let mut map = serde_json::Map::new();
        map.insert("file".into(), self.file.clone().into());
        map.insert("seq".into(), self.seq.into());
        map.insert("hash".into(), self.hash.clone().into());
        map.insert("timestamp".into(), self.timestamp.clone().into());
        if let Some(s) = &self.signature {
            map.insert("signature".into(), s.clone().into());
        }
        if let Some(k) = &self.public_key {
            map.insert("public_key".into(), k.clone().into());
        }
        let mut line = serde_json::Value::Object(map).to_string();
        line.push('\n');
        line
    }

    /// Reads a checkpoint written by [`to_json`](Self::to_json).
    ///
    /// # Errors
    ///
    /// When `text` is not such an object.
    pub fn from_json(text: &str) -> Result<Checkpoint, serde_json::Error> {
        let value: serde_json::Value = serde_json::from_str(text.trim())?;
        let text_of = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let missing = |key: &str| serde_json::Error::custom(format!("checkpoint without `{key}`"));
        Ok(Checkpoint {
            file: text_of("file").ok_or_else(|| missing("file"))?,
            seq: value
                .get("seq")
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| missing("seq"))?,
            hash: text_of("hash").ok_or_else(|| missing("hash"))?,
            timestamp: text_of("timestamp").unwrap_or_default(),
            signature: text_of("signature"),
            public_key: text_of("public_key"),
        })
    }

    /// Checks the signature with the public key (32 bytes). `Ok(false)`
    /// when the checkpoint is not signed.
    ///
    /// # Errors
    ///
    /// When the key or the signature is malformed, or the signature does
    /// not match.
    #[cfg(feature = "chain-sign")]
    pub fn verify_signature(&self, public_key: &[u8; 32]) -> Result<bool, String> {
        use ed25519_dalek::{Signature, Verifier, VerifyingKey};
        let Some(signature) = &self.signature else {
            return Ok(false);
        };
        let key =
            VerifyingKey::from_bytes(public_key).map_err(|e| format!("bad public key: {e}"))?;
        let bytes: [u8; 64] = hex::decode(signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("the signature is not 64 bytes of hex")?;
        key.verify(&self.signed_message(), &Signature::from_bytes(&bytes))
            .map(|()| true)
            .map_err(|_| {
                "the checkpoint's signature does not match (forged or altered)".to_string()
            })
    }
}

/// Where a chain's checkpoints go by default: `<live file>.checkpoint`
/// beside it, or in `dir` when given.
pub(crate) fn side_file(live: &Path, dir: Option<&Path>) -> PathBuf {
    let mut name = live.file_name().unwrap_or_default().to_os_string();
    name.push(".checkpoint");
    match dir {
        Some(dir) => dir.join(name),
        None => live.with_file_name(name),
    }
}

/// Replaces `path` with `text` atomically: a temporary file beside it,
/// then a rename, so a reader sees the old checkpoint or the new one,
/// never half of one.
///
/// The temporary file is made with `O_EXCL`, which never follows a
/// symbolic link: whatever is at its name (left by a crash, or a link
/// planted by whoever can write the directory, to have this process
/// overwrite the file it names) is removed first, never written through.
pub(crate) fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let create = || {
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
    };
    let result = (|| {
        let mut file = match create() {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                fs::remove_file(&tmp)?;
                create()?
            }
            opened => opened?,
        };
        file.write_all(text.as_bytes())?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
