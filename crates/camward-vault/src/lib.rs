//! Secrets at rest. Only this crate touches them.
