//! The engine's camera side: opens a [`Camera`] for `DeviceSpec::Camera`, forwards its decoded
//! frames to the UI as `Event::CameraFrame` with `try_send` (frames the UI is too slow for are
//! dropped and counted, with those the camera thread dropped), measures frames per second over
//! the last two seconds, and saves the newest frame's bytes as a labelled image sample on
//! `Command::CaptureFrame` (one undo step each). With live inference on, each frame is also
//! offered to [`super::camera_inference`].

use super::EngineLoop;
use super::camera_inference::CameraInference;
use super::undo::{self, UndoStep};
use crate::devices::camera::{Camera, CameraFrame, CameraMsg, CameraSpec};
use crate::dsp::block::DspSettings;
use crate::dsp::image::ImageSettings;
use crate::project::NewSample;
use crate::project::sample::Split;
use crate::protocol::{Event, Level};
use crossbeam_channel::{Receiver, Sender, bounded};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Decoded frames waiting for the engine.
const CAMERA_CAPACITY: usize = 4;
/// Frames per second are measured over this long.
const FPS_WINDOW: Duration = Duration::from_secs(2);

/// The open camera and its figures.
pub(super) struct CameraState {
    pub(super) tx: Sender<CameraMsg>,
    pub(super) rx: Receiver<CameraMsg>,
    camera: Option<Camera>,
    source: String,
    /// The newest frame, what `CaptureFrame` saves.
    last: Option<Arc<CameraFrame>>,
    arrivals: VecDeque<Instant>,
    ui_dropped: u64,
    /// Live inference, while on: every frame is offered to it.
    pub(super) inference: Option<CameraInference>,
}

impl CameraState {
    pub(super) fn new() -> Self {
        let (tx, rx) = bounded(CAMERA_CAPACITY);
        Self {
            tx,
            rx,
            camera: None,
            source: String::new(),
            last: None,
            arrivals: VecDeque::new(),
            ui_dropped: 0,
            inference: None,
        }
    }

    /// Closes the camera (joining its thread); true when one was open.
    pub(super) fn close(&mut self) -> bool {
        let was_open = self.camera.take().is_some();
        while self.rx.try_recv().is_ok() {}
        self.last = None;
        self.arrivals.clear();
        self.ui_dropped = 0;
        was_open
    }

    fn fps(&self) -> f32 {
        per_second(&self.arrivals)
    }
}

/// Events per second from their times, oldest first (0 with fewer than two).
pub(super) fn per_second(times: &VecDeque<Instant>) -> f32 {
    match (times.front(), times.back()) {
        (Some(first), Some(last)) if times.len() >= 2 && last > first => {
            ((times.len() - 1) as f64 / last.duration_since(*first).as_secs_f64()) as f32
        }
        _ => 0.0,
    }
}

/// The image block's settings, when the project uses it.
fn image_settings(dsp: &DspSettings) -> Option<ImageSettings> {
    match dsp {
        DspSettings::Image(settings) => Some(settings.clone()),
        _ => None,
    }
}

impl EngineLoop {
    pub(super) fn connect_camera(&mut self, spec: &CameraSpec) {
        let settings = self
            .project
            .as_ref()
            .and_then(|p| image_settings(&p.settings().dsp));
        match Camera::open(spec, settings, self.camera.tx.clone()) {
            Ok(camera) => {
                self.emit(Event::CameraStatus(format!(
                    "connecting to {}…",
                    camera.name
                )));
                self.camera.source = spec.source();
                self.camera.camera = Some(camera);
            }
            Err(e) => self.notice(Level::Error, e),
        }
    }

    /// After `SetDsp`: the camera thread resizes for the model's new input from now on.
    pub(super) fn camera_settings_changed(&self) {
        if let (Some(camera), Some(project)) = (&self.camera.camera, &self.project) {
            camera.set_settings(image_settings(&project.settings().dsp));
        }
    }

