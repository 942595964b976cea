//! The one source of "now". Every function's store carries a [`Clock`]; in production it
//! is the system clock, in tests a [`Clock::manual`] that the test moves forward — so an
//! invitation, a session or a rotation overlap expires because time passed, not because a
//! test edited an item.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Unix time, with an optional offset a test controls. Cheap to clone; clones share the
/// offset, so every state built from one clock sees the same time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock (what every Lambda uses).
    pub fn system() -> Self {
        Self::default()
    }

    /// The system clock plus an offset that only moves when [`Clock::advance`] is called.
    pub fn manual() -> Self {
        Self {
            offset_ms: Some(Arc::new(AtomicI64::new(0))),
        }
    }

    /// Moves a manual clock forward (no effect on the system clock: production time
    /// cannot be moved by accident).
    pub fn advance(&self, by: Duration) {
        if let Some(offset) = &self.offset_ms {
            offset.fetch_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX), Ordering::SeqCst);
        }
    }

    pub fn now_millis(&self) -> i64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        system + self.offset_ms.as_ref().map_or(0, |o| o.load(Ordering::SeqCst))
    }

    pub fn now_secs(&self) -> i64 {
        self.now_millis().div_euclid(1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let clock = Clock::manual();
        let other = clock.clone();
        let before = clock.now_secs();
        clock.advance(Duration::from_secs(86_400));
        assert!(other.now_secs() >= before + 86_400);
        assert!(other.now_secs() < before + 86_400 + 60);
        let system = Clock::system();
        system.advance(Duration::from_secs(86_400));
        assert!(system.now_secs() < before + 60, "the system clock cannot be moved");
    }
}
