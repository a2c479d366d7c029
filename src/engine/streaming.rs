//! The engine's side of live classification and of files played as a stream.
//!
//! `Command::StreamFile` opens a WAV or CSV file as if it were a device: a named thread sends its
//! readings in 20 ms chunks at real-time pace, and the engine takes them through the same path
//! as a board's readings (live plot, recording, live classification). `Command::StartLive`
//! classifies whatever the open device or file streams with the shown run
//! ([`super::live::LiveClassifier`]); the classifier is built when the stream's format is known,
//! and each window goes out as `Event::LiveWindow` with `try_send`, like live readings.

use super::EngineLoop;
use super::live::{LiveClassifier, StreamShape};
use crate::devices::forwarder::StreamFormat;
use crate::protocol::{Event, Level};
use crossbeam_channel::Sender;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Length of the chunks a file stream sends.
const CHUNK: Duration = Duration::from_millis(20);

/// What the file-stream thread sends to the engine.
pub enum StreamMsg {
    /// Interleaved readings.
    Chunk(Vec<f32>),
    /// The whole file was sent.
    End,
}

/// A file played as a stream; dropping it stops and joins its thread.
pub struct FileStream {
    /// Axes and rate of the file.
    pub format: StreamFormat,
    /// `file.wav (streamed)`.
    pub name: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for FileStream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl FileStream {
    /// Reads `path` and starts sending it at real-time pace.
    pub fn start(
        path: &Path,
        fallback_rate_hz: f64,
        tx: Sender<StreamMsg>,
    ) -> Result<Self, String> {
        let series = crate::project::formats::read_sample(path, fallback_rate_hz)
            .map_err(|e| e.to_string())?
            .series;
        let format = StreamFormat {
            axes: series.axes.clone(),
            rate_hz: series.rate_hz,
        };
        let width = series.axes.len().max(1);
        let per_chunk = ((CHUNK.as_secs_f64() * series.rate_hz).round() as usize).max(1) * width;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let rate_hz = series.rate_hz;
        let thread = std::thread::Builder::new()
            .name("file stream".into())
            .spawn(move || {
                let started = Instant::now();
                let mut sent = 0_usize;
                for chunk in series.values.chunks(per_chunk) {
                    if flag.load(Ordering::Relaxed) {
                        return;
                    }
                    // Each chunk leaves when its readings would have been recorded.
                    let due = Duration::from_secs_f64((sent / width) as f64 / rate_hz);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                    sent += chunk.len();
                    if tx
                        .send_timeout(StreamMsg::Chunk(chunk.to_vec()), Duration::from_secs(2))
                        .is_err()
                    {
                        return;
                    }
                }
                let _ = tx.send_timeout(StreamMsg::End, Duration::from_secs(2));
            })
            .map_err(|e| format!("could not start the file stream: {e}"))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(Self {
            format,
            name: format!("{name} (streamed)"),
            stop,
            thread: Some(thread),
        })
    }
}

/// Live classification: waiting for the stream's format, or running.
pub struct LiveSession {
    classifier: Option<LiveClassifier>,
}

impl EngineLoop {
    /// Plays `path` as a stream, closing any open device first.
    pub(super) fn stream_file(&mut self, path: &Path) {
        self.disconnect(None);
        let fallback = self
            .project
            .as_ref()
            .map_or(16_000.0, |p| p.settings().sensor.rate_hz);
        match FileStream::start(path, fallback, self.stream_tx.clone()) {
            Ok(stream) => {
                self.emit(Event::DeviceConnected {
                    name: stream.name.clone(),
                    is_virtual: false,
                });
                self.live_width = stream.format.axes.len();
                self.emit(Event::FormatDetected(stream.format.clone()));
                self.file_stream = Some(stream);
            }
            Err(e) => self.notice(Level::Error, e),
        }
    }

    /// Stops a file stream; true when one was playing.
    pub(super) fn close_file_stream(&mut self) -> bool {
        let was = self.file_stream.take().is_some();
        while self.stream_rx.try_recv().is_ok() {}
        was
    }

