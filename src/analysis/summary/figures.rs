//! The summary's figures, in one table: each figure's key, label, unit, decimals and place in
//! the reports people read. The register's columns, the JSON, the text and the PDF rows are
//! generated from it, and a figure that cannot be computed is listed under its [`Figure`].
//!
//! Adding a figure is one row in the `figures!` table below (and its computation in
//! [`super::summarize_input`]); `tests/figures.rs` walks every row through the JSON, the CSV and
//! the text. The table's order is the register's column order, which a register file fixes for
//! ever: a new figure goes at the end of the table, and so makes a new register format.

use jiff::Timestamp;

/// What a figure counts or measures, and so how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// An instant: UTC in the JSON and the CSV, local time for people.
    Time,
    /// Seconds; people read a duration (`12 min 30 s`).
    Seconds,
    /// A whole number, followed for people by what it counts (`3 sentences lost`).
    Count(Noun),
    Ml,
    MlPerMin,
    MgPerKgPerMin,
    /// A ratio, without a unit.
    Ratio,
    Percent,
    /// A number of cells; people read it in scientific notation (`2.20 × 10⁸ cells`).
    Cells,
}

/// Which [`Value`] a unit holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Time,
    Count,
    Number,
}

impl Unit {
    /// The symbol written after the number for people (`""` for none).
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Ml => "mL",
            Unit::MlPerMin => "mL/min",
            Unit::MgPerKgPerMin => "mg/kg/min",
            Unit::Percent => "%",
            Unit::Cells => "cells",
            Unit::Seconds => "s",
            Unit::Time | Unit::Count(_) | Unit::Ratio => "",
        }
    }

    /// The kind of value a figure in this unit holds.
    pub fn kind(self) -> Kind {
        match self {
            Unit::Time => Kind::Time,
            Unit::Count(_) => Kind::Count,
            _ => Kind::Number,
        }
    }
}

/// What a count counts, in the singular and the plural (empty: nothing is written after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Noun {
    pub one: &'static str,
    pub many: &'static str,
}

impl Noun {
    /// A bare number.
    pub const NONE: Noun = Noun::same("");

    /// A word with no plural of its own (`1 high`, `2 high`).
    pub const fn same(word: &'static str) -> Noun {
        Noun {
            one: word,
            many: word,
        }
    }

    /// The words for `n` things.
    pub fn of(self, n: u64) -> &'static str {
        if n == 1 { self.one } else { self.many }
    }
}

/// Where a figure stands in the reports people read (the text and the PDF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// In the identity block at the head of the report.
    Header,
    /// On a line of its own, under its label, in one of the two columns of figures.
    Line(Column),
    /// On a line of its own at the top of its column: the column's headline figures (several
    /// leads stand in table order).
    Lead(Column),
    /// On the line of the figure before it in the table, after that figure's value.
    Joined(Join),
}

/// The two columns of figures in the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// Times, rates and events.
    Procedure,
    /// Volumes and the collection.
    Volumes,
}

/// How a figure joins the line before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// `, ` and the value: `1 high, 0 medium`.
    List,
    /// ` (… in total)`, only after a count above zero: `2 (3 min 10 s in total)`.
    InTotal,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FigureDef {
    /// The JSON key, the register's column, and the figure's name where the reports list
    /// what could not be computed.
    pub key: &'static str,
    /// What people read: the label of the figure's line (for a joined figure, its name).
    pub label: &'static str,
    pub unit: Unit,
    /// Decimals for people (text, PDF); for cells, of the mantissa.
    pub decimals: usize,
    /// Decimals in the register (CSV); the JSON keeps every digit.
    pub register_decimals: usize,
    pub shown: Shown,
}

/// A figure's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Time(Timestamp),
    Count(u64),
    Number(f64),
}

impl Value {
    pub fn kind(self) -> Kind {
        match self {
            Value::Time(_) => Kind::Time,
            Value::Count(_) => Kind::Count,
            Value::Number(_) => Kind::Number,
        }
    }
}

