//! End-to-end tests of the capture path through a real pseudo-terminal: the virtual board writes
//! like the XIAOML Kit, `SerialReader` reads the pty exactly as it reads a USB board, and the
//! `Decoder` detects the format. They check what students depend on: the rate is right (where Edge
//! Impulse's forwarder is 1 Hz off), no reading is lost or misaligned by banners and garbage, and
//! unplugging ends a capture cleanly.
//!
//! Timing tolerances are those of the product requirements, not tighter: the tests run in
//! parallel on small CI machines.
#![cfg(unix)]
// In tests a panic is a failed test, with its message: that is what these lints guard against
// in the library, and what helpers here want.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use tinylab::devices::forwarder::{Decoded, Decoder, SkipReason, StreamFormat};
use tinylab::devices::serial_reader::{ReaderMsg, SerialError, SerialReader};
use tinylab::sim::board::{BANNER_COUNTDOWN, BoardConfig, VirtualBoard};

/// How long detection may take on a loaded machine (it needs about 2 s of data).
const DETECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// A virtual board with a reader attached and a decoder detecting its format.
struct Rig {
    board: VirtualBoard,
    reader: SerialReader,
    rx: Receiver<ReaderMsg>,
    decoder: Decoder,
    /// Every line received, as text, for assertions about what was skipped.
    lines: Vec<String>,
}

/// What detection found.
struct Detected {
    format: StreamFormat,
    /// Readings kept during detection.
    buffered: Vec<Vec<f32>>,
    /// Arrival time of the line that completed detection, seconds since the reader's epoch.
    at_s: f64,
}

impl Rig {
    fn start(config: BoardConfig) -> Self {
        let board = VirtualBoard::start(config).expect("virtual board starts");
        let (tx, rx) = crossbeam_channel::bounded(1024);
        let reader = SerialReader::open(board.path(), 115_200, Instant::now(), tx)
            .expect("reader opens the pty");
        Self {
            board,
            reader,
            rx,
            decoder: Decoder::new(),
            lines: Vec::new(),
        }
    }

    /// The next message, or `None` on timeout.
    fn next(&mut self, timeout: Duration) -> Option<ReaderMsg> {
        match self.rx.recv_timeout(timeout) {
            Ok(msg) => {
                if let ReaderMsg::Line { text, .. } = &msg {
                    self.lines.push(text.clone());
                }
                Some(msg)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                panic!("reader thread vanished without Lost or Closed")
            }
        }
    }

    /// Feeds lines until the format is detected.
    fn detect(&mut self) -> Detected {
        let deadline = Instant::now() + DETECTION_TIMEOUT;
        while Instant::now() < deadline {
            match self.next(Duration::from_millis(200)) {
                Some(ReaderMsg::Line { text, at_s }) => {
                    if let Decoded::FormatDetected(format) = self.decoder.feed(&text, at_s) {
                        return Detected {
                            format,
                            buffered: self.decoder.take_buffered(),
                            at_s,
                        };
                    }
                }
                Some(other) => panic!("reader ended during detection: {other:?}"),
                None => {}
            }
        }
        panic!(
            "no format detected within {DETECTION_TIMEOUT:?}; lines seen: {:?}",
            self.lines.len()
        );
    }

    /// Feeds lines for `seconds` of arrival time after `from_s`, returning the readings that
    /// arrived in that window.
    fn readings_during(&mut self, from_s: f64, seconds: f64) -> Vec<Vec<f32>> {
        let mut readings = Vec::new();
        let deadline = Instant::now() + Duration::from_secs_f64(seconds + 5.0);
        while Instant::now() < deadline {
            match self.next(Duration::from_millis(200)) {
                Some(ReaderMsg::Line { text, at_s }) => {
                    if at_s >= from_s + seconds {
                        return readings;
                    }
                    if let Decoded::Reading(values) = self.decoder.feed(&text, at_s) {
                        readings.push(values);
                    }
                }
                Some(other) => panic!("reader ended during capture: {other:?}"),
                None => {}
            }
        }
        panic!(
            "the stream stalled: {} readings in the window",
            readings.len()
        );
    }
}

