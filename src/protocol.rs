//! The whole vocabulary between the UI (or the CLI, or a test) and the engine: [`Command`]s go
//! in, [`Event`]s come out. Nothing else is shared, which is what lets every feature run headless.

use crate::devices::audio_in::AudioInputInfo;
use crate::devices::forwarder::StreamFormat;
use crate::devices::ports::PortInfo;
use crate::dsp::audio::Level as AudioLevel;
use crate::dsp::block::{BlockSteps, DspSettings};
use crate::dsp::split::{SplitClip, SplitSettings};
use crate::dsp::windowing::WindowSettings;
use crate::engine::live::LiveWindow;
use crate::models::ModelSettings;
use crate::nn::LayerSummary;
use crate::nn::metrics::Evaluation;
use crate::nn::train::EpochReport;
use crate::project::ProjectFile;
use crate::project::formats::SampleFormat;
use crate::project::runs::{DataSet, RunRecord};
use crate::project::sample::{SampleId, SampleMeta, Series, Split};
use crate::sim::motion::Motion;
use std::path::PathBuf;
use std::sync::Arc;

/// Identifies one run of a long job.
pub type JobId = u64;

/// A model export the Deploy panel and `tinylab export` offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelFormat {
    /// The float32 `.tflite`.
    TfliteF32,
    /// The int8 `.tflite` (int8 input and output).
    TfliteInt8,
    /// The int8 `.tflite` as a C array (`model.h`, `model.cc`, `labels.txt`) for TFLM.
    CArray,
    /// The C99 library: the int8 model as straight-line C and the DSP block, in a folder
    /// (`tinylab_model.h/.c`, `tinylab_dsp.h/.c`).
    CLibrary,
    /// The run's DSP and int8 model as an Arduino library `.zip` with a sketch per kit.
    Arduino,
}

impl ModelFormat {
    /// Every format, in the order the Deploy panel lists them.
    pub const ALL: [Self; 5] = [
        Self::TfliteInt8,
        Self::TfliteF32,
        Self::CArray,
        Self::CLibrary,
        Self::Arduino,
    ];

    /// The CLI's name (`--format`).
    pub fn id(self) -> &'static str {
        match self {
            Self::TfliteF32 => "tflite-f32",
            Self::TfliteInt8 => "tflite-int8",
            Self::CArray => "c-array",
            Self::CLibrary => "c-library",
            Self::Arduino => "arduino",
        }
    }

    /// The Deploy panel's words.
    pub fn title(self) -> &'static str {
        match self {
            Self::TfliteF32 => "TensorFlow Lite, float32 (.tflite)",
            Self::TfliteInt8 => "TensorFlow Lite, int8 (.tflite)",
            Self::CArray => "C array for TensorFlow Lite Micro (model.h, model.cc)",
            Self::CLibrary => {
                "C library: model and DSP as plain C99 (tinylab_model.c, tinylab_dsp.c)"
            }
            Self::Arduino => "Arduino library (.zip): DSP + int8 model in C, a sketch per kit",
        }
    }

    /// Whether the export is a folder (else one file and `labels.txt` beside it).
    pub fn is_folder(self) -> bool {
        matches!(self, Self::CArray | Self::CLibrary)
    }

    /// A file or folder name to start from.
    pub fn default_name(self, run: &str) -> String {
        match self {
            Self::TfliteF32 => format!("{run}-float32.tflite"),
            Self::TfliteInt8 => format!("{run}-int8.tflite"),
            Self::CArray => format!("{run}-c-array"),
            Self::CLibrary => format!("{run}-c-library"),
            Self::Arduino => format!("{run}-arduino.zip"),
        }
    }
}

/// Where readings come from.
#[derive(Clone, Debug, PartialEq)]
pub enum DeviceSpec {
    /// A serial port speaking the data-forwarder format.
    Serial {
        /// Port path, e.g. `/dev/ttyACM0` or `COM3`.
        path: String,
        /// Baud rate (the book's sketches use 115200).
        baud: u32,
    },
    /// The built-in virtual board, started in-process on a pseudo-terminal.
    VirtualBoard {
        /// Readings per second.
        rate_hz: f64,
        /// The motion it starts with.
        motion: Motion,
    },
    /// A microphone (cpal): mono readings of width 1 at the project's rate, in int16 units.
    Microphone {
        /// An id or name from [`Event::AudioInputs`]; `None`: the system's default input.
        name: Option<String>,
    },
    /// A camera (an HTTP camera or a folder of images): frames come as [`Event::CameraFrame`].
    Camera(crate::devices::camera::CameraSpec),
}

