//! Alert sounds for high and medium alarms.
//!
//! Each priority's burst (IEC 60601-1-8's pulse patterns, [`super::tones`]) is written once as
//! a WAV file and played with the system's player
//! (`pw-play`, `paplay` or `aplay`) in a child process, so a missing or busy sound device never
//! blocks or crashes the monitor; with no player at all, the terminal bell is rung. No audio
//! library is linked, so the build needs no sound headers.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::model::Priority;

use super::tones::Burst;

/// Plays alarm sounds, repeating them while an alarm sounds.
#[derive(Debug, Default)]
pub struct AlarmSound {
    /// The thread that finds the player, writes the tones and starts them (so none of that
    /// file and process work runs on the caller's thread), once started.
    sounds: Option<crossbeam_channel::Sender<Priority>>,
    /// Counts sounds without playing them (tests).
    quiet: bool,
    last_played: Option<(Instant, Priority)>,
    /// Times a sound was started (for tests and diagnostics).
    pub played: u64,
}

/// Time between repeats while an alarm keeps sounding: the burst's own (IEC 60601-1-8).
pub fn repeat_interval(priority: Priority) -> Duration {
    Burst::of(priority)
        .and_then(|b| b.repeat)
        .unwrap_or(Duration::from_secs(15))
}

impl AlarmSound {
    /// Call every frame with what the alarm engine says should sound.
    pub fn update(&mut self, sounding: Option<Priority>) {
        self.update_at(Instant::now(), sounding);
    }

    /// [`AlarmSound::update`] at `now` (tests pass their own time). A sound starts when an
    /// alarm starts sounding or a higher priority takes over, and repeats every
    /// [`repeat_interval`] while it lasts.
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
            self.play(priority);
        }
    }

    fn play(&mut self, priority: Priority) {
        if self.quiet {
            return;
        }
        if self.sounds.is_none() {
            let (tx, rx) = crossbeam_channel::unbounded();
            let spawned = std::thread::Builder::new()
                .name("alarm-sound".into())
                .spawn(move || Player::default().run(&rx));
            if spawned.is_ok() {
                self.sounds = Some(tx);
            }
        }
        let sent = self
            .sounds
            .as_ref()
            .is_some_and(|tx| tx.send(priority).is_ok());
        if !sent {
            let _ = std::io::stderr().write_all(b"\x07");
        }
    }
}

/// The sound thread's state: the system's player and the tone files, found and written once.
#[derive(Default)]
struct Player {
    checked: bool,
    program: Option<&'static str>,
    files: Option<(PathBuf, PathBuf)>,
}

impl Player {
    fn run(mut self, requests: &crossbeam_channel::Receiver<Priority>) {
        let mut playing: Option<std::process::Child> = None;
        while let Ok(priority) = requests.recv() {
            // Reap the last sound if it has ended, so no zombie is left.
            if let Some(child) = &mut playing
                && !matches!(child.try_wait(), Ok(None))
            {
                playing = None;
            }
            if let Some(child) = self.play(priority)
                && let Some(mut previous) = playing.replace(child)
            {
                let _ = previous.wait();
            }
        }
        if let Some(mut child) = playing {
            let _ = child.wait();
        }
    }

    fn play(&mut self, priority: Priority) -> Option<std::process::Child> {
        if !self.checked {
            self.checked = true;
            self.program = find_player();
            self.files = self.program.and_then(|_| write_tones().ok());
        }
        let (Some(player), Some((high, medium))) = (self.program, &self.files) else {
            // The platform bell: the terminal the monitor was started from, if any.
            let _ = std::io::stderr().write_all(b"\x07");
            return None;
        };
        let file = if priority == Priority::High {
            high
        } else {
            medium
        };
        Command::new(player)
            .arg(file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    }
}

fn find_player() -> Option<&'static str> {
    ["pw-play", "paplay", "aplay"].into_iter().find(|p| {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(p).is_file()))
    })
}

/// Writes the two bursts (high and medium, [`Burst::of`]: the same bytes as `assets/`) to the
/// temporary folder.
fn write_tones() -> std::io::Result<(PathBuf, PathBuf)> {
    let dir = std::env::temp_dir();
    let high = dir.join(format!("apheresis-monitor-high-{}.wav", std::process::id()));
    let medium = dir.join(format!(
        "apheresis-monitor-medium-{}.wav",
        std::process::id()
    ));
    let bytes = |p| Burst::of(p).map(|b| b.wav()).unwrap_or_default();
    std::fs::write(&high, bytes(Priority::High))?;
    std::fs::write(&medium, bytes(Priority::Medium))?;
    Ok((high, medium))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silent() -> AlarmSound {
        AlarmSound {
            quiet: true,
            ..AlarmSound::default()
        }
    }

    #[test]
    fn sound_repeats_at_its_interval_and_not_before() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut sound = silent();
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
        let mut sound = silent();
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
}