/// A reading as the idle board prints it: three finite values, gravity on Z.
fn assert_intact(readings: &[Vec<f32>]) {
    for reading in readings {
        assert_eq!(reading.len(), 3, "reading {reading:?}");
        assert!(reading.iter().all(|v| v.is_finite()), "reading {reading:?}");
        let [x, y, z] = [reading[0], reading[1], reading[2]];
        assert!(
            (z - 9.81).abs() < 0.5 && x.abs() < 0.5 && y.abs() < 0.5,
            "columns shifted: {reading:?}"
        );
    }
}

fn check_rate(rate_hz: f64, banner: bool) {
    let mut rig = Rig::start(BoardConfig {
        rate_hz,
        banner,
        ..BoardConfig::default()
    });
    let detected = rig.detect();
    assert_eq!(detected.format.axes, ["accX", "accY", "accZ"]);
    assert!(
        (detected.format.rate_hz - rate_hz).abs() <= 0.5,
        "detected {} Hz for a {rate_hz} Hz board",
        detected.format.rate_hz
    );
    assert!(!detected.buffered.is_empty());
    assert_intact(&detected.buffered);
}

#[test]
fn detects_three_axes_at_50_hz() {
    check_rate(50.0, true);
}

#[test]
fn detects_three_axes_at_100_hz() {
    check_rate(100.0, false);
}

#[test]
fn detects_three_axes_at_200_hz() {
    check_rate(200.0, false);
}

#[test]
fn ten_second_capture_at_50_hz_has_500_readings() {
    let mut rig = Rig::start(BoardConfig {
        banner: false,
        ..BoardConfig::default()
    });
    let detected = rig.detect();
    let readings = rig.readings_during(detected.at_s, 10.0);
    assert!(
        (495..=505).contains(&readings.len()),
        "{} readings in 10 s at 50 Hz",
        readings.len()
    );
    assert_intact(&readings);
    assert_eq!(rig.reader.dropped_lines(), 0);
}

#[test]
fn banner_and_garbage_are_skipped_without_losing_alignment() {
    let mut rig = Rig::start(BoardConfig::default());
    let long_numeric_line = "1.25,".repeat(2_000);
    let garbage: [&str; 7] = [
        "#$%garbage",
        "1.0,2.0",
        "nan",
        "",
        &long_numeric_line,
        "\u{1}\u{2}\u{7f} binary noise \u{fffd}",
        "1.0\t2.0\t3.0\t4.0",
    ];
    for line in garbage {
        rig.board.inject_line(line);
    }
    let detected = rig.detect();
    assert_eq!(detected.format.axes.len(), 3);
    assert_intact(&detected.buffered);
    // More garbage while capturing.
    for line in garbage {
        rig.board.inject_line(line);
    }
    let readings = rig.readings_during(detected.at_s, 2.0);
    assert!(
        readings.len() > 80,
        "only {} readings in 2 s",
        readings.len()
    );
    assert_intact(&readings);

    assert!(
        rig.lines.iter().any(|line| line == BANNER_COUNTDOWN),
        "the countdown banner arrived"
    );
    let mut check = Decoder::with_format(detected.format.clone());
    assert_eq!(
        check.feed(BANNER_COUNTDOWN, 0.0),
        Decoded::Skipped(SkipReason::NotNumeric)
    );
    assert!(
        rig.lines.iter().any(|line| line == "#$%garbage"),
        "injected lines arrived"
    );
    assert!(
        rig.lines.iter().any(|line| line.len() == 10_000),
        "the long line arrived whole"
    );
    assert!(
        rig.decoder.skipped_lines() >= garbage.len() as u64,
        "garbage was counted as skipped"
    );
}

