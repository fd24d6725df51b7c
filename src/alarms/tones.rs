//! The auditory alarm signals, after IEC 60601-1-8 (Tables 3 and 4), from one definition: each
//! priority's burst of pulses ([`Burst::of`]), rendered to 16-bit samples ([`Burst::render`]).
//! The WAV files in `assets/` are these renderings (`apheresis-monitor` writes the same bytes,
//! and a test keeps them equal).
//!
//! The standard's ranges, and the values chosen within them:
//!
//! | | high | medium | low |
//! |---|---|---|---|
//! | pulses in a burst | 10 | 3 | 1 |
//! | pulse duration td | 75–200 ms: 150 ms | 125–250 ms: 200 ms | 125–250 ms: 200 ms |
//! | rise and fall | 10–20 % of td: 20 ms (13 %) | 30 ms (15 %) | 30 ms (15 %) |
//! | spacing | x = 50–125 ms: 100 ms; pattern x x 2x+td x, 0.35–1.30 s: 500 ms, x x 2x+td x | y = 125–250 ms: 200 ms | — |
//! | burst repeated | every 2.5–15 s: 5 s | every 2.5–30 s: 15 s | not repeated |
//! | fundamental | 150–1000 Hz: 523 Hz | 440 Hz | 392 Hz |
//!
//! Each pulse carries its fundamental and four harmonics (2nd to 5th), all between 300 and
//! 4000 Hz and within 15 dB of the fundamental, so the tone is easy to place and hard to mask.
//! Pulse duration is from the start of the rise to the end of the fall; spacing from the end
//! of one pulse to the start of the next.

use std::time::Duration;

use crate::model::Priority;

/// Samples per second of the rendering.
pub const RATE: u32 = 22_050;

/// Relative amplitudes of the fundamental and its 2nd to 5th harmonics (the quietest, 0.25, is
/// −12 dB: within the standard's 15 dB).
const HARMONICS: [f64; 5] = [1.0, 0.7, 0.5, 0.35, 0.25];

/// One priority's burst of pulses.
#[derive(Debug, Clone, PartialEq)]
pub struct Burst {
    pub fundamental_hz: f64,
    /// Each pulse's duration, from the start of its rise to the end of its fall.
    pub pulse: Duration,
    pub rise: Duration,
    /// The silences between the pulses (one fewer than the pulses).
    pub spacings: Vec<Duration>,
    /// Start to start of successive bursts while the alarm lasts; `None`: played once.
    pub repeat: Option<Duration>,
}

const fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

impl Burst {
    /// The burst of an alarm priority; `None` for information, which has no sound.
    pub fn of(priority: Priority) -> Option<Burst> {
        match priority {
            Priority::High => {
                let (x, td) = (ms(100), ms(150));
                let long = 2 * x + td;
                Some(Burst {
                    fundamental_hz: 523.25,
                    pulse: td,
                    rise: ms(20),
                    spacings: vec![x, x, long, x, ms(500), x, x, long, x],
                    repeat: Some(Duration::from_secs(5)),
                })
            }
            Priority::Medium => Some(Burst {
                fundamental_hz: 440.0,
                pulse: ms(200),
                rise: ms(30),
                spacings: vec![ms(200), ms(200)],
                repeat: Some(Duration::from_secs(15)),
            }),
            Priority::Low => Some(Burst {
                fundamental_hz: 392.0,
                pulse: ms(200),
                rise: ms(30),
                spacings: Vec::new(),
                repeat: None,
            }),
            Priority::Info => None,
        }
    }

    pub fn pulses(&self) -> usize {
        self.spacings.len() + 1
    }