impl From<Timestamp> for Value {
    fn from(time: Timestamp) -> Value {
        Value::Time(time)
    }
}

impl From<u64> for Value {
    fn from(count: u64) -> Value {
        Value::Count(count)
    }
}

impl From<f64> for Value {
    fn from(number: f64) -> Value {
        Value::Number(number)
    }
}

/// Declares [`Figure`] (one variant per row) and the table (the rows, in the same order).
macro_rules! figures {
    ($( $(#[$doc:meta])* $figure:ident => $def:expr, )*) => {
        /// A figure of the summary: the typed key of a row of the table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Figure {
            $( $(#[$doc])* $figure, )*
        }

        impl Figure {
            /// Every figure, in the table's order (the register's).
            pub const ALL: &'static [Figure] = &[$(Figure::$figure),*];
        }

        /// The rows, in [`Figure`]'s order.
        const TABLE: &[FigureDef] = &[$($def),*];
    };
}

use Column::{Procedure, Volumes};
use Join::{InTotal, List};
use Shown::{Header, Joined, Lead, Line};
use Unit::{Cells, MgPerKgPerMin, Ml, MlPerMin, Percent, Ratio, Seconds, Time};

/// A count written as a bare number.
const COUNT: Unit = Unit::Count(Noun::NONE);

figures! {
    /// Receipt time of the first record (the recording's start, not the procedure's: see
    /// `run_start_utc`).
    StartedUtc => FigureDef {
        key: "started_utc", label: "Recording started", unit: Time,
        decimals: 0, register_decimals: 0, shown: Header,
    },
    /// Receipt time of the last record (the recording's end, not the procedure's: see
    /// `end_utc`).
    EndedUtc => FigureDef {
        key: "ended_utc", label: "Recording ended", unit: Time,
        decimals: 0, register_decimals: 0, shown: Header,
    },
    /// Session time from the first record to the last.
    DurationS => FigureDef {
        key: "duration_s", label: "Duration", unit: Seconds,
        decimals: 0, register_decimals: 1, shown: Line(Procedure),
    },
    RunTimeS => FigureDef {
        key: "run_time_s", label: "Run time", unit: Seconds,
        decimals: 0, register_decimals: 1, shown: Line(Procedure),
    },
    /// Number of times the machine entered PAUSE.
    PauseCount => FigureDef {
        key: "pause_count", label: "Pauses", unit: COUNT,
        decimals: 0, register_decimals: 0, shown: Line(Procedure),
    },
    PauseTimeS => FigureDef {
        key: "pause_time_s", label: "Pause time", unit: Seconds,
        decimals: 0, register_decimals: 1, shown: Joined(InTotal),
    },
    /// Final cumulative inlet volume (whole blood + AC).
    InletMl => FigureDef {
        key: "inlet_ml", label: "Inlet volume", unit: Ml,
        decimals: 1, register_decimals: 1, shown: Line(Volumes),
    },
    AcMl => FigureDef {
        key: "ac_ml", label: "AC volume", unit: Ml,
        decimals: 1, register_decimals: 1, shown: Line(Volumes),
    },
    /// Product bag volume.
    CollectMl => FigureDef {
        key: "collect_ml", label: "Product (machine)", unit: Ml,
        decimals: 1, register_decimals: 1, shown: Line(Volumes),
    },
    PlasmaMl => FigureDef {
        key: "plasma_ml", label: "Plasma volume", unit: Ml,
        decimals: 1, register_decimals: 1, shown: Line(Volumes),
    },
    ReplaceMl => FigureDef {
        key: "replace_ml", label: "Replacement volume", unit: Ml,
        decimals: 1, register_decimals: 1, shown: Line(Volumes),
    },
    /// `inlet_ml − ac_ml`.
    WbProcessedMl => FigureDef {
        key: "wb_processed_ml", label: "WB processed", unit: Ml,
        decimals: 1, register_decimals: 1, shown: Lead(Volumes),
    },
    /// The total blood volume: Nadler's from 25 kg, per kg by age band below, or entered by
    /// the nurse (the summary's `tbv_method` says which).
    TbvMl => FigureDef {
        key: "tbv_ml", label: "TBV", unit: Ml,
        decimals: 0, register_decimals: 0, shown: Line(Volumes),
    },
    /// `wb_processed_ml ÷ tbv_ml`.
    TbvProcessed => FigureDef {
        key: "tbv_processed", label: "TBV processed", unit: Ratio,
        decimals: 2, register_decimals: 3, shown: Line(Volumes),
    },
    /// Time-weighted mean inlet flow over RUN time.
    MeanInletMlMin => FigureDef {
        key: "mean_inlet_ml_min", label: "Mean inlet flow (RUN)", unit: MlPerMin,
        decimals: 1, register_decimals: 2, shown: Line(Procedure),
    },
    /// Time-weighted mean citrate infusion rate over RUN time (ACD-A).
    CitrateMeanMgKgMin => FigureDef {
        key: "citrate_mean_mg_kg_min", label: "Citrate, mean (RUN)", unit: MgPerKgPerMin,
        decimals: 2, register_decimals: 3, shown: Line(Procedure),
    },
    /// Highest citrate rate averaged over any minute of the session (RUN time only infuses).
    CitratePeakMgKgMin => FigureDef {
        key: "citrate_peak_mg_kg_min", label: "Citrate, peak 1-min", unit: MgPerKgPerMin,
        decimals: 2, register_decimals: 3, shown: Line(Procedure),
    },
    /// The machine's alarms (`APHE`) raised, by priority; the monitor's own are counted apart.
    AlarmsHigh => FigureDef {
        key: "alarms_high", label: "Machine alarms", unit: Unit::Count(Noun::same("high")),
        decimals: 0, register_decimals: 0, shown: Line(Procedure),
    },
    AlarmsMedium => FigureDef {
        key: "alarms_medium", label: "Medium alarms", unit: Unit::Count(Noun::same("medium")),
        decimals: 0, register_decimals: 0, shown: Joined(List),
    },
    AlarmsLow => FigureDef {
        key: "alarms_low", label: "Low alarms", unit: Unit::Count(Noun::same("low")),
        decimals: 0, register_decimals: 0, shown: Joined(List),
    },
    /// Nurse's notes, acknowledgements included.
    Notes => FigureDef {
        key: "notes", label: "Nurse notes", unit: COUNT,
        decimals: 0, register_decimals: 0, shown: Line(Procedure),
    },
    /// Sentences lost on the wire (sum of the `SEQ_GAP` rows).
    LostSentences => FigureDef {
        key: "lost_sentences", label: "Data link",
        unit: Unit::Count(Noun { one: "sentence lost", many: "sentences lost" }),
        decimals: 0, register_decimals: 0, shown: Line(Procedure),
    },
    /// Interruptions of the data (`LINK_LOST` and `LINK_SILENT` rows).
    LinkLosses => FigureDef {
        key: "link_losses", label: "Link interruptions",
        unit: Unit::Count(Noun { one: "interruption", many: "interruptions" }),
        decimals: 0, register_decimals: 0, shown: Joined(List),
    },
    /// Rows of the recording that could not be read.
    RowsSkipped => FigureDef {
        key: "rows_skipped", label: "Rows skipped", unit: COUNT,
        decimals: 0, register_decimals: 0, shown: Line(Procedure),
    },
    /// CD3+ cells in the product: product CD3+/µL × 1000 × product volume mL.
    Cd3YieldCells => FigureDef {
        key: "cd3_yield_cells", label: "CD3+ yield", unit: Cells,
        decimals: 2, register_decimals: 0, shown: Line(Volumes),
    },
    /// Collection efficiency CE2, %: product cells ÷ (pre-count/µL × 1000 × WB processed mL).
    Ce2Percent => FigureDef {
        key: "ce2_percent", label: "CE2", unit: Percent,
        decimals: 1, register_decimals: 2, shown: Line(Volumes),
    },
    /// Whole blood to process for the target dose at this efficiency, mL.
    WbNeededForTargetMl => FigureDef {
        key: "wb_needed_for_target_ml", label: "WB for target dose", unit: Ml,
        decimals: 0, register_decimals: 0, shown: Line(Volumes),
    },
    /// Receipt time of the first RUN: the procedure's start.
    RunStartUtc => FigureDef {
        key: "run_start_utc", label: "Run started", unit: Time,
        decimals: 0, register_decimals: 0, shown: Lead(Procedure),
    },
    /// Receipt time of the first RINSEBACK or END after the first RUN: the end of collection
    /// (for the product's shipping papers).
    CollectionEndUtc => FigureDef {
        key: "collection_end_utc", label: "Collection ended", unit: Time,
        decimals: 0, register_decimals: 0, shown: Lead(Procedure),
    },
    /// Receipt time of the first END after the first RUN (of the first END, when the machine
    /// never ran): the procedure's end.
    EndUtc => FigureDef {
        key: "end_utc", label: "Procedure ended", unit: Time,
        decimals: 0, register_decimals: 0, shown: Lead(Procedure),
    },
    /// The monitor's own alarms (`MON_` codes) raised, by priority.
    MonitorAlarmsHigh => FigureDef {
        key: "monitor_alarms_high", label: "Monitor alarms",
        unit: Unit::Count(Noun::same("high")),
        decimals: 0, register_decimals: 0, shown: Line(Procedure),
    },
    MonitorAlarmsMedium => FigureDef {
        key: "monitor_alarms_medium", label: "Medium monitor alarms",
        unit: Unit::Count(Noun::same("medium")),
        decimals: 0, register_decimals: 0, shown: Joined(List),
    },
    MonitorAlarmsLow => FigureDef {
        key: "monitor_alarms_low", label: "Low monitor alarms",
        unit: Unit::Count(Noun::same("low")),
        decimals: 0, register_decimals: 0, shown: Joined(List),
    },
}

/// How many figures there are.
pub const FIGURE_COUNT: usize = Figure::ALL.len();

impl Figure {
    /// The figure's row of the table.
    pub const fn def(self) -> &'static FigureDef {
        &TABLE[self as usize]
    }

    /// The figure's key: its JSON key and register column.
    pub const fn key(self) -> &'static str {
        self.def().key
    }

    /// The figure whose key is `key`.
    pub fn from_key(key: &str) -> Option<Figure> {
        Figure::ALL.iter().copied().find(|f| f.key() == key)
    }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_one_row_per_figure_with_a_unique_key() {
        assert_eq!(TABLE.len(), Figure::ALL.len());
        for (i, &figure) in Figure::ALL.iter().enumerate() {
            assert_eq!(figure as usize, i);
            assert_eq!(Figure::from_key(figure.key()), Some(figure));
        }
        let mut keys: Vec<&str> = Figure::ALL.iter().map(|f| f.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Figure::ALL.len(), "keys are unique");
    }

    #[test]
    fn a_joined_figure_follows_a_figure_with_a_line_and_counts_join_counts() {
        for pair in Figure::ALL.windows(2) {
            let (before, figure) = (pair[0].def(), pair[1].def());
            if let Shown::Joined(join) = figure.shown {
                assert!(
                    !matches!(before.shown, Shown::Header),
                    "{} joins a header figure",
                    figure.key
                );
                if join == Join::InTotal {
                    assert_eq!(before.unit.kind(), Kind::Count, "{}", figure.key);
                }
            }
        }
        assert!(!matches!(Figure::ALL[0].def().shown, Shown::Joined(_)));
    }
}
