//! The engine: one thread that owns the project, the devices and the jobs, and funnels every
//! input — commands, device lines, job messages, a clock tick — through one `crossbeam::select!`.
//! It answers with [`Event`]s and calls a wake-up closure (egui's `request_repaint` in the app)
//! after sending, so the UI redraws only when something happened. It never imports egui.
//!
//! Invariants: the engine is the only writer of the open project; IO that can take long runs in
//! [`jobs`]; live readings go out with `try_send` and are counted when the UI is too slow, every
//! other event is sent with a bounded wait.

pub mod arduino_export;
mod audio;
mod box_labels;
mod camera;
pub mod camera_inference;
mod dataset_jobs;
mod demo;
mod deploy;
pub mod detection_eval;
mod device;
pub mod evaluation;
pub mod features_job;
pub mod fomo;
pub mod jobs;
pub mod live;
mod noise_mix;
mod optimize;
pub mod quantize_job;
mod split;
mod streaming;
pub mod train_job;
mod training;
mod undo;

use crate::devices::forwarder::{Decoder, StreamFormat};
use crate::devices::ports;
use crate::devices::serial_reader::ReaderMsg;
use crate::labs;
use crate::project::formats::SampleFormat;
use crate::project::sample::{SampleId, Series, Split};
use crate::project::{NewSample, Project};
use crate::protocol::{
    Command, DeviceSpec, Event, JobId, JobOutcome, Level, RecordRequest, SplitChoice,
};
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded, select, tick};
use dataset_jobs::{ExportItem, ImportPlan, JobOutput};
pub use demo::{create_demo_project, create_lab_demo_project};
use device::{Device, LineOutcome};
use jobs::{JobMsg, JobRunner};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use undo::UndoStep;

/// Called after events are sent, so a sleeping UI wakes up.
pub type Wake = Arc<dyn Fn() + Send + Sync>;

const COMMAND_CAPACITY: usize = 256;
const EVENT_CAPACITY: usize = 4096;
const READER_CAPACITY: usize = 8192;
const TICK: Duration = Duration::from_millis(40);
/// A recording ends as interrupted when the device is silent this long.
const SILENCE_LIMIT: Duration = Duration::from_secs(3);
/// A recording waiting for the stream format gives up after this long.
const FORMAT_WAIT_LIMIT: Duration = Duration::from_secs(15);

/// The UI's handle on the engine thread. Dropping it stops the engine and joins its thread.
pub struct Engine {
    commands: Option<Sender<Command>>,
    events: Receiver<Event>,
    thread: Option<JoinHandle<()>>,
}