    /// The burst as 16-bit mono samples at [`RATE`].
    pub fn render(&self) -> Vec<i16> {
        let n = |d: Duration| (d.as_secs_f64() * f64::from(RATE)).round() as usize;
        let (len, edge) = (n(self.pulse), n(self.rise).max(1));
        let peak: f64 = HARMONICS.iter().sum();
        let mut out = Vec::new();
        for p in 0..self.pulses() {
            for i in 0..len {
                let t = i as f64 / f64::from(RATE);
                // Linear rise and fall of the same length.
                let envelope = (i.min(len - 1 - i) as f64 / edge as f64).min(1.0);
                let tone: f64 = HARMONICS
                    .iter()
                    .enumerate()
                    .map(|(h, a)| {
                        a * (t * self.fundamental_hz * (h + 1) as f64 * std::f64::consts::TAU).sin()
                    })
                    .sum();
                let v = tone / peak * envelope * 0.6;
                out.push((v * f64::from(i16::MAX)).round() as i16);
            }
            if let Some(&gap) = self.spacings.get(p) {
                out.extend(std::iter::repeat_n(0, n(gap)));
            }
        }
        out
    }

    /// The burst as a WAV file (what `assets/alarm-<priority>.wav` holds).
    pub fn wav(&self) -> Vec<u8> {
        wav(&self.render())
    }
}

/// A mono 16-bit PCM WAV file at [`RATE`].
pub fn wav(samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// The asset file name of a priority's burst.
pub fn asset_name(priority: Priority) -> Option<&'static str> {
    match priority {
        Priority::High => Some("alarm-high.wav"),
        Priority::Medium => Some("alarm-medium.wav"),
        Priority::Low => Some("alarm-low.wav"),
        Priority::Info => None,
    }
}

/// A pulse found in rendered samples: when it starts and how long it lasts, seconds, measured
/// where its envelope crosses half its peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub start_s: f64,
    pub duration_s: f64,
}

