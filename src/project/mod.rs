//! A TinyLab project on disk: a folder a student can zip, share and open in other tools.
//!
//! ```text
//! my-project/
//!   tinylab.toml     project file: format version, lab, sensor, impulse, DSP and model settings
//!   dataset.json     sample index: id, file, label, split, sensor, rate, readings, source
//!   samples/         one Edge Impulse-style CSV per sensor sample (`s00001.csv`), a WAV per
//!                    audio clip, the original PNG/JPEG/BMP file per image
//!   .trash/          deleted samples, kept so "undo" works until the project is next opened
//!   runs/run-NNN/    one folder per training run: settings, curves, predictions, weights
//! ```
//!
//! Invariant: every write is atomic ([`atomic`]), and a sample's data file is written before the
//! index names it, so a crash leaves at worst an unreferenced file, never a dangling entry.

pub mod atomic;
pub mod formats;
pub mod runs;
pub mod sample;

use crate::dsp::block::DspSettings;
use crate::dsp::windowing::WindowSettings;
use crate::labs::{CapturePreset, LabPreset, SensorPreset};
use sample::{SampleId, SampleMeta, Series, Split};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Version of `tinylab.toml` and `dataset.json` this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Name of the project file inside a project folder.
pub const PROJECT_FILE: &str = "tinylab.toml";
/// Name of the sample index inside a project folder.
pub const DATASET_FILE: &str = "dataset.json";
const SAMPLES_DIR: &str = "samples";
/// The sensor kind of audio projects, whose samples are stored as WAV.
pub const MICROPHONE: &str = "microphone";
/// The sensor kind of image projects, whose samples are image files.
pub const CAMERA: &str = "camera";
const TRASH_DIR: &str = ".trash";
/// Derived data (features), safe to delete: everything in it can be recomputed.
pub const CACHE_DIR: &str = ".cache";

/// Errors of the project store. Each names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The folder holds no project file.
    #[error(
        "{0} is not a TinyLab project (no tinylab.toml); create one with `tinylab new DIR --lab motion`"
    )]
    NotAProject(PathBuf),
    /// `create` was pointed at a folder that already has content.
    #[error("{0} is not empty; choose a new or empty folder for a new project")]
    NotEmpty(PathBuf),
    /// A project or index file does not parse.
    #[error("{path} is damaged: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column where known.
        message: String,
    },
    /// A file from a newer TinyLab.
    #[error(
        "{path} has format version {found}; this TinyLab reads version {FORMAT_VERSION}: update TinyLab"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// No sample with this id.
    #[error("no sample {0} in this project")]
    NoSuchSample(SampleId),
    /// A label that cannot be used.
    #[error("label {0:?} is not valid: use letters, digits, '_' or '-', at most 64 characters")]
    BadLabel(String),
    /// A bounding box that does not fit its image, or boxes on a sample that is no image.
    #[error("{0}")]
    BadBox(String),
    /// A sample file failed to parse.
    #[error(transparent)]
    Format(#[from] formats::FormatError),
}

/// Shorthand for results of this module.
pub type Result<T, E = ProjectError> = std::result::Result<T, E>;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ProjectError + '_ {
    move |source| ProjectError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The project file `tinylab.toml`: what the project is and how it is processed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectFile {
    /// File format version.
    pub format_version: u32,
    /// Display name (defaults to the folder name).
    pub name: String,
    /// Id of the lab preset it was made from.
    pub lab: String,
    /// Sensor settings.
    pub sensor: SensorPreset,
    /// Capture settings.
    pub capture: CapturePreset,
    /// How samples are cut into windows.
    pub impulse: WindowSettings,
    /// Processing block and its settings.
    pub dsp: DspSettings,
    /// Model preset, training, anomaly detection and thresholds.
    #[serde(default)]
    pub model: crate::models::ModelSettings,
}

impl ProjectFile {
    /// A new project file from a lab preset.
    pub fn from_lab(name: &str, lab: &LabPreset) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            name: name.to_owned(),
            lab: lab.id.clone(),
            sensor: lab.sensor.clone(),
            capture: lab.capture.clone(),
            impulse: lab.impulse.clone(),
            dsp: lab.dsp.clone(),
            model: lab.model.clone(),
        }
    }
}

/// The sample index `dataset.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetIndex {
    /// File format version.
    pub format_version: u32,
    /// The next id to hand out; ids are never reused.
    pub next_id: u64,
    /// Every sample, in the order they were added.
    pub samples: Vec<SampleMeta>,
}

/// Per-label counts and durations, as `tinylab dataset` prints them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DatasetSummary {
    /// Label → split → (samples, seconds).
    pub by_label: BTreeMap<String, SplitCounts>,
    /// Total number of samples.
    pub samples: usize,
    /// Total duration of all samples.
    pub total_seconds: f64,
}

