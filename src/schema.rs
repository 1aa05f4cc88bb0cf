#![doc = include_str!("docs/schema.md")]
