//! What the UI knows, rebuilt only from engine [`Event`]s: the open project, samples, devices,
//! live readings, recordings, jobs and notices. Panels read it; only [`View::apply`] writes it.

use crate::devices::forwarder::StreamFormat;
use crate::devices::ports::PortInfo;
use crate::dsp::block::BlockSteps;
use crate::nn::train::EpochReport;
use crate::project::ProjectFile;
use crate::project::runs::RunRecord;
use crate::project::sample::{SampleId, SampleMeta, Series};
use crate::protocol::{
    Event, FeatureSummary, JobId, JobOutcome, Level, ModelDescription, RunEvaluation, RunSummary,
};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Readings kept for the live plot.
const LIVE_CAPACITY: usize = 60 * 200;
/// Notices kept in the log.
const NOTICE_CAPACITY: usize = 50;

/// The open project.
#[derive(Clone, Debug)]
pub struct ProjectView {
    /// Its folder.
    pub dir: PathBuf,
    /// Its settings.
    pub settings: ProjectFile,
    /// Its model preset has a per-cell head (FOMO): images carry boxes to edit.
    pub object_detection: bool,
}

impl ProjectView {
    fn new(dir: PathBuf, settings: ProjectFile) -> Self {
        let object_detection = is_per_cell(&settings);
        Self {
            dir,
            settings,
            object_detection,
        }
    }
}

/// The project's model preset has a per-cell head (read once per settings change, not per frame).
fn is_per_cell(settings: &ProjectFile) -> bool {
    crate::models::preset(&settings.model.preset)
        .is_ok_and(|preset| preset.head == crate::nn::model::Head::PerCell)
}

/// The device as the UI shows it.
#[derive(Clone, Debug, Default)]
pub struct DeviceView {
    /// Name, e.g. `/dev/ttyACM0`; `None` when nothing is connected.
    pub name: Option<String>,
    /// True for the built-in virtual board.
    pub is_virtual: bool,
    /// Axes and rate, once known.
    pub format: Option<StreamFormat>,
    /// Live readings dropped because the UI was slow.
    pub dropped: u64,
}

/// The last readings, one ring per axis, for the scrolling plot.
#[derive(Clone, Debug, Default)]
pub struct LiveBuffer {
    /// One ring per axis.
    pub axes: Vec<VecDeque<f32>>,
    /// Readings received since the device connected (x position of the newest one).
    pub total: u64,
    /// Readings kept per axis (at least [`LIVE_CAPACITY`]).
    pub capacity: usize,
}

impl LiveBuffer {
    fn push(&mut self, values: &[f32], width: usize) {
        if width == 0 {
            return;
        }
        let capacity = self.capacity.max(LIVE_CAPACITY);
        if self.axes.len() != width {
            self.axes = vec![VecDeque::with_capacity(capacity); width];
        }
        for reading in values.chunks_exact(width) {
            for (ring, &value) in self.axes.iter_mut().zip(reading) {
                if ring.len() >= capacity {
                    ring.pop_front();
                }
                ring.push_back(value);
            }
            self.total += 1;
        }
    }

    /// The newest `count` readings of `axis` as (reading index, value).
    pub fn tail(&self, axis: usize, count: usize) -> impl Iterator<Item = (u64, f32)> + '_ {
        let ring = self.axes.get(axis);
        let len = ring.map_or(0, VecDeque::len);
        let skip = len.saturating_sub(count);
        let first_index = self.total.saturating_sub(len as u64);
        ring.into_iter()
            .flat_map(move |r| r.iter().enumerate().skip(skip))
            .map(move |(i, &v)| (first_index + i as u64, v))
    }
}

/// A running job.
#[derive(Clone, Debug)]
pub struct JobView {
    /// What it does.
    pub name: String,
    /// Done share, 0–1.
    pub fraction: f32,
    /// What it is doing now.
    pub message: String,
}

/// A recording in progress.
#[derive(Clone, Debug)]
pub struct RecordingView {
    /// Label recorded.
    pub label: String,
    /// Readings so far.
    pub readings: usize,
    /// Readings wanted.
    pub target: usize,
}

/// A recording cut short, waiting for keep/discard.
#[derive(Clone, Debug)]
pub struct InterruptedView {
    /// Readings captured.
    pub readings: usize,
    /// Seconds captured.
    pub seconds: f64,
    /// What happened.
    pub reason: String,
}

/// A message shown in the status bar and the log.
#[derive(Clone, Debug)]
pub struct Notice {
    /// Info or error.
    pub level: Level,
    /// The sentence.
    pub text: String,
    /// When it arrived.
    pub at: Instant,
}

/// A block's steps on one window of a sample.
#[derive(Clone, Debug)]
pub struct StepsView {
    /// The sample.
    pub sample: SampleId,
    /// The window shown.
    pub window: usize,
    /// Windows in the sample.
    pub windows: usize,
    /// The steps.
    pub steps: Arc<BlockSteps>,
}

