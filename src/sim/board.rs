//! The virtual board: a pseudo-terminal whose far end behaves like the book's XIAOML Kit running
//! its motion data-collection sketch, so TinyLab can be used, demonstrated and tested with no
//! hardware, through exactly the same code path as a real board ([`crate::devices`]).
//!
//! A pty pair stands for the USB cable: the board's thread writes into the master side, and any
//! serial program (TinyLab's reader, `screen`, `cat`) opens the slave side, whose path
//! [`VirtualBoard::path`] gives. The board keeps the slave open itself so the pty survives while
//! no reader is attached. It prints what the kit prints: a banner, a pause, a countdown line, a
//! pause, then one reading per line, `x\ty\tz\r\n` in m/s² with 2 decimals, from
//! [`MotionSim`]. Lines are paced by absolute deadlines (`start + n / rate`), so the long-run rate
//! is exact even when one line is late.
//!
//! Like a real USB CDC board, it never blocks on the host: a write waits at most a few
//! milliseconds, what the pty did not take is finished later, and while such a remainder is
//! waiting (the pty's buffer, about 20 KB on Linux, is full because nobody reads) new lines are
//! dropped and counted. A reader that opens the port clears that backlog. Stopping the board
//! closes the master, which the reader sees as the board being unplugged.
//!
//! In inference mode ([`BoardConfig::inference`]) it plays a board running the book's Edge
//! Impulse motion classifier instead: every [`INFERENCE_PERIOD_S`] it prints a `Predictions
//! (DSP: …):` block with one score per class and an anomaly score, derived deterministically
//! from the current motion and the seed (the current motion scores highest), which the board
//! monitor ([`crate::devices::board_output`]) reads like a real board's.
//!
//! Pseudo-terminals exist on Linux and macOS only; elsewhere [`VirtualBoard::start`] says so.

use super::motion::{Motion, MotionSim};
use crate::rng::Rng;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The kit's first banner line.
pub const BANNER_TITLE: &str = "XIAOML Kit - Motion Data Collection";

/// The kit's second banner line, printed [`BoardConfig::banner_delay_s`] after the first.
pub const BANNER_COUNTDOWN: &str = "Starting data collection in 3 seconds...";

/// The header line printed before the data when [`BoardConfig::header`] is set.
pub const HEADER_LINE: &str = "accX\taccY\taccZ";

/// Slowest rate the board accepts, Hz.
pub const MIN_RATE_HZ: f64 = 0.1;

/// Fastest rate the board accepts, Hz.
pub const MAX_RATE_HZ: f64 = 1000.0;

/// Longest banner pause accepted, seconds.
pub const MAX_BANNER_DELAY_S: f64 = 60.0;

/// Seconds between two inference blocks in inference mode.
pub const INFERENCE_PERIOD_S: f64 = 0.5;

/// The first line an Edge Impulse example prints, before its first inference.
pub const INFERENCE_BANNER: &str = "Starting inferencing in 2 seconds...";

/// A board more than this late (the computer was suspended, or starved) skips the missed lines
/// instead of sending them in one burst.
const MAX_LAG_S: f64 = 1.0;

/// At most this many injected lines wait for the next reading; more are dropped.
const MAX_INJECTED_LINES: usize = 256;

/// How the virtual board behaves.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BoardConfig {
    /// Readings per second.
    pub rate_hz: f64,
    /// The motion simulated at start; [`VirtualBoard::set_motion`] changes it while running.
    pub motion: Motion,
    /// Print the XIAOML Kit's banner lines before the data.
    pub banner: bool,
    /// Pause after each banner line, seconds. The real kit waits 2 s, then 3 s; the default is
    /// 0.5 s each so the GUI and the CLI start quickly.
    pub banner_delay_s: f64,
    /// Seed of the simulation: the same seed gives the same readings.
    pub seed: u64,
    /// Print an axis-name header line (`accX\taccY\taccZ`) before the data.
    pub header: bool,
    /// Print inference results (Edge Impulse's `Predictions` blocks) instead of readings.
    pub inference: bool,
}

impl Default for BoardConfig {
    fn default() -> Self {
        Self {
            rate_hz: 50.0,
            motion: Motion::Idle,
            banner: true,
            banner_delay_s: 0.5,
            seed: 1,
            header: false,
            inference: false,
        }
    }
}

