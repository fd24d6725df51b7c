//! The recorder: appends journal entries to the session CSV as they arrive.
//!
//! Every row goes to the operating system in one `write` as soon as it is appended, so a crash
//! of the program loses nothing already received; `fsync` runs at least once a second while
//! there is unsynced data, so a power cut loses at most the last second. A row that cannot be
//! written stays queued in memory, in order, and is written when writing works again.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::model::Entry;

use super::files::{create_private_dir_all, create_private_file, sync_dir};
use super::format::{header_row, write_row};
use super::reader::MAX_ROW_BYTES;

/// The longest unsynced data may wait for `fsync`.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// Why the recorder could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("recording {path} already exists; a recording is never overwritten")]
    Exists { path: PathBuf },
    #[error("cannot create recording {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot open recording {path} to resume it: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("{path} is not a session recording (its first line is not the recording header)")]
    NotARecording { path: PathBuf },
    #[error(
        "recording {path} cannot be resumed: what follows byte {offset} is not whole rows (a quote is left open); the file is left as it is, record into a new one"
    )]
    Damaged { path: PathBuf, offset: u64 },
    #[error("recording {path} is in use by another monitor")]
    InUse { path: PathBuf },
    #[error(
        "cannot write to recording {path}: {source}; {pending} rows are kept in memory and will be written when writing works again"
    )]
    Write {
        path: PathBuf,
        source: io::Error,
        pending: usize,
    },
    #[error("cannot sync recording {path} to disk: {source}")]
    Sync { path: PathBuf, source: io::Error },
}

/// An open session recording being appended to.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    file: File,
    /// Length of the file up to the end of the last row written whole.
    committed_len: u64,
    /// Rows not yet written, oldest first.
    pending: VecDeque<Vec<u8>>,
    unsynced: bool,
    last_sync: Instant,
    rows_written: u64,
    /// The background `fdatasync`, so a slow disk never holds up reading the port.
    syncer: Option<Syncer>,
}

/// A thread that syncs the recording's data on request, on its own handle to the file.
#[derive(Debug)]
struct Syncer {
    requests: Option<crossbeam_channel::Sender<()>>,
    /// The last background sync's failure, taken by the next call.
    failure: std::sync::Arc<std::sync::Mutex<Option<io::Error>>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Syncer {
    /// Ends the thread and so closes its handle to the file (and the file's lock with it)
    /// before the recorder is gone.
    fn drop(&mut self) {
        self.requests = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

impl Syncer {
    fn start(file: &File) -> Option<Syncer> {
        let file = file.try_clone().ok()?;
        let (requests, rx) = crossbeam_channel::bounded::<()>(1);
        let failure = std::sync::Arc::new(std::sync::Mutex::new(None));
        let slot = failure.clone();
        let handle = std::thread::Builder::new()
            .name("recording-sync".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    if let Err(e) = file.sync_data()
                        && let Ok(mut slot) = slot.lock()
                    {
                        *slot = Some(e);
                    }
                }
            })
            .ok()?;
        Some(Syncer {
            requests: Some(requests),
            failure,
            handle: Some(handle),
        })
    }

    /// Asks for a sync; requests made while one runs are folded into the next.
    fn request(&self) {
        if let Some(requests) = &self.requests {
            let _ = requests.try_send(());
        }
    }

    fn take_failure(&self) -> Option<io::Error> {
        self.failure.lock().ok().and_then(|mut slot| slot.take())
    }
}

impl Recorder {
    /// Creates a new recording at `path` (and its folder), private to the owner, with the
    /// header row on disk before it returns.
    pub fn create(path: &Path) -> Result<Recorder, RecordError> {
        let create_error = |source| RecordError::Create {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            create_private_dir_all(dir).map_err(create_error)?;
        }
        let mut file = create_private_file(path).map_err(|source| {
            if source.kind() == io::ErrorKind::AlreadyExists {
                RecordError::Exists {
                    path: path.to_owned(),
                }
            } else {
                create_error(source)
            }
        })?;
        // Held while recording: the session library tells a live recording from a crashed one.
        let _ = file.try_lock();
        let header = header_row();
        file.write_all(&header).map_err(create_error)?;
        file.sync_all().map_err(create_error)?;
        if let Some(dir) = path.parent() {
            sync_dir(dir).map_err(create_error)?;
        }
        let syncer = Syncer::start(&file);
        Ok(Recorder {
            path: path.to_owned(),
            file,
            committed_len: header.len() as u64,
            pending: VecDeque::new(),
            unsynced: false,
            last_sync: Instant::now(),
            rows_written: 0,
            syncer,
        })
    }

