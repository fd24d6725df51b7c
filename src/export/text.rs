//! The plain-text summary, as printed by `apheresis-monitor summary`.

use std::fmt::Write as _;

use crate::analysis::records::Record;
use crate::analysis::summary::Summary;

use crate::present::text::{clock_hms, offset_hms};

use super::format::{
    FigureRow, alarm_duration, header_rows, machine, procedure_rows, record_sections, volume_rows,
};

/// Width of the label column.
const LABEL_WIDTH: usize = 22;
/// What an unavailable figure shows.
pub const NOT_COMPUTED: &str = "not computed";

/// The summary as readable plain text: identity, figures, notices, what could not be computed
/// and why, the alarm log and the notes.
pub fn render_text(s: &Summary) -> String {
    let mut out = String::new();
    let line = |out: &mut String, label: &str, value: &str| {
        let _ = writeln!(out, "{label:<LABEL_WIDTH$}{value}");
    };
    let _ = writeln!(
        out,
        "Session summary{}",
        s.recording_file
            .as_deref()
            .map(|f| format!(" — {f}"))
            .unwrap_or_default()
    );
    out.push('\n');
    line(
        &mut out,
        "Patient",
        s.patient_id.as_deref().unwrap_or("(no id)"),
    );
    line(
        &mut out,
        "Machine",
        machine(s).as_deref().unwrap_or("(not identified)"),
    );
    line(
        &mut out,
        "Operator",
        s.operator.as_deref().unwrap_or("(not recorded)"),
    );
    for r in header_rows(s) {
        line(
            &mut out,
            r.label,
            r.value.as_deref().unwrap_or(NOT_COMPUTED),
        );
    }
    out.push('\n');
    let figures = |out: &mut String, rows: Vec<FigureRow>| {
        for r in rows {
            line(out, r.label, r.value.as_deref().unwrap_or(NOT_COMPUTED));
        }
    };
    figures(&mut out, procedure_rows(s));
    out.push('\n');
    figures(&mut out, volume_rows(s));

    for section in record_sections(s) {
        let _ = writeln!(out, "\n{}:", section.title);
        // Labels in a column as wide as the longest, so no value runs into its label.
        let width = section
            .rows
            .iter()
            .map(|(label, _)| label.chars().count() + 2)
            .max()
            .unwrap_or(0)
            .max(LABEL_WIDTH - 2);
        for (label, value) in &section.rows {
            let _ = writeln!(out, "  {label:<width$}{value}");
        }
    }
    if !s.record.is_empty() {
        out.push_str(
            "\nOperator signature: ____________________   Checker signature: ____________________\n",
        );
    }

    if !s.notices.is_empty() {
        out.push_str("\nNotices:\n");
        for notice in &s.notices {
            let _ = writeln!(out, "  {notice}");
        }
    }

    let groups = s.unavailable_grouped();
    if !groups.is_empty() {
        out.push_str("\nNot computed:\n");
        for (figures, reason) in groups {
            let figures: Vec<&str> = figures.iter().map(|f| f.key()).collect();
            let _ = writeln!(out, "  {}: {reason}", figures.join(", "));
        }
    }

    out.push_str("\nAlarms and events:");
    if s.alarm_log.is_empty() {
        out.push_str(" none\n");
    } else {
        out.push('\n');
        for (i, a) in s.alarm_log.iter().enumerate() {
            let _ = writeln!(
                out,
                "  A{:<3} {} {}  {:<6} {:<24} {:<12} {}",
                i + 1,
                offset_hms(a.raised_s),
                clock_hms(a.raised_utc),
                a.priority.name(),
                a.code,
                alarm_duration(a),
                a.text
            );
        }
    }

    out.push_str("\nNotes:");
    if s.note_log.is_empty() {
        out.push_str(" none\n");
    } else {
        out.push('\n');
        for (i, n) in s.note_log.iter().enumerate() {
            let code = if n.code.is_empty() {
                String::new()
            } else {
                format!("[{}] ", n.code)
            };
            let _ = writeln!(
                out,
                "  N{:<3} {} {}  {code}{}",
                i + 1,
                offset_hms(n.at_s),
                clock_hms(n.time_utc),
                Record::readable(&n.text)
            );
        }
    }
    out
}
