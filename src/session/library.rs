//! The session library: the recordings in the session folder, each described from its first and
//! last rows (quick, however long the session), and whether it closed cleanly.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use crate::analysis::Patient;
use crate::analysis::collection::{CollectionKey, cd3_yield_cells, ce2_percent, target_cd3_cells};
use crate::analysis::progress::Target;
use crate::model::{Entry, EntryBody, LinkCode, MachineIdentity, MachineState, Quantity, Sample};
use crate::recording::format::{COLUMNS, entry_from_cells, header_row};
use crate::recording::read_meta;

/// How a recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// The machine reported END and recording closed.
    Complete,
    /// Recording was stopped before the machine reported END (the target may still have been
    /// reached: see [`SessionListing::status_text`]).
    Stopped,
    /// The machine reported END but the recording has no closing row: the procedure ended,
    /// the monitor then stopped without closing the file. Nothing is missing; it is not
    /// offered for resuming.
    EndedNotClosed,
    /// Recording never closed before the procedure ended: the monitor crashed or was killed,
    /// or lost power.
    Interrupted,
    /// Another monitor is recording into it now.
    InUse,
}

impl SessionStatus {
    pub fn label(self) -> &'static str {
        match self {
            SessionStatus::Complete => "complete",
            SessionStatus::Stopped => "stopped",
            SessionStatus::EndedNotClosed => "ended, not closed",
            SessionStatus::Interrupted => "interrupted",
            SessionStatus::InUse => "recording now",
        }
    }
}

/// One recording, as the library lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionListing {
    pub path: PathBuf,
    pub started_utc: Option<Timestamp>,
    pub last_row_utc: Option<Timestamp>,
    pub patient_id: Option<String>,
    pub duration_s: Option<f64>,
    pub wb_processed_ml: Option<f64>,
    pub status: SessionStatus,
    pub machine: Option<MachineIdentity>,
    /// The port recorded in the `CONNECTED` row.
    pub port: Option<String>,
    pub last_t_ms: Option<u64>,
    pub last_seq: Option<u32>,
    pub last_state: Option<MachineState>,
    /// The simulated machine's seed and speed, when the recording was a demo.
    pub demo: Option<crate::recording::meta::DemoMarker>,
    /// Each cumulative counter's last value in the recording's last rows (for the journal of a
    /// resumed recording to judge the next one by).
    pub last_counters: Sample,
    /// The whole blood processed as a fraction of the session's target (1.0 = reached), when
    /// the target and, for a target in TBVs, the patient's TBV are known.
    pub target_fraction: Option<f64>,
    /// The CAR-T collection this recording is a day of, with its figures from the metadata.
    pub collection: CollectionListing,
}

/// A recording's part in a CAR-T collection: which collection (patient number and collection
/// ID), the CD3+ yield and target dose its labs give, and its CE2.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionListing {
    pub key: Option<CollectionKey>,
    pub cd3_yield_cells: Option<f64>,
    pub target_cd3_cells: Option<f64>,
    pub ce2_percent: Option<f64>,
}

/// One collection over its days: how many sessions, the CD3+ yield summed over those that give
/// one, and the target dose (the latest day's).
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionTotal {
    pub key: CollectionKey,
    /// The sessions, oldest first.
    pub days: Vec<PathBuf>,
    /// Sessions whose labs give no yield yet (the product not yet counted).
    pub days_without_yield: usize,
    pub cd3_yield_cells: f64,
    pub target_cd3_cells: Option<f64>,
}

impl CollectionTotal {
    /// The cumulative yield against the target: `2.51 × 10⁹ of 2.00 × 10⁹ CD3+ (met)`.
    pub fn describe(&self) -> String {
        let cells = crate::present::text::cells(self.cd3_yield_cells, 2);
        match self.target_cd3_cells {
            Some(target) => format!(
                "{cells} of {} CD3+ cells ({})",
                crate::present::text::cells(target, 2),
                if self.cd3_yield_cells >= target {
                    "target met"
                } else {
                    "target not met yet"
                }
            ),
            None => format!("{cells} CD3+ cells"),
        }
    }
}

