//! The one definition of stale data, used by the alarm engine, the tiles and the header.
//!
//! A sample is *fresh* while it is younger than [`STALE_AFTER_S`]; from then on it is *stale*:
//! the engine raises `MON_NO_DATA` and judges no value alarm on it, the tiles are dimmed and say
//! how old they are, the header says "no data". A sample whose age cannot be known (its receipt
//! time is after "now" on the wall clock: the clock went back) is stale too.
//!
//! Ages are measured on a monotonic clock (`std::time::Instant`, read when the live session takes
//! the sample in), so a wall-clock jump cannot make old data look fresh. The wall clock is used
//! only for a sample that has no monotonic stamp: one read back from the recording when a session
//! is resumed, or a replay's moment.
//!
//! The serial worker's silence timeout (`WorkerConfig::silence_timeout`, 5 s) is a separate
//! transport setting: no *byte* at all for that long is recorded as `LINK_SILENT`. It is shorter
//! than the stale limit, so a quiet line is on the record before the screen calls its data stale;
//! staleness itself counts *samples*, so a machine that sends only identity sentences or noise
//! still goes stale.

use std::time::Instant;

use jiff::Timestamp;

/// A sample this many seconds old, or older, is stale.
pub const STALE_AFTER_S: f64 = 10.0;

/// Whether a sample `age_s` seconds old is fresh: not negative, and younger than the stale
/// limit. A negative age (the clock went back) or `NaN` is never fresh.
pub fn is_fresh(age_s: f64) -> bool {
    (0.0..STALE_AFTER_S).contains(&age_s)
}

/// How old the latest sample is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleAge {
    /// Seconds since it was received (never negative).
    Secs(f64),
    /// Its receipt time is after now on the wall clock (the clock went back): its age is not
    /// known, and it counts as stale.
    Unknown,
}

impl SampleAge {
    /// The age of a sample received at monotonic time `received`, at `now`.
    pub fn monotonic(received: Instant, now: Instant) -> SampleAge {
        SampleAge::Secs(now.saturating_duration_since(received).as_secs_f64())
    }

    /// The age of a sample received at wall-clock time `received`, at `now`; a receipt time
    /// after `now` gives [`SampleAge::Unknown`].
    pub fn wall(received: Timestamp, now: Timestamp) -> SampleAge {
        let secs = now.duration_since(received).as_secs_f64();
        if secs >= 0.0 {
            SampleAge::Secs(secs)
        } else {
            SampleAge::Unknown
        }
    }

    /// The age of the latest sample: on the monotonic clock when it has a monotonic stamp,
    /// otherwise on the wall clock. `None` before any sample.
    pub fn of_latest(
        monotonic: Option<(Instant, Instant)>,
        wall: Option<(Timestamp, Timestamp)>,
    ) -> Option<SampleAge> {
        match (monotonic, wall) {
            (Some((received, now)), _) => Some(SampleAge::monotonic(received, now)),
            (None, Some((received, now))) => Some(SampleAge::wall(received, now)),
            (None, None) => None,
        }
    }

    pub fn is_fresh(self) -> bool {
        match self {
            SampleAge::Secs(s) => is_fresh(s),
            SampleAge::Unknown => false,
        }
    }

    /// Seconds, with an unknown age as infinitely old (what the alarm engine takes).
    pub fn as_secs(self) -> f64 {
        match self {
            SampleAge::Secs(s) => s,
            SampleAge::Unknown => f64::INFINITY,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jiff::SignedDuration;

    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    #[test]
    fn fresh_is_from_zero_up_to_but_not_including_the_stale_limit() {
        assert!(is_fresh(0.0));
        assert!(is_fresh(9.999));
        assert!(!is_fresh(10.0), "10 s old is stale");
        assert!(!is_fresh(18.0));
        assert!(!is_fresh(-0.001), "a negative age is never fresh");
        assert!(!is_fresh(f64::NAN));
        assert!(!is_fresh(f64::INFINITY));
    }

    #[test]
    fn a_receipt_time_after_now_on_the_wall_clock_is_an_unknown_age_and_stale() {
        // The wall clock went back 1 h after a sample was received.
        let received = at(3600);
        assert_eq!(SampleAge::wall(received, at(0)), SampleAge::Unknown);
        assert!(!SampleAge::Unknown.is_fresh());
        assert_eq!(SampleAge::Unknown.as_secs(), f64::INFINITY);
        // The same sample seen 3 s and 12 s later.
        assert_eq!(SampleAge::wall(received, at(3603)), SampleAge::Secs(3.0));
        assert!(SampleAge::wall(received, at(3603)).is_fresh());
        assert!(!SampleAge::wall(received, at(3612)).is_fresh());
    }

    #[test]
    fn the_monotonic_stamp_wins_over_the_wall_clock() {
        let t0 = Instant::now();
        let later = |s: u64| t0 + Duration::from_secs(s);
        // Received 30 s ago on the monotonic clock; the wall clock went back an hour, so on the
        // wall clock it was received "in the future". Stale, 30 s old.
        let age = SampleAge::of_latest(Some((t0, later(30))), Some((at(3600), at(30))));
        assert_eq!(age, Some(SampleAge::Secs(30.0)));
        assert!(!age.unwrap().is_fresh());
        // Received 2 s ago; the wall clock jumped forward a day: still fresh.
        let day = at(0).checked_add(SignedDuration::from_hours(24)).unwrap();
        let age = SampleAge::of_latest(Some((t0, later(2))), Some((at(0), day)));
        assert_eq!(age, Some(SampleAge::Secs(2.0)));
        assert!(age.unwrap().is_fresh());
        // No monotonic stamp (read back from the recording): the wall clock decides.
        assert_eq!(
            SampleAge::of_latest(None, Some((at(0), at(12)))),
            Some(SampleAge::Secs(12.0))
        );
        assert_eq!(
            SampleAge::of_latest(None, Some((at(12), at(0)))),
            Some(SampleAge::Unknown)
        );
        assert_eq!(SampleAge::of_latest(None, None), None);
    }
}
