//! Every figure of the table reaches every output: the JSON under its key, the CSV under its
//! column with its register decimals, the text on its line with its unit and decimals; and a
//! figure that could not be computed is `null`, an empty cell and "not computed", its reason
//! listed in each. The test walks the table, so a figure added to it (one row) is checked
//! without a change here.
//!
//! The values are made up so that each is told apart from the others; what a figure's text
//! looks like is spelt out below from its unit and decimals, the duration and cell-count
//! formats being checked by hand in `present::text`.

use apheresis_monitor::analysis::summary::figures::{Kind, Shown, Unit};
use apheresis_monitor::analysis::summary::{Figure, Summary, Unavailable, Value};
use apheresis_monitor::export::{self, REGISTER_COLUMNS};
use apheresis_monitor::present::text;
use jiff::Timestamp;

/// The `i`-th figure's value: a time `i` minutes after 08:00 UTC, a count of `10 + i`, or the
/// number `100 i + 0.123456`.
fn made_up(i: usize, figure: Figure) -> Value {
    match figure.def().unit.kind() {
        Kind::Time => Value::Time(utc(i).parse().expect("a time")),
        Kind::Count => Value::Count(10 + i as u64),
        Kind::Number => Value::Number(100.0 * i as f64 + 0.123_456),
    }
}

/// `i` minutes after 08:00 on 2026-03-14, as the JSON and the CSV write a time.
fn utc(i: usize) -> String {
    format!("2026-03-14T{:02}:{:02}:00.000Z", 8 + i / 60, i % 60)
}

/// The value as people read it, from the figure's unit and decimals.
fn for_people(figure: Figure, value: Value) -> String {
    let def = figure.def();
    let d = def.decimals;
    match (value, def.unit) {
        (Value::Time(t), _) => text::local_time(t),
        (Value::Count(n), Unit::Count(noun)) if !noun.of(n).is_empty() => {
            format!("{n} {}", noun.of(n))
        }
        (Value::Count(n), _) => n.to_string(),
        (Value::Number(v), Unit::Seconds) => text::duration(v),
        (Value::Number(v), Unit::Cells) => format!("{} cells", text::cells(v, d)),
        (Value::Number(v), Unit::Ratio) => format!("{v:.d$}"),
        (Value::Number(v), unit) => format!("{v:.d$} {}", unit.symbol()),
    }
}

/// The label of the line `figure` is shown on: its own, or that of the figure it joins.
fn line_label(figure: Figure) -> &'static str {
    let at = Figure::ALL
        .iter()
        .position(|&f| f == figure)
        .expect("in the table");
    Figure::ALL[..=at]
        .iter()
        .rev()
        .find(|f| !matches!(f.def().shown, Shown::Joined(_)))
        .expect("a joined figure follows a figure with a line")
        .def()
        .label
}

/// Width of the text's label column.
const LABEL_WIDTH: usize = 22;

/// The text's line labelled `label` (in the label column).
fn text_line<'a>(text: &'a str, label: &str) -> &'a str {
    let found: Vec<&str> = text
        .lines()
        .filter(|l| l.get(..LABEL_WIDTH).is_some_and(|l| l.trim_end() == label))
        .collect();
    assert_eq!(found.len(), 1, "one line labelled {label:?} in\n{text}");
    found[0]
}

/// The CSV's header and its one row.
fn csv_rows(s: &Summary) -> (Vec<String>, Vec<String>) {
    let bytes = export::csv_header_and_row(s);
    let mut rows = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice())
        .into_records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect());
    let header = rows.next().expect("a header");
    let row = rows.next().expect("a row");
    assert!(rows.next().is_none());
    (header, row)
}

fn cell<'a>(header: &[String], row: &'a [String], key: &str) -> &'a str {
    let i = header
        .iter()
        .position(|c| c == key)
        .unwrap_or_else(|| panic!("a column {key}"));
    &row[i]
}

#[test]
fn every_figure_is_written_in_the_json_the_csv_and_the_text() {
    let mut s = Summary::default();
    for (i, &figure) in Figure::ALL.iter().enumerate() {
        s.set(figure, made_up(i, figure));
    }
    let json: serde_json::Value = serde_json::from_str(&export::to_json(&s)).expect("JSON");
    let (header, row) = csv_rows(&s);
    assert_eq!(header, REGISTER_COLUMNS);
    let text = export::render_text(&s);
    assert!(!text.contains("not computed"), "{text}");

    for (i, &figure) in Figure::ALL.iter().enumerate() {
        let def = figure.def();
        let value = made_up(i, figure);
        let (in_json, in_csv) = match value {
            Value::Time(_) => (serde_json::json!(utc(i)), utc(i)),
            Value::Count(n) => (serde_json::json!(n), n.to_string()),
            Value::Number(v) => (
                serde_json::json!(v),
                format!("{v:.d$}", d = def.register_decimals),
            ),
        };
        assert_eq!(json[def.key], in_json, "{figure} in the JSON");
        assert_eq!(cell(&header, &row, def.key), in_csv, "{figure} in the CSV");
        let line = text_line(&text, line_label(figure));
        let shown = for_people(figure, value);
        assert!(line.contains(&shown), "{figure}: {shown:?} in {line:?}");
    }
}

#[test]
fn every_figure_not_computed_is_null_empty_and_explained() {
    let mut s = Summary::default();
    s.unavailable = Figure::ALL
        .iter()
        .enumerate()
        .map(|(i, &figure)| Unavailable {
            figure,
            reason: format!("reason number {i}"),
        })
        .collect();
    let json: serde_json::Value = serde_json::from_str(&export::to_json(&s)).expect("JSON");
    let (header, row) = csv_rows(&s);
    let text = export::render_text(&s);
    let not_computed = text
        .split_once("\nNot computed:\n")
        .expect("a list of what was not computed")
        .1;

    for (i, &figure) in Figure::ALL.iter().enumerate() {
        let key = figure.key();
        let reason = format!("reason number {i}");
        assert!(json[key].is_null(), "{figure} in the JSON");
        assert!(
            json["unavailable"]
                .as_array()
                .expect("a list")
                .contains(&serde_json::json!({ "figure": key, "reason": reason })),
            "{figure}'s reason in the JSON"
        );
        assert_eq!(cell(&header, &row, key), "", "{figure} in the CSV");
        assert!(
            cell(&header, &row, "unavailable").contains(&format!("{key}: {reason}")),
            "{figure}'s reason in the CSV"
        );
        assert!(
            not_computed.contains(&format!("  {key}: {reason}\n")),
            "{figure}'s reason in the text"
        );
        // A figure with a line of its own says so there; one joined to a line is left out.
        if !matches!(figure.def().shown, Shown::Joined(_)) {
            let line = text_line(&text, figure.def().label);
            assert!(line.ends_with(" not computed"), "{figure}: {line:?}");
        }
    }
}

/// The made-up times are what the JSON and the CSV write: RFC 3339 UTC to the millisecond.
#[test]
fn the_made_up_times_read_back() {
    let t: Timestamp = utc(61).parse().expect("a time");
    assert_eq!(
        t,
        Timestamp::from_second(1_773_475_200 + 61 * 60).expect("a time")
    );
}
