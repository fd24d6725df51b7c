//! How the monitor presents what it knows, for the screen and the reports alike: the palette
//! ([`palette`], plain RGB), the text formats of durations, times and numbers ([`text`]) and
//! the typeface ([`typeface`]).
//!
//! Architecture Invariant: headless. The screen (`ui/`) converts these colours to its own type
//! and the reports (`export/`) to theirs; neither keeps a colour or a format of its own that
//! this module already has.

pub mod palette;
pub mod text;
pub mod typeface;