    /// Opens an existing recording to append to it. A last row cut short by a crash is
    /// removed first, so the next row starts on a line of its own.
    pub fn resume(path: &Path) -> Result<Recorder, RecordError> {
        let open_error = |source| RecordError::Open {
            path: path.to_owned(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(open_error)?;
        if let Err(std::fs::TryLockError::WouldBlock) = file.try_lock() {
            return Err(RecordError::InUse {
                path: path.to_owned(),
            });
        }
        let header = header_row();
        let mut first = vec![0; header.len()];
        if file.read_exact(&mut first).is_err() || first != header {
            return Err(RecordError::NotARecording {
                path: path.to_owned(),
            });
        }
        let len = file.metadata().map_err(open_error)?.len();
        let committed_len =
            end_of_last_row(&mut file, header.len() as u64, len).map_err(open_error)?;
        if len - committed_len > MAX_ROW_BYTES as u64 {
            // More than one row's worth would go: this is damage, not a row cut short.
            return Err(RecordError::Damaged {
                path: path.to_owned(),
                offset: committed_len,
            });
        }
        if committed_len < len {
            file.set_len(committed_len).map_err(open_error)?;
            file.sync_all().map_err(open_error)?;
        }
        file.seek(SeekFrom::Start(committed_len))
            .map_err(open_error)?;
        let syncer = Syncer::start(&file);
        Ok(Recorder {
            path: path.to_owned(),
            file,
            committed_len,
            pending: VecDeque::new(),
            unsynced: false,
            last_sync: Instant::now(),
            rows_written: 0,
            syncer,
        })
    }

    /// The recording's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows written by this recorder so far (not counting the header).
    pub fn rows_written(&self) -> u64 {
        self.rows_written
    }

    /// Rows waiting in memory because writing failed.
    pub fn pending_rows(&self) -> usize {
        self.pending.len()
    }

    /// Appends `entry`. On error the row is kept in memory, in order, and written by a later
    /// call once writing works again.
    pub fn append(&mut self, entry: &Entry) -> Result<(), RecordError> {
        let mut row = Vec::with_capacity(192);
        write_row(entry, &mut row);
        self.pending.push_back(row);
        self.write_pending()?;
        self.sync_if_due()
    }

    /// Retries queued rows and, once the sync interval has passed, has the data synced to disk
    /// in the background. Call at least once a second while recording.
    pub fn sync_if_due(&mut self) -> Result<(), RecordError> {
        self.write_pending()?;
        if let Some(source) = self.syncer.as_ref().and_then(Syncer::take_failure) {
            return Err(RecordError::Sync {
                path: self.path.clone(),
                source,
            });
        }
        if self.unsynced && self.last_sync.elapsed() >= SYNC_INTERVAL {
            match &self.syncer {
                Some(syncer) => {
                    syncer.request();
                    self.unsynced = false;
                    self.last_sync = Instant::now();
                }
                None => self.sync()?,
            }
        }
        Ok(())
    }

    /// Writes whatever is queued and syncs now.
    pub fn sync(&mut self) -> Result<(), RecordError> {
        self.write_pending()?;
        self.file.sync_data().map_err(|source| RecordError::Sync {
            path: self.path.clone(),
            source,
        })?;
        self.unsynced = false;
        self.last_sync = Instant::now();
        Ok(())
    }

    fn write_pending(&mut self) -> Result<(), RecordError> {
        while let Some(row) = self.pending.front() {
            if let Err(source) = self.file.write_all(row) {
                // Take back any part of the row that did reach the file, so the retry starts
                // the row on a clean line.
                let _ = self.file.set_len(self.committed_len);
                let _ = self.file.seek(SeekFrom::Start(self.committed_len));
                return Err(RecordError::Write {
                    path: self.path.clone(),
                    source,
                    pending: self.pending.len(),
                });
            }
            self.committed_len += row.len() as u64;
            self.rows_written += 1;
            self.unsynced = true;
            self.pending.pop_front();
        }
        Ok(())
    }
}

/// The offset just after the last whole row in the first `len` bytes of `file`, reading
/// from `start` (the end of the header). A row ends at a line break outside quotes: a note
/// may hold line breaks of its own inside its quoted text, and cutting there would leave a
/// quote open that swallows every row appended after it.
fn end_of_last_row(file: &mut File, start: u64, len: u64) -> io::Result<u64> {
    const CHUNK: usize = 64 * 1024;
    let mut buf = vec![0u8; CHUNK];
    let mut offset = start;
    let mut in_quotes = false;
    let mut last_end = start;
    file.seek(SeekFrom::Start(start))?;
    while offset < len {
        let size = usize::try_from(len - offset).map_or(CHUNK, |left| left.min(CHUNK));
        file.read_exact(&mut buf[..size])?;
        for (i, &byte) in buf[..size].iter().enumerate() {
            match byte {
                // A doubled quote inside quotes flips twice, so parity tells inside from out.
                b'"' => in_quotes = !in_quotes,
                b'\n' if !in_quotes => last_end = offset + i as u64 + 1,
                _ => {}
            }
        }
        offset += size as u64;
    }
    Ok(last_end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EntryBody, MachineState};

    fn entry(seconds: u64) -> Entry {
        Entry {
            time_utc: jiff::Timestamp::from_second(1_700_000_000 + i64::try_from(seconds).unwrap())
                .unwrap(),
            elapsed_ms: Some(seconds * 1000),
            seq: Some(u32::try_from(seconds).unwrap()),
            body: EntryBody::State(MachineState::Run),
        }
    }

    #[test]
    fn a_recording_is_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/sub/s.csv");
        let mut recorder = Recorder::create(&path).unwrap();
        recorder.append(&entry(1)).unwrap();
        assert!(matches!(
            Recorder::create(&path),
            Err(RecordError::Exists { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&dir.path().join("new/sub")), 0o700);
        }
    }

    #[test]
    fn rows_reach_the_file_as_soon_as_they_are_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let mut recorder = Recorder::create(&path).unwrap();
        recorder.append(&entry(1)).unwrap();
        recorder.append(&entry(2)).unwrap();
        // Read through another handle without closing or syncing the recorder.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.lines().nth(2).unwrap().contains(",2.000,2,state,RUN,"));
        assert_eq!(recorder.rows_written(), 2);
    }

    #[test]
    fn resume_drops_a_half_written_last_row_and_continues() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let mut recorder = Recorder::create(&path).unwrap();
        recorder.append(&entry(1)).unwrap();
        drop(recorder);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"2026-01-01T00:00:00.000Z,2.0").unwrap();
        drop(file);
        let mut recorder = Recorder::resume(&path).unwrap();
        recorder.append(&entry(3)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[1].contains(",1.000,1,"));
        assert!(lines[2].contains(",3.000,3,"));
    }

