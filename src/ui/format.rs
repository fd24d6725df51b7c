//! How numbers, times and durations are written on screen: the shared formats of
//! [`crate::present::text`].

pub use crate::present::text::{
    age, clock_hm, clock_hms, duration_hm, duration_hms, grouped, in_duration,
};
