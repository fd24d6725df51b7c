//! How numbers, times and durations are written on screen.

use jiff::Timestamp;

/// Local time of day, `10:42`.
pub fn clock_hm(t: Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%H:%M")
        .to_string()
}

/// Local time of day, `10:42:07`.
pub fn clock_hms(t: Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%H:%M:%S")
        .to_string()
}

/// A duration as `2:37` (hours:minutes); negative durations get a sign.
pub fn duration_hm(secs: f64) -> String {
    let sign = if secs < 0.0 { "-" } else { "" };
    let total = secs.abs().round() as u64;
    format!("{sign}{}:{:02}", total / 3600, total / 60 % 60)
}

/// A duration as `2:37:12`.
pub fn duration_hms(secs: f64) -> String {
    let sign = if secs < 0.0 { "-" } else { "" };
    let total = secs.abs().round() as u64;
    format!(
        "{sign}{}:{:02}:{:02}",
        total / 3600,
        total / 60 % 60,
        total % 60
    )
}

/// A short age, `0:12` (minutes:seconds) or `1 h 05 min`.
pub fn age(secs: f64) -> String {
    let total = secs.max(0.0).round() as u64;
    if total >= 3600 {
        format!("{} h {:02} min", total / 3600, total / 60 % 60)
    } else {
        format!("{}:{:02}", total / 60, total % 60)
    }
}

/// "in 2 h 16 min" style.
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
}
