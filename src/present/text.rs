//! How durations, times and numbers are written for people, on the screen and in the reports.
//!
//! Times are local (the system's time zone); the files meant for programs (JSON, CSV, the
//! recording) write UTC themselves.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::analysis::summary::figures::{FigureDef, Unit, Value};

const DATE_TIME_OFFSET: &str = "%Y-%m-%d %H:%M:%S %:z";
const DATE: &str = "%Y-%m-%d";
const HM: &str = "%H:%M";
const HMS: &str = "%H:%M:%S";

/// `time` in the zone `zone`, as `format` (strftime) writes it; fractions of a second are cut.
fn in_zone(time: Timestamp, zone: TimeZone, format: &str) -> String {
    time.to_zoned_datetime(zone).strftime(format).to_string()
}

/// Local date and time with the offset: `2026-03-14 09:05:00 +01:00`.
pub fn local_time(time: Timestamp) -> String {
    in_zone(time, TimeZone::system(), DATE_TIME_OFFSET)
}

/// Local date, `2026-03-14`.
pub fn local_date(time: Timestamp) -> String {
    in_zone(time, TimeZone::system(), DATE)
}

/// Local time of day, `10:42`.
pub fn clock_hm(time: Timestamp) -> String {
    in_zone(time, TimeZone::system(), HM)
}

/// Local time of day, `10:42:07`.
pub fn clock_hms(time: Timestamp) -> String {
    in_zone(time, TimeZone::system(), HMS)
}

/// Whole seconds of `secs`, rounded, and the sign.
fn whole_seconds(secs: f64) -> (&'static str, u64) {
    let sign = if secs < 0.0 { "-" } else { "" };
    (sign, secs.abs().round() as u64)
}

/// `4 h 05 min`, from whole seconds.
fn hours_minutes(total: u64) -> String {
    format!("{} h {:02} min", total / 3600, total / 60 % 60)
}

/// A duration as `2:37` (hours:minutes); negative durations get a sign.
pub fn duration_hm(secs: f64) -> String {
    let (sign, total) = whole_seconds(secs);
    format!("{sign}{}:{:02}", total / 3600, total / 60 % 60)
}

/// A duration as `2:37:12`; negative durations get a sign.
pub fn duration_hms(secs: f64) -> String {
    let (sign, total) = whole_seconds(secs);
    format!(
        "{sign}{}:{:02}:{:02}",
        total / 3600,
        total / 60 % 60,
        total % 60
    )
}

/// Session time since the start of the recording, `+1:02:03` (never negative).
pub fn offset_hms(secs: f64) -> String {
    format!("+{}", duration_hms(secs.max(0.0)))
}

/// Session time since the start of the recording, `1:02` (hours:minutes, never negative), for
/// time axes.
pub fn offset_hm(secs: f64) -> String {
    duration_hm(secs.max(0.0))
}

/// A duration in words: `4 h 05 min`, `12 min 30 s` or `45 s` (never negative).
pub fn duration(secs: f64) -> String {
    let total = secs.max(0.0).round() as u64;
    let (m, s) = (total / 60 % 60, total % 60);
    if total >= 3600 {
        hours_minutes(total)
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    }
}

/// A short age, `0:12` (minutes:seconds) or `1 h 05 min`.
pub fn age(secs: f64) -> String {
    let total = secs.max(0.0).round() as u64;
    if total >= 3600 {
        hours_minutes(total)
    } else {
        format!("{}:{:02}", total / 60, total % 60)
    }
}

/// A time to go, to the minute: `2 h 16 min` or `45 min` (as in "in 2 h 16 min").
pub fn in_duration(secs: f64) -> String {
    let minutes = (secs.max(0.0) / 60.0).round() as u64;
    if minutes >= 60 {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    } else {
        format!("{minutes} min")
    }
}