/// The collections the listings are days of, each with its cumulative CD3+ yield; recordings
/// not part of a collection are left out. In the order of each collection's first day.
pub fn collections(listings: &[SessionListing]) -> Vec<CollectionTotal> {
    let mut days: Vec<&SessionListing> = listings
        .iter()
        .filter(|l| l.collection.key.is_some())
        .collect();
    days.sort_by(|a, b| a.started_utc.cmp(&b.started_utc).then(a.path.cmp(&b.path)));
    let mut totals: Vec<CollectionTotal> = Vec::new();
    for day in days {
        let Some(key) = &day.collection.key else {
            continue;
        };
        let i = if let Some(i) = totals.iter().position(|t| &t.key == key) {
            i
        } else {
            totals.push(CollectionTotal {
                key: key.clone(),
                days: Vec::new(),
                days_without_yield: 0,
                cd3_yield_cells: 0.0,
                target_cd3_cells: None,
            });
            totals.len() - 1
        };
        let total = &mut totals[i];
        total.days.push(day.path.clone());
        match day.collection.cd3_yield_cells {
            Some(cells) => total.cd3_yield_cells += cells,
            None => total.days_without_yield += 1,
        }
        if day.collection.target_cd3_cells.is_some() {
            total.target_cd3_cells = day.collection.target_cd3_cells;
        }
    }
    totals
}

impl SessionListing {
    /// The status as the library shows it: a stopped recording says whether the target was
    /// reached, so a run past its target is never called stopped early.
    pub fn status_text(&self) -> String {
        let percent = self
            .target_fraction
            .map(|f| format!("{:.0} % of target", f * 100.0));
        match (self.status, self.target_fraction, percent) {
            (SessionStatus::Stopped, Some(f), Some(p)) if f >= 1.0 => {
                format!("stopped after the target ({p})")
            }
            (SessionStatus::Stopped, Some(_), Some(p)) => {
                format!("stopped before the target ({p})")
            }
            (SessionStatus::InUse, ..) | (_, None, _) | (_, _, None) => {
                self.status.label().to_owned()
            }
            (status, _, Some(p)) => format!("{} ({p})", status.label()),
        }
    }
}

/// Bytes read from each end of a file to describe it.
const HEAD_BYTES: u64 = 16 * 1024;
const TAIL_BYTES: u64 = 256 * 1024;

/// Lists the recordings in `folder`, newest first. Files that are not recordings are skipped.
pub fn scan(folder: &Path) -> io::Result<Vec<SessionListing>> {
    let mut listings = Vec::new();
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(listings),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "csv")
            && let Ok(listing) = inspect(&path)
        {
            listings.push(listing);
        }
    }
    listings.sort_by(|a, b| {
        b.started_utc
            .cmp(&a.started_utc)
            .then_with(|| b.path.cmp(&a.path))
    });
    Ok(listings)
}

/// Why a file could not be described.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path} is not a session recording")]
    NotRecording { path: PathBuf },
}