    fn note(seconds: u64, text: &str) -> Entry {
        Entry {
            body: EntryBody::Note(crate::model::Note {
                code: String::new(),
                text: text.into(),
            }),
            seq: None,
            ..entry(seconds)
        }
    }

    /// The recording's rows as (seq, note text), loaded by the real loader, which must skip
    /// nothing.
    fn rows(path: &Path) -> Vec<(Option<u32>, Option<String>)> {
        let loaded = crate::recording::load(path, |_, _| true).unwrap();
        assert_eq!(loaded.skipped_rows, 0, "{:?}", loaded.problems);
        loaded
            .entries
            .iter()
            .map(|e| match &e.body {
                EntryBody::Note(n) => (e.seq, Some(n.text.clone())),
                _ => (e.seq, None),
            })
            .collect()
    }

    #[test]
    fn resume_cuts_a_half_written_note_with_a_line_break_back_to_the_last_whole_row() {
        // A crash (or power cut) in the middle of a note whose text holds a line break: the
        // file ends inside the note's quotes, after its inner line break. Cutting at that line
        // break would leave the quote open and swallow every row appended after it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let mut recorder = Recorder::create(&path).unwrap();
        recorder.append(&entry(1)).unwrap();
        drop(recorder);
        let mut half = Vec::new();
        write_row(&note(2, "pale\nand cold"), &mut half);
        let cut = half.iter().position(|&b| b == b'\n').unwrap() + 3;
        assert!(
            cut < half.len() - 2,
            "the note row must be cut inside its text"
        );
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&half[..cut]).unwrap();
        drop(file);