/// Which split imported or recorded samples go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitChoice {
    /// All to one split.
    Fixed(Split),
    /// A seeded 80/20 train/test split per label, as Edge Impulse does on upload.
    Auto,
}

/// A request to record one labelled sample from the connected device.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordRequest {
    /// Class label.
    pub label: String,
    /// Length of the sample.
    pub seconds: f64,
    /// Train or test.
    pub split: Split,
}

impl FeatureSummary {
    /// One sentence: "Spectral analysis: 656 windows of 16 samples, 63 features each ([63]),
    /// in 0.28 s (16 from the cache)".
    pub fn describe(&self) -> String {
        format!(
            "{}: {} windows of {} samples, {} features each ({:?}), in {:.2} s ({} from the cache)",
            self.block,
            self.windows,
            self.samples,
            self.shape.iter().product::<usize>(),
            self.shape,
            self.elapsed_s,
            self.from_cache
        )
    }
}

/// `93.1 %`, or `–` when there is nothing to measure.
pub fn percent(value: Option<f32>) -> String {
    value.map_or_else(|| "–".into(), |v| format!("{:.1} %", v * 100.0))
}

/// UI → engine.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Create a project in an empty folder from a lab preset, then open it.
    CreateProject {
        /// New or empty folder.
        dir: PathBuf,
        /// Lab preset id, e.g. `motion`.
        lab: String,
        /// Fill it with the lab's demo data (synthetic; see `engine::demo`).
        demo: bool,
    },
    /// Open an existing project.
    OpenProject {
        /// Project folder.
        dir: PathBuf,
    },
    /// Open the demo project in `dir`, creating it first if needed (the motion lab, filled with
    /// virtual-kit recordings).
    OpenDemoProject {
        /// Where the demo project lives.
        dir: PathBuf,
    },
    /// List serial ports again.
    RefreshPorts,
    /// Connect to a device (disconnecting any other).
    Connect(DeviceSpec),
    /// Close the device.
    Disconnect,
    /// Change what the virtual board simulates.
    SetVirtualMotion(Motion),
    /// Stop the virtual board as if its cable were pulled (demos the unplug handling).
    UnplugVirtualBoard,
    /// Set the stream's axes and rate by hand (`None`: detect them automatically).
    SetStreamFormat(Option<StreamFormat>),
    /// Record a sample once the stream's format is known.
    StartRecording(RecordRequest),
    /// Abandon the recording in progress.
    CancelRecording,
    /// After [`Event::RecordingInterrupted`]: keep the partial sample or drop it.
    KeepPartial(bool),
    /// Read a sample's data for plotting.
    LoadSample(SampleId),
    /// Change the label of samples.
    Relabel {
        /// Samples to change.
        ids: Vec<SampleId>,
        /// New label.
        label: String,
    },
    /// Move samples to train or test.
    SetSplit {
        /// Samples to move.
        ids: Vec<SampleId>,
        /// Target split.
        split: Split,
    },
    /// Delete samples (undoable).
    Delete(Vec<SampleId>),
    /// Replace an image's bounding boxes (file pixels; one undo step). The Dataset panel's box
    /// editor sends the whole new list after each drawn, relabelled or deleted box.
    SetBoxes {
        /// The image sample.
        id: SampleId,
        /// Its boxes after the edit.
        boxes: Vec<crate::project::sample::BoundingBox>,
    },
    /// Undo the last relabel, move or delete.
    Undo,
    /// Import sample files as a job.
    Import {
        /// CSV or Edge Impulse JSON files.
        files: Vec<PathBuf>,
        /// Label for all files; `None`: from each file name (`idle.01.csv` → `idle`).
        label: Option<String>,
        /// Where they go.
        split: SplitChoice,
    },
    /// Add `copies` noisy versions of every training sample (not of the noise label itself):
    /// a stretch of a training sample labelled `noise_label` mixed in at `snr_db` (a job; one
    /// Undo removes them).
    MixNoise {
        /// Label of the background-noise recordings, e.g. `noise`.
        noise_label: String,
        /// Signal-to-noise ratio, dB.
        snr_db: f32,
        /// Versions per sample.
        copies: usize,
    },
    /// Export the dataset as a job, into `training/` and `testing/` folders.
    Export {
        /// Output folder.
        out_dir: PathBuf,
        /// File format.
        format: SampleFormat,
    },
    /// Ask a job to stop.
    CancelJob(JobId),
    /// Use this processing block and settings from now on (saved in the project file).
    SetDsp(DspSettings),
    /// Cut samples into windows this way from now on (saved in the project file).
    SetWindow(WindowSettings),
    /// Compute the features of every sample as a job (cached per settings).
    GenerateFeatures,
    /// Use these model, training, anomaly and threshold settings from now on (saved in the
    /// project file); re-evaluates the shown run when a threshold changed.
    SetModel(Box<ModelSettings>),
    /// Train the classifier (and the anomaly detector) as a job, saving a new run.
    Train {
        /// Epochs for this run only (`None`: the project's setting).
        epochs: Option<usize>,
        /// Seed for this run only (`None`: the project's setting).
        seed: Option<u64>,
    },
    /// Predict the current dataset again with a saved run (`None`: the latest) as a job.
    Evaluate {
        /// Run id, e.g. `run-003`.
        run: Option<String>,
    },
    /// Quantize a saved run to int8 as a job and compare it with float32 on the test split
    /// ([`Event::Quantized`]); the settings are saved in the project first.
    Quantize {
        /// Run id.
        run: String,
        /// Per-channel, percentile, calibration windows.
        settings: crate::quant::report::QuantizeSettings,
    },
    /// Write a quantized run's model as a job: a `.tflite` file (with `labels.txt` beside it),
    /// or the C array files into a folder.
    ExportModel {
        /// Run id.
        run: String,
        /// Which model, in which form.
        format: ModelFormat,
        /// The file (`.tflite`) or folder (C array).
        path: PathBuf,
    },
    /// Deploy a quantized run's int8 model to a board as a job (its progress messages are the
    /// deploy's log), then watch what the board prints when the request says so
    /// ([`Event::BoardOutput`]); cancel the job to stop watching.
    Deploy(Box<crate::deploy::run::DeployRequest>),
    /// Read a board's serial output as a job (cancel it to stop): every result the board prints
    /// comes as [`Event::BoardOutput`].
    MonitorBoard {
        /// The port, or [`crate::deploy::run::VIRTUAL_INFERENCE_PORT`] for a virtual board
        /// printing inference results.
        port: String,
        /// Baud rate (115200 for the book's sketches).
        baud: u32,
    },
    /// Look for mounted OpenMV drives ([`Event::OpenMvDrives`]).
    FindOpenMvDrives,
    /// Show a saved run: its curves ([`Event::RunLoaded`]) and its evaluation on `set`.
    ShowRun {
        /// Run id.
        run: String,
        /// Which data to evaluate.
        set: DataSet,
    },
    /// Play a WAV (audio projects) or CSV (sensor projects) file as a stream, at real-time
    /// pace, through the same path as a device's readings (closes any open device).
    StreamFile {
        /// The file.
        path: PathBuf,
    },
    /// Classify the stream (device or streamed file) with the shown run, window by window:
    /// [`Event::LiveStarted`], then an [`Event::LiveWindow`] every window increase.
    StartLive,
    /// Stop live classification.
    StopLive,
    /// Find the words of an audio sample and propose a clip around each
    /// ([`Event::SplitProposed`]).
    ProposeSplit {
        /// The sample.
        sample: SampleId,
        /// Threshold, gap and clip length.
        settings: SplitSettings,
    },
    /// Add the accepted clips of a sample as new samples (one undo step).
    ApplySplit {
        /// The sample cut.
        sample: SampleId,
        /// Accepted clips, as ranges of readings.
        clips: Vec<std::ops::Range<usize>>,
        /// Label of the new samples.
        label: String,
        /// Keep the original sample (false: delete it, undoably).
        keep_original: bool,
    },
    /// Compute the block's intermediate steps on one window of a sample, for plots.
    PreviewSteps {
        /// The sample.
        sample: SampleId,
        /// Which window of it (clamped to the last one).
        window: usize,
    },
    // ---- audio ----
    /// List the microphones again ([`Event::AudioInputs`]).
    ListAudioInputs,
    /// Play an audio sample through the default output ([`Event::Playback`] follows it).
    PlaySample(SampleId),
    /// Play part of an audio sample (a proposed clip in the split review), readings `range`.
    PlayClip {
        /// The sample.
        sample: SampleId,
        /// First and one-past-last reading.
        range: std::ops::Range<usize>,
    },
    /// Stop the sample playing.
    StopPlayback,
    // ---- camera ----
    /// Save the camera's newest frame, as received, as an image sample
    /// ([`Event::RecordingSaved`] follows; one undo step).
    CaptureFrame {
        /// Class label.
        label: String,
        /// Train or test.
        split: Split,
    },
}