/// Describes one recording from its first and last rows and its metadata.
pub fn inspect(path: &Path) -> Result<SessionListing, InspectError> {
    let read = |source| InspectError::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(read)?;
    let len = file.metadata().map_err(read)?.len();
    let header = header_row();
    let mut head = Vec::new();
    (&mut file)
        .take(HEAD_BYTES)
        .read_to_end(&mut head)
        .map_err(read)?;
    if !head.starts_with(&header) {
        return Err(InspectError::NotRecording {
            path: path.to_owned(),
        });
    }
    let in_use = match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(std::fs::TryLockError::WouldBlock) => true,
        Err(std::fs::TryLockError::Error(_)) => false,
    };
    let head_rows = parse_rows(&head[header.len()..], false);
    let tail_start = len.saturating_sub(TAIL_BYTES).max(header.len() as u64);
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(tail_start)).map_err(read)?;
    file.read_to_end(&mut tail).map_err(read)?;
    let tail_rows = parse_rows(&tail, tail_start > header.len() as u64);

    let first_elapsed = head_rows.iter().find_map(|e| e.elapsed_ms);
    let last_elapsed = tail_rows.iter().rev().find_map(|e| e.elapsed_ms);
    let last_sample = tail_rows.iter().rev().find_map(|e| match &e.body {
        EntryBody::Sample(s) if s.get(Quantity::InletMl).is_some() => Some(*s),
        _ => None,
    });
    let closed = tail_rows
        .last()
        .is_some_and(|e| matches!(&e.body, EntryBody::Link(l) if l.code == LinkCode::Closed));
    let last_state = tail_rows.iter().rev().find_map(|e| match e.body {
        EntryBody::State(s) => Some(s),
        _ => None,
    });
    let ended = last_state == Some(MachineState::End);
    let status = match (in_use, closed, ended) {
        (true, ..) => SessionStatus::InUse,
        (false, true, true) => SessionStatus::Complete,
        (false, true, false) => SessionStatus::Stopped,
        (false, false, true) => SessionStatus::EndedNotClosed,
        (false, false, false) => SessionStatus::Interrupted,
    };
    let port = head_rows.iter().find_map(|e| match &e.body {
        EntryBody::Link(l) if l.code == LinkCode::Connected => {
            l.text.rsplit_once(" at ").map(|(port, _)| port.to_owned())
        }
        _ => None,
    });
    let meta = read_meta(path).ok().flatten();
    let patient = Patient::from_meta(meta.as_ref().and_then(|m| m.patient.as_ref()));
    let demo = meta.as_ref().and_then(|m| m.demo);
    let (target, _) = Target::from_meta(meta.as_ref().and_then(|m| m.targets.as_ref()));
    let wb_processed_ml = last_sample
        .and_then(|s| Some(s.get(Quantity::InletMl)? - s.get(Quantity::AcMl).unwrap_or(0.0)));
    let target_fraction = wb_processed_ml
        .zip(target.wb_ml(patient.tbv().map(|t| t.ml)))
        .filter(|&(_, target_ml)| target_ml > 0.0)
        .map(|(wb, target_ml)| wb / target_ml);
    Ok(SessionListing {
        path: path.to_owned(),
        started_utc: head_rows.first().map(|e| e.time_utc),
        last_row_utc: tail_rows.last().map(|e| e.time_utc),
        patient_id: patient.id,
        duration_s: first_elapsed
            .zip(last_elapsed)
            .map(|(a, b)| b.saturating_sub(a) as f64 / 1000.0),
        wb_processed_ml,
        status,
        machine: meta.as_ref().and_then(|m| m.machine.clone()),
        port,
        last_t_ms: last_elapsed,
        last_seq: tail_rows.iter().rev().find_map(|e| e.seq),
        last_state,
        demo,
        last_counters: last_counters(&tail_rows),
        target_fraction,
        collection: meta
            .as_ref()
            .map(|m| CollectionListing {
                key: CollectionKey::of(m),
                cd3_yield_cells: cd3_yield_cells(m),
                target_cd3_cells: target_cd3_cells(m),
                ce2_percent: wb_processed_ml.and_then(|wb| ce2_percent(m, wb)),
            })
            .unwrap_or_default(),
    })
}

/// Each cumulative counter's value in the last sample that carries it, since the machine's
/// time last went back (a new procedure starts every count afresh).
fn last_counters(rows: &[Entry]) -> Sample {
    let mut last = Sample::default();
    let mut last_t_ms = None;
    for entry in rows.iter().filter(|e| e.seq.is_some()) {
        if let Some(t_ms) = entry.elapsed_ms {
            if last_t_ms.is_some_and(|before| t_ms < before) {
                last = Sample::default();
            }
            last_t_ms = Some(t_ms);
        }
        if let EntryBody::Sample(sample) = &entry.body {
            for (q, value) in sample.iter().filter(|(q, _)| q.is_cumulative()) {
                last.set(q, value);
            }
        }
    }
    last
}

/// Parses whole rows from a chunk; with `skip_first`, the chunk starts mid-row and its first
/// line is dropped. Rows that do not parse are skipped.
fn parse_rows(chunk: &[u8], skip_first: bool) -> Vec<Entry> {
    let start = if skip_first {
        chunk
            .iter()
            .position(|&b| b == b'\n')
            .map_or(chunk.len(), |i| i + 1)
    } else {
        0
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&chunk[start..]);
    let mut rows = Vec::new();
    for record in reader.records().flatten() {
        let cells: Vec<&str> = record.iter().collect();
        if cells.len() >= COLUMNS.len()
            && let Ok(entry) = entry_from_cells(&cells)
        {
            rows.push(entry);
        }
    }
    rows
}

