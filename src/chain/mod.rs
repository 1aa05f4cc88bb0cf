#![doc = include_str!("../docs/chain.md")]

mod checkpoint;
mod files;
mod options;
mod record;
pub(crate) mod small_file;
mod verify;
mod writer;

pub use checkpoint::Checkpoint;
pub use options::ChainOptions;
pub(crate) use record::MAX_ADDED;
pub use verify::{verify, Break, ChainReport, Report, VerifyError, VerifyOptions};