/// Where a sample's playback is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlaybackPosition {
    /// The sample playing.
    pub id: SampleId,
    /// Seconds played.
    pub position_s: f64,
    /// Its length.
    pub duration_s: f64,
}

/// One dot of the feature explorer: a window of a sample, placed by PCA.
#[derive(Clone, Debug, PartialEq)]
pub struct ExplorerPoint {
    /// The sample.
    pub sample: SampleId,
    /// Its label.
    pub label: String,
    /// Window index in the sample.
    pub window: usize,
    /// First and second principal component.
    pub xy: [f32; 2],
}

/// What the UI needs of a finished feature generation (the matrix itself stays in the engine).
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureSummary {
    /// Block title, e.g. "Spectral analysis".
    pub block: String,
    /// Names of one window's values (may be empty for grids).
    pub names: Vec<String>,
    /// Shape of one window's features.
    pub shape: Vec<usize>,
    /// Samples processed.
    pub samples: usize,
    /// Windows (rows) in total.
    pub windows: usize,
    /// Samples read from the cache.
    pub from_cache: usize,
    /// Wall time.
    pub elapsed_s: f64,
    /// The explorer's dots (empty with fewer than two windows).
    pub points: Vec<ExplorerPoint>,
    /// Share of variance the two components explain.
    pub explained_variance_ratio: [f64; 2],
}