/// Counts of one label.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SplitCounts {
    /// Samples in train.
    pub train_samples: usize,
    /// Seconds in train.
    pub train_seconds: f64,
    /// Samples in test.
    pub test_samples: usize,
    /// Seconds in test.
    pub test_seconds: f64,
}

/// A sample to add to a project.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSample {
    /// Its readings.
    pub series: Series,
    /// Its label.
    pub label: String,
    /// Its split.
    pub split: Split,
    /// Where it came from, e.g. `import:walk.csv`.
    pub source: String,
    /// An image sample's file, checked on import (`series` is then empty and unused).
    ///
    /// Images are stored as the original encoded bytes, not re-encoded: the pixels the features
    /// are computed from are exactly the ones imported (a JPEG is not compressed a second time),
    /// an export hands back the files that came in, and a JPEG stays a few kilobytes.
    pub image: Option<formats::image::EncodedImage>,
    /// An object detection image's labelled boxes (empty otherwise).
    pub boxes: Vec<sample::BoundingBox>,
}

impl NewSample {
    /// An image sample (see [`NewSample::image`]).
    pub fn from_image(
        image: formats::image::EncodedImage,
        label: String,
        split: Split,
        source: String,
    ) -> Self {
        Self {
            series: Series::default(),
            label,
            split,
            source,
            image: Some(image),
            boxes: Vec::new(),
        }
    }
}

/// A deleted sample, kept so the delete can be undone.
#[derive(Clone, Debug, PartialEq)]
pub struct DeletedSample {
    /// Its metadata as it was.
    pub meta: SampleMeta,
    /// Its position in the index.
    pub position: usize,
}

/// An open project: the folder, its settings and its sample index.
#[derive(Debug)]
pub struct Project {
    dir: PathBuf,
    file: ProjectFile,
    index: DatasetIndex,
}