/// The run being trained, epoch by epoch.
#[derive(Clone, Debug)]
pub struct LiveTraining {
    /// Its id.
    pub run: String,
    /// Epochs finished so far.
    pub history: Vec<EpochReport>,
}

/// Everything the panels draw.
#[derive(Debug, Default)]
pub struct View {
    /// The open project.
    pub project: Option<ProjectView>,
    /// Its samples.
    pub samples: Vec<SampleMeta>,
    /// What Undo would undo.
    pub undo: Option<String>,
    /// Serial ports last listed.
    pub ports: Vec<PortInfo>,
    /// The device.
    pub device: DeviceView,
    /// Live readings.
    pub live: LiveBuffer,
    /// The recording in progress, if any (requested but not yet saved).
    pub recording: Option<RecordingView>,
    /// A cut-short recording waiting for the user.
    pub interrupted: Option<InterruptedView>,
    /// The last sample saved by a recording.
    pub last_recorded: Option<SampleId>,
    /// The sample loaded for plotting.
    pub loaded: Option<(SampleId, Series)>,
    /// The image sample loaded for its thumbnail: id, width, height, RGB8 pixels.
    pub loaded_image: Option<(SampleId, u32, u32, Arc<Vec<u8>>)>,
    /// Jobs still running.
    pub jobs: BTreeMap<JobId, JobView>,
    /// Recent notices, newest last.
    pub notices: VecDeque<Notice>,
    /// The last generated features.
    pub features: Option<Arc<FeatureSummary>>,
    /// True when the settings changed after the features were generated.
    pub features_stale: bool,
    /// Counts settings changes, so previews know when to recompute.
    pub settings_revision: u64,
    /// The block's steps on the previewed window.
    pub steps: Option<StepsView>,
    /// Saved runs, oldest first.
    pub runs: Vec<RunSummary>,
    /// The run shown in Train and Evaluate.
    pub run: Option<Arc<RunRecord>>,
    /// The run being trained right now.
    pub training: Option<LiveTraining>,
    /// The shown run's evaluation at the current thresholds.
    pub evaluation: Option<Arc<RunEvaluation>>,
    /// The shown run's last float32/int8 comparison (Optimize panel).
    pub quantized: Option<Arc<crate::quant::report::QuantReport>>,
    /// The model the settings build, or why not.
    pub model: Option<Result<Arc<ModelDescription>, String>>,
    /// Live classification of the stream.
    pub live_classification: super::live_panel::LiveView,
    /// Clips proposed for the sample being split.
    pub split: Option<super::split_review::SplitView>,
    /// Microphones, level, playback.
    pub audio: super::audio_ui::AudioView,
    /// The camera's newest frame, frames per second, status.
    pub camera: super::camera_ui::CameraView,
    /// The Deploy panel's boards: drives, the deploy or monitor job, its log, the board's output.
    pub boards: super::boards_ui::BoardsView,
}

