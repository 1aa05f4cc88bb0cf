//! The `tracing-audit` command's library side (feature `cli`).

mod markup;
pub mod report;
pub mod stats;
mod svg;
mod timeline;