/// Why the virtual board could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// No pseudo-terminals on this system.
    #[error(
        "the virtual board needs Linux or macOS: it works through a pseudo-terminal, which this system lacks"
    )]
    Unsupported,
    /// The rate is out of range.
    #[error(
        "the virtual board's rate must be between {MIN_RATE_HZ} and {MAX_RATE_HZ} Hz, not {rate_hz}"
    )]
    InvalidRate {
        /// The rate asked for.
        rate_hz: f64,
    },
    /// The banner pause is out of range.
    #[error(
        "the virtual board's banner pause must be between 0 and {MAX_BANNER_DELAY_S} s, not {banner_delay_s}"
    )]
    InvalidBannerDelay {
        /// The pause asked for.
        banner_delay_s: f64,
    },
    /// The operating system refused a pseudo-terminal.
    #[error("could not create a pseudo-terminal for the virtual board: {reason}")]
    Pty {
        /// The operating system's words.
        reason: String,
    },
    /// The board's thread could not be started.
    #[error("could not start the virtual board: {reason}")]
    Thread {
        /// The operating system's words.
        reason: String,
    },
}

/// State shared between the handle and the board's thread.
#[derive(Debug)]
struct Shared {
    /// Index of the current motion in [`Motion::ALL`].
    motion: AtomicU8,
    lines_written: AtomicU64,
    lines_dropped: AtomicU64,
    injected: Mutex<VecDeque<String>>,
}

impl Shared {
    fn motion(&self) -> Motion {
        let index = usize::from(self.motion.load(Ordering::Relaxed));
        Motion::ALL.get(index).copied().unwrap_or_default()
    }
}

/// Index of a motion in [`Motion::ALL`], for the atomic.
fn motion_index(motion: Motion) -> u8 {
    u8::try_from(motion.index()).unwrap_or(0)
}

/// A running virtual board. Dropping it stops the board and closes the pty.
#[derive(Debug)]
pub struct VirtualBoard {
    path: String,
    shared: Arc<Shared>,
    /// Dropping this wakes the thread and tells it to end.
    stop_tx: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// The board's own handle on the slave side, keeping the pty alive with no reader attached.
    slave: Option<Box<dyn serialport::SerialPort>>,
}

impl VirtualBoard {
    /// Creates the pty pair and starts the thread `virtual-board` that writes the banner (if
    /// configured), the header (if configured) and then readings at `config.rate_hz`.
    pub fn start(config: BoardConfig) -> Result<Self, SimError> {
        if !(config.rate_hz.is_finite() && (MIN_RATE_HZ..=MAX_RATE_HZ).contains(&config.rate_hz)) {
            return Err(SimError::InvalidRate {
                rate_hz: config.rate_hz,
            });
        }
        if !(config.banner_delay_s.is_finite()
            && (0.0..=MAX_BANNER_DELAY_S).contains(&config.banner_delay_s))
        {
            return Err(SimError::InvalidBannerDelay {
                banner_delay_s: config.banner_delay_s,
            });
        }
        let Pty {
            master,
            slave,
            path,
        } = open_pty()?;

        let shared = Arc::new(Shared {
            motion: AtomicU8::new(motion_index(config.motion)),
            lines_written: AtomicU64::new(0),
            lines_dropped: AtomicU64::new(0),
            injected: Mutex::new(VecDeque::new()),
        });
        let (stop_tx, stop_rx) = crossbeam_channel::bounded(1);
        let writer = Writer {
            config,
            master,
            shared: Arc::clone(&shared),
            stop_rx,
            pending: Vec::new(),
        };
        let thread = std::thread::Builder::new()
            .name("virtual-board".to_owned())
            .spawn(move || writer.run())
            .map_err(|e| SimError::Thread {
                reason: e.to_string(),
            })?;
        Ok(Self {
            path,
            shared,
            stop_tx: Some(stop_tx),
            thread: Some(thread),
            slave: Some(slave),
        })
    }

    /// The device a reader opens: the pty's slave side, e.g. `/dev/pts/3`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Changes the simulated motion; it takes effect from the next reading, cross-fading.
    pub fn set_motion(&self, motion: Motion) {
        self.shared
            .motion
            .store(motion_index(motion), Ordering::Relaxed);
    }

    /// The motion being simulated.
    pub fn motion(&self) -> Motion {
        self.shared.motion()
    }

    /// Readings handed to the port so far (banner, header and injected lines not counted).
    pub fn lines_written(&self) -> u64 {
        self.shared.lines_written.load(Ordering::Relaxed)
    }