/// A saved run in the run list.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// `run-003`.
    pub id: String,
    /// Model preset it used.
    pub preset: String,
    /// Epochs it trained.
    pub epochs: usize,
    /// Validation accuracy at the last epoch.
    pub val_accuracy: Option<f32>,
    /// Accuracy on the test split at the run's confidence threshold.
    pub test_accuracy: Option<f32>,
    /// How it ended.
    pub stopped: String,
    /// Its epochs, for overlaying curves.
    pub history: Vec<EpochReport>,
    /// Where it was deployed (`tinylab deploy` targets), oldest first.
    pub deployed_to: Vec<String>,
}

/// The model the current settings build, layer by layer.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDescription {
    /// Shape of one input (one window's features).
    pub input_shape: Vec<usize>,
    /// Names of the input's values (empty for grids such as MFCC frames or images).
    pub feature_names: Vec<String>,
    /// Output classes.
    pub classes: usize,
    /// Each layer with its output shape, parameters and MACs.
    pub layers: Vec<LayerSummary>,
}

/// A window the model got wrong (or was unsure of).
#[derive(Clone, Debug, PartialEq)]
pub struct Misclassified {
    /// The sample.
    pub sample: SampleId,
    /// Window index in the sample.
    pub window: usize,
    /// Its label.
    pub truth: String,
    /// The model's answer, or "uncertain".
    pub predicted: String,
    /// Top probability.
    pub confidence: f32,
    /// Anomaly score, when a detector was trained.
    pub anomaly: Option<f32>,
}

/// One sample as the model sees it: majority vote over its windows, highest anomaly score.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleScore {
    /// The sample.
    pub sample: SampleId,
    /// Its label, when the model knows it.
    pub truth: Option<String>,
    /// Majority prediction (`None`: most windows were uncertain).
    pub predicted: Option<String>,
    /// Share of windows that voted for the majority.
    pub agreement: f32,
    /// Windows in the sample.
    pub windows: usize,
    /// Highest anomaly score over its windows.
    pub max_anomaly: Option<f32>,
}