/// A whole number with thin-space thousands separators, `7 412`.
pub fn grouped(value: f64) -> String {
    let rounded = value.round();
    let negative = rounded < 0.0;
    let digits = format!("{}", rounded.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    if negative { format!("-{out}") } else { out }
}

/// A number to `decimals` places, followed by its unit when it has one: `715.0 mL`, `0.15`.
pub fn number(value: f64, decimals: usize, unit: &str) -> String {
    if unit.is_empty() {
        format!("{value:.decimals$}")
    } else {
        format!("{value:.decimals$} {unit}")
    }
}

/// A count of cells in scientific notation, the mantissa to `decimals` places:
/// `2.20 × 10⁸` (a count that is not positive and finite is written as it is).
pub fn cells(count: f64, decimals: usize) -> String {
    if count <= 0.0 || !count.is_finite() {
        return format!("{count}");
    }
    let exponent = count.log10().floor();
    let mantissa = count / 10f64.powf(exponent);
    // Rounding can carry 9.996 up to 10.00 (to 2 places; 9.96 to 10.0 to 1 place).
    let carries = mantissa >= 10.0 - 0.5 / 10f64.powi(decimals as i32);
    let (mantissa, exponent) = if carries {
        (mantissa / 10.0, exponent + 1.0)
    } else {
        (mantissa, exponent)
    };
    format!("{mantissa:.decimals$} × 10{}", superscript(exponent as i32))
}

/// `exponent` in superscript digits (`9` → `⁹`, `-3` → `⁻³`), as the labs write units.
pub fn superscript(exponent: i32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let sign = if exponent < 0 { "⁻" } else { "" };
    let digits: String = exponent
        .unsigned_abs()
        .to_string()
        .bytes()
        .map(|b| DIGITS[usize::from(b - b'0')])
        .collect();
    format!("{sign}{digits}")
}

/// A figure of the summary as people read it, by its unit: a local time, a duration, a count
/// and what it counts, cells in scientific notation, or a number with its unit symbol.
pub fn figure(def: &FigureDef, value: Value) -> String {
    match (value, def.unit) {
        (Value::Time(time), _) => local_time(time),
        (Value::Count(n), Unit::Count(noun)) if !noun.of(n).is_empty() => {
            format!("{n} {}", noun.of(n))
        }
        (Value::Count(n), _) => n.to_string(),
        (Value::Number(secs), Unit::Seconds) => duration(secs),
        (Value::Number(count), Unit::Cells) => {
            format!("{} {}", cells(count, def.decimals), Unit::Cells.symbol())
        }
        (Value::Number(v), unit) => number(v, def.decimals, unit.symbol()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations_read_as_a_nurse_expects() {
        assert_eq!(grouped(7412.4), "7\u{2009}412");
        assert_eq!(grouped(-45.0), "-45");
        assert_eq!(grouped(1_234_567.0), "1\u{2009}234\u{2009}567");
        assert_eq!(duration_hm(9420.0), "2:37");
        assert_eq!(duration_hms(9432.0), "2:37:12");
        assert_eq!(age(12.0), "0:12");
        assert_eq!(in_duration(8160.0), "2 h 16 min");
    }

    #[test]
    fn durations_and_counts_read_well() {
        assert_eq!(duration(4.0 * 3600.0 + 5.0 * 60.0 + 29.0), "4 h 05 min");
        assert_eq!(duration(750.0), "12 min 30 s");
        assert_eq!(duration(45.4), "45 s");
        assert_eq!(offset_hms(3723.0), "+1:02:03");
        assert_eq!(offset_hm(3723.0), "1:02");
        assert_eq!(cells(2.2e8, 2), "2.20 × 10⁸");
        assert_eq!(cells(9.999e8, 2), "1.00 × 10⁹");
        assert_eq!(cells(3.0e10, 1), "3.0 × 10¹⁰");
        assert_eq!(superscript(-3), "⁻³");
    }

    #[test]
    fn signs_and_edges() {
        // On screen a negative duration keeps its sign; a session offset is never negative.
        assert_eq!(duration_hm(-61.0), "-0:01");
        assert_eq!(duration_hms(-3723.0), "-1:02:03");
        assert_eq!(offset_hms(-5.0), "+0:00:00");
        assert_eq!(offset_hm(-5.0), "0:00");
        // Rounded to the second: 59.6 s is a minute.
        assert_eq!(duration(59.6), "1 min 00 s");
        assert_eq!(duration(3599.6), "1 h 00 min");
        assert_eq!(duration(-3.0), "0 s");
        assert_eq!(age(3900.0), "1 h 05 min");
        assert_eq!(in_duration(45.0 * 60.0), "45 min");
        assert_eq!(number(715.0, 1, "mL"), "715.0 mL");
        assert_eq!(number(0.147_24, 2, ""), "0.15");
        assert_eq!(cells(0.0, 2), "0");
        assert_eq!(cells(9.94e8, 2), "9.94 × 10⁸");
        assert_eq!(cells(9.94e8, 1), "9.9 × 10⁸");
        assert_eq!(cells(9.96e8, 1), "1.0 × 10⁹");
    }

    #[test]
    fn times_are_written_in_the_zone_with_its_offset() {
        let t: Timestamp = "2026-03-14T08:05:07.999Z".parse().unwrap();
        let paris_in_winter = TimeZone::fixed(jiff::tz::offset(1));
        assert_eq!(
            in_zone(t, paris_in_winter.clone(), DATE_TIME_OFFSET),
            "2026-03-14 09:05:07 +01:00"
        );
        assert_eq!(in_zone(t, paris_in_winter.clone(), DATE), "2026-03-14");
        assert_eq!(in_zone(t, paris_in_winter.clone(), HM), "09:05");
        // Fractions of a second are cut, not rounded.
        assert_eq!(in_zone(t, paris_in_winter, HMS), "09:05:07");
        let new_york = TimeZone::fixed(jiff::tz::offset(-5));
        assert_eq!(
            in_zone(t, new_york, DATE_TIME_OFFSET),
            "2026-03-14 03:05:07 -05:00"
        );
    }

    #[test]
    fn figures_are_written_by_their_unit() {
        use crate::analysis::summary::Figure;
        let text = |figure: Figure, value: Value| super::figure(figure.def(), value);
        assert_eq!(text(Figure::RunTimeS, Value::Number(780.0)), "13 min 00 s");
        assert_eq!(
            text(Figure::WbProcessedMl, Value::Number(715.0)),
            "715.0 mL"
        );
        assert_eq!(text(Figure::TbvMl, Value::Number(4_855.94)), "4856 mL");
        assert_eq!(text(Figure::TbvProcessed, Value::Number(0.147_24)), "0.15");
        assert_eq!(
            text(Figure::MeanInletMlMin, Value::Number(66.666)),
            "66.7 mL/min"
        );
        assert_eq!(
            text(Figure::CitratePeakMgKgMin, Value::Number(1.5)),
            "1.50 mg/kg/min"
        );
        assert_eq!(text(Figure::Ce2Percent, Value::Number(40.0)), "40.0 %");
        assert_eq!(
            text(Figure::Cd3YieldCells, Value::Number(2.2e8)),
            "2.20 × 10⁸ cells"
        );
        assert_eq!(text(Figure::Notes, Value::Count(2)), "2");
        assert_eq!(text(Figure::AlarmsHigh, Value::Count(1)), "1 high");
        assert_eq!(
            text(Figure::LostSentences, Value::Count(1)),
            "1 sentence lost"
        );
        assert_eq!(
            text(Figure::LostSentences, Value::Count(0)),
            "0 sentences lost"
        );
        assert_eq!(text(Figure::LinkLosses, Value::Count(2)), "2 interruptions");
    }
}
