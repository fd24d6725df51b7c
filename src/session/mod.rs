//! Sessions: how one starts (`start`), a live one (`live`), a recorded one played back
//! (`replay`), and the folder of recordings they are kept in (`library`).

pub mod library;
pub mod live;
pub mod monotonic;
pub mod replay;
pub mod start;

pub use live::{ACK_NOTE_CODE, Link, LiveSession, start_live_in_background};
pub use monotonic::Monotonic;
pub use replay::{Player, SPEED_RANGE};
pub use start::{Destination, Machine, Prepared, SessionStart, StartError, Started};
