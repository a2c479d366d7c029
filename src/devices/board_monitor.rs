//! The board monitor: opens a board's serial port with [`SerialReader`] (the only code that
//! reads a port), feeds its lines to the [`BoardOutputParser`] and hands out each result the
//! board prints. A block the board ends by falling silent is handed out after
//! [`IDLE_FLUSH`] without a line. Runs on the caller's thread (a job, or the CLI) until the
//! board goes away or `should_stop` says so.

use super::board_output::{BoardOutputParser, BoardResult};
use super::serial_reader::{ReaderMsg, SerialReader};
use crossbeam_channel::{RecvTimeoutError, bounded};
use std::time::{Duration, Instant};

/// Silence after which an open block is taken as complete.
pub const IDLE_FLUSH: Duration = Duration::from_millis(300);

/// How the monitor ended.
#[derive(Debug, PartialEq)]
pub enum MonitorEnd {
    /// `should_stop` said so.
    Stopped,
    /// The board went away (unplugged, reset, the virtual board stopped).
    Lost(String),
}

/// Reads `port` at `baud` until stopped; `labels` name the class indices some boards print.
/// `on_line` sees every raw line (for a log), `on_result` every parsed result.
pub fn monitor(
    port: &str,
    baud: u32,
    labels: Vec<String>,
    should_stop: &dyn Fn() -> bool,
    on_line: &mut dyn FnMut(&str),
    on_result: &mut dyn FnMut(BoardResult),
) -> Result<MonitorEnd, String> {
    let (tx, rx) = bounded(4096);
    let mut reader =
        SerialReader::open(port, baud, Instant::now(), tx).map_err(|e| e.to_string())?;
    let mut parser = BoardOutputParser::new(labels);
    let mut last_line = Instant::now();
    let end = loop {
        if should_stop() {
            break MonitorEnd::Stopped;
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(ReaderMsg::Line { text, .. }) => {
                last_line = Instant::now();
                on_line(&text);
                for result in parser.push_line(&text) {
                    on_result(result);
                }
            }
            Ok(ReaderMsg::Lost { reason }) => break MonitorEnd::Lost(reason),
            Ok(ReaderMsg::Closed) | Err(RecvTimeoutError::Disconnected) => {
                break MonitorEnd::Lost("the port was closed".to_owned());
            }
            Err(RecvTimeoutError::Timeout) => {
                if last_line.elapsed() >= IDLE_FLUSH
                    && let Some(result) = parser.flush()
                {
                    on_result(result);
                }
            }
        }
    };
    if let Some(result) = parser.flush() {
        on_result(result);
    }
    reader.stop();
    Ok(end)
}