impl View {
    /// Folds one engine event into the view.
    pub fn apply(&mut self, event: Event) {
        self.boards.observe(&event);
        match event {
            Event::ProjectOpened { dir, settings } => {
                self.project = Some(ProjectView::new(dir, *settings));
                self.loaded = None;
                self.features = None;
                self.steps = None;
                self.runs.clear();
                self.run = None;
                self.training = None;
                self.evaluation = None;
                self.quantized = None;
                self.model = None;
                self.settings_revision += 1;
            }
            Event::ProjectSettings(settings) => {
                if let Some(project) = &mut self.project {
                    project.object_detection = is_per_cell(&settings);
                    project.settings = *settings;
                }
                self.features_stale = self.features.is_some();
                self.settings_revision += 1;
            }
            Event::FeaturesGenerated(summary) => {
                self.features = Some(summary);
                self.features_stale = false;
            }
            Event::StepsReady {
                sample,
                window,
                windows,
                steps,
            } => {
                self.steps = Some(StepsView {
                    sample,
                    window,
                    windows,
                    steps,
                });
            }
            Event::DatasetChanged { samples, undo } => {
                if let Some((id, _)) = &self.loaded
                    && !samples.iter().any(|s| s.id == *id)
                {
                    self.loaded = None;
                }
                self.samples = samples;
                self.undo = undo;
            }
            Event::Ports(ports) => self.ports = ports,
            Event::DeviceConnected { name, is_virtual } => {
                self.device = DeviceView {
                    name: Some(name),
                    is_virtual,
                    format: None,
                    dropped: 0,
                };
                self.live = LiveBuffer::default();
            }
            Event::FormatDetected(format) => {
                // Keep a minute of readings whatever the rate (audio: a minute at 16 kHz).
                self.live.capacity = (format.rate_hz * 60.0) as usize;
                self.device.format = Some(format);
            }
            Event::Readings { values, width } => self.live.push(&values, width),
            Event::DeviceClosed { reason } => {
                self.device = DeviceView::default();
                self.camera = super::camera_ui::CameraView::default();
                self.recording = None;
                if let Some(reason) = reason {
                    self.notify(Level::Error, reason);
                }
            }
            Event::Recording {
                label,
                readings,
                target,
            } => {
                self.recording = Some(RecordingView {
                    label,
                    readings,
                    target,
                });
            }
            Event::RecordingSaved(meta) => {
                self.recording = None;
                self.notify(
                    Level::Info,
                    format!(
                        "saved {} \"{}\" ({:.1} s, {})",
                        meta.id,
                        meta.label,
                        meta.duration_s(),
                        meta.split
                    ),
                );
                self.last_recorded = Some(meta.id);
            }
            Event::RecordingInterrupted {
                readings,
                seconds,
                reason,
            } => {
                self.recording = None;
                self.interrupted = Some(InterruptedView {
                    readings,
                    seconds,
                    reason,
                });
            }
            Event::SampleLoaded { id, series } => self.loaded = Some((id, series)),
            Event::ImageLoaded {
                id,
                width,
                height,
                rgb,
            } => self.loaded_image = Some((id, width, height, rgb)),
            Event::JobStarted { id, name } => {
                self.jobs.insert(
                    id,
                    JobView {
                        name,
                        fraction: 0.0,
                        message: String::new(),
                    },
                );
            }
            Event::JobProgress {
                id,
                fraction,
                message,
            } => {
                if let Some(job) = self.jobs.get_mut(&id) {
                    job.fraction = fraction;
                    job.message = message;
                }
            }
            Event::JobFinished { id, name, outcome } => {
                self.jobs.remove(&id);
                if name.starts_with("training") {
                    // A run that saved nothing (cancelled before one epoch, or failed) stops
                    // showing its partial curves.
                    self.training = None;
                }
                match outcome {
                    JobOutcome::Done(text) => self.notify(Level::Info, text),
                    JobOutcome::Cancelled => {
                        self.notify(Level::Info, format!("{name}: cancelled, nothing changed"))
                    }
                    JobOutcome::Failed(why) => {
                        self.notify(Level::Error, format!("{name} failed: {why}"))
                    }
                }
            }
            Event::Notice { level, text } => self.notify(level, text),
            Event::LiveDropped(count) => self.device.dropped = count,
            Event::Runs(runs) => self.runs = runs,
            Event::TrainingEpoch { run, report } => match &mut self.training {
                Some(live) if live.run == run => live.history.push(report),
                _ => {
                    self.training = Some(LiveTraining {
                        run,
                        history: vec![report],
                    })
                }
            },
            Event::RunLoaded(record) => {
                if self.training.as_ref().is_some_and(|t| t.run == record.id) {
                    self.training = None;
                }
                self.run = Some(record);
            }
            Event::Evaluated(evaluation) => self.evaluation = Some(evaluation),
            Event::Quantized(report) => self.quantized = report,
            Event::ModelDescribed(model) => self.model = Some(model),
            Event::LiveStarted {
                run,
                labels,
                has_anomaly,
                averaging,
            } => self
                .live_classification
                .started(super::live_panel::LiveRun {
                    run,
                    labels,
                    has_anomaly,
                    averaging,
                }),
            Event::LiveWindow(window) => self.live_classification.window(window),
            Event::LiveStopped { reason } => {
                self.live_classification.stopped();
                self.camera.inference = None;
                if let Some(reason) = reason {
                    self.notify(
                        Level::Error,
                        format!("live classification stopped: {reason}"),
                    );
                }
            }
            Event::SplitProposed {
                sample,
                series,
                clips,
            } => {
                self.split = Some(super::split_review::SplitView::new(sample, series, clips));
            }
            event @ (Event::AudioInputs(_)
            | Event::AudioLevel { .. }
            | Event::AudioSpectrum { .. }
            | Event::Playback(_)) => self.audio.apply(event),
            event @ (Event::CameraFrame { .. }
            | Event::CameraStatus(_)
            | Event::CameraInference(_)) => self.camera.apply(event),
            // Taken by `self.boards.observe` above.
            Event::OpenMvDrives(_) | Event::BoardOutput { .. } => {}
        }
    }

    /// Adds a notice to the log.
    pub fn notify(&mut self, level: Level, text: String) {
        if self.notices.len() == NOTICE_CAPACITY {
            self.notices.pop_front();
        }
        self.notices.push_back(Notice {
            level,
            text,
            at: Instant::now(),
        });
    }

    /// The unit of the project's sensor values (e.g. `m/s²`), or nothing without a project.
    pub fn sensor_units(&self) -> String {
        self.project
            .as_ref()
            .map(|p| p.settings.sensor.units.clone())
            .unwrap_or_default()
    }

    /// Labels in use plus the lab's own, sorted, without duplicates.
    pub fn known_labels(&self) -> Vec<String> {
        let mut labels: Vec<String> = self.samples.iter().map(|s| s.label.clone()).collect();
        if let Some(project) = &self.project {
            labels.extend(project.settings.capture.labels.iter().cloned());
        }
        labels.sort();
        labels.dedup();
        labels
    }
}
