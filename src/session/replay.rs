//! Replay: a playback clock over a loaded recording.
//!
//! The whole session is available at once (`full`, for review and the plots); the screen reads
//! the session as it stood at the playhead through [`Timeline::moment`], so the tiles, banner
//! and state read as they did then. The session is held once, as its timeline; the rows are
//! not kept. Time is passed in (`advance`), so tests run on fake time.

use std::time::Duration;

use std::sync::Arc;

use crate::analysis::summary::{Summary, summarize};
use crate::analysis::{Moment, Patient, Target, Timeline};
use crate::recording::{Recording, SessionMeta};

/// Slowest and fastest playback.
pub const SPEED_RANGE: (f64, f64) = (1.0, 600.0);

/// A recording being played back.
pub struct Player {
    full: Arc<Timeline>,
    position_x: f64,
    playing: bool,
    speed: f64,
    rows: usize,
    /// The recording's path, metadata and problems (its rows live on in `full`).
    pub recording: Recording,
}

impl Player {
    pub fn new(mut recording: Recording) -> Player {
        let entries = std::mem::take(&mut recording.entries);
        let full = Arc::new(Timeline::from_entries(&entries));
        let rows = entries.len();
        drop(entries);
        let start = full.x_range().map_or(0.0, |r| r.0);
        Player {
            full,
            position_x: start,
            playing: false,
            speed: 60.0,
            rows,
            recording,
        }
    }

    /// The whole session.
    pub fn full(&self) -> &Timeline {
        &self.full
    }

    /// The whole session, to share (with an export, for instance).
    pub fn shared_timeline(&self) -> Arc<Timeline> {
        self.full.clone()
    }

    /// The session as it stood at the playhead.
    pub fn shown(&self) -> Moment<'_> {
        self.full.moment(self.position_x)
    }

    /// First and last session time.
    pub fn range(&self) -> (f64, f64) {
        self.full.x_range().unwrap_or((0.0, 0.0))
    }

    pub fn position(&self) -> f64 {
        self.position_x
    }

    pub fn is_playing(&self) -> bool {
        self.playing
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Rows in the recording.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub fn at_end(&self) -> bool {
        self.position_x >= self.range().1
    }

    pub fn set_speed(&mut self, speed: f64) {
        self.speed = speed.clamp(SPEED_RANGE.0, SPEED_RANGE.1);
    }

    /// Starts playing; from the start again when at the end.
    pub fn play(&mut self) {
        if self.at_end() {
            self.seek(self.range().0);
        }
        self.playing = true;
    }

    pub fn pause(&mut self) {
        self.playing = false;
    }

    pub fn toggle(&mut self) {
        if self.playing {
            self.pause();
        } else {
            self.play();
        }
    }

    /// Moves the playhead by `wall` time at the current speed; stops at the end.
    pub fn advance(&mut self, wall: Duration) {
        if !self.playing {
            return;
        }
        let target = self.position_x + wall.as_secs_f64() * self.speed;
        let end = self.range().1;
        self.seek(target.min(end));
        if self.position_x >= end {
            self.playing = false;
        }
    }

    /// Steps by `secs` of session time (negative steps back).
    pub fn step(&mut self, secs: f64) {
        self.seek(self.position_x + secs);
    }

    /// Puts the playhead at session time `x` (clamped to the session).
    pub fn seek(&mut self, x: f64) {
        let (start, end) = self.range();
        self.position_x = x.clamp(start, end.max(start));
    }
}

/// A recorded session opened for review: the player, and the patient and target as the
/// metadata gives them (checked once, when the metadata changes).
pub struct Replay {
    pub player: Player,
    /// The summary of the recording with the metadata it was loaded with (what an export
    /// of the file says), computed once while the rows were at hand.
    summary: Summary,
    patient: Patient,
    target: Target,
    /// What the nurse should know about the file (skipped rows, unreadable metadata).
    pub notice: Option<String>,
}

impl Replay {
    /// Opens a loaded recording, paused at its start, to play at `speed`. Lays the whole
    /// session out and summarises it: run it off the UI thread for a long recording.
    pub fn new(recording: Recording, speed: f64) -> Replay {
        let summary = summarize(&recording);
        let notice = recording
            .problems_summary()
            .into_iter()
            .chain(recording.meta_problem.clone())
            .collect::<Vec<_>>()
            .join("\n");
        let mut player = Player::new(recording);
        player.set_speed(speed);
        let mut replay = Replay {
            player,
            summary,
            patient: Patient::default(),
            target: Target::from_meta(None).0,
            notice: (!notice.is_empty()).then_some(notice),
        };
        replay.refresh();
        replay
    }

