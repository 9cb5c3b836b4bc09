//! This crate only holds the desktop end-to-end test in `tests/probe.rs`; it has no library code.