/// A run's results on one data set at the current thresholds.
#[derive(Clone, Debug, PartialEq)]
pub struct RunEvaluation {
    /// Run id.
    pub run: String,
    /// Which data.
    pub set: DataSet,
    /// Class labels.
    pub labels: Vec<String>,
    /// Accuracy, confusion matrix, per-class precision/recall/F1.
    pub metrics: Evaluation,
    /// Windows predicted wrongly or uncertain.
    pub misclassified: Vec<Misclassified>,
    /// One line per sample.
    pub samples: Vec<SampleScore>,
    /// The confidence threshold applied.
    pub confidence_threshold: f32,
    /// The anomaly threshold applied.
    pub anomaly_threshold: f32,
    /// Windows scoring above the anomaly threshold.
    pub anomalies: usize,
    /// True when the run has an anomaly detector.
    pub has_anomaly: bool,
    /// A FOMO run's detection results (`metrics` is then the per-cell confusion matrix).
    pub detection: Option<Arc<crate::engine::detection_eval::DetectionEvaluation>>,
}

/// How serious a notice is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Something worth knowing.
    Info,
    /// Something went wrong; the text says what to do.
    Error,
}

/// How a job ended.
#[derive(Clone, Debug, PartialEq)]
pub enum JobOutcome {
    /// Done; a sentence saying what it did.
    Done(String),
    /// Stopped at the user's request; nothing was changed.
    Cancelled,
    /// Failed; a sentence saying why and what to do.
    Failed(String),
}

