//! Training runs on disk. Every Train press makes a folder `runs/run-NNN/` holding:
//!
//! ```text
//! run.json       what it was trained with, the epoch history, the labels and one prediction
//!                per feature window (train, validation and test), so the Evaluate panel can
//!                re-threshold without recomputing
//! model.json     the trained model with its weights (nn::Model, serde)
//! anomaly.json   the K-means anomaly detector, when one was trained
//! quantized.json the float32/int8 comparison of the last quantization (Optimize panel)
//! model-float32.tflite, model-int8.tflite   the two models that comparison ran
//! ```
//!
//! Runs are written once, atomically, and re-evaluation rewrites only `run.json`. Ids grow and
//! are never reused, so two runs' curves can always be told apart.

use super::atomic::write_bytes_atomic;
use super::sample::SampleId;
use crate::dsp::block::DspSettings;
use crate::dsp::image::InputMapping;
use crate::dsp::windowing::WindowSettings;
use crate::models::ModelSettings;
use crate::nn::Model;
use crate::nn::anomaly::KMeans;
use crate::nn::detection::{Grid, InputBox};
use crate::nn::train::EpochReport;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Folder of the runs inside a project.
pub const RUNS_DIR: &str = "runs";
/// Bumped when `run.json` changes meaning.
pub const RUN_FORMAT_VERSION: u32 = 1;

/// Which part of the data a prediction belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSet {
    /// Train split, used to fit the weights.
    Training,
    /// Train split, held out to watch for overfitting.
    Validation,
    /// Test split, never seen in training.
    Test,
}

impl DataSet {
    /// Every set, in the order the Evaluate panel offers them.
    pub const ALL: [Self; 3] = [Self::Test, Self::Validation, Self::Training];

    /// Its name in the UI and the CLI.
    pub fn title(self) -> &'static str {
        match self {
            Self::Training => "training",
            Self::Validation => "validation",
            Self::Test => "test",
        }
    }
}

/// The model's answer for one window of one sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowPrediction {
    /// The sample.
    pub sample: SampleId,
    /// Window index in the sample.
    pub window: usize,
    /// Train, validation or test.
    pub set: DataSet,
    /// Index of the true label in the run's labels; `None` when the label was not trained on.
    pub truth: Option<usize>,
    /// One probability per label.
    pub probabilities: Vec<f32>,
    /// K-means anomaly score, when a detector was trained.
    pub anomaly: Option<f32>,
    /// FOMO runs: the image's labelled boxes in the model's input pixels, class = index in the
    /// run's labels (background 0); `probabilities` then holds one softmax per output cell.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boxes: Vec<InputBox>,
    /// FOMO runs: how the image's file pixels map to the model input (to draw centroids on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<InputMapping>,
}

/// Everything about a run except its weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Format version of this file.
    pub format_version: u32,
    /// `run-001`, `run-002`, …
    pub id: String,
    /// Seconds since 1970 when training started.
    pub created_unix_s: u64,
    /// Model and training settings it used.
    pub model: ModelSettings,
    /// Processing block it was trained on.
    pub dsp: DspSettings,
    /// Windowing it was trained on.
    pub impulse: WindowSettings,
    /// Class labels, in output order (sorted).
    pub labels: Vec<String>,
    /// Shape of one input (one window's features).
    pub input_shape: Vec<usize>,
    /// Trainable parameters.
    pub parameters: usize,
    /// One entry per finished epoch.
    pub history: Vec<EpochReport>,
    /// How training ended, e.g. "finished 30 epochs" or "cancelled after 12 epochs".
    pub stopped: String,
    /// Wall time of the training loop.
    pub train_seconds: f64,
    /// One prediction per window of every sample (as of the last evaluation).
    pub predictions: Vec<WindowPrediction>,
    /// FOMO runs: the output grid (each prediction is a heat map over its cells); `None` for
    /// classifiers and runs saved before object detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<Grid>,
}

impl RunRecord {
    /// Validation accuracy of the last epoch, if there was a validation set.
    pub fn final_val_accuracy(&self) -> Option<f32> {
        self.history.last().and_then(|e| e.val_accuracy)
    }
}

/// Errors reading or writing runs.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Filesystem trouble.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file that is not what it should be.
    #[error("{path} is damaged ({why}); train again to replace it")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        why: String,
    },
    /// No such run (`None`: no run at all).
    #[error("{}", missing(.0.as_deref()))]
    Missing(Option<String>),
}

fn missing(id: Option<&str>) -> String {
    match id {
        Some(id) => format!("this project has no training run {id:?}; pick one from the run list"),
        None => "this project has no training run yet; press Train (or run `tinylab train`) first"
            .into(),
    }
}

/// A run read back: record, weights and detector.
#[derive(Clone, Debug)]
pub struct StoredRun {
    /// Settings, history, predictions.
    pub record: RunRecord,
    /// The trained model.
    pub model: Model,
    /// The anomaly detector, if trained.
    pub anomaly: Option<KMeans>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_owned(),
        source,
    }
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), RunError> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| RunError::Corrupt {
        path: path.to_owned(),
        why: e.to_string(),
    })?;
    write_bytes_atomic(path, &text).map_err(io(path))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, RunError> {
    let text = std::fs::read(path).map_err(io(path))?;
    serde_json::from_slice(&text).map_err(|e| RunError::Corrupt {
        path: path.to_owned(),
        why: e.to_string(),
    })
}

