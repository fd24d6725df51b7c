//! Session recordings: the append-only CSV journal, its reader, and the metadata beside it.
//!
//! Architecture Invariant: the recorder never drops a row it has been given. A row that cannot
//! be written stays queued, in order, until it can be; the error is returned every time.
//! Architecture Invariant: a recording file is created owner-only and never overwritten.

mod files;
pub mod format;
pub mod meta;
pub mod reader;
pub mod writer;

pub use files::{create_private_dir_all, create_private_file};
pub use format::{COLUMNS, escape_text, unescape_text};
pub use meta::{SessionMeta, meta_path_for, read_meta, write_meta};
pub use reader::{LoadError, Recording, RowProblem, SkipReason, load};
pub use writer::{RecordError, Recorder, SYNC_INTERVAL};

use std::path::{Path, PathBuf};

/// A unique recording name in `folder` for a session starting at `now` (local time).
pub fn new_recording_path(folder: &Path, now: jiff::Timestamp) -> PathBuf {
    let local = now.to_zoned_datetime(jiff::tz::TimeZone::system());
    let stem = local.strftime("session-%Y-%m-%d-%H%M%S").to_string();
    let mut path = folder.join(format!("{stem}.csv"));
    let mut n = 2;
    while path.exists() || meta_path_for(&path).exists() {
        path = folder.join(format!("{stem}-{n}.csv"));
        n += 1;
    }
    path
}
