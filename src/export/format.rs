//! How the summary's figures are written for people, shared by the text and PDF reports: the
//! lines of the figures table are generated from the table of figures, each figure where its
//! row says it is shown.

use std::fmt::Write as _;

use crate::analysis::summary::figures::{Column, Join, Shown};
use crate::analysis::summary::{AlarmRecord, Figure, Summary, Value};
use crate::model::Priority;
use crate::present::text::{self, duration};

/// One line of the figures table.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureRow {
    pub label: &'static str,
    /// The figure as written, or `None` when it could not be computed.
    pub value: Option<String>,
}

/// How long an alarm lasted, or why there is no duration.
pub fn alarm_duration(alarm: &AlarmRecord) -> String {
    match (alarm.duration_s, alarm.priority) {
        (Some(d), _) => duration(d),
        (None, Priority::Info) => "event".to_owned(),
        (None, _) => "not cleared".to_owned(),
    }
}

/// The machine as one line: `SIM-OPTIA, serial SN000123, software 1.0.0`.
pub fn machine(summary: &Summary) -> Option<String> {
    summary.machine.as_ref().map(|m| {
        let mut parts = vec![m.model.clone()];
        if !m.serial_no.is_empty() {
            parts.push(format!("serial {}", m.serial_no));
        }
        if !m.software_version.is_empty() {
            parts.push(format!("software {}", m.software_version));
        }
        parts.join(", ")
    })
}

/// The figures shown in the report's identity block (the start and end), in table order.
pub fn header_rows(s: &Summary) -> Vec<FigureRow> {
    Figure::ALL
        .iter()
        .filter(|f| f.def().shown == Shown::Header)
        .map(|&f| FigureRow {
            label: f.def().label,
            value: s.get(f).map(|v| text::figure(f.def(), v)),
        })
        .collect()
}

/// The lines of one column of figures: the column's lead first, then the others in table
/// order, each with the figures joined to it.
pub fn column_rows(s: &Summary, column: Column) -> Vec<FigureRow> {
    let mut leads = Vec::new();
    let mut rows = Vec::new();
    // The line the figure before belongs to, with that line's first value, when it is in this
    // column: whether it is a lead, its index, and its first figure's value.
    let mut open: Option<(bool, usize, Option<Value>)> = None;
    for &figure in Figure::ALL {
        let def = figure.def();
        let value = s.get(figure);
        match def.shown {
            Shown::Header => open = None,
            Shown::Line(c) | Shown::Lead(c) if c != column => open = None,
            Shown::Line(_) | Shown::Lead(_) => {
                let lead = matches!(def.shown, Shown::Lead(_));
                let list = if lead { &mut leads } else { &mut rows };
                let mut written = value.map(|v| text::figure(def, v));
                // The TBV says how it was arrived at, wherever it is shown.
                if let (Figure::TbvMl, Some(line), Some(method)) =
                    (figure, &mut written, s.tbv_method)
                {
                    let _ = write!(line, " ({})", method.short());
                }
                list.push(FigureRow {
                    label: def.label,
                    value: written,
                });
                open = Some((lead, list.len() - 1, value));
            }
            Shown::Joined(join) => {
                let Some((lead, index, first)) = open else {
                    continue;
                };
                let list = if lead { &mut leads } else { &mut rows };
                // A line whose first figure was not computed says so, and nothing more; a
                // joined figure that was not computed is left out.
                let (Some(line), Some(value)) = (&mut list[index].value, value) else {
                    continue;
                };
                let written = text::figure(def, value);
                match join {
                    Join::List => {
                        line.push_str(", ");
                        line.push_str(&written);
                    }
                    Join::InTotal => {
                        if matches!(first, Some(Value::Count(n)) if n > 0) {
                            let _ = write!(line, " ({written} in total)");
                        }
                    }
                }
            }
        }
    }
    leads.extend(rows);
    leads
}

/// The procedure figures (times, rates, events), in report order.
pub fn procedure_rows(s: &Summary) -> Vec<FigureRow> {
    column_rows(s, Column::Procedure)
}

/// The volume and collection figures, in report order.
pub fn volume_rows(s: &Summary) -> Vec<FigureRow> {
    column_rows(s, Column::Volumes)
}

/// One part of the collection record as the reports print it: a title and its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSection {
    pub title: &'static str,
    /// (label, value); a label may be a time for the records made during the run.
    pub rows: Vec<(String, String)>,
}