    /// Takes a message of the file-stream thread.
    pub(super) fn handle_stream(&mut self, msg: StreamMsg) {
        let Some(width) = self.file_stream.as_ref().map(|s| s.format.axes.len()) else {
            return;
        };
        match msg {
            StreamMsg::Chunk(values) => {
                for reading in values.chunks_exact(width.max(1)) {
                    self.on_reading(reading);
                }
            }
            StreamMsg::End => {
                self.notice(Level::Info, "the file was streamed to its end");
                self.disconnect(None);
            }
        }
    }

    /// The format of what is streaming now, if known.
    fn stream_format(&self) -> Option<StreamFormat> {
        if let Some(stream) = &self.file_stream {
            return Some(stream.format.clone());
        }
        self.device
            .as_ref()
            .and_then(|d| d.decoder.format().cloned())
    }

    /// Starts classifying the stream with the shown run.
    pub(super) fn start_live(&mut self) {
        if self
            .project
            .as_ref()
            .is_some_and(|p| p.settings().sensor.kind == crate::project::CAMERA)
        {
            return self.start_camera_inference();
        }
        if self.run.is_none() {
            return self.notice(
                Level::Error,
                "train a model (or pick a run) before live classification",
            );
        }
        self.live_session = Some(LiveSession { classifier: None });
        if self.stream_format().is_none() {
            self.notice(
                Level::Info,
                "live classification starts when a device or a streamed file sends readings",
            );
        }
    }

    /// The stream ended: live classification (if on) starts afresh, with a new classifier, on
    /// the next device or file.
    pub(super) fn live_stream_ended(&mut self) {
        if let Some(session) = &mut self.live_session {
            session.classifier = None;
        }
    }

    /// Uses the project's confidence threshold from the next window on (after `SetModel`).
    pub(super) fn refresh_live_threshold(&mut self) {
        let Some(threshold) = self
            .project
            .as_ref()
            .map(|p| p.settings().model.confidence_threshold)
        else {
            return;
        };
        if let Some(inference) = &self.camera.inference {
            inference.set_threshold(threshold);
        }
        if let Some(classifier) = self
            .live_session
            .as_mut()
            .and_then(|s| s.classifier.as_mut())
        {
            classifier.set_threshold(threshold);
        }
    }

    /// Stops live classification (confirmed with `Event::LiveStopped` even when none ran, so
    /// the UI's Stop button always gets an answer).
    pub(super) fn stop_live(&mut self, reason: Option<String>) {
        self.live_session = None;
        self.camera.inference = None;
        self.emit(Event::LiveStopped { reason });
    }

    /// Feeds interleaved readings (one or a chunk, e.g. from the microphone) to the live
    /// classifier, building it on the first reading.
    pub(super) fn feed_live(&mut self, readings: &[f32]) {
        let Some(session) = &mut self.live_session else {
            return;
        };
        if session.classifier.is_none() {
            let built = match (&self.run, &self.project, self.stream_format()) {
                (Some(run), Some(project), Some(format)) => {
                    let settings = project.settings();
                    LiveClassifier::new(
                        run,
                        StreamShape {
                            axes: format.axes,
                            rate_hz: format.rate_hz,
                        },
                        settings.sensor.rate_hz,
                        settings.model.confidence_threshold,
                    )
                    .map_err(|e| e.to_string())
                }
                _ => Err("no run, project or stream format".to_owned()),
            };
            match built {
                Ok(classifier) => {
                    self.emit(Event::LiveStarted {
                        run: classifier.run_id().to_owned(),
                        labels: classifier.labels().to_vec(),
                        has_anomaly: classifier.has_anomaly(),
                        averaging: classifier.averaging(),
                    });
                    if let Some(session) = &mut self.live_session {
                        session.classifier = Some(classifier);
                    }
                }
                Err(e) => return self.stop_live(Some(e)),
            }
        }
        let Some(classifier) = self
            .live_session
            .as_mut()
            .and_then(|s| s.classifier.as_mut())
        else {
            return;
        };
        match classifier.push(readings) {
            Ok(windows) => {
                for window in windows {
                    let _ = self.events.try_send(Event::LiveWindow(Arc::new(window)));
                    (self.wake)();
                }
            }
            Err(e) => self.stop_live(Some(e.to_string())),
        }
    }
}
