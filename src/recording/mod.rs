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
pub use reader::{LoadError, Recording, RowProblem, load};
pub use writer::{RecordError, Recorder, SYNC_INTERVAL};
