//! Reopening a lost port: every `reconnect_interval`, through the opener, which finds the
//! device again by its stable identity; a device found under a new name is recorded in the
//! `LINK_RESTORED` row and told to the screen.

use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::{AcqEvent, LinkCode, LinkState, Worker};

impl Worker {
    /// Tells the UI which device the port is on, when that is not the port's own name.
    pub(super) fn send_device(&mut self) {
        if let Some(device) = self.device.clone().filter(|d| *d != self.config.port) {
            self.send(AcqEvent::Device(device));
        }
    }

    pub(super) fn wait_and_reconnect(&mut self) {
        let due = self.last_attempt.map_or(Duration::ZERO, |t| {
            self.config.reconnect_interval.saturating_sub(t.elapsed())
        });
        if !due.is_zero() {
            // Sleep in short steps so commands are still handled promptly.
            std::thread::sleep(due.min(self.config.read_timeout));
            return;
        }
        self.try_reconnect();
    }

    pub(super) fn try_reconnect(&mut self) {
        self.last_attempt = Some(Instant::now());
        match self.opener.open() {
            Ok(port) => {
                let device = self.opener.device();
                if let Some(now_on) = device.as_deref()
                    && device != self.device
                {
                    let how = self.opener.how_found(now_on);
                    self.reopened_on = Some(format!("connected on {now_on}{how}"));
                }
                let moved = device != self.device;
                self.device = device;
                if moved {
                    self.send_device();
                }
                self.connected(port);
            }
            Err(e) => {
                tracing::debug!(error = %e, "reopen failed");
                let reason = e.to_string();
                // Only the first failure of an outage is recorded; retries are not.
                if let Some(entry) =
                    self.journalist
                        .link_lost(Timestamp::now(), LinkCode::Lost, reason.clone())
                {
                    self.emit(entry);
                    self.send(AcqEvent::Link(LinkState::Down { reason }));
                    (self.wake)();
                }
            }
        }
    }
}
