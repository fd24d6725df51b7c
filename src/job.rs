//! Work that must not run on the UI thread (files, ports, dialogs, joins): a [`Job`] runs it on
//! a named thread of its own, wakes the UI when it is done, and is polled once a frame.
//!
//! Headless: the UI hands in its waker as a plain closure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crossbeam_channel::{Receiver, TryRecvError};

/// How a job tells the UI to draw a frame.
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// A waker that does nothing (headless callers and tests that poll).
pub fn no_wake() -> Wake {
    Arc::new(|| {})
}

/// What polling a job found.
#[derive(Debug, PartialEq, Eq)]
pub enum Poll<T> {
    /// Still running.
    Pending,
    /// Finished with this result (returned once).
    Ready(T),
    /// The work panicked, or its thread could not be started; nothing will come.
    Lost(String),
}

/// How far a job has come, from 0 to 1, shared with the thread doing it.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<AtomicU32>);

impl Progress {
    pub fn set(&self, fraction: f32) {
        self.0
            .store(fraction.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }

    pub fn get(&self) -> f32 {
        f32::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// One piece of background work and, once it is done, its result.
pub struct Job<T> {
    name: &'static str,
    result: Option<Receiver<T>>,
    progress: Progress,
    lost: Option<String>,
}

impl<T: Send + 'static> Job<T> {
    /// Runs `work` on a thread named `name`; `wake` is called when it is done.
    pub fn spawn(
        name: &'static str,
        wake: Wake,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Job<T> {
        Job::spawn_with_progress(name, wake, move |_| work())
    }

    /// Like [`Job::spawn`], for work that reports how far it has come; `wake` is also
    /// the work's to call when its progress is worth drawing.
    pub fn spawn_with_progress(
        name: &'static str,
        wake: Wake,
        work: impl FnOnce(&Progress) -> T + Send + 'static,
    ) -> Job<T> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let progress = Progress::default();
        let shared = progress.clone();
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                // The waker runs after the result is sent, even if the work panicked, so the
                // UI polls once more and sees the job finished or lost.
                struct WakeOnExit(Wake);
                impl Drop for WakeOnExit {
                    fn drop(&mut self) {
                        (self.0)();
                    }
                }
                let _wake = WakeOnExit(wake);
                let _ = tx.send(work(&shared));
            });
        match spawned {
            Ok(_) => Job {
                name,
                result: Some(rx),
                progress,
                lost: None,
            },
            Err(e) => Job {
                name,
                result: None,
                progress,
                lost: Some(format!("cannot start the {name} thread: {e}")),
            },
        }
    }

    /// Takes the result if the work is done. After `Ready` or `Lost`, every poll is `Lost`.
    pub fn poll(&mut self) -> Poll<T> {
        if let Some(why) = self.lost.take() {
            return Poll::Lost(why);
        }
        let Some(rx) = &self.result else {
            return Poll::Lost(format!("the {} job has already finished", self.name));
        };
        match rx.try_recv() {
            Ok(value) => {
                self.result = None;
                Poll::Ready(value)
            }
            Err(TryRecvError::Empty) => Poll::Pending,
            Err(TryRecvError::Disconnected) => {
                self.result = None;
                tracing::error!(job = self.name, "a background job failed");
                Poll::Lost(format!("the {} job failed unexpectedly", self.name))
            }
        }
    }

    /// How far the work has come (what it last reported; 0 if it reports nothing).
    pub fn progress(&self) -> f32 {
        self.progress.get()
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Takes the result of the job in `slot` once it is done, emptying the slot; `None` while
    /// it runs. A lost job empties the slot and gives `None` (it has logged why).
    pub fn take_ready(slot: &mut Option<Job<T>>) -> Option<T> {
        let job = slot.as_mut()?;
        match job.poll() {
            Poll::Pending => None,
            Poll::Ready(value) => {
                *slot = None;
                Some(value)
            }
            Poll::Lost(_) => {
                *slot = None;
                None
            }
        }
    }
}

impl<T> std::fmt::Debug for Job<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};

    use super::*;

    fn poll_until_done<T: Send + 'static>(job: &mut Job<T>) -> Poll<T> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match job.poll() {
                Poll::Pending if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                other => return other,
            }
        }
    }

    #[test]
    fn a_result_is_handed_over_once_and_the_ui_is_woken() {
        let wakes = Arc::new(AtomicUsize::new(0));
        let counter = wakes.clone();
        let (release, gate) = crossbeam_channel::bounded::<()>(0);
        let mut job = Job::spawn(
            "answer",
            Arc::new(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            }),
            move || {
                let _ = gate.recv();
                42
            },
        );
        assert_eq!(job.poll(), Poll::Pending, "the work waits for the gate");
        assert_eq!(wakes.load(Ordering::SeqCst), 0);
        release.send(()).unwrap();
        assert_eq!(poll_until_done(&mut job), Poll::Ready(42));
        assert!(
            matches!(job.poll(), Poll::Lost(_)),
            "a result is handed over once"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while wakes.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn work_that_panics_is_reported_lost_and_still_wakes_the_ui() {
        let wakes = Arc::new(AtomicUsize::new(0));
        let counter = wakes.clone();
        let mut job: Job<u32> = Job::spawn(
            "doomed",
            Arc::new(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            }),
            || panic!("the work failed"),
        );
        match poll_until_done(&mut job) {
            Poll::Lost(why) => assert!(why.contains("doomed"), "{why}"),
            other => panic!("expected Lost, got {other:?}"),
        }
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn progress_is_what_the_work_last_reported_clamped_to_0_to_1() {
        let (release, gate) = crossbeam_channel::bounded::<()>(0);
        let (reported, seen) = crossbeam_channel::bounded::<()>(0);
        let mut job = Job::spawn_with_progress("load", no_wake(), move |progress| {
            progress.set(0.25);
            reported.send(()).unwrap();
            let _ = gate.recv();
            progress.set(7.0);
            "done"
        });
        assert_eq!(Progress::default().get(), 0.0, "nothing reported is 0");
        seen.recv().unwrap();
        assert_eq!(job.progress(), 0.25);
        release.send(()).unwrap();
        assert_eq!(poll_until_done(&mut job), Poll::Ready("done"));
        assert_eq!(job.progress(), 1.0);
    }
}