    pub(super) fn handle_camera(&mut self, msg: CameraMsg) {
        let Some(camera) = &self.camera.camera else {
            return;
        };
        match msg {
            CameraMsg::Frame(frame) => {
                if self.camera.last.is_none() {
                    let name = camera.name.clone();
                    self.emit(Event::DeviceConnected {
                        name,
                        is_virtual: false,
                    });
                }
                let now = Instant::now();
                self.camera.arrivals.push_back(now);
                while self
                    .camera
                    .arrivals
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > FPS_WINDOW)
                {
                    self.camera.arrivals.pop_front();
                }
                self.camera.last = Some(frame.clone());
                let event = Event::CameraFrame {
                    frame,
                    fps: self.camera.fps(),
                    dropped: camera.dropped_frames() + self.camera.ui_dropped,
                };
                if self.events.try_send(event).is_err() {
                    self.camera.ui_dropped += 1;
                }
                // After the frame's event, so its result never arrives before it.
                if let (Some(inference), Some(frame)) = (&self.camera.inference, &self.camera.last)
                {
                    inference.offer(frame.clone());
                }
                (self.wake)();
            }
            CameraMsg::BadFrame(why) => {
                self.emit(Event::CameraStatus(format!("skipped a frame: {why}")));
            }
            CameraMsg::Reconnecting { attempt, why } => {
                self.emit(Event::CameraStatus(format!(
                    "reconnecting (attempt {attempt}): {why}"
                )));
            }
            CameraMsg::Lost { reason } => self.disconnect(Some(reason)),
        }
    }

    /// `StartLive` in a camera project: inference on every frame from now on, with the shown
    /// run at the project's confidence threshold.
    pub(super) fn start_camera_inference(&mut self) {
        let (Some(run), Some(project)) = (&self.run, &self.project) else {
            return self.notice(
                Level::Error,
                "train a model (or pick a run) before live inference",
            );
        };
        let settings = project.settings();
        let started = CameraInference::start(
            run,
            image_settings(&settings.dsp).as_ref(),
            settings.model.confidence_threshold,
            self.events.clone(),
            self.wake.clone(),
        );
        match started {
            Ok(inference) => {
                self.emit(Event::LiveStarted {
                    run: inference.run_id().to_owned(),
                    labels: run.record.labels.clone(),
                    has_anomaly: false,
                    averaging: 1,
                });
                self.camera.inference = Some(inference);
                if self.camera.camera.is_none() {
                    self.notice(
                        Level::Info,
                        "live inference starts when a camera sends frames: connect one",
                    );
                }
            }
            Err(e) => {
                self.camera.inference = None;
                self.emit(Event::LiveStopped { reason: Some(e) });
            }
        }
    }

    /// Saves the newest frame as an image sample labelled `label`.
    pub(super) fn capture_frame(&mut self, label: &str, split: Split) {
        let Some(project) = &mut self.project else {
            return self.notice(Level::Error, "open or create a project before capturing");
        };
        if project.settings().sensor.kind != crate::project::CAMERA {
            return self.notice(
                Level::Error,
                "this project does not take images: create one from the image lab",
            );
        }
        if let Err(e) = crate::project::check_label(label) {
            return self.notice(Level::Error, e.to_string());
        }
        let Some(frame) = self.camera.last.clone() else {
            return self.notice(
                Level::Error,
                "no camera frame yet: connect a camera and wait for its picture",
            );
        };
        let sample = NewSample::from_image(
            (*frame.encoded).clone(),
            label.to_owned(),
            split,
            self.camera.source.clone(),
        );
        match project.add_many(vec![sample]) {
            Ok(added) => {
                undo::push(
                    &mut self.undo,
                    UndoStep::Added(added.iter().map(|m| m.id).collect()),
                );
                for meta in added {
                    self.emit(Event::RecordingSaved(meta));
                }
                self.emit_dataset();
            }
            Err(e) => self.notice(Level::Error, format!("the image could not be saved: {e}")),
        }
    }
}
