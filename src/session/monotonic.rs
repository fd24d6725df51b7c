//! Where the live session reads monotonic time: the system's `Instant`, or one a test moves.
//!
//! Data ages are measured on it (see [`crate::alarms::stale`]), never on the wall clock, so a
//! wall-clock jump cannot make old data look fresh. Tests hand in a fake and move it; nothing
//! in a test sleeps to make data old.

use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A monotonic clock: the system's, or a fake a test moves.
#[derive(Debug, Clone, Default)]
pub struct Monotonic {
    fake: Option<Arc<Mutex<Instant>>>,
}

impl Monotonic {
    /// A clock that stays where the test puts it (only ever move it forward).
    pub fn fake(start: Instant) -> (Monotonic, Arc<Mutex<Instant>>) {
        let cell = Arc::new(Mutex::new(start));
        (
            Monotonic {
                fake: Some(cell.clone()),
            },
            cell,
        )
    }

    pub fn now(&self) -> Instant {
        match &self.fake {
            Some(cell) => cell.lock().map_or_else(|e| *e.into_inner(), |t| *t),
            None => Instant::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_fake_stays_where_it_is_put() {
        let start = Instant::now();
        let (clock, cell) = Monotonic::fake(start);
        assert_eq!(clock.now(), start);
        *cell.lock().unwrap() = start + Duration::from_secs(30);
        assert_eq!(clock.clone().now(), start + Duration::from_secs(30));
        let system = Monotonic::default();
        assert!(system.now() >= start);
    }
}