    /// Readings dropped because nobody was reading the port (or the board fell far behind).
    pub fn lines_dropped(&self) -> u64 {
        self.shared.lines_dropped.load(Ordering::Relaxed)
    }

    /// Sends `line` (a newline is added) before the next reading: garbage, debug prints, headers,
    /// for tests and demos. At most a few hundred lines wait; more are dropped.
    pub fn inject_line(&self, line: &str) {
        let mut injected = self
            .shared
            .injected
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if injected.len() < MAX_INJECTED_LINES {
            injected.push_back(line.to_owned());
        }
    }

    /// Whether the board is still running.
    pub fn is_running(&self) -> bool {
        self.thread
            .as_ref()
            .is_some_and(|thread| !thread.is_finished())
    }

    /// Stops the board and closes the pty, so readers see the board vanish. Idempotent.
    pub fn stop(&mut self) {
        drop(self.stop_tx.take());
        if let Some(thread) = self.thread.take() {
            // The thread owns the master; joining it guarantees the master is closed. A panic in
            // it was already reported by the panic hook and leaves nothing to clean up.
            let _ = thread.join();
        }
        self.slave = None;
    }
}

impl Drop for VirtualBoard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Both ends of a pseudo-terminal.
struct Pty {
    master: Box<dyn serialport::SerialPort>,
    slave: Box<dyn serialport::SerialPort>,
    path: String,
}

#[cfg(unix)]
fn open_pty() -> Result<Pty, SimError> {
    let (master, slave) = serialport::TTYPort::pair().map_err(|e| SimError::Pty {
        reason: e.to_string(),
    })?;
    let Some(path) = serialport::SerialPort::name(&slave) else {
        return Err(SimError::Pty {
            reason: "the pseudo-terminal has no name".to_owned(),
        });
    };
    Ok(Pty {
        master: Box::new(master),
        slave: Box::new(slave),
        path,
    })
}

#[cfg(not(unix))]
fn open_pty() -> Result<Pty, SimError> {
    Err(SimError::Unsupported)
}

/// The board's thread: owns the master side and the simulation.
struct Writer {
    config: BoardConfig,
    master: Box<dyn serialport::SerialPort>,
    shared: Arc<Shared>,
    stop_rx: Receiver<()>,
    /// Bytes accepted from the "sketch" but not yet taken by the pty (a UART's transmit FIFO).
    pending: Vec<u8>,
}

/// Why the thread ends.
enum End {
    /// Stop was requested.
    Stopped,
    /// The pty failed.
    Broken,
}

impl Writer {
    fn run(mut self) {
        let period_s = 1.0 / self.config.rate_hz;
        // A write waits at most a quarter period (1–20 ms) for room; the rest is finished later.
        let write_timeout = Duration::from_secs_f64((period_s / 4.0).clamp(0.001, 0.02));
        // Best effort: the default timeout of the pair (100 ms) only makes dropping slower.
        let _ = self.master.set_timeout(write_timeout);
        let _ = self.run_until_end(period_s);
        // Returning drops the master, which hangs up the pty: readers see the board vanish.
    }

    fn run_until_end(&mut self, period_s: f64) -> Result<(), End> {
        if self.config.inference {
            return self.run_inference();
        }
        if self.config.banner {
            self.send_lines(&[BANNER_TITLE])?;
            self.pause(self.config.banner_delay_s)?;
            self.send_lines(&[BANNER_COUNTDOWN])?;
            self.pause(self.config.banner_delay_s)?;
        }
        if self.config.header {
            self.send_lines(&[HEADER_LINE])?;
        }
        let mut sim = MotionSim::new(self.config.motion, self.config.seed);
        let start = Instant::now();
        // Index of the next reading; reading n is due at start + n / rate.
        let mut n: u64 = 0;
        loop {
            self.wait_until(start + Duration::from_secs_f64(n as f64 * period_s))?;
            // Every reading whose time has come goes out in one write: a board woken late (the
            // computer is busy) catches up at once, so the long-run rate stays exact.
            let due = ((start.elapsed().as_secs_f64() / period_s).floor() as u64 + 1).max(n + 1);
            if (due - n) as f64 * period_s > MAX_LAG_S {
                let skipped = due - n - 1;
                self.shared
                    .lines_dropped
                    .fetch_add(skipped, Ordering::Relaxed);
                n += skipped;
            }
            let mut lines: Vec<String> = self
                .shared
                .injected
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .drain(..)
                .collect();
            sim.set_motion(self.shared.motion());
            let readings = due - n;
            for index in n..due {
                let [x, y, z] = sim.reading_ms2(index as f64 * period_s);
                lines.push(format!("{x:.2}\t{y:.2}\t{z:.2}"));
            }
            n = due;
            let counter = if self.send_lines(&lines)? {
                &self.shared.lines_written
            } else {
                &self.shared.lines_dropped
            };
            counter.fetch_add(readings, Ordering::Relaxed);
        }
    }

