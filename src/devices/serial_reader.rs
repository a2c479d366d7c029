//! The only code that reads a serial port: one named thread per open port, cutting the byte stream
//! into lines, stamping each with its arrival time and pushing it into a bounded channel.
//!
//! Why a thread of its own: a port must be drained continuously or the operating system's buffer
//! overflows and readings are lost, whatever the UI or the engine is busy with. The thread does no
//! parsing (that is [`super::forwarder`]'s job) so it never falls behind. It never blocks on a full
//! channel either: a line that does not fit is dropped and counted, like a board that is not read.
//!
//! When the board goes away (unplugged, reset into its bootloader, the virtual board stopped) the
//! read fails with an IO error, or the poll reports a hang-up (`BrokenPipe`), or the read returns
//! end of file; any of these ends the thread with [`ReaderMsg::Lost`]. Timeouts are the normal
//! idle case and only let the thread notice [`SerialReader::stop`].

use crossbeam_channel::{Sender, TrySendError};
use std::io::{ErrorKind, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long one read waits for bytes before checking the stop flag.
pub const READ_TIMEOUT_MS: u64 = 50;

/// Longest line kept, in bytes; longer ones (a board at the wrong baud rate prints noise without
/// newlines) are dropped up to the next newline and counted in [`SerialReader::dropped_lines`].
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Reads returning no bytes this many times in a row mean the other end has closed.
const EOF_READS_BEFORE_LOST: u32 = 3;

/// How long the thread waits for room in the channel to deliver `Lost` or `Closed`, which must not
/// be dropped silently but must not hang the thread either.
const FINAL_SEND_TIMEOUT: Duration = Duration::from_millis(500);

/// What the reader thread reports.
#[derive(Debug, Clone, PartialEq)]
pub enum ReaderMsg {
    /// One complete line, without its `\n` or `\r\n`; invalid UTF-8 is replaced by `�`.
    Line {
        /// The line's text.
        text: String,
        /// Seconds since the `epoch` given to [`SerialReader::open`] when the bytes were read.
        at_s: f64,
    },
    /// The port failed (board unplugged or reset, virtual board stopped); the thread has ended.
    Lost {
        /// What happened, in words for the student.
        reason: String,
    },
    /// The reader was stopped on request; the thread has ended.
    Closed,
}

/// Why a port could not be opened, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SerialError {
    /// No such port.
    #[error(
        "there is no serial port {path}: is the board plugged in? run `tinylab ports` to list the ports"
    )]
    NotFound {
        /// The path asked for.
        path: String,
    },
    /// The operating system denies access to the port.
    #[error("not allowed to open {path}: {}", permission_hint())]
    PermissionDenied {
        /// The path asked for.
        path: String,
    },
    /// Another program has the port open.
    #[error(
        "{path} is in use by another program: close the Arduino Serial Monitor (or the Edge Impulse \
         forwarder, screen, another TinyLab window) and try again"
    )]
    Busy {
        /// The path asked for.
        path: String,
    },
    /// Any other failure to open or configure the port.
    #[error("could not open {path} at {baud} baud: {reason}")]
    Open {
        /// The path asked for.
        path: String,
        /// The baud rate asked for.
        baud: u32,
        /// The operating system's words.
        reason: String,
    },
    /// The reader thread could not be started.
    #[error("could not start reading {path}: {reason}")]
    Thread {
        /// The path asked for.
        path: String,
        /// The operating system's words.
        reason: String,
    },
}

/// What to do when the operating system denies access to a port.
fn permission_hint() -> &'static str {
    if cfg!(target_os = "linux") {
        "add yourself to the dialout group (sudo usermod -aG dialout $USER) and log in again"
    } else {
        "check that no other program uses it and that your account may use serial ports"
    }
}

