#![doc = include_str!("docs/shipping.md")]