    /// Inference mode: a banner, then a block every [`INFERENCE_PERIOD_S`].
    fn run_inference(&mut self) -> Result<(), End> {
        if self.config.banner {
            self.send_lines(&[INFERENCE_BANNER])?;
            self.pause(self.config.banner_delay_s)?;
        }
        let mut rng = Rng::new(self.config.seed);
        let start = Instant::now();
        let mut n: u32 = 0;
        loop {
            self.wait_until(start + Duration::from_secs_f64(f64::from(n) * INFERENCE_PERIOD_S))?;
            n = n.saturating_add(1);
            let mut lines = self
                .shared
                .injected
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .drain(..)
                .collect::<Vec<_>>();
            lines.extend(inference_lines(self.shared.motion(), &mut rng));
            let counter = if self.send_lines(&lines)? {
                &self.shared.lines_written
            } else {
                &self.shared.lines_dropped
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sends `lines` (each followed by `\r\n`) unless the host is not reading, in which case
    /// they are dropped, as a USB board drops what its host does not fetch. Says whether they
    /// were sent.
    fn send_lines<S: AsRef<str>>(&mut self, lines: &[S]) -> Result<bool, End> {
        // Finish what an earlier write left over first; if some is still left, the pty is full
        // (about 20 KB unread on Linux): nobody is reading.
        self.flush()?;
        if !self.pending.is_empty() {
            return Ok(false);
        }
        for line in lines {
            self.pending.extend_from_slice(line.as_ref().as_bytes());
            self.pending.extend_from_slice(b"\r\n");
        }
        self.flush()?;
        Ok(true)
    }

    /// Writes as much of the transmit buffer as the pty takes within the write timeout.
    fn flush(&mut self) -> Result<(), End> {
        while !self.pending.is_empty() {
            match self.master.write(&self.pending) {
                Ok(0) => return Ok(()),
                Ok(count) => {
                    self.pending.drain(..count.min(self.pending.len()));
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                    ) =>
                {
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(End::Broken),
            }
        }
        Ok(())
    }

    /// Sleeps until `deadline`, waking at once if stop is requested.
    fn wait_until(&self, deadline: Instant) -> Result<(), End> {
        match self.stop_rx.recv_deadline(deadline) {
            Err(RecvTimeoutError::Timeout) => Ok(()),
            Ok(()) | Err(RecvTimeoutError::Disconnected) => Err(End::Stopped),
        }
    }

    /// Sleeps `seconds` (the banner pauses), waking at once if stop is requested.
    fn pause(&self, seconds: f64) -> Result<(), End> {
        self.wait_until(Instant::now() + Duration::from_secs_f64(seconds))
    }
}

/// One inference block as the Edge Impulse motion example prints it: the current motion scores
/// 0.80–0.98, the rest share what is left (scores on the int8 output's 1/256 grid, as a real
/// board's are), and the anomaly score is below 0, as the book's normal data.
pub fn inference_lines(motion: Motion, rng: &mut Rng) -> Vec<String> {
    let top = 205 + rng.below(46); // 205..=250 of 256
    let mut rest = 256 - top;
    let others = Motion::ALL.len().saturating_sub(1);
    let mut shares = Vec::with_capacity(others);
    for index in 0..others {
        let share = if index + 1 == others {
            rest
        } else {
            rng.below(rest + 1)
        };
        rest -= share;
        shares.push(share);
    }
    let mut shares = shares.into_iter();
    let dsp_ms = 10 + rng.below(3);
    let mut lines = vec![format!(
        "Predictions (DSP: {dsp_ms} ms., Classification: 0 ms., Anomaly: 0 ms.):"
    )];
    for candidate in Motion::ALL {
        let quanta = if candidate == motion {
            top
        } else {
            shares.next().unwrap_or(0)
        };
        lines.push(format!(
            "    {}: {:.5}",
            candidate.label(),
            quanta as f64 / 256.0
        ));
    }
    let anomaly = -0.6 + 0.4 * rng.next_f64();
    lines.push(format!("    anomaly score: {anomaly:.3}"));
    lines
}
