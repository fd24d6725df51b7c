//! Where the app's "now" comes from: the system clock, or a clock a test moves. Two readings:
//! the wall clock (shown, and stamped on rows) and a monotonic one that data ages are measured
//! on, so a wall-clock jump never makes old data look fresh.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use crate::session::Monotonic;

/// Where "now" comes from: the system clock, or a clock a test moves.
#[derive(Clone, Default)]
pub struct Clock {
    fake: Option<Arc<Mutex<Timestamp>>>,
    monotonic: Monotonic,
}

impl Clock {
    /// A clock that stays where the test puts it. Its monotonic reading is the system's unless
    /// the test also hands one in ([`Clock::with_monotonic`]).
    pub fn fake(start: Timestamp) -> (Clock, Arc<Mutex<Timestamp>>) {
        let cell = Arc::new(Mutex::new(start));
        (
            Clock {
                fake: Some(cell.clone()),
                monotonic: Monotonic::default(),
            },
            cell,
        )
    }

    /// This clock with `monotonic` as its monotonic reading (a test's fake).
    #[must_use]
    pub fn with_monotonic(self, monotonic: Monotonic) -> Clock {
        Clock { monotonic, ..self }
    }

    pub fn now(&self) -> Timestamp {
        match &self.fake {
            Some(cell) => cell.lock().map_or_else(|e| *e.into_inner(), |t| *t),
            None => Timestamp::now(),
        }
    }

    /// The monotonic clock live sessions measure data ages on.
    pub fn monotonic(&self) -> Monotonic {
        self.monotonic.clone()
    }
}