impl SerialError {
    /// Classifies an open failure from the `serialport` crate.
    fn from_open(path: &str, baud: u32, error: &serialport::Error) -> Self {
        let path = path.to_owned();
        match error.kind() {
            serialport::ErrorKind::Io(ErrorKind::NotFound) => Self::NotFound { path },
            // Windows says "access denied" when another program holds the port.
            serialport::ErrorKind::Io(ErrorKind::PermissionDenied) if cfg!(windows) => {
                Self::Busy { path }
            }
            serialport::ErrorKind::Io(ErrorKind::PermissionDenied) => {
                Self::PermissionDenied { path }
            }
            // "No device" is also how a port locked by another program is reported.
            serialport::ErrorKind::NoDevice if port_exists(&path) => Self::Busy { path },
            serialport::ErrorKind::NoDevice => Self::NotFound { path },
            _ => Self::Open {
                path,
                baud,
                reason: error.to_string(),
            },
        }
    }
}

/// Whether a port exists, to tell "busy" from "not there".
fn port_exists(path: &str) -> bool {
    if cfg!(unix) {
        std::path::Path::new(path).exists()
    } else {
        serialport::available_ports()
            .is_ok_and(|ports| ports.iter().any(|port| port.port_name == path))
    }
}

/// An open port being read by its own thread. Dropping it stops the thread and closes the port.
#[derive(Debug)]
pub struct SerialReader {
    path: String,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl SerialReader {
    /// Opens `path` at `baud` (8 data bits, no parity, 1 stop bit, no flow control), discards
    /// whatever was waiting in its input buffer, and starts the thread `serial-reader <path>`,
    /// which sends every complete line to `tx` as [`ReaderMsg::Line`] stamped with seconds since
    /// `epoch`.
    ///
    /// If the first bytes arrive within [`fragment_window`] of opening, they are discarded up to
    /// the first newline: the port was probably opened while a line was on its way, and its
    /// start was cleared. (Lines arriving later are whole; the decoder also distrusts the first
    /// line.) If `tx` is full a line is dropped and counted ([`SerialReader::dropped_lines`]). On
    /// a read error the thread sends [`ReaderMsg::Lost`] and ends; after [`SerialReader::stop`]
    /// it sends [`ReaderMsg::Closed`] (best effort) and ends. If the receiver is dropped the
    /// thread ends quietly.
    pub fn open(
        path: &str,
        baud: u32,
        epoch: Instant,
        tx: Sender<ReaderMsg>,
    ) -> Result<Self, SerialError> {
        let builder = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(READ_TIMEOUT_MS));
        // Linux and macOS raise DTR when a port is opened; Windows does not, and boards with native
        // USB (Arduino mbed, ESP32-S3 CDC) only send once the host asserts DTR.
        #[cfg(windows)]
        let builder = builder.dtr_on_open(true);
        let port = builder
            .open()
            .map_err(|e| SerialError::from_open(path, baud, &e))?;
        // Best effort: if clearing fails, stale bytes arrive first and the decoder copes with them.
        let _ = port.clear(serialport::ClearBuffer::Input);
        let cleared_at = Instant::now();

        let stop = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let worker = Worker {
            path: path.to_owned(),
            port,
            cleared_at,
            fragment_window: fragment_window(baud),
            epoch,
            tx,
            stop: Arc::clone(&stop),
            dropped: Arc::clone(&dropped),
        };
        let thread = std::thread::Builder::new()
            .name(format!("serial-reader {path}"))
            .spawn(move || worker.run())
            .map_err(|e| SerialError::Thread {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            path: path.to_owned(),
            stop,
            dropped,
            thread: Some(thread),
        })
    }