    /// The summary of the recording as loaded (its file's metadata, not edits made since).
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    pub fn meta(&self) -> Option<&SessionMeta> {
        self.player.recording.meta.as_ref()
    }

    pub fn patient(&self) -> &Patient {
        &self.patient
    }

    pub fn target(&self) -> Target {
        self.target
    }

    /// Changes the metadata held for this review (the file is left as recorded).
    pub fn edit_meta(&mut self, edit: impl FnOnce(&mut SessionMeta)) {
        edit(
            self.player
                .recording
                .meta
                .get_or_insert_with(SessionMeta::default),
        );
        self.refresh();
    }

    fn refresh(&mut self) {
        let meta = self.player.recording.meta.as_ref();
        self.patient = Patient::from_meta(meta.and_then(|m| m.patient.as_ref()));
        self.target = Target::from_meta(meta.and_then(|m| m.targets.as_ref())).0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entry, EntryBody, MachineState, Quantity, Sample};
    use std::path::PathBuf;

    fn recording(seconds: u64) -> Recording {
        let mut entries = vec![Entry {
            time_utc: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
            elapsed_ms: Some(0),
            seq: Some(0),
            body: EntryBody::State(MachineState::Run),
        }];
        for s in 1..=seconds {
            entries.push(Entry {
                time_utc: jiff::Timestamp::from_second(1_700_000_000 + s as i64).unwrap(),
                elapsed_ms: Some(s * 1000),
                seq: Some(s as u32),
                body: EntryBody::Sample(Sample::default().with(Quantity::InletMl, s as f64)),
            });
        }
        Recording {
            path: PathBuf::from("t.csv"),
            entries,
            problems: Vec::new(),
            skipped_rows: 0,
            meta: None,
            meta_problem: None,
        }
    }

    fn inlet(player: &Player) -> Option<f64> {
        player
            .shown()
            .latest_value(crate::analysis::Series::Measured(Quantity::InletMl))
    }

    fn shown_samples(player: &Player) -> usize {
        let x = player.position();
        player.full().xs().iter().filter(|&&sx| sx <= x).count()
    }

    #[test]
    fn playing_advances_at_the_chosen_speed_on_fake_time() {
        let mut p = Player::new(recording(3600));
        assert_eq!(p.position(), 0.0);
        assert_eq!(p.full().sample_count(), 3600);
        assert_eq!(shown_samples(&p), 0);
        p.set_speed(60.0);
        p.advance(Duration::from_secs(1));
        assert_eq!(p.position(), 0.0, "paused until play");
        p.play();
        p.advance(Duration::from_secs(2));
        assert_eq!(p.position(), 120.0);
        assert_eq!(inlet(&p), Some(120.0));
        p.set_speed(10_000.0);
        assert_eq!(p.speed(), 600.0);
    }

    #[test]
    fn seeking_back_and_forth_shows_the_session_as_it_stood() {
        let mut p = Player::new(recording(600));
        p.seek(500.0);
        assert_eq!(inlet(&p), Some(500.0));
        p.seek(100.5);
        assert_eq!(inlet(&p), Some(100.0));
        assert_eq!(shown_samples(&p), 100);
        p.step(-1000.0);
        assert_eq!(p.position(), 0.0);
        p.seek(1e9);
        assert!(p.at_end());
        assert_eq!(shown_samples(&p), 600);
    }

    #[test]
    fn playback_stops_at_the_end_and_restarts_from_the_start() {
        let mut p = Player::new(recording(100));
        p.set_speed(600.0);
        p.play();
        p.advance(Duration::from_secs(5));
        assert!(p.at_end());
        assert!(!p.is_playing());
        p.play();
        assert_eq!(p.position(), 0.0);
        assert!(p.is_playing());
    }

    #[test]
    fn an_empty_recording_does_not_panic() {
        let mut p = Player::new(recording(0));
        p.play();
        p.advance(Duration::from_secs(1));
        p.seek(50.0);
        p.step(-5.0);
        assert!(p.at_end());
    }
}