/// The newest interrupted session in `listings` whose last row is within `max_age_s` of `now`:
/// the one to offer for resuming after a crash.
pub fn recoverable(
    listings: &[SessionListing],
    now: Timestamp,
    max_age_s: f64,
) -> Option<&SessionListing> {
    listings.iter().find(|l| {
        l.status == SessionStatus::Interrupted
            && l.last_row_utc
                .is_some_and(|t| now.duration_since(t).as_secs_f64() <= max_age_s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LinkEvent, Sample};
    use crate::recording::Recorder;

    fn entry(secs: u64, body: EntryBody) -> Entry {
        Entry {
            time_utc: Timestamp::from_second(1_700_000_000 + secs as i64).unwrap(),
            elapsed_ms: Some(secs * 1000),
            seq: Some(secs as u32),
            body,
        }
    }

    fn write(path: &Path, rows: &[Entry]) {
        let mut recorder = Recorder::create(path).unwrap();
        for row in rows {
            recorder.append(row).unwrap();
        }
    }

    #[test]
    fn listing_tells_complete_stopped_and_interrupted_apart() {
        let dir = tempfile::tempdir().unwrap();
        let sample = |s: u64| {
            entry(
                s,
                EntryBody::Sample(
                    Sample::default()
                        .with(Quantity::InletMl, s as f64 * 10.0)
                        .with(Quantity::AcMl, s as f64),
                ),
            )
        };
        let closed = |s| entry(s, EntryBody::Link(LinkEvent::new(LinkCode::Closed, "x")));
        write(
            &dir.path().join("a.csv"),
            &[
                sample(10),
                sample(100),
                entry(101, EntryBody::State(MachineState::End)),
                closed(101),
            ],
        );
        write(
            &dir.path().join("b.csv"),
            &[sample(10), sample(50), closed(51)],
        );
        write(&dir.path().join("c.csv"), &[sample(10), sample(70)]);
        std::fs::write(dir.path().join("notes.csv"), "a,b\n1,2\n").unwrap();
        let listings = scan(dir.path()).unwrap();
        assert_eq!(listings.len(), 3);
        let by_name = |n: &str| listings.iter().find(|l| l.path.ends_with(n)).unwrap();
        assert_eq!(by_name("a.csv").status, SessionStatus::Complete);
        assert_eq!(by_name("a.csv").duration_s, Some(91.0));
        assert_eq!(by_name("a.csv").wb_processed_ml, Some(900.0));
        assert_eq!(by_name("b.csv").status, SessionStatus::Stopped);
        let c = by_name("c.csv");
        assert_eq!(c.status, SessionStatus::Interrupted);
        assert_eq!((c.last_t_ms, c.last_seq), (Some(70_000), Some(70)));
        let now = Timestamp::from_second(1_700_000_100).unwrap();
        assert_eq!(
            recoverable(&listings, now, 3600.0).map(|l| l.path.clone()),
            Some(c.path.clone())
        );
        assert!(recoverable(&listings, now, 1.0).is_none());
    }

    #[test]
    fn a_recording_being_written_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.csv");
        let mut recorder = Recorder::create(&path).unwrap();
        recorder
            .append(&entry(1, EntryBody::State(MachineState::Run)))
            .unwrap();
        assert_eq!(inspect(&path).unwrap().status, SessionStatus::InUse);
        drop(recorder);
        assert_eq!(inspect(&path).unwrap().status, SessionStatus::Interrupted);
    }

    #[test]
    fn a_listing_keeps_each_counters_last_value_since_the_machine_last_restarted() {
        let dir = tempfile::tempdir().unwrap();
        let counters = |secs: u64, values: &[(Quantity, f64)]| {
            let sample = values
                .iter()
                .fold(Sample::default(), |s, &(q, v)| s.with(q, v));
            entry(secs, EntryBody::Sample(sample))
        };
        let rows = [
            counters(
                10,
                &[(Quantity::InletMl, 100.0), (Quantity::CollectMl, 2.3)],
            ),
            // A partial sample: collect alone, then a flow (no counter).
            counters(20, &[(Quantity::CollectMl, 0.5)]),
            counters(30, &[(Quantity::InletMlMin, 60.0)]),
        ];
        let path = dir.path().join("a.csv");
        write(&path, &rows);
        let last = inspect(&path).unwrap().last_counters;
        assert_eq!(last.get(Quantity::InletMl), Some(100.0));
        assert_eq!(last.get(Quantity::CollectMl), Some(0.5));
        assert_eq!(last.get(Quantity::InletMlMin), None);
        // The machine's time went back (a new procedure): the counters before it are gone.
        let path = dir.path().join("b.csv");
        write(
            &path,
            &[rows[0].clone(), counters(5, &[(Quantity::InletMl, 3.0)])],
        );
        let last = inspect(&path).unwrap().last_counters;
        assert_eq!(last.get(Quantity::InletMl), Some(3.0));
        assert_eq!(last.get(Quantity::CollectMl), None);
    }

    /// A recording of `inlet_ml - ac_ml` of whole blood processed (`wb`), ended (END from the
    /// machine) or not, closed (its closing row) or not.
    fn run(dir: &Path, name: &str, wb: (f64, f64), ended: bool, closed: bool) -> PathBuf {
        let path = dir.join(name);
        let mut rows = vec![
            entry(1, EntryBody::State(MachineState::Run)),
            entry(
                100,
                EntryBody::Sample(
                    Sample::default()
                        .with(Quantity::InletMl, wb.0)
                        .with(Quantity::AcMl, wb.1),
                ),
            ),
        ];
        if ended {
            rows.push(entry(101, EntryBody::State(MachineState::End)));
        }
        if closed {
            rows.push(entry(
                102,
                EntryBody::Link(LinkEvent::new(LinkCode::Closed, "stopped")),
            ));
        }
        write(&path, &rows);
        path
    }

    fn target_litres(path: &Path, litres: f64) {
        let meta = crate::recording::SessionMeta {
            targets: Some(crate::recording::meta::TargetsMeta {
                wb_processed_l: Some(litres.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        crate::recording::meta::write_meta(path, &meta).unwrap();
    }

    #[test]
    fn a_run_stopped_past_its_target_is_not_called_stopped_early() {
        let dir = tempfile::tempdir().unwrap();
        // 1000 mL in, 115 mL of it AC: 885 mL of whole blood against 0.5 L, 177 %.
        let past = run(dir.path(), "past.csv", (1000.0, 115.0), false, true);
        target_litres(&past, 0.5);
        let listing = inspect(&past).unwrap();
        assert_eq!(listing.status, SessionStatus::Stopped);
        assert_eq!(
            listing.status_text(),
            "stopped after the target (177 % of target)"
        );
        // 225 mL of 0.5 L: 45 %, stopped before the target.
        let short = run(dir.path(), "short.csv", (250.0, 25.0), false, true);
        target_litres(&short, 0.5);
        assert_eq!(
            inspect(&short).unwrap().status_text(),
            "stopped before the target (45 % of target)"
        );
        // With no target known, only what happened.
        let unknown = run(dir.path(), "unknown.csv", (250.0, 25.0), false, true);
        assert_eq!(inspect(&unknown).unwrap().status_text(), "stopped");
        // A complete one says how far it went too.
        let complete = run(dir.path(), "complete.csv", (1000.0, 115.0), true, true);
        target_litres(&complete, 0.5);
        assert_eq!(
            inspect(&complete).unwrap().status_text(),
            "complete (177 % of target)"
        );
    }

    #[test]
    fn a_recording_that_saw_end_but_has_no_closing_row_ended_and_is_not_offered_for_resuming() {
        let dir = tempfile::tempdir().unwrap();
        let ended = run(dir.path(), "ended.csv", (500.0, 50.0), true, false);
        let listing = inspect(&ended).unwrap();
        assert_eq!(listing.status, SessionStatus::EndedNotClosed);
        assert_eq!(listing.status_text(), "ended, not closed");
        let cut = run(dir.path(), "cut.csv", (500.0, 50.0), false, false);
        assert_eq!(inspect(&cut).unwrap().status, SessionStatus::Interrupted);
        let listings = scan(dir.path()).unwrap();
        let now = Timestamp::from_second(1_700_000_200).unwrap();
        assert_eq!(
            recoverable(&listings, now, 3600.0).map(|l| l.path.clone()),
            Some(cut)
        );
    }

    #[test]
    fn a_patients_collection_over_two_days_sums_its_cd3_yield_against_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
        for day in ["cart-day1", "cart-day2", "adult-typical-5h"] {
            for ext in ["csv", "session.json"] {
                std::fs::copy(
                    samples.join(format!("{day}.{ext}")),
                    dir.path().join(format!("{day}.{ext}")),
                )
                .unwrap();
            }
        }
        let listings = scan(dir.path()).unwrap();
        assert_eq!(listings.len(), 3);
        let totals = collections(&listings);
        // The adult sample is no CAR-T collection: one collection, of two days.
        assert_eq!(totals.len(), 1, "{totals:?}");
        let total = &totals[0];
        assert_eq!(total.key.collection_id, "KTE-2026-00417");
        assert_eq!(
            total
                .days
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect::<Vec<_>>(),
            ["cart-day1.csv", "cart-day2.csv"]
        );
        // Day 1: 6.2 × 10⁶/mL in 210 mL; day 2: 5.4 × 10⁶/mL in 205 mL.
        let expected = 6_200.0 * 1000.0 * 210.0 + 5_400.0 * 1000.0 * 205.0;
        assert!((total.cd3_yield_cells - expected).abs() < 1.0);
        assert_eq!(total.target_cd3_cells, Some(2e9));
        assert_eq!(
            total.describe(),
            "2.41 × 10⁹ of 2.00 × 10⁹ CD3+ cells (target met)"
        );
        // Each day's CE2 is known to the library (for the forecast's median).
        assert!(
            listings
                .iter()
                .filter(|l| l.collection.key.is_some())
                .all(|l| l.collection.ce2_percent.is_some())
        );
    }
}