#[test]
fn stopping_the_board_ends_the_reader_with_lost() {
    let mut rig = Rig::start(BoardConfig {
        banner: false,
        ..BoardConfig::default()
    });
    let detected = rig.detect();
    let mut readings = detected.buffered;
    readings.extend(rig.readings_during(detected.at_s, 1.0));

    rig.board.stop();
    rig.board.stop(); // idempotent
    let deadline = Instant::now() + Duration::from_secs(5);
    let reason = loop {
        assert!(
            Instant::now() < deadline,
            "the reader did not notice the board vanish"
        );
        match rig.next(Duration::from_millis(200)) {
            Some(ReaderMsg::Line { text, at_s }) => {
                if let Decoded::Reading(values) = rig.decoder.feed(&text, at_s) {
                    readings.push(values);
                }
            }
            Some(ReaderMsg::Lost { reason }) => break reason,
            Some(ReaderMsg::Closed) => panic!("Closed without stop(); expected Lost"),
            None => {}
        }
    };
    assert!(
        reason.contains(rig.board.path()) && reason.contains("unplugged"),
        "reason: {reason}"
    );
    assert!(
        readings.len() > 50,
        "{} readings before the stop",
        readings.len()
    );
    assert_intact(&readings);
    // The thread has ended: nothing more arrives and dropping the reader does not hang.
    let started = Instant::now();
    drop(rig.reader);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(rig.rx.recv_timeout(Duration::from_millis(300)).is_err());
}

#[test]
fn stopping_the_reader_sends_closed() {
    let mut rig = Rig::start(BoardConfig {
        banner: false,
        ..BoardConfig::default()
    });
    assert!(matches!(
        rig.next(Duration::from_secs(5)),
        Some(ReaderMsg::Line { .. })
    ));
    assert_eq!(rig.reader.path(), rig.board.path());
    rig.reader.stop();
    assert!(rig.reader.is_finished());
    let mut last = None;
    while let Ok(msg) = rig.rx.recv_timeout(Duration::from_millis(300)) {
        last = Some(msg);
    }
    assert_eq!(last, Some(ReaderMsg::Closed));
}

#[test]
fn open_errors_say_what_to_do() {
    let (tx, _rx) = crossbeam_channel::bounded(8);
    let error = SerialReader::open(
        "/dev/tinylab-no-such-port",
        115_200,
        Instant::now(),
        tx.clone(),
    )
    .unwrap_err();
    assert!(matches!(error, SerialError::NotFound { .. }), "{error:?}");
    assert!(error.to_string().contains("tinylab ports"), "{error}");

    let board = VirtualBoard::start(BoardConfig {
        banner: false,
        ..BoardConfig::default()
    })
    .unwrap();
    let _first = SerialReader::open(board.path(), 115_200, Instant::now(), tx.clone()).unwrap();
    let error = SerialReader::open(board.path(), 115_200, Instant::now(), tx).unwrap_err();
    assert!(matches!(error, SerialError::Busy { .. }), "{error:?}");
    assert!(error.to_string().contains("Serial Monitor"), "{error}");
}

#[test]
fn motion_switch_reaches_the_reader() {
    use tinylab::sim::motion::Motion;
    let mut rig = Rig::start(BoardConfig {
        banner: false,
        ..BoardConfig::default()
    });
    let detected = rig.detect();
    rig.board.set_motion(Motion::Lift);
    assert_eq!(rig.board.motion(), Motion::Lift);
    // Skip the cross-fade, then look at 6 s of lifting: Z swings by metres per second squared.
    let _ = rig.readings_during(detected.at_s, 1.5);
    let readings = rig.readings_during(detected.at_s + 1.5, 6.0);
    let z: Vec<f64> = readings.iter().map(|r| f64::from(r[2])).collect();
    let mean = z.iter().sum::<f64>() / z.len() as f64;
    let std = (z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / z.len() as f64).sqrt();
    assert!(std > 0.8, "lift Z std {std}");
    assert!(rig.board.lines_written() >= readings.len() as u64);
}
