//! Opening recordings for replay: the file chooser, loading off the UI thread, and the replay
//! screen's setup.

use std::path::PathBuf;

use crate::analysis::forecast::ExpectedCe;
use crate::job::Job;
use crate::recording::Recording;
use crate::session::replay::Replay;

use super::super::file_dialog;
use super::super::plots::PlotView;
use super::super::setup::{SetupForm, SetupWindow};
use super::{Active, Loading, MonitorApp};

impl MonitorApp {
    pub(super) fn pick_recording(&mut self) {
        if self.jobs.file_dialog.is_some() {
            return;
        }
        let folder = self.settings.session_folder();
        self.jobs.file_dialog = Some(file_dialog::pick_recording(folder, self.wake()));
    }

    /// Opens an already loaded recording for replay (tests and benchmarks).
    pub fn open_loaded(&mut self, recording: Recording, speed: f64) {
        self.open_replay(Replay::new(recording, speed));
    }

    pub(super) fn open_replay(&mut self, replay: Replay) {
        self.plot_view = PlotView::default();
        let mut setup = SetupWindow::new(self.settings.default_target_tbv);
        if let Some(meta) = replay.meta() {
            setup.form = SetupForm::from_meta(meta, self.settings.default_target_tbv);
        }
        self.windows.setup = Some(setup);
        self.active = Active::Replay(Box::new(replay));
    }

    /// The plot view (follow, window), for tests and benchmarks.
    pub fn plot_view_mut(&mut self) -> &mut PlotView {
        &mut self.plot_view
    }

    /// Loads a recording, lays it out and summarises it off the UI thread, then opens it for
    /// replay.
    pub fn open_recording(&mut self, path: PathBuf, speed: f64) {
        if matches!(
            self.active,
            Active::Live(_) | Active::Starting(_) | Active::Stopping(..)
        ) {
            self.message = Some("close the live session before opening a recording".into());
            return;
        }
        let wake = self.wake();
        let load_path = path.clone();
        let job = Job::spawn_with_progress("load-recording", wake.clone(), move |progress| {
            crate::recording::load(&load_path, |done, total| {
                progress.set(if total == 0 {
                    1.0
                } else {
                    done as f32 / total as f32
                });
                wake();
                true
            })
            .map(|recording| Replay::new(recording, speed))
            .map_err(|e| e.to_string())
        });
        self.message = None;
        self.active = Active::None;
        self.loading = Some(Loading { path, job });
    }

    /// The expected CE2 from the unit's past collections in the library (their median, with
    /// how many), leaving out the recording `except` (the one replayed).
    pub(super) fn past_ce(&self, except: Option<&std::path::Path>) -> Option<ExpectedCe> {
        let listings = self.start.library.as_ref()?;
        let past: Vec<f64> = listings
            .iter()
            .filter(|l| Some(l.path.as_path()) != except)
            .filter_map(|l| l.collection.ce2_percent)
            .collect();
        ExpectedCe::median_of(&past)
    }
}