    /// Stops the thread (within about [`READ_TIMEOUT_MS`]) and closes the port. Idempotent.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            // A panic in the thread has already been reported by the panic hook; there is nothing
            // left to clean up, so its payload is not needed.
            let _ = thread.join();
        }
    }

    /// Lines dropped because the channel was full or the line was longer than [`MAX_LINE_BYTES`].
    pub fn dropped_lines(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The port's path as given to [`SerialReader::open`].
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether the thread has ended (port lost, stopped, or receiver gone).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for SerialReader {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How soon after opening the first bytes must arrive to be taken for the rest of a line whose
/// start was cleared: the time to receive a USB packet (64 bytes) at `baud`, at least 5 ms.
pub fn fragment_window(baud: u32) -> Duration {
    let packet_s = 64.0 * 10.0 / f64::from(baud.max(1));
    Duration::from_secs_f64(packet_s.max(0.005))
}

/// Everything the reader thread owns.
struct Worker {
    path: String,
    port: Box<dyn serialport::SerialPort>,
    /// When the input buffer was cleared.
    cleared_at: Instant,
    /// See [`fragment_window`].
    fragment_window: Duration,
    epoch: Instant,
    tx: Sender<ReaderMsg>,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
}

/// Whether the thread goes on after delivering a line.
enum Flow {
    Continue,
    /// The receiver is gone: nobody listens any more.
    Disconnected,
}

impl Worker {
    fn run(mut self) {
        let mut chunk = [0_u8; 4096];
        let mut line: Vec<u8> = Vec::with_capacity(256);
        // Set while the bytes up to the next newline belong to a line whose start was not seen.
        let mut discarding = false;
        let mut first_bytes = true;
        let mut empty_reads = 0_u32;
        loop {
            if self.stop.load(Ordering::SeqCst) {
                let _ = self.tx.send_timeout(ReaderMsg::Closed, FINAL_SEND_TIMEOUT);
                return;
            }
            match self.port.read(&mut chunk) {
                Ok(0) => {
                    empty_reads += 1;
                    if empty_reads >= EOF_READS_BEFORE_LOST {
                        self.lost(&format!(
                            "the board at {} closed the connection (unplugged?)",
                            self.path
                        ));
                        return;
                    }
                }
                Ok(count) => {
                    empty_reads = 0;
                    if first_bytes {
                        first_bytes = false;
                        discarding = self.cleared_at.elapsed() < self.fragment_window;
                    }
                    let at_s = self.epoch.elapsed().as_secs_f64();
                    let bytes = chunk.get(..count).unwrap_or_default();
                    if let Flow::Disconnected =
                        self.split_lines(bytes, at_s, &mut line, &mut discarding)
                    {
                        return;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::TimedOut | ErrorKind::Interrupted | ErrorKind::WouldBlock
                    ) => {}
                Err(e) => {
                    // A partial line at this point is lost with the board; it is not sent.
                    self.lost(&format!(
                        "the board at {} stopped responding (unplugged?): {e}",
                        self.path
                    ));
                    return;
                }
            }
        }
    }

    /// Appends `bytes` to `line`, sending each completed line.
    fn split_lines(
        &self,
        bytes: &[u8],
        at_s: f64,
        line: &mut Vec<u8>,
        discarding: &mut bool,
    ) -> Flow {
        for piece in bytes.split_inclusive(|&byte| byte == b'\n') {
            let (content, complete) = match piece.strip_suffix(b"\n") {
                Some(content) => (content, true),
                None => (piece, false),
            };
            if !*discarding {
                line.extend_from_slice(content);
                if line.len() > MAX_LINE_BYTES {
                    line.clear();
                    *discarding = true;
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            if complete {
                if !*discarding {
                    let text = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line))
                        .into_owned();
                    if let Flow::Disconnected = self.send(ReaderMsg::Line { text, at_s }) {
                        return Flow::Disconnected;
                    }
                }
                line.clear();
                *discarding = false;
            }
        }
        Flow::Continue
    }

    fn send(&self, msg: ReaderMsg) -> Flow {
        match self.tx.try_send(msg) {
            Ok(()) => Flow::Continue,
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                Flow::Continue
            }
            Err(TrySendError::Disconnected(_)) => Flow::Disconnected,
        }
    }

    fn lost(&self, reason: &str) {
        let _ = self.tx.send_timeout(
            ReaderMsg::Lost {
                reason: reason.to_owned(),
            },
            FINAL_SEND_TIMEOUT,
        );
    }
}