/// Ids of the runs in `project_dir`, oldest first.
pub fn list(project_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(project_dir.join(RUNS_DIR)) else {
        return Vec::new();
    };
    let mut ids: Vec<(u64, String)> = entries
        .flatten()
        .filter(|e| e.path().join("run.json").is_file())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let number = name.strip_prefix("run-")?.parse().ok()?;
            Some((number, name))
        })
        .collect();
    ids.sort();
    ids.into_iter().map(|(_, id)| id).collect()
}

/// The id the next run gets.
pub fn next_id(project_dir: &Path) -> String {
    let last = list(project_dir)
        .last()
        .and_then(|id| id.strip_prefix("run-")?.parse::<u64>().ok())
        .unwrap_or(0);
    format!("run-{:03}", last + 1)
}

/// Writes a whole run (weights first, record last, so a listed run is always complete).
pub fn save(project_dir: &Path, run: &StoredRun) -> Result<(), RunError> {
    let dir = project_dir.join(RUNS_DIR).join(&run.record.id);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    write_json(&dir.join("model.json"), &run.model)?;
    let anomaly_path = dir.join("anomaly.json");
    match &run.anomaly {
        Some(anomaly) => write_json(&anomaly_path, anomaly)?,
        None => {
            let _ = std::fs::remove_file(&anomaly_path);
        }
    }
    save_record(project_dir, &run.record)
}

/// Rewrites a run's `run.json` (after re-evaluation).
pub fn save_record(project_dir: &Path, record: &RunRecord) -> Result<(), RunError> {
    let path = project_dir.join(RUNS_DIR).join(&record.id).join("run.json");
    write_json(&path, record)
}

/// Reads run `id` (`None`: the latest).
pub fn load(project_dir: &Path, id: Option<&str>) -> Result<StoredRun, RunError> {
    let id = match id {
        Some(id) => id.to_owned(),
        None => list(project_dir).pop().ok_or(RunError::Missing(None))?,
    };
    let dir = project_dir.join(RUNS_DIR).join(&id);
    if !dir.join("run.json").is_file() {
        return Err(RunError::Missing(Some(id)));
    }
    let record: RunRecord = read_json(&dir.join("run.json"))?;
    let model = read_json(&dir.join("model.json"))?;
    let anomaly_path = dir.join("anomaly.json");
    let anomaly = if anomaly_path.is_file() {
        Some(read_json(&anomaly_path)?)
    } else {
        None
    };
    Ok(StoredRun {
        record,
        model,
        anomaly,
    })
}

/// Reads only the records of every run (for the run list), skipping damaged ones.
pub fn records(project_dir: &Path) -> Vec<Result<RunRecord, RunError>> {
    list(project_dir)
        .into_iter()
        .map(|id| read_json(&project_dir.join(RUNS_DIR).join(id).join("run.json")))
        .collect()
}

/// The folder of run `id`.
pub fn run_dir(project_dir: &Path, id: &str) -> PathBuf {
    project_dir.join(RUNS_DIR).join(id)
}

/// File name of a run's float32 `.tflite`.
pub const FLOAT_TFLITE: &str = "model-float32.tflite";
/// File name of a run's int8 `.tflite`.
pub const INT8_TFLITE: &str = "model-int8.tflite";

/// Keeps a quantization of run `report.run`: both models first, the report last (so a report on
/// disk always has its models).
pub fn save_quantized(
    project_dir: &Path,
    report: &crate::quant::report::QuantReport,
    float_tflite: &[u8],
    int8_tflite: &[u8],
) -> Result<(), RunError> {
    let dir = run_dir(project_dir, &report.run);
    for (name, bytes) in [(FLOAT_TFLITE, float_tflite), (INT8_TFLITE, int8_tflite)] {
        let path = dir.join(name);
        write_bytes_atomic(&path, bytes).map_err(io(&path))?;
    }
    write_json(&dir.join("quantized.json"), report)
}

/// One deploy of a run's model to a board, kept in the run's `deployments.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// Where it went, as `tinylab deploy --target` spells it (`openmv:/media/…`, `ssh:…`).
    pub target: String,
    /// Seconds since 1970 when it was deployed.
    pub unix_s: u64,
}

const DEPLOYMENTS_FILE: &str = "deployments.json";

/// Adds a deploy of run `id` to `target` to the run's list (rewritten atomically).
pub fn record_deployment(project_dir: &Path, id: &str, target: &str) -> Result<(), RunError> {
    let mut list = deployments(project_dir, id)?;
    let unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    list.push(Deployment {
        target: target.to_owned(),
        unix_s,
    });
    write_json(&run_dir(project_dir, id).join(DEPLOYMENTS_FILE), &list)
}

/// Every deploy of run `id`, oldest first (none when it was never deployed).
pub fn deployments(project_dir: &Path, id: &str) -> Result<Vec<Deployment>, RunError> {
    let path = run_dir(project_dir, id).join(DEPLOYMENTS_FILE);
    if path.is_file() {
        read_json(&path)
    } else {
        Ok(Vec::new())
    }
}

/// The last quantization of run `id`, if it was quantized.
pub fn load_quantized(
    project_dir: &Path,
    id: &str,
) -> Result<Option<crate::quant::report::QuantReport>, RunError> {
    let path = run_dir(project_dir, id).join("quantized.json");
    if path.is_file() {
        read_json(&path).map(Some)
    } else {
        Ok(None)
    }
}