/// Finds the pulses in `samples` (at [`RATE`]) from their envelope: the largest magnitude over
/// each 2 ms window, above half the loudest window.
pub fn measure(samples: &[i16]) -> Vec<Measured> {
    let window = (RATE / 500) as usize;
    let envelope: Vec<i32> = samples
        .chunks(window)
        .map(|w| w.iter().map(|s| i32::from(*s).abs()).max().unwrap_or(0))
        .collect();
    let threshold = envelope.iter().max().copied().unwrap_or(0) / 2;
    let secs = |i: usize| (i * window) as f64 / f64::from(RATE);
    let mut out = Vec::new();
    let mut start = None;
    for (i, &e) in envelope.iter().chain([&0]).enumerate() {
        match (start, e > threshold) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                out.push(Measured {
                    start_s: secs(s),
                    duration_s: secs(i) - secs(s),
                });
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The amplitude of `hz` in `samples` (Goertzel), relative to the samples' scale.
pub fn amplitude_at(samples: &[i16], hz: f64) -> f64 {
    let w = std::f64::consts::TAU * hz / f64::from(RATE);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2).max(0.0).sqrt() / samples.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within(value: f64, (low, high): (f64, f64), what: &str) {
        assert!(
            (low..=high).contains(&value),
            "{what}: {value:.3} s is outside {low}–{high} s"
        );
    }

    /// Renders each priority's burst and measures it from the samples alone: the pulse count,
    /// each pulse's duration and the spacings against the standard's ranges (allowing the
    /// half-amplitude measure's offset of one rise time and the 2 ms window).
    #[test]
    fn each_burst_has_the_standards_pulses_and_timing() {
        for (priority, pulses, td_range) in [
            (Priority::High, 10, (0.075, 0.200)),
            (Priority::Medium, 3, (0.125, 0.250)),
            (Priority::Low, 1, (0.125, 0.250)),
        ] {
            let burst = Burst::of(priority).unwrap();
            let found = measure(&burst.render());
            assert_eq!(found.len(), pulses, "{priority:?}");
            let rise = burst.rise.as_secs_f64();
            let slack = rise + 0.004;
            for p in &found {
                // Half amplitude is half a rise in from each end.
                within(
                    p.duration_s + rise,
                    td_range,
                    &format!("{priority:?} duration"),
                );
            }
            let spacings: Vec<f64> = found
                .windows(2)
                .map(|w| w[1].start_s - (w[0].start_s + w[0].duration_s) - rise)
                .collect();
            let x = (0.050 - slack, 0.125 + slack);
            let y = (0.125 - slack, 0.250 + slack);
            match priority {
                Priority::High => {
                    let td = burst.pulse.as_secs_f64();
                    for i in [0, 1, 3, 5, 6, 8] {
                        within(spacings[i], x, &format!("high spacing {}", i + 1));
                    }
                    for i in [2, 7] {
                        // 2x + td, x from the first spacing.
                        let expected = 2.0 * spacings[0] + td;
                        assert!(
                            (spacings[i] - expected).abs() < 0.01,
                            "high spacing {}: {} s, not 2x + td = {expected} s",
                            i + 1,
                            spacings[i]
                        );
                    }
                    within(
                        spacings[4],
                        (0.35 - slack, 1.30 + slack),
                        "high mid-burst pause",
                    );
                    println!("high: pulses {found:?}, spacings {spacings:?}");
                }
                Priority::Medium => {
                    for s in &spacings {
                        within(*s, y, "medium spacing");
                    }
                    println!("medium: pulses {found:?}, spacings {spacings:?}");
                }
                _ => println!("low: pulse {found:?}"),
            }
            let repeat = burst.repeat.map(|r| r.as_secs_f64());
            match priority {
                Priority::High => within(repeat.unwrap(), (2.5, 15.0), "high repeat"),
                Priority::Medium => within(repeat.unwrap(), (2.5, 30.0), "medium repeat"),
                _ => assert_eq!(repeat, None),
            }
        }
        assert_eq!(Burst::of(Priority::Info), None);
    }

    #[test]
    fn each_pulse_has_four_harmonics_within_15_db_of_its_fundamental() {
        for priority in [Priority::High, Priority::Medium, Priority::Low] {
            let burst = Burst::of(priority).unwrap();
            let f0 = burst.fundamental_hz;
            assert!((150.0..=1000.0).contains(&f0), "{priority:?} fundamental");
            // One pulse: each starts its tone afresh, so the burst as a whole is not one
            // continuous tone to measure.
            let pulse = (burst.pulse.as_secs_f64() * f64::from(RATE)) as usize;
            let rendered = burst.render();
            let samples = &rendered[..pulse];
            let base = amplitude_at(samples, f0);
            for h in 2..=5 {
                let f = f0 * f64::from(h);
                assert!((300.0..=4000.0).contains(&f), "{priority:?} harmonic {h}");
                let db = 20.0 * (amplitude_at(samples, f) / base).log10();
                assert!(db > -15.0, "{priority:?} harmonic {h} at {db:.1} dB");
            }
            // The measure can fail: a frequency not in the tone is far below.
            let off = 20.0 * (amplitude_at(samples, f0 * 1.5) / base).log10();
            assert!(off < -25.0, "{priority:?}: {off:.1} dB between harmonics");
        }
    }

    #[test]
    fn the_assets_are_the_renderings() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        for priority in [Priority::High, Priority::Medium, Priority::Low] {
            let name = asset_name(priority).unwrap();
            let on_disk = std::fs::read(dir.join(name)).unwrap_or_default();
            assert!(
                on_disk == Burst::of(priority).unwrap().wav(),
                "assets/{name} differs from the rendering: \
                 run `cargo run --example alarm_tones` to write it again"
            );
        }
    }

    #[test]
    fn the_wav_header_matches_its_samples() {
        let samples = Burst::of(Priority::Medium).unwrap().render();
        let bytes = wav(&samples);
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(
            u32::from_le_bytes(bytes[40..44].try_into().unwrap()) as usize,
            samples.len() * 2
        );
        assert_eq!(bytes.len(), 44 + samples.len() * 2);
    }
}
