//! Alert sounds for high and medium alarms, played through the platform's audio output with
//! rodio (cpal: ALSA or PulseAudio/PipeWire on Linux, WASAPI on Windows) on a thread of their
//! own, so the screen never waits on the sound card.
//!
//! Each priority's burst is IEC 60601-1-8's pulse pattern ([`super::tones`]), played from the
//! WAV files in `assets/` (compiled in; a test keeps them equal to the rendering). The thread
//! opens the output device as soon as it starts, so a monitor with no sound is known before its
//! first alarm: [`AlarmSound::problem`] then says why, and the live session raises the
//! technical alarm "No alarm sound" on screen. The thread keeps trying the device, and a device
//! lost while running is reopened.

use std::io::Cursor;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::model::Priority;

use super::tones::Burst;

/// The WAV file of each priority that sounds (the same bytes as `assets/`).
fn wav(priority: Priority) -> Option<&'static [u8]> {
    match priority {
        Priority::High => Some(include_bytes!("../../assets/alarm-high.wav")),
        Priority::Medium => Some(include_bytes!("../../assets/alarm-medium.wav")),
        Priority::Low => Some(include_bytes!("../../assets/alarm-low.wav")),
        Priority::Info => None,
    }
}

/// How long a device that could not be opened waits before the next try.
const RETRY: Duration = Duration::from_secs(10);

/// Opens the audio output: the platform's default device, or a stand-in (tests).
pub type OpenOutput = Box<dyn FnMut(Arc<AtomicBool>) -> Result<Output, String> + Send>;

/// An open audio output.
pub struct Output(Box<dyn Play>);

/// What an open output can do: start one sound, stopping the one before.
trait Play {
    fn play(&mut self, wav: &'static [u8]) -> Result<(), String>;
}

/// Plays alarm sounds, repeating them while an alarm sounds.
#[derive(Default)]
pub struct AlarmSound {
    /// The sound thread's requests; `None` when quiet (tests), or if the thread could not start.
    sounds: Option<Sender<Priority>>,
    /// Why the monitor cannot sound its alarms, as the sound thread last found.
    problem: Arc<Mutex<Option<String>>>,
    last_played: Option<(Instant, Priority)>,
    /// Times a sound was started (for tests and diagnostics).
    pub played: u64,
}

impl std::fmt::Debug for AlarmSound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlarmSound")
            .field("started", &self.sounds.is_some())
            .field("problem", &self.problem())
            .field("played", &self.played)
            .finish_non_exhaustive()
    }
}

/// Time between repeats while an alarm keeps sounding: the burst's own (IEC 60601-1-8).
pub fn repeat_interval(priority: Priority) -> Duration {
    Burst::of(priority)
        .and_then(|b| b.repeat)
        .unwrap_or(Duration::from_secs(15))
}

impl AlarmSound {
    /// Starts the sound thread on the platform's default audio output.
    pub fn start() -> AlarmSound {
        AlarmSound::start_with(Box::new(open_default))
    }

    /// Starts the sound thread on the output `open` gives (tests pass one that fails).
    pub fn start_with(open: OpenOutput) -> AlarmSound {
        let (tx, rx) = crossbeam_channel::bounded(16);
        let problem = Arc::new(Mutex::new(None));
        let thread_problem = Arc::clone(&problem);
        let spawned = std::thread::Builder::new()
            .name("alarm-sound".into())
            .spawn(move || run(open, &rx, &thread_problem));
        let sounds = match spawned {
            Ok(_) => Some(tx),
            Err(e) => {
                set(
                    &problem,
                    Some(format!("the sound thread cannot start ({e})")),
                );
                None
            }
        };
        AlarmSound {
            sounds,
            problem,
            ..AlarmSound::default()
        }
    }

