//! An in-memory serial line for the demo where the system has no pseudo-terminals (Windows):
//! the simulated machine writes its APH/1 bytes at one end, the acquisition worker reads them
//! at the other as it reads a serial port, with the same read timeout (a read with nothing to
//! read waits that long and reports `TimedOut`) and the same end (the machine gone: end of
//! data, then no port to reopen). Only the bytes cross it, so the decoder, the journal, the
//! recorder and the alarms run as they do on a real line.

use std::io::{self, Read};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::acquisition::{PortError, PortOpener};

use super::runner::SimOutput;

/// The name the in-memory line goes by: the link's port on screen and in the recording's
/// `CONNECTED` row.
pub const IN_MEMORY_PORT: &str = "simulated machine (in memory)";

/// How many lines the pipe holds before the machine's writes wait, as a serial line's buffer.
const CAPACITY: usize = 1024;

/// Makes the two ends of an in-memory line; reads wait at most `read_timeout`.
pub fn in_memory_line(read_timeout: Duration) -> (PipeWriter, PipeReader) {
    let (tx, rx) = crossbeam_channel::bounded(CAPACITY);
    (
        PipeWriter { tx },
        PipeReader {
            rx,
            pending: Vec::new(),
            read_timeout,
        },
    )
}

/// The machine's end of the line.
pub struct PipeWriter {
    tx: Sender<Vec<u8>>,
}

impl SimOutput for PipeWriter {
    fn send(&mut self, bytes: &[u8]) -> io::Result<bool> {
        // A reader that is gone (the session stopped) is nobody listening: the bytes are lost.
        Ok(self.tx.send(bytes.to_vec()).is_ok())
    }
}

/// The monitor's end of the line, read like a serial port.
pub struct PipeReader {
    rx: Receiver<Vec<u8>>,
    /// The rest of a line that did not fit in the last read.
    pending: Vec<u8>,
    read_timeout: Duration,
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.pending.is_empty() {
            match self.rx.recv_timeout(self.read_timeout) {
                Ok(bytes) => self.pending = bytes,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "no data"));
                }
                // The machine has stopped and everything it wrote has been read.
                Err(RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

/// What the worker reopens after the in-memory line ended: nothing, the simulated machine
/// cannot come back on it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReopen;

impl PortOpener for NoReopen {
    fn open(&mut self) -> Result<Box<dyn Read + Send>, PortError> {
        Err(PortError::Other {
            port: IN_MEMORY_PORT.into(),
            message: "the simulated machine has stopped".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn bytes_arrive_in_order_whatever_the_reader_buffer() {
        let (mut writer, mut reader) = in_memory_line(Duration::from_millis(10));
        assert!(writer.send(b"$APH,1*00\r\n").unwrap());
        assert!(writer.send(b"$APH,2*00\r\n").unwrap());
        drop(writer);
        let mut got = Vec::new();
        let mut buf = [0u8; 4];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"$APH,1*00\r\n$APH,2*00\r\n");
    }

    #[test]
    fn an_empty_line_times_out_and_a_stopped_machine_is_end_of_data() {
        let (writer, mut reader) = in_memory_line(Duration::from_millis(5));
        let mut buf = [0u8; 16];
        let err = reader.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(writer);
        assert_eq!(reader.read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn a_gone_reader_is_nobody_listening_and_the_line_cannot_be_reopened() {
        let (mut writer, reader) = in_memory_line(Duration::from_millis(5));
        drop(reader);
        assert!(!writer.send(b"x").unwrap());
        let err = NoReopen.open().err().expect("no reopen");
        assert!(err.to_string().contains(IN_MEMORY_PORT), "{err}");
    }
}