        let mut recorder = Recorder::resume(&path).unwrap();
        recorder.append(&entry(3)).unwrap();
        recorder.append(&note(4, "better\nnow")).unwrap();
        recorder.append(&entry(5)).unwrap();
        drop(recorder);
        assert_eq!(
            rows(&path),
            [
                (Some(1), None),
                (Some(3), None),
                (None, Some("better\nnow".into())),
                (Some(5), None)
            ]
        );
    }

    #[test]
    fn resume_keeps_a_whole_note_with_line_breaks_and_cuts_the_half_row_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let mut recorder = Recorder::create(&path).unwrap();
        recorder.append(&entry(1)).unwrap();
        recorder
            .append(&note(2, "line one\nline \"two\"\n"))
            .unwrap();
        drop(recorder);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"2026-01-01T00:00:03.000Z,3.0").unwrap();
        drop(file);
        let mut recorder = Recorder::resume(&path).unwrap();
        recorder.append(&entry(4)).unwrap();
        drop(recorder);
        assert_eq!(
            rows(&path),
            [
                (Some(1), None),
                (None, Some("line one\nline \"two\"\n".into())),
                (Some(4), None)
            ]
        );
    }

    #[test]
    fn resume_refuses_a_file_whose_open_quote_would_cut_more_than_a_row() {
        // A stray quote followed by more than a row's worth of rows is damage, not a row cut
        // short: resuming would have to throw those rows away, so it refuses and leaves the
        // file alone.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let mut recorder = Recorder::create(&path).unwrap();
        recorder.append(&entry(1)).unwrap();
        drop(recorder);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"2026-01-01T00:00:02.000Z,2.000,2,note,,\"stray\r\n")
            .unwrap();
        let mut filler = Vec::new();
        for s in 3..2000 {
            write_row(&entry(s), &mut filler);
        }
        assert!(filler.len() > MAX_ROW_BYTES);
        file.write_all(&filler).unwrap();
        drop(file);
        let before = std::fs::read(&path).unwrap();
        assert!(matches!(
            Recorder::resume(&path),
            Err(RecordError::Damaged { .. })
        ));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the file was changed"
        );
    }

    #[test]
    fn resume_refuses_a_file_that_is_not_a_recording() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.csv");
        std::fs::write(&path, "name,age\r\nx,1\r\n").unwrap();
        assert!(matches!(
            Recorder::resume(&path),
            Err(RecordError::NotARecording { .. })
        ));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_write_keeps_rows_in_memory_and_writes_them_later_in_order() {
        // /dev/full fails every write with ENOSPC; swap the file under the recorder to model a
        // disk that fills up and then frees space again.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let mut recorder = Recorder::create(&path).unwrap();
        recorder.append(&entry(1)).unwrap();
        let good = std::mem::replace(
            &mut recorder.file,
            OpenOptions::new().write(true).open("/dev/full").unwrap(),
        );
        let err = recorder.append(&entry(2)).unwrap_err();
        assert!(
            matches!(err, RecordError::Write { pending: 1, .. }),
            "{err}"
        );
        assert!(recorder.append(&entry(3)).is_err());
        assert_eq!(recorder.pending_rows(), 2);
        recorder.file = good;
        recorder.sync_if_due().unwrap();
        assert_eq!(recorder.pending_rows(), 0);
        let text = std::fs::read_to_string(&path).unwrap();
        let seqs: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(2).unwrap())
            .collect();
        assert_eq!(seqs, ["1", "2", "3"]);
    }
}