impl Project {
    /// Creates a project in `dir` (new or empty) from a lab preset.
    pub fn create(dir: &Path, lab: &LabPreset) -> Result<Self> {
        if dir.exists() {
            let mut entries = fs::read_dir(dir).map_err(io_err(dir))?;
            if entries.next().is_some() {
                return Err(ProjectError::NotEmpty(dir.to_owned()));
            }
        }
        fs::create_dir_all(dir.join(SAMPLES_DIR)).map_err(io_err(dir))?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| lab.id.clone());
        let project = Self {
            dir: dir.to_owned(),
            file: ProjectFile::from_lab(&name, lab),
            index: DatasetIndex {
                format_version: FORMAT_VERSION,
                next_id: 1,
                samples: Vec::new(),
            },
        };
        project.save_project_file()?;
        project.save_index()?;
        Ok(project)
    }

    /// Opens the project in `dir`, and empties the trash of the previous session.
    pub fn open(dir: &Path) -> Result<Self> {
        let file_path = dir.join(PROJECT_FILE);
        if !file_path.is_file() {
            return Err(ProjectError::NotAProject(dir.to_owned()));
        }
        let text = fs::read_to_string(&file_path).map_err(io_err(&file_path))?;
        let file: ProjectFile = toml::from_str(&text).map_err(|e| ProjectError::Malformed {
            path: file_path.clone(),
            message: e.to_string(),
        })?;
        check_version(&file_path, file.format_version)?;

        let index_path = dir.join(DATASET_FILE);
        let index = if index_path.is_file() {
            let text = fs::read_to_string(&index_path).map_err(io_err(&index_path))?;
            let index: DatasetIndex =
                serde_json::from_str(&text).map_err(|e| ProjectError::Malformed {
                    path: index_path.clone(),
                    message: e.to_string(),
                })?;
            check_version(&index_path, index.format_version)?;
            index
        } else {
            DatasetIndex {
                format_version: FORMAT_VERSION,
                next_id: 1,
                samples: Vec::new(),
            }
        };
        fs::create_dir_all(dir.join(SAMPLES_DIR)).map_err(io_err(dir))?;
        let trash = dir.join(TRASH_DIR);
        if trash.is_dir() {
            // Deletes of the previous session can no longer be undone; free their space now.
            let _ = fs::remove_dir_all(&trash);
        }
        Ok(Self {
            dir: dir.to_owned(),
            file,
            index,
        })
    }

    /// The project folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The project settings.
    pub fn settings(&self) -> &ProjectFile {
        &self.file
    }

    /// Changes the settings and saves the project file; on a failed save nothing changes.
    pub fn update_settings(&mut self, change: impl FnOnce(&mut ProjectFile)) -> Result<()> {
        let before = self.file.clone();
        change(&mut self.file);
        if let Err(e) = self.save_project_file() {
            self.file = before;
            return Err(e);
        }
        Ok(())
    }

    /// Every sample, in the order they were added.
    pub fn samples(&self) -> &[SampleMeta] {
        &self.index.samples
    }

    /// One sample's metadata.
    pub fn sample(&self, id: SampleId) -> Result<&SampleMeta> {
        self.index
            .samples
            .iter()
            .find(|s| s.id == id)
            .ok_or(ProjectError::NoSuchSample(id))
    }

    /// Path of a sample's data file.
    pub fn sample_path(&self, meta: &SampleMeta) -> PathBuf {
        self.dir.join(SAMPLES_DIR).join(&meta.file)
    }

    /// Adds one sensor sample: writes its CSV, then the index.
    pub fn add_series(
        &mut self,
        series: &Series,
        label: &str,
        split: Split,
        source: &str,
    ) -> Result<SampleMeta> {
        let sample = NewSample {
            series: series.clone(),
            label: label.to_owned(),
            split,
            source: source.to_owned(),
            image: None,
            boxes: Vec::new(),
        };
        let mut added = self.add_many(vec![sample])?;
        added
            .pop()
            .ok_or(ProjectError::NoSuchSample(SampleId(self.index.next_id)))
    }

    /// Adds samples all or nothing: writes every CSV, then the index once. On any error the
    /// files written so far are removed and the project is as it was.
    pub fn add_many(&mut self, samples: Vec<NewSample>) -> Result<Vec<SampleMeta>> {
        for sample in &samples {
            check_label(&sample.label)?;
        }
        let created_unix_s = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let before = self.index.clone();
        let mut added = Vec::with_capacity(samples.len());
        let mut result = Ok(());
        for NewSample {
            series,
            label,
            split,
            source,
            image,
            boxes,
        } in samples
        {
            let id = SampleId(self.index.next_id);
            let extension = match &image {
                Some(image) => image.kind.extension(),
                None => self.storage_format().extension(),
            };
            let meta = SampleMeta {
                id,
                file: format!("{id}.{extension}"),
                label,
                split,
                sensor: self.file.sensor.kind.clone(),
                axes: series.axes.clone(),
                rate_hz: series.rate_hz,
                readings: if image.is_some() {
                    1
                } else {
                    series.readings()
                },
                source,
                created_unix_s,
                image: image.as_ref().map(|i| sample::ImageSize {
                    width: i.width,
                    height: i.height,
                    channels: i.channels,
                }),
                boxes,
            };
            let path = self.sample_path(&meta);
            let written = match &image {
                Some(image) => atomic::write_bytes_atomic(&path, &image.bytes),
                None => formats::write_sample(&path, self.storage_format(), &series, ""),
            };
            if let Err(e) = written {
                result = Err(ProjectError::Io { path, source: e });
                break;
            }
            self.index.next_id += 1;
            self.index.samples.push(meta.clone());
            added.push(meta);
        }
        if result.is_ok() {
            result = self.save_index();
        }
        if let Err(e) = result {
            for meta in &added {
                let _ = fs::remove_file(self.sample_path(meta));
            }
            self.index = before;
            return Err(e);
        }
        Ok(added)
    }

    /// How this project stores samples: WAV for audio projects, CSV for other sensors.
    pub fn storage_format(&self) -> formats::SampleFormat {
        if self.file.sensor.kind == MICROPHONE {
            formats::SampleFormat::Wav
        } else {
            formats::SampleFormat::Csv
        }
    }

    /// Decodes an image sample to `(width, height, rgb)`, row-major RGB8 (grayscale replicated).
    pub fn load_image(&self, id: SampleId) -> Result<(u32, u32, Vec<u8>)> {
        let meta = self.sample(id)?;
        Ok(formats::image::load_rgb(&self.sample_path(meta))?)
    }

    /// Reads a sample's series from its file.
    pub fn load_series(&self, id: SampleId) -> Result<Series> {
        let meta = self.sample(id)?;
        Ok(formats::read_stored(&self.sample_path(meta), meta.rate_hz)?)
    }

    /// Changes a sample's label; returns the old label.
    pub fn relabel(&mut self, id: SampleId, label: &str) -> Result<String> {
        check_label(label)?;
        self.update(id, |meta| {
            std::mem::replace(&mut meta.label, label.to_owned())
        })
    }

    /// Replaces an image sample's bounding boxes (each checked against the image's size and
    /// its label against the label rules); returns the old boxes.
    pub fn set_boxes(
        &mut self,
        id: SampleId,
        boxes: Vec<sample::BoundingBox>,
    ) -> Result<Vec<sample::BoundingBox>> {
        let meta = self.sample(id)?;
        let Some(size) = meta.image else {
            return Err(ProjectError::BadBox(format!(
                "{id} is not an image: only images have bounding boxes"
            )));
        };
        for b in &boxes {
            check_label(&b.label)?;
            formats::boxes::check_box(b, size.width, size.height)
                .map_err(|problem| ProjectError::BadBox(format!("{id}: {problem}")))?;
        }
        self.update(id, |meta| std::mem::replace(&mut meta.boxes, boxes))
    }

    /// Moves a sample to `split`; returns the old split.
    pub fn set_split(&mut self, id: SampleId, split: Split) -> Result<Split> {
        self.update(id, |meta| std::mem::replace(&mut meta.split, split))
    }

    /// Deletes a sample: its file goes to `.trash/` so [`Project::restore`] can undo it.
    pub fn delete(&mut self, id: SampleId) -> Result<DeletedSample> {
        let position = self
            .index
            .samples
            .iter()
            .position(|s| s.id == id)
            .ok_or(ProjectError::NoSuchSample(id))?;
        let meta = self.index.samples.remove(position);
        if let Err(e) = self.save_index() {
            self.index.samples.insert(position, meta);
            return Err(e);
        }
        let trash = self.dir.join(TRASH_DIR);
        let from = self.sample_path(&meta);
        if fs::create_dir_all(&trash).is_ok() {
            // If the move fails the file simply stays in samples/, unreferenced; undo still works.
            let _ = fs::rename(&from, trash.join(&meta.file));
        }
        Ok(DeletedSample { meta, position })
    }

    /// Undoes a delete: brings the file back from `.trash/` and the entry back to its place.
    pub fn restore(&mut self, deleted: DeletedSample) -> Result<()> {
        let DeletedSample { meta, position } = deleted;
        let trashed = self.dir.join(TRASH_DIR).join(&meta.file);
        let target = self.sample_path(&meta);
        if trashed.is_file() {
            fs::rename(&trashed, &target).map_err(io_err(&target))?;
        }
        let position = position.min(self.index.samples.len());
        self.index.samples.insert(position, meta);
        if let Err(e) = self.save_index() {
            self.index.samples.remove(position);
            return Err(e);
        }
        Ok(())
    }

    /// Samples per label and split, and total duration.
    pub fn summary(&self) -> DatasetSummary {
        summarize(&self.index.samples)
    }

    fn update<T>(&mut self, id: SampleId, change: impl FnOnce(&mut SampleMeta) -> T) -> Result<T> {
        let before = self.index.samples.clone();
        let meta = self
            .index
            .samples
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or(ProjectError::NoSuchSample(id))?;
        let old = change(meta);
        if let Err(e) = self.save_index() {
            self.index.samples = before;
            return Err(e);
        }
        Ok(old)
    }

    fn save_project_file(&self) -> Result<()> {
        let path = self.dir.join(PROJECT_FILE);
        let text = toml::to_string_pretty(&self.file).map_err(|e| ProjectError::Malformed {
            path: path.clone(),
            message: e.to_string(),
        })?;
        atomic::write_bytes_atomic(&path, text.as_bytes()).map_err(io_err(&path))
    }

    fn save_index(&self) -> Result<()> {
        let path = self.dir.join(DATASET_FILE);
        let text = serde_json::to_vec_pretty(&self.index).map_err(|e| ProjectError::Malformed {
            path: path.clone(),
            message: e.to_string(),
        })?;
        atomic::write_bytes_atomic(&path, &text).map_err(io_err(&path))
    }
}

/// Samples per label and split, and total duration, of any list of samples.
pub fn summarize(samples: &[SampleMeta]) -> DatasetSummary {
    let mut summary = DatasetSummary::default();
    for meta in samples {
        let counts = summary.by_label.entry(meta.label.clone()).or_default();
        let seconds = meta.duration_s();
        match meta.split {
            Split::Train => {
                counts.train_samples += 1;
                counts.train_seconds += seconds;
            }
            Split::Test => {
                counts.test_samples += 1;
                counts.test_seconds += seconds;
            }
        }
        summary.samples += 1;
        summary.total_seconds += seconds;
    }
    summary
}

fn check_version(path: &Path, found: u32) -> Result<()> {
    if found > FORMAT_VERSION {
        return Err(ProjectError::TooNew {
            path: path.to_owned(),
            found,
        });
    }
    Ok(())
}

/// Labels become file names in exports and C identifiers on boards, so keep them plain.
pub fn check_label(label: &str) -> Result<()> {
    let ok = !label.is_empty()
        && label.len() <= 64
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ProjectError::BadLabel(label.to_owned()))
    }
}
