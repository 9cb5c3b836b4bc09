//! Time is passed in (ARCHITECTURE.md invariant): tokens, offsets and expiry use a [`Clock`], so
//! tests can skew it.
use time::OffsetDateTime;

/// A source of "now".
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current UTC time.
    fn now(&self) -> OffsetDateTime;
}

/// The laptop's real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