/// The engine thread has stopped, or its command queue is full.
#[derive(Debug, thiserror::Error)]
#[error("the engine is not accepting commands ({0}); restart TinyLab if this persists")]
pub struct EngineBusy(&'static str);

impl Engine {
    /// Starts the engine thread; `wake` is called whenever events are waiting.
    pub fn start(wake: impl Fn() + Send + Sync + 'static) -> std::io::Result<Self> {
        let (command_tx, command_rx) = bounded(COMMAND_CAPACITY);
        let (event_tx, event_rx) = bounded(EVENT_CAPACITY);
        let wake: Wake = Arc::new(wake);
        let thread = std::thread::Builder::new()
            .name("engine".into())
            .spawn(move || EngineLoop::new(event_tx, wake).run(&command_rx))?;
        Ok(Self {
            commands: Some(command_tx),
            events: event_rx,
            thread: Some(thread),
        })
    }

    /// Sends a command without blocking.
    pub fn send(&self, command: Command) -> Result<(), EngineBusy> {
        let Some(tx) = &self.commands else {
            return Err(EngineBusy("stopped"));
        };
        tx.try_send(command).map_err(|e| match e {
            TrySendError::Full(_) => EngineBusy("queue full"),
            TrySendError::Disconnected(_) => EngineBusy("stopped"),
        })
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// The next event, waiting up to `timeout` (for the CLI and tests).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        self.events.recv_timeout(timeout).ok()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Closing the command channel ends the loop; the engine then drops devices and jobs.
        self.commands = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A recording in progress.
struct Recording {
    request: RecordRequest,
    /// `None` until the stream's format is known.
    series: Option<Series>,
    target: usize,
    requested_at: Instant,
    last_reading_at: Instant,
}

/// Readings captured before the device vanished, waiting for the user's keep/drop decision.
struct Partial {
    series: Series,
    request: RecordRequest,
    source: String,
}

struct EngineLoop {
    events: Sender<Event>,
    wake: Wake,
    epoch: Instant,
    project: Option<Project>,
    undo: Vec<UndoStep>,
    reader_tx: Sender<ReaderMsg>,
    reader_rx: Receiver<ReaderMsg>,
    device: Option<Device>,
    format_override: Option<StreamFormat>,
    recording: Option<Recording>,
    partial: Option<Partial>,
    jobs: JobRunner<JobOutput>,
    job_rx: Receiver<JobMsg<JobOutput>>,
    job_names: HashMap<JobId, String>,
    live: Vec<f32>,
    live_width: usize,
    live_dropped: u64,
    live_dropped_reported: u64,
    /// The last generated features.
    features: Option<Arc<features_job::FeatureSet>>,
    /// The run shown in the Train and Evaluate panels.
    run: Option<crate::project::runs::StoredRun>,
    /// Which data the Evaluate panel shows.
    eval_set: crate::project::runs::DataSet,
    /// A file played as a stream (`Command::StreamFile`), instead of a device.
    file_stream: Option<streaming::FileStream>,
    stream_tx: Sender<streaming::StreamMsg>,
    stream_rx: Receiver<streaming::StreamMsg>,
    /// Live classification of the stream, when started.
    live_session: Option<streaming::LiveSession>,
    /// Microphone samples, level and playback.
    audio: audio::AudioState,
    /// The camera, its frames and figures.
    camera: camera::CameraState,
}

impl EngineLoop {
    fn new(events: Sender<Event>, wake: Wake) -> Self {
        let (reader_tx, reader_rx) = bounded(READER_CAPACITY);
        let (job_tx, job_rx) = bounded(1024);
        let (stream_tx, stream_rx) = bounded(64);
        Self {
            events,
            wake,
            epoch: Instant::now(),
            project: None,
            undo: Vec::new(),
            reader_tx,
            reader_rx,
            device: None,
            format_override: None,
            recording: None,
            partial: None,
            jobs: JobRunner::new(job_tx),
            job_rx,
            job_names: HashMap::new(),
            live: Vec::new(),
            live_width: 0,
            live_dropped: 0,
            live_dropped_reported: 0,
            features: None,
            run: None,
            eval_set: crate::project::runs::DataSet::Test,
            file_stream: None,
            stream_tx,
            stream_rx,
            live_session: None,
            audio: audio::AudioState::new(),
            camera: camera::CameraState::new(),
        }
    }

    fn run(mut self, commands: &Receiver<Command>) {
        let ticker = tick(TICK);
        loop {
            select! {
                recv(commands) -> command => match command {
                    Ok(command) => self.handle_command(command),
                    Err(_) => break,
                },
                recv(self.reader_rx) -> msg => if let Ok(msg) = msg {
                    self.handle_reader(msg);
                    // Take whatever else arrived in the same burst before redrawing.
                    while let Ok(msg) = self.reader_rx.try_recv() {
                        self.handle_reader(msg);
                    }
                },
                recv(self.job_rx) -> msg => if let Ok(msg) = msg {
                    self.handle_job(msg);
                },
                recv(self.stream_rx) -> msg => if let Ok(msg) = msg {
                    self.handle_stream(msg);
                },
                recv(self.audio.rx) -> msg => if let Ok(msg) = msg {
                    self.handle_audio(msg);
                },
                recv(self.camera.rx) -> msg => if let Ok(msg) = msg {
                    self.handle_camera(msg);
                },
                recv(ticker) -> _ => self.on_tick(),
            }
        }
    }

    // ---- sending ----------------------------------------------------------------------------

    fn emit(&self, event: Event) {
        // Bounded wait: a UI that stopped draining must not freeze the engine forever.
        let _ = self.events.send_timeout(event, Duration::from_secs(2));
        (self.wake)();
    }

    fn notice(&self, level: Level, text: impl Into<String>) {
        self.emit(Event::Notice {
            level,
            text: text.into(),
        });
    }

    fn flush_live(&mut self) {
        if self.live.is_empty() {
            return;
        }
        let values = std::mem::take(&mut self.live);
        let count = values.len() / self.live_width.max(1);
        match self.events.try_send(Event::Readings {
            values,
            width: self.live_width,
        }) {
            Ok(()) => {}
            Err(_) => self.live_dropped += count as u64,
        }
        if let Some(recording) = &self.recording {
            let readings = recording.series.as_ref().map_or(0, Series::readings);
            let _ = self.events.try_send(Event::Recording {
                label: recording.request.label.clone(),
                readings,
                target: recording.target,
            });
        }
        let dropped = self.live_dropped + self.device.as_ref().map_or(0, Device::dropped_lines);
        if dropped != self.live_dropped_reported {
            self.live_dropped_reported = dropped;
            let _ = self.events.try_send(Event::LiveDropped(dropped));
        }
        (self.wake)();
    }

    // ---- commands ---------------------------------------------------------------------------

    fn handle_command(&mut self, command: Command) {
        match command {
            Command::CreateProject { dir, lab, demo } => self.create_project(&dir, &lab, demo),
            Command::OpenProject { dir } => match Project::open(&dir) {
                Ok(project) => self.set_project(project),
                Err(e) => self.notice(Level::Error, e.to_string()),
            },
            Command::OpenDemoProject { dir } => self.open_demo_project(&dir),
            Command::RefreshPorts => match ports::list_ports() {
                Ok(list) => self.emit(Event::Ports(list)),
                Err(e) => self.notice(Level::Error, e.to_string()),
            },
            Command::Connect(spec) => self.connect(&spec),
            Command::Disconnect => self.disconnect(None),
            Command::SetVirtualMotion(motion) => match self.device.as_ref().and_then(Device::board)
            {
                Some(board) => board.set_motion(motion),
                None => self.notice(
                    Level::Error,
                    "the virtual board is not running: start it in the Capture panel",
                ),
            },
            Command::UnplugVirtualBoard => {
                if !self.device.as_mut().is_some_and(Device::unplug_board) {
                    self.notice(Level::Error, "the virtual board is not running");
                }
            }
            Command::SetStreamFormat(format) => self.set_stream_format(format),
            Command::StartRecording(request) => self.start_recording(request),
            Command::CancelRecording => {
                if self.recording.take().is_some() {
                    self.notice(Level::Info, "recording cancelled; nothing was saved");
                }
            }
            Command::KeepPartial(keep) => self.resolve_partial(keep),
            Command::LoadSample(id) => self.load_sample(id),
            Command::Relabel { ids, label } => self.edit(undo::relabel(ids, label)),
            Command::SetSplit { ids, split } => self.edit(undo::set_split(ids, split)),
            Command::SetBoxes { id, boxes } => self.edit(undo::set_boxes(id, boxes)),
            Command::Delete(ids) => self.edit(undo::delete(ids)),
            Command::Undo => self.undo(),
            Command::Import {
                files,
                label,
                split,
            } => self.start_import(files, label, split),
            Command::Export { out_dir, format } => self.start_export(out_dir, format),
            Command::MixNoise {
                noise_label,
                snr_db,
                copies,
            } => self.start_noise_mix(noise_label, snr_db, copies),
            Command::CancelJob(id) => {
                self.jobs.cancel(id);
            }
            Command::SetDsp(dsp) => {
                self.update_settings(|file| file.dsp = dsp);
                self.camera_settings_changed();
            }
            Command::SetWindow(window) => self.update_settings(|file| file.impulse = window),
            Command::GenerateFeatures => self.start_features(),
            Command::PreviewSteps { sample, window } => self.preview_steps(sample, window),
            Command::SetModel(settings) => self.set_model(*settings),
            Command::Train { epochs, seed } => self.start_training(epochs, seed),
            Command::Evaluate { run } => self.start_evaluation(run),
            Command::ShowRun { run, set } => self.show_run(Some(&run), set),
            Command::Quantize { run, settings } => self.start_quantize(run, settings),
            Command::ExportModel { run, format, path } => {
                self.start_model_export(run, format, path)
            }
            Command::Deploy(request) => self.start_deploy(*request),
            Command::MonitorBoard { port, baud } => self.start_board_monitor(port, baud),
            Command::FindOpenMvDrives => self.emit(Event::OpenMvDrives(
                crate::deploy::drives::find_openmv_drives(&crate::deploy::drives::mount_roots()),
            )),
            Command::StreamFile { path } => self.stream_file(&path),
            Command::StartLive => self.start_live(),
            Command::StopLive => self.stop_live(None),
            Command::ProposeSplit { sample, settings } => self.propose_split(sample, &settings),
            Command::ApplySplit {
                sample,
                clips,
                label,
                keep_original,
            } => self.apply_split(sample, &clips, &label, keep_original),
            Command::ListAudioInputs => self.list_audio_inputs(),
            Command::PlaySample(id) => self.play_sample(id, None),
            Command::PlayClip { sample, range } => self.play_sample(sample, Some(range)),
            Command::StopPlayback => self.stop_playback(),
            Command::CaptureFrame { label, split } => self.capture_frame(&label, split),
        }
    }

    fn update_settings(&mut self, change: impl FnOnce(&mut crate::project::ProjectFile)) {
        let Some(project) = &mut self.project else {
            return self.notice(Level::Error, "no project is open");
        };
        match project.update_settings(change) {
            Ok(()) => {
                let settings = Box::new(project.settings().clone());
                self.emit(Event::ProjectSettings(settings));
            }
            Err(e) => self.notice(Level::Error, format!("the settings were not saved: {e}")),
        }
    }

    fn create_project(&mut self, dir: &Path, lab_id: &str, demo: bool) {
        let result = if demo {
            create_lab_demo_project(dir, lab_id)
        } else {
            labs::lab(lab_id)
                .map_err(|e| e.to_string())
                .and_then(|lab| Project::create(dir, &lab).map_err(|e| e.to_string()))
        };
        match result {
            Ok(project) => self.set_project(project),
            Err(e) => self.notice(Level::Error, e),
        }
    }

    /// Opens the demo project, creating it first (motion lab, filled from the virtual kit).
    fn open_demo_project(&mut self, dir: &Path) {
        if dir.join(crate::project::PROJECT_FILE).is_file() {
            return self.handle_command(Command::OpenProject {
                dir: dir.to_owned(),
            });
        }
        match create_demo_project(dir) {
            Ok(project) => self.set_project(project),
            Err(e) => self.notice(
                Level::Error,
                format!(
                    "could not create the demo project in {}: {e}",
                    dir.display()
                ),
            ),
        }
    }

    fn set_project(&mut self, project: Project) {
        self.undo.clear();
        self.emit(Event::ProjectOpened {
            dir: project.dir().to_owned(),
            settings: Box::new(project.settings().clone()),
        });
        self.project = Some(project);
        self.features = None;
        self.emit_dataset();
        self.announce_runs();
    }

    fn emit_dataset(&self) {
        let Some(project) = &self.project else { return };
        self.emit(Event::DatasetChanged {
            samples: project.samples().to_vec(),
            undo: self.undo.last().map(UndoStep::describe),
        });
    }

    // ---- devices and recording --------------------------------------------------------------

    fn connect(&mut self, spec: &DeviceSpec) {
        self.disconnect(None);
        if let DeviceSpec::Camera(camera) = spec {
            return self.connect_camera(camera);
        }
        if let Err(e) = self.check_microphone_fits(spec) {
            return self.notice(Level::Error, e);
        }
        self.audio.reset_spectrogram(self.audio_rate_hz());
        match Device::open(
            spec,
            self.format_override.clone(),
            self.epoch,
            self.reader_tx.clone(),
            self.audio.tx.clone(),
            self.audio_rate_hz(),
        ) {
            Ok(device) => {
                self.emit(Event::DeviceConnected {
                    name: device.name.clone(),
                    is_virtual: matches!(spec, DeviceSpec::VirtualBoard { .. }),
                });
                if let Some(format) = device.decoder.format() {
                    self.live_width = format.axes.len();
                    self.emit(Event::FormatDetected(format.clone()));
                }
                self.device = Some(device);
            }
            Err(e) => self.notice(Level::Error, e),
        }
    }

    /// Uses the user's axes and rate from now on (`None`: detect them again).
    fn set_stream_format(&mut self, format: Option<StreamFormat>) {
        if let Some(f) = &format
            && (f.axes.is_empty() || !(f.rate_hz.is_finite() && f.rate_hz > 0.0))
        {
            return self.notice(
                Level::Error,
                "name at least one axis and give a rate above 0 Hz",
            );
        }
        self.format_override = format;
        let Some(device) = &mut self.device else {
            return;
        };
        device.decoder = self
            .format_override
            .clone()
            .map(Decoder::with_format)
            .unwrap_or_default();
        match device.decoder.format().cloned() {
            Some(format) => {
                self.live_width = format.axes.len();
                self.emit(Event::FormatDetected(format));
            }
            None => self.notice(Level::Info, "detecting the stream's axes and rate again"),
        }
    }

    fn disconnect(&mut self, reason: Option<String>) {
        if self.camera.close() {
            return self.emit(Event::DeviceClosed { reason });
        }
        let source = match (self.device.take(), self.close_file_stream()) {
            (Some(device), _) => device.source.clone(),
            (None, true) => "file-stream".to_owned(),
            (None, false) => return,
        };
        self.live_stream_ended();
        // Lines still queued from the closed reader belong to no device now.
        while self.reader_rx.try_recv().is_ok() {}
        while self.audio.rx.try_recv().is_ok() {}
        self.flush_live();
        self.live_dropped = 0;
        if let Some(recording) = self.recording.take() {
            let why = reason
                .clone()
                .unwrap_or_else(|| "the device was disconnected".into());
            self.interrupt_recording(recording, source, why);
        }
        self.emit(Event::DeviceClosed { reason });
    }

    fn handle_reader(&mut self, msg: ReaderMsg) {
        match msg {
            ReaderMsg::Line { text, at_s } => {
                let Some(device) = &mut self.device else {
                    return;
                };
                match device.feed(&text, at_s) {
                    LineOutcome::Nothing => {}
                    LineOutcome::Detected(format, buffered) => {
                        self.live_width = format.axes.len();
                        self.emit(Event::FormatDetected(format.clone()));
                        for reading in buffered {
                            self.live.extend_from_slice(&reading);
                            self.feed_live(&reading);
                        }
                        if let Some(recording) = &mut self.recording {
                            begin_series(recording, &format);
                        }
                    }
                    LineOutcome::Reading(reading) => self.on_reading(&reading),
                }
            }
            ReaderMsg::Lost { reason } => self.disconnect(Some(reason)),
            ReaderMsg::Closed => {}
        }
    }

    fn on_reading(&mut self, reading: &[f32]) {
        self.live.extend_from_slice(reading);
        self.feed_live(reading);
        let Some(recording) = &mut self.recording else {
            return;
        };
        let Some(series) = &mut recording.series else {
            return;
        };
        series.push(reading);
        recording.last_reading_at = Instant::now();
        if series.readings() >= recording.target
            && let Some(recording) = self.recording.take()
        {
            self.finish_recording(recording);
        }
    }

    fn start_recording(&mut self, request: RecordRequest) {
        if self.project.is_none() {
            return self.notice(Level::Error, "open or create a project before recording");
        }
        let Some(device) = &self.device else {
            return self.notice(
                Level::Error,
                "connect a board (or start the virtual board) before recording",
            );
        };
        if let Err(e) = crate::project::check_label(&request.label) {
            return self.notice(Level::Error, e.to_string());
        }
        if !(request.seconds.is_finite() && request.seconds > 0.0 && request.seconds <= 3600.0) {
            return self.notice(Level::Error, "a sample lasts between 0 and 3600 seconds");
        }
        let now = Instant::now();
        let mut recording = Recording {
            request,
            series: None,
            target: 0,
            requested_at: now,
            last_reading_at: now,
        };
        if let Some(format) = device.decoder.format() {
            begin_series(&mut recording, format);
        }
        self.recording = Some(recording);
        self.flush_live();
    }

    /// What recorded samples note as their source: `serial:/dev/ttyACM0`, `virtual-board`.
    fn device_source(&self) -> String {
        self.device
            .as_ref()
            .map(|d| d.source.clone())
            .unwrap_or_default()
    }

    fn finish_recording(&mut self, recording: Recording) {
        let Some(series) = recording.series else {
            return;
        };
        let source = self.device_source();
        self.save_recording(&series, &recording.request, &source);
    }

    fn save_recording(&mut self, series: &Series, request: &RecordRequest, source: &str) {
        let Some(project) = &mut self.project else {
            return;
        };
        match project.add_series(series, &request.label, request.split, source) {
            Ok(meta) => {
                undo::push(&mut self.undo, UndoStep::Added(vec![meta.id]));
                self.emit(Event::RecordingSaved(meta));
                self.emit_dataset();
            }
            Err(e) => self.notice(
                Level::Error,
                format!("the recording could not be saved: {e}"),
            ),
        }
    }

    fn interrupt_recording(&mut self, recording: Recording, source: String, reason: String) {
        let Recording {
            request, series, ..
        } = recording;
        match series {
            Some(series) if series.readings() > 0 => {
                self.emit(Event::RecordingInterrupted {
                    readings: series.readings(),
                    seconds: series.duration_s(),
                    reason,
                });
                self.partial = Some(Partial {
                    series,
                    request,
                    source,
                });
            }
            _ => self.notice(
                Level::Error,
                format!("recording stopped before any reading arrived: {reason}"),
            ),
        }
    }

    fn resolve_partial(&mut self, keep: bool) {
        let Some(Partial {
            series,
            request,
            source,
        }) = self.partial.take()
        else {
            return;
        };
        if keep {
            self.save_recording(&series, &request, &source);
        } else {
            self.notice(Level::Info, "partial recording discarded");
        }
    }

    fn on_tick(&mut self) {
        self.flush_live();
        self.audio_tick();
        let now = Instant::now();
        let Some(recording) = &self.recording else {
            return;
        };
        let stalled = match recording.series {
            Some(_) => now.duration_since(recording.last_reading_at) > SILENCE_LIMIT,
            None => now.duration_since(recording.requested_at) > FORMAT_WAIT_LIMIT,
        };
        if !stalled {
            return;
        }
        let Some(recording) = self.recording.take() else {
            return;
        };
        let source = self.device_source();
        if recording.series.is_some() {
            let why = format!("the device sent no data for {} s", SILENCE_LIMIT.as_secs());
            self.interrupt_recording(recording, source, why);
        } else {
            self.notice(
                Level::Error,
                "no readings arrived from the device in 15 s: check the baud rate, close other programs using the port, \
                 and make sure the board prints one reading per line",
            );
        }
    }

    // ---- dataset edits ----------------------------------------------------------------------

    fn edit(&mut self, step: Result<undo::Edit, String>) {
        let Some(project) = &mut self.project else {
            return self.notice(Level::Error, "no project is open");
        };
        let applied = step.and_then(|edit| edit.apply(project).map_err(|e| e.to_string()));
        match applied {
            Ok(undo_step) => {
                undo::push(&mut self.undo, undo_step);
                self.emit_dataset();
            }
            Err(e) => {
                self.notice(Level::Error, e);
                self.emit_dataset();
            }
        }
    }

    fn undo(&mut self) {
        let Some(project) = &mut self.project else {
            return;
        };
        let Some(step) = self.undo.pop() else {
            return self.notice(Level::Info, "nothing to undo");
        };
        let what = step.describe();
        match step.revert(project) {
            Ok(()) => self.notice(Level::Info, format!("undid {what}")),
            Err(e) => self.notice(Level::Error, format!("could not undo {what}: {e}")),
        }
        self.emit_dataset();
    }

    fn load_sample(&mut self, id: SampleId) {
        let Some(project) = &self.project else { return };
        if project.sample(id).is_ok_and(|meta| meta.image.is_some()) {
            match project.load_image(id) {
                Ok((width, height, rgb)) => {
                    let rgb = Arc::new(rgb);
                    self.emit(Event::ImageLoaded {
                        id,
                        width,
                        height,
                        rgb,
                    });
                }
                Err(e) => self.notice(Level::Error, e.to_string()),
            }
            return;
        }
        match project.load_series(id) {
            Ok(series) => self.emit(Event::SampleLoaded { id, series }),
            Err(e) => self.notice(Level::Error, e.to_string()),
        }
    }

    // ---- jobs -------------------------------------------------------------------------------

    fn start_import(&mut self, files: Vec<PathBuf>, label: Option<String>, split: SplitChoice) {
        let Some(project) = &self.project else {
            return self.notice(Level::Error, "open or create a project before importing");
        };
        let settings = project.settings();
        let plan = ImportPlan {
            files,
            label,
            split,
            fallback_rate_hz: settings.sensor.rate_hz,
            axes: settings.sensor.axes.clone(),
            rate_hz: settings.sensor.rate_hz,
            seed: project.samples().len() as u64 + 1,
            sensor_kind: settings.sensor.kind.clone(),
        };
        let name = format!("import {} file(s)", plan.files.len());
        self.spawn_job(name, move |ctx| dataset_jobs::import(plan, ctx));
    }

    fn start_export(&mut self, out_dir: PathBuf, format: SampleFormat) {
        let Some(project) = &self.project else {
            return self.notice(Level::Error, "open a project before exporting");
        };
        let items: Vec<ExportItem> = project
            .samples()
            .iter()
            .map(|meta| ExportItem {
                meta: meta.clone(),
                path: project.sample_path(meta),
            })
            .collect();
        let units = project.settings().sensor.units.clone();
        let name = format!("export {} samples", items.len());
        self.spawn_job(name, move |ctx| {
            dataset_jobs::export(items, &out_dir, format, &units, ctx)
        });
    }

    fn start_noise_mix(&mut self, noise_label: String, snr_db: f32, copies: usize) {
        let Some(project) = &self.project else {
            return self.notice(Level::Error, "open a project before mixing noise");
        };
        let plan = noise_mix::NoiseMixPlan {
            samples: project
                .samples()
                .iter()
                .map(|m| (m.clone(), project.sample_path(m)))
                .collect(),
            noise_label,
            snr_db,
            copies: copies.max(1),
            seed: project.settings().model.training.seed,
        };
        self.spawn_job(format!("noise mixing at {snr_db} dB"), move |ctx| {
            noise_mix::mix_noise(plan, ctx)
        });
    }

    fn start_features(&mut self) {
        let Some(project) = &self.project else {
            return self.notice(Level::Error, "open a project before generating features");
        };
        let settings = project.settings();
        let plan = self.feature_plan(settings.dsp.clone(), settings.impulse.clone());
        let name = format!("features for {} samples", plan.samples.len());
        self.spawn_job(name, move |ctx| {
            features_job::generate(plan, ctx).map(|set| JobOutput::Features(Box::new(set)))
        });
    }

    fn preview_steps(&mut self, sample: SampleId, window: usize) {
        match self.window_steps(sample, window) {
            Ok((window, windows, steps)) => self.emit(Event::StepsReady {
                sample,
                window,
                windows,
                steps: Arc::new(steps),
            }),
            Err(e) => self.notice(Level::Error, e),
        }
    }

    /// The block's steps on window `window` of `sample` (clamped to its last window), with the
    /// window index used and the sample's window count.
    fn window_steps(
        &self,
        sample: SampleId,
        window: usize,
    ) -> Result<(usize, usize, crate::dsp::block::BlockSteps), String> {
        let Some(project) = &self.project else {
            return Err("no project is open".into());
        };
        let meta = project.sample(sample).map_err(|e| e.to_string())?;
        let settings = project.settings();
        if meta.image.is_some() {
            let (width, height, rgb) = project.load_image(sample).map_err(|e| e.to_string())?;
            let input = crate::dsp::block::BlockInput::Image(crate::dsp::image::ImageInput {
                width,
                height,
                rgb: &rgb,
            });
            let steps = settings.dsp.steps(&input);
            return Ok((0, 1, steps.map_err(|e| format!("{sample}: {e}"))?));
        }
        let series = project.load_series(sample).map_err(|e| e.to_string())?;
        let ranges =
            crate::dsp::windowing::windows(series.readings(), meta.rate_hz, &settings.impulse);
        let last = ranges
            .len()
            .checked_sub(1)
            .ok_or("the sample is shorter than one window")?;
        let window = window.min(last);
        let range = ranges.get(window).cloned().unwrap_or_default();
        let window_readings =
            crate::dsp::windowing::readings_in(settings.impulse.window_ms, meta.rate_hz);
        let axes = series.axes.len();
        let values =
            crate::dsp::windowing::window_values(&series.values, axes, range, window_readings);
        let signal = crate::dsp::Signal {
            axes,
            rate_hz: meta.rate_hz,
            values: &values,
        };
        let input = crate::dsp::block::BlockInput::Signal {
            signal,
            axis_names: &series.axes,
        };
        let steps = settings
            .dsp
            .steps(&input)
            .map_err(|e| format!("{sample}: {e}"))?;
        Ok((window, ranges.len(), steps))
    }

    fn spawn_job(
        &mut self,
        name: String,
        work: impl FnOnce(&jobs::JobContext<JobOutput>) -> Result<JobOutput, jobs::JobError>
        + Send
        + 'static,
    ) {
        match self.jobs.spawn(&name, work) {
            Ok(id) => {
                self.job_names.insert(id, name.clone());
                self.emit(Event::JobStarted { id, name });
            }
            Err(e) => self.notice(Level::Error, format!("could not start {name}: {e}")),
        }
    }

    fn handle_job(&mut self, msg: JobMsg<JobOutput>) {
        match msg {
            JobMsg::Progress {
                id,
                fraction,
                message,
            } => {
                let _ = self.events.try_send(Event::JobProgress {
                    id,
                    fraction,
                    message,
                });
                (self.wake)();
            }
            JobMsg::Partial { id, output } => match output {
                JobOutput::Epoch(update) => self.emit(Event::TrainingEpoch {
                    run: update.run,
                    report: update.report,
                }),
                JobOutput::BoardOutput(result) => self.emit(Event::BoardOutput {
                    job: id,
                    result: Arc::new(result),
                }),
                // The run list says where each run was deployed (the Lab panel's check).
                JobOutput::Deployed => self.emit_runs(),
                _ => {}
            },
            JobMsg::Finished { id, result } => {
                self.jobs.finished(id);
                let name = self.job_names.remove(&id).unwrap_or_default();
                let outcome = match result {
                    Ok(JobOutput::Imported(samples)) => self.add_imported(samples, "imported"),
                    Ok(JobOutput::Augmented(samples)) => {
                        self.add_imported(samples, "added background-noise copies:")
                    }
                    Ok(JobOutput::Done(text)) => JobOutcome::Done(text),
                    Ok(JobOutput::Features(set)) => self.features_ready(*set),
                    Ok(output @ (JobOutput::Trained(..) | JobOutput::Evaluated(..))) => {
                        self.run_finished(output)
                    }
                    Ok(JobOutput::Quantized(report)) => self.quantized(*report),
                    Ok(JobOutput::Epoch(_) | JobOutput::BoardOutput(_) | JobOutput::Deployed) => {
                        JobOutcome::Failed("unexpected job result".into())
                    }
                    Err(None) => JobOutcome::Cancelled,
                    Err(Some(why)) => JobOutcome::Failed(why),
                };
                self.emit(Event::JobFinished { id, name, outcome });
            }
        }
    }

    fn features_ready(&mut self, set: features_job::FeatureSet) -> JobOutcome {
        let points = match &set.projection {
            Some(projection) => set
                .rows
                .iter()
                .zip(&projection.points)
                .map(|(row, xy)| crate::protocol::ExplorerPoint {
                    sample: row.sample,
                    label: row.label.clone(),
                    window: row.window,
                    xy: *xy,
                })
                .collect(),
            None => Vec::new(),
        };
        let samples = set
            .rows
            .iter()
            .map(|r| r.sample)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let summary = crate::protocol::FeatureSummary {
            block: set.dsp.title().to_owned(),
            names: set.names.clone(),
            shape: set.shape.clone(),
            samples,
            windows: set.rows.len(),
            from_cache: set.from_cache,
            elapsed_s: set.elapsed_s,
            points,
            explained_variance_ratio: set
                .projection
                .as_ref()
                .map_or([0.0; 2], |p| p.explained_variance_ratio),
        };
        let text = summary.describe();
        self.features = Some(Arc::new(set));
        self.emit(Event::FeaturesGenerated(Arc::new(summary)));
        self.describe_model();
        JobOutcome::Done(text)
    }

    /// Adds a job's samples as one undoable step; `verb` says what the job did ("imported").
    fn add_imported(&mut self, samples: Vec<NewSample>, verb: &str) -> JobOutcome {
        let Some(project) = &mut self.project else {
            return JobOutcome::Failed("the project was closed during the job".into());
        };
        let test = samples.iter().filter(|s| s.split == Split::Test).count();
        let total = samples.len();
        match project.add_many(samples) {
            Ok(added) => {
                undo::push(
                    &mut self.undo,
                    UndoStep::Added(added.iter().map(|m| m.id).collect()),
                );
                self.emit_dataset();
                JobOutcome::Done(format!(
                    "{verb} {total} samples ({} train, {test} test)",
                    total - test
                ))
            }
            Err(e) => JobOutcome::Failed(format!("nothing was added: {e}")),
        }
    }
}

fn begin_series(recording: &mut Recording, format: &StreamFormat) {
    recording.target = (recording.request.seconds * format.rate_hz)
        .round()
        .max(1.0) as usize;
    recording.series = Some(Series::new(format.axes.clone(), format.rate_hz));
    recording.last_reading_at = Instant::now();
}