/// The collection record in the reports' words, part by part; parts with nothing in them are
/// left out, and nothing at all when the session has no collection record.
pub fn record_sections(s: &Summary) -> Vec<RecordSection> {
    let r = &s.record;
    // Every input behind the figures, for every session.
    let inputs = RecordSection {
        title: "Inputs",
        rows: r
            .inputs
            .iter()
            .map(|i| (i.label.clone(), i.value.clone()))
            .collect(),
    };
    if r.is_empty() {
        return [inputs]
            .into_iter()
            .filter(|s| !s.rows.is_empty())
            .collect();
    }
    let some = |rows: Vec<(&str, Option<String>)>| -> Vec<(String, String)> {
        rows.into_iter()
            .filter_map(|(label, value)| value.map(|v| (label.to_owned(), v)))
            .collect()
    };
    let dob = r.date_of_birth.as_ref().map(|d| match r.age_years {
        Some(age) => format!("{d} (age {age})"),
        None => d.clone(),
    });
    let access = match (&r.vascular_access, &r.access_site) {
        (Some(kind), Some(site)) => Some(format!("{kind}, {site}")),
        (Some(kind), None) => Some(kind.clone()),
        (None, site) => site.clone(),
    };
    let ml = |v: Option<f64>| v.map(|v| format!("{v:.1} mL"));
    let target = match (r.cd3_target_met, r.cd3_target_multiple) {
        (Some(true), Some(m)) => Some(format!("met: {m:.2} × the target dose")),
        (Some(false), Some(m)) => Some(format!("not met: {m:.2} × the target dose")),
        _ => None,
    };
    // A day of a collection over several days: the total so far against the target.
    let so_far = r
        .cd3_yield_so_far_cells
        .filter(|_| r.earlier_days > 0)
        .map(|cells| {
            let days = r.earlier_days + 1;
            let against = r.target_cd3_cells.map_or_else(String::new, |t| {
                format!(
                    ": {} the target dose",
                    if cells >= t { "meets" } else { "short of" }
                )
            });
            format!("{} cells over {days} days{against}", text::cells(cells, 2))
        });
    let timed = |lines: &[crate::analysis::summary::record::RecordLine]| {
        lines
            .iter()
            .map(|l| (text::offset_hms(l.at_s), l.text.clone()))
            .collect::<Vec<_>>()
    };
    let mut calcium = timed(&r.calcium);
    if !calcium.is_empty() {
        calcium.push((
            "in all".into(),
            format!("{} mmol calcium", r.calcium_total_mmol),
        ));
    }
    let sections = [
        inputs,
        RecordSection {
            title: "Chain of identity",
            rows: some(vec![
                ("Hospital number", r.hospital_number.clone()),
                ("NHS number", r.nhs_number.clone()),
                ("Date of birth", dob),
                ("Collection ID", r.collection_id.clone()),
                ("Vascular access", access),
                ("Operator", s.operator.clone()),
                ("Second checker", r.checker.clone()),
            ]),
        },
        RecordSection {
            title: "Consumables",
            rows: some(vec![
                ("Anticoagulant lot", r.anticoagulant_lot.clone()),
                ("Kit lot", r.kit_lot.clone()),
                ("Kit expiry", r.kit_expiry.clone()),
            ]),
        },
        RecordSection {
            title: "Labs",
            rows: r
                .labs
                .iter()
                .map(|l| (capitalised(&l.name), l.describe()))
                .collect(),
        },
        RecordSection {
            title: "Product",
            rows: some(vec![
                ("Volume, machine counter", ml(r.product_volume_machine_ml)),
                ("Volume, weighed bag", ml(r.product_volume_weighed_ml)),
                (
                    "CD3+ target dose",
                    r.target_cd3_cells
                        .map(|t| format!("{} cells", text::cells(t, 2))),
                ),
                ("CD3+ yield", target),
                ("CD3+ so far, all days", so_far),
            ]),
        },
        RecordSection {
            title: "Calcium given",
            rows: calcium,
        },
        RecordSection {
            title: "Reactions",
            rows: timed(&r.reactions),
        },
        RecordSection {
            title: "Vital signs",
            rows: timed(&r.vitals),
        },
        RecordSection {
            title: "Product samples",
            rows: timed(&r.product_samples),
        },
        RecordSection {
            title: "Record problems",
            rows: r
                .problems
                .iter()
                .map(|p| ("refused".to_owned(), p.clone()))
                .collect(),
        },
    ];
    sections
        .into_iter()
        .filter(|s| !s.rows.is_empty())
        .collect()
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
