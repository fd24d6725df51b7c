//! The UI's own CPU time per frame, logged on request (`APH_FRAME_STATS=1`).

use std::time::{Duration, Instant};

/// With `APH_FRAME_STATS=1`, logs the UI's CPU time per frame every 10 s (mean, max, frames).
pub struct FrameStats {
    enabled: bool,
    since: Instant,
    frames: u32,
    total: Duration,
    max: Duration,
}

impl Default for FrameStats {
    fn default() -> Self {
        FrameStats::new()
    }
}

impl FrameStats {
    pub fn new() -> FrameStats {
        FrameStats {
            enabled: std::env::var_os("APH_FRAME_STATS").is_some(),
            since: Instant::now(),
            frames: 0,
            total: Duration::ZERO,
            max: Duration::ZERO,
        }
    }

    pub fn record(&mut self, frame: Duration) {
        if !self.enabled {
            return;
        }
        self.frames += 1;
        self.total += frame;
        self.max = self.max.max(frame);
        if self.since.elapsed() >= Duration::from_secs(10) {
            let mean = self.total / self.frames.max(1);
            tracing::info!(
                target: "frame",
                frames = self.frames,
                mean_ms = mean.as_secs_f64() * 1000.0,
                max_ms = self.max.as_secs_f64() * 1000.0,
                "ui frame time"
            );
            *self = FrameStats::new();
        }
    }
}