/// Engine → UI.
#[derive(Clone, Debug)]
pub enum Event {
    /// A project is open (after create or open).
    ProjectOpened {
        /// Its folder.
        dir: PathBuf,
        /// Its settings.
        settings: Box<ProjectFile>,
    },
    /// The sample list changed.
    DatasetChanged {
        /// Every sample.
        samples: Vec<SampleMeta>,
        /// What Undo would undo, if anything (e.g. "delete 2 samples").
        undo: Option<String>,
    },
    /// Serial ports found.
    Ports(Vec<PortInfo>),
    /// A device is open and lines are flowing; format detection starts.
    DeviceConnected {
        /// Human name, e.g. `/dev/ttyACM0` or `virtual board (/dev/pts/4)`.
        name: String,
        /// True for the built-in virtual board.
        is_virtual: bool,
    },
    /// The stream's axes and rate are known.
    FormatDetected(StreamFormat),
    /// Live readings, row-major (`width` values per reading).
    Readings {
        /// Values.
        values: Vec<f32>,
        /// Axes per reading.
        width: usize,
    },
    /// The device stopped (unplugged, or closed by the user when `reason` is `None`).
    DeviceClosed {
        /// Why, in words for the student; `None` for a normal disconnect.
        reason: Option<String>,
    },
    /// Recording progress.
    Recording {
        /// Label being recorded.
        label: String,
        /// Readings so far.
        readings: usize,
        /// Readings wanted.
        target: usize,
    },
    /// A recorded sample was saved.
    RecordingSaved(SampleMeta),
    /// The device vanished mid-recording; answer with [`Command::KeepPartial`].
    RecordingInterrupted {
        /// Readings captured.
        readings: usize,
        /// Seconds captured.
        seconds: f64,
        /// What happened.
        reason: String,
    },
    /// A sample's data, for plotting.
    SampleLoaded {
        /// Which sample.
        id: SampleId,
        /// Its readings.
        series: Series,
    },
    /// An image sample decoded, for its thumbnail (the engine decodes; the UI only uploads).
    ImageLoaded {
        /// Which sample.
        id: SampleId,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// `width · height · 3` bytes, row-major RGB8.
        rgb: Arc<Vec<u8>>,
    },
    /// A job started.
    JobStarted {
        /// Job id.
        id: JobId,
        /// What it does, e.g. "Import 12 files".
        name: String,
    },
    /// A job's progress.
    JobProgress {
        /// Job id.
        id: JobId,
        /// Done share, 0–1.
        fraction: f32,
        /// What it is doing now.
        message: String,
    },
    /// A job ended.
    JobFinished {
        /// Job id.
        id: JobId,
        /// What it was.
        name: String,
        /// How it ended.
        outcome: JobOutcome,
    },
    /// A message for the status bar or a toast.
    Notice {
        /// Info or error.
        level: Level,
        /// The sentence.
        text: String,
    },
    /// Live readings the UI was too slow to take, counted since the device connected.
    LiveDropped(u64),
    /// The project's settings changed (block, window).
    ProjectSettings(Box<ProjectFile>),
    /// Features were generated for the whole dataset.
    FeaturesGenerated(Arc<FeatureSummary>),
    /// The saved runs changed (after opening a project, training or evaluating).
    Runs(Vec<RunSummary>),
    /// One more epoch of the run being trained.
    TrainingEpoch {
        /// Run id.
        run: String,
        /// The epoch's figures.
        report: EpochReport,
    },
    /// A run's record (settings, curves, predictions), for the Train and Evaluate panels.
    RunLoaded(Arc<RunRecord>),
    /// A run evaluated at the current thresholds.
    Evaluated(Arc<RunEvaluation>),
    /// The last quantization of the shown run (`None`: it was never quantized).
    Quantized(Option<Arc<crate::quant::report::QuantReport>>),
    /// The model the current settings build, or why it cannot be built.
    ModelDescribed(Result<Arc<ModelDescription>, String>),
    /// Live classification is running with this run (sent when the stream's format is known).
    LiveStarted {
        /// Run id.
        run: String,
        /// Its labels, in output order.
        labels: Vec<String>,
        /// True when it has an anomaly detector.
        has_anomaly: bool,
        /// Windows averaged for the detected label.
        averaging: usize,
    },
    /// One classified window of the stream.
    LiveWindow(Arc<LiveWindow>),
    /// Live classification stopped (`reason`: why, when not asked by the user).
    LiveStopped {
        /// What went wrong, in words for the student.
        reason: Option<String>,
    },
    /// The clips proposed for a sample (after [`Command::ProposeSplit`]).
    SplitProposed {
        /// The sample.
        sample: SampleId,
        /// Its readings (the waveform under the clips).
        series: Series,
        /// One clip per word found.
        clips: Vec<SplitClip>,
    },
    /// A block's intermediate steps on one window, for the Features panel.
    StepsReady {
        /// The sample.
        sample: SampleId,
        /// The window shown.
        window: usize,
        /// How many windows the sample has.
        windows: usize,
        /// The steps.
        steps: Arc<BlockSteps>,
    },
    // ---- audio ----
    /// Microphones found (an empty list when there are none; a failure comes as a notice).
    AudioInputs(Vec<AudioInputInfo>),
    /// The microphone's level since the last report (about every 40 ms), for the meter.
    AudioLevel {
        /// Peak, RMS and clipped samples (full scale 1.0).
        level: AudioLevel,
        /// Frames lost since the microphone opened (ring overflow and sound-system overruns).
        lost_frames: u64,
    },
    /// Playback moved (`Some`) or ended (`None`).
    Playback(Option<PlaybackPosition>),
    /// New columns of the microphone's spectrogram (power in dB per frequency bin, oldest first).
    AudioSpectrum {
        /// One column per 20 ms frame step.
        columns: Vec<Vec<f32>>,
        /// Frequency of the last bin (half the project's rate).
        max_hz: f32,
    },
    // ---- camera ----
    /// Live inference on one camera frame (after [`Command::StartLive`] in a camera project):
    /// class probabilities or FOMO centroids, DSP/NN time, results per second (`try_send`).
    CameraInference(Arc<crate::engine::camera_inference::FrameInference>),
    /// A camera frame, decoded: a preview and what the model sees (sent with `try_send`).
    CameraFrame {
        /// The frame.
        frame: Arc<crate::devices::camera::CameraFrame>,
        /// Frames per second over the last two seconds.
        fps: f32,
        /// Frames dropped since the camera opened because the engine or the UI was behind.
        dropped: u64,
    },
    /// What the camera is doing when it has no frame to show: connecting, reconnecting, a frame
    /// that did not decode.
    CameraStatus(String),
    /// The OpenMV drives mounted now.
    OpenMvDrives(Vec<PathBuf>),
    /// One inference as a board printed it (from a deploy or monitor job).
    BoardOutput {
        /// The job reading the board.
        job: JobId,
        /// What the board said.
        result: Arc<crate::devices::board_output::BoardResult>,
    },
}
