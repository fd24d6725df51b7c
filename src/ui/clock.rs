//! Where the app's "now" comes from: the system clock, or a clock a test moves.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;

/// Where "now" comes from: the system clock, or a clock a test moves.
#[derive(Clone, Default)]
pub struct Clock {
    fake: Option<Arc<Mutex<Timestamp>>>,
}

impl Clock {
    /// A clock that stays where the test puts it.
    pub fn fake(start: Timestamp) -> (Clock, Arc<Mutex<Timestamp>>) {
        let cell = Arc::new(Mutex::new(start));
        (
            Clock {
                fake: Some(cell.clone()),
            },
            cell,
        )
    }

    pub fn now(&self) -> Timestamp {
        match &self.fake {
            Some(cell) => cell.lock().map_or_else(|e| *e.into_inner(), |t| *t),
            None => Timestamp::now(),
        }
    }
}