    /// Why alarms cannot be heard now (no audio output device, or it failed), if so.
    pub fn problem(&self) -> Option<String> {
        self.problem
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Call every frame with what the alarm engine says should sound.
    pub fn update(&mut self, sounding: Option<Priority>) {
        self.update_at(Instant::now(), sounding);
    }

    /// [`AlarmSound::update`] at `now` (tests pass their own time). A sound starts when an
    /// alarm starts sounding or a higher priority takes over, and repeats every
    /// [`repeat_interval`] while it lasts. Low priority and information are silent.
    pub fn update_at(&mut self, now: Instant, sounding: Option<Priority>) {
        let Some(priority) = sounding.filter(|p| *p >= Priority::Medium) else {
            self.last_played = None;
            return;
        };
        let due = match self.last_played {
            None => true,
            Some((at, last)) => {
                priority > last || now.saturating_duration_since(at) >= repeat_interval(priority)
            }
        };
        if due {
            self.last_played = Some((now, priority));
            self.played += 1;
            if let Some(tx) = &self.sounds {
                // A full queue means the thread is behind: this burst is dropped, the next
                // repeat plays.
                let _ = tx.try_send(priority);
            }
        }
    }
}

fn set(problem: &Mutex<Option<String>>, value: Option<String>) {
    *problem.lock().unwrap_or_else(PoisonError::into_inner) = value;
}

/// The sound thread: keeps the output open (retrying every [`RETRY`], reopening a lost device)
/// and plays what it is asked, until the [`AlarmSound`] is dropped.
fn run(mut open: OpenOutput, requests: &Receiver<Priority>, problem: &Mutex<Option<String>>) {
    let lost = Arc::new(AtomicBool::new(false));
    let mut output: Option<Output> = None;
    let mut next_try = Instant::now();
    loop {
        if lost.swap(false, Ordering::SeqCst) && output.take().is_some() {
            set(problem, Some("the audio output device was lost".into()));
        }
        if output.is_none() && Instant::now() >= next_try {
            match open(Arc::clone(&lost)) {
                Ok(o) => {
                    output = Some(o);
                    set(problem, None);
                }
                Err(why) => {
                    set(problem, Some(why));
                    next_try = Instant::now() + RETRY;
                }
            }
        }
        let priority = match requests.recv_timeout(Duration::from_millis(500)) {
            Ok(p) => p,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if let (Some(o), Some(bytes)) = (&mut output, wav(priority))
            && let Err(why) = o.0.play(bytes)
        {
            output = None;
            set(problem, Some(why));
        }
    }
}

/// The platform's default output through rodio; `lost` is set when the device goes away.
fn open_default(lost: Arc<AtomicBool>) -> Result<Output, String> {
    // The banner says what a nurse can act on; the platform's details go to the log.
    let mut sink = rodio::DeviceSinkBuilder::from_default_device()
        .map_err(|e| {
            tracing::warn!("no audio output device: {e}");
            "no audio output device".to_owned()
        })?
        .with_error_callback(move |_| lost.store(true, Ordering::SeqCst))
        .open_sink_or_fallback()
        .map_err(|e| {
            tracing::warn!("the audio output cannot be opened: {e}");
            "the audio output cannot be opened".to_owned()
        })?;
    sink.log_on_drop(false);
    Ok(Output(Box::new(Rodio {
        sink,
        playing: None,
    })))
}

struct Rodio {
    sink: rodio::MixerDeviceSink,
    /// The burst playing; replacing it stops it, so a higher priority takes over at once.
    playing: Option<rodio::Player>,
}

impl Play for Rodio {
    fn play(&mut self, wav: &'static [u8]) -> Result<(), String> {
        let player = rodio::play(self.sink.mixer(), Cursor::new(wav)).map_err(|e| {
            tracing::warn!("the alarm tone cannot be played: {e}");
            "the alarm tone cannot be played".to_owned()
        })?;
        self.playing = Some(player);
        Ok(())
    }
}

impl Output {
    /// An output that takes every sound and plays nothing, counting them in `played` (tests).
    pub fn counting(played: Arc<std::sync::atomic::AtomicU64>) -> Output {
        struct Counting(Arc<std::sync::atomic::AtomicU64>);
        impl Play for Counting {
            fn play(&mut self, wav: &'static [u8]) -> Result<(), String> {
                if wav.starts_with(b"RIFF") {
                    self.0.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                } else {
                    Err("not a WAV file".into())
                }
            }
        }
        Output(Box::new(Counting(played)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use super::*;

    fn eventually(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn sound_repeats_at_its_interval_and_not_before() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut sound = AlarmSound::default();
        // Medium: at once, then every 15 s.
        sound.update_at(at(0), Some(Priority::Medium));
        assert_eq!(sound.played, 1);
        sound.update_at(at(14_999), Some(Priority::Medium));
        assert_eq!(sound.played, 1, "not before 15 s");
        sound.update_at(at(15_000), Some(Priority::Medium));
        assert_eq!(sound.played, 2, "at 15 s");
        sound.update_at(at(29_999), Some(Priority::Medium));
        assert_eq!(sound.played, 2);
        sound.update_at(at(30_000), Some(Priority::Medium));
        assert_eq!(sound.played, 3);
        // High takes over at once, then repeats every 5 s.
        sound.update_at(at(31_000), Some(Priority::High));
        assert_eq!(sound.played, 4, "a higher priority plays at once");
        sound.update_at(at(35_999), Some(Priority::High));
        assert_eq!(sound.played, 4, "not before 5 s");
        sound.update_at(at(36_000), Some(Priority::High));
        assert_eq!(sound.played, 5, "at 5 s");
        // Back to medium: its 15 s interval runs from the last sound.
        sound.update_at(at(37_000), Some(Priority::Medium));
        sound.update_at(at(50_999), Some(Priority::Medium));
        assert_eq!(sound.played, 5);
        sound.update_at(at(51_000), Some(Priority::Medium));
        assert_eq!(sound.played, 6);
    }

    #[test]
    fn an_alarm_that_starts_after_silence_plays_at_once_and_low_is_silent() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut sound = AlarmSound::default();
        sound.update_at(at(0), Some(Priority::Medium));
        sound.update_at(at(1_000), None);
        sound.update_at(at(2_000), Some(Priority::Medium));
        assert_eq!(
            sound.played, 2,
            "sounding again after silence plays at once"
        );
        sound.update_at(at(3_000), Some(Priority::Low));
        sound.update_at(at(60_000), Some(Priority::Low));
        sound.update_at(at(61_000), Some(Priority::Info));
        assert_eq!(sound.played, 2, "low and information are silent");
        sound.update_at(at(62_000), Some(Priority::High));
        assert_eq!(sound.played, 3);
    }

    #[test]
    fn the_sound_thread_plays_the_embedded_bursts() {
        let played = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&played);
        let mut sound = AlarmSound::start_with(Box::new(move |_| {
            Ok(Output::counting(Arc::clone(&counter)))
        }));
        sound.update(Some(Priority::High));
        eventually("the burst reaches the output", || {
            played.load(Ordering::SeqCst) == 1
        });
        assert_eq!(sound.problem(), None);
        // The embedded files are the standard's bursts.
        for priority in [Priority::High, Priority::Medium, Priority::Low] {
            let expected = Burst::of(priority).unwrap().wav();
            assert!(wav(priority) == Some(expected.as_slice()), "{priority:?}");
        }
    }

    #[test]
    fn no_audio_device_is_reported_and_retried_and_a_lost_device_reopened() {
        let mut sound =
            AlarmSound::start_with(Box::new(|_| Err("no audio output device (test)".into())));
        // Reported before any alarm.
        eventually("the missing device is reported", || {
            sound.problem().is_some()
        });
        assert_eq!(
            sound.problem().as_deref(),
            Some("no audio output device (test)")
        );
        // An alarm still counts its bursts (the screen shows it), with nothing to play them.
        sound.update(Some(Priority::High));
        assert_eq!(sound.played, 1);
        drop(sound);
        // A device that fails while open is reported, and reopened on the next try.
        let lost_flag: Arc<Mutex<Option<Arc<AtomicBool>>>> = Arc::default();
        let opened = Arc::new(AtomicU64::new(0));
        let o = Arc::clone(&opened);
        let keep = Arc::clone(&lost_flag);
        let sound = AlarmSound::start_with(Box::new(move |lost| {
            *keep.lock().unwrap() = Some(lost);
            o.fetch_add(1, Ordering::SeqCst);
            Ok(Output::counting(Arc::new(AtomicU64::new(0))))
        }));
        eventually("the device opens", || opened.load(Ordering::SeqCst) == 1);
        let flag = lost_flag.lock().unwrap().clone().unwrap();
        flag.store(true, Ordering::SeqCst);
        eventually("the lost device is reopened", || {
            opened.load(Ordering::SeqCst) == 2
        });
        eventually("the problem clears once reopened", || {
            sound.problem().is_none()
        });
    }
}
