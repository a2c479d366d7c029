//! The dataset's long work, as job functions: importing files (parsed on the worker, added to
//! the project by the engine, all or nothing) and exporting the dataset to Edge Impulse's layout.
//! Camera projects import PNG/JPEG/BMP images (each checked and fully decoded here, so one bad
//! image fails the import before anything is added) and the other projects time series.

use super::jobs::{JobContext, JobError, failed};
use crate::project::formats::{self, SampleFormat};
use crate::project::sample::{SampleMeta, Split};
use crate::project::{NewSample, atomic, check_label};
use crate::protocol::SplitChoice;
use crate::rng::Rng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a finished job hands back to the engine.
#[derive(Debug)]
pub enum JobOutput {
    /// Parsed samples, ready to add to the project.
    Imported(Vec<NewSample>),
    /// Augmented copies (background noise mixed in), ready to add to the project.
    Augmented(Vec<NewSample>),
    /// A sentence saying what was written.
    Done(String),
    /// Features of the whole dataset.
    Features(Box<super::features_job::FeatureSet>),
    /// One finished training epoch (sent while the job runs).
    Epoch(super::train_job::EpochUpdate),
    /// A trained run (saved) and the features it was trained on.
    Trained(
        Box<crate::project::runs::StoredRun>,
        Box<super::features_job::FeatureSet>,
    ),
    /// A run quantized to int8 and compared with float32 (the models are saved in its folder).
    Quantized(Box<crate::quant::report::QuantReport>),
    /// One result a board printed (sent while a deploy or monitor job runs).
    BoardOutput(crate::devices::board_output::BoardResult),
    /// A deploy job (partial): the model is on the board and the deploy is in the run's list.
    Deployed,
    /// A saved run evaluated again on the current dataset, and the features it used.
    Evaluated(
        Box<crate::project::runs::StoredRun>,
        Box<super::features_job::FeatureSet>,
    ),
}

/// What an import needs to know about the project.
pub struct ImportPlan {
    /// Files to read.
    pub files: Vec<PathBuf>,
    /// Label for all, or from file names.
    pub label: Option<String>,
    /// Where they go.
    pub split: SplitChoice,
    /// Rate for files without timestamps.
    pub fallback_rate_hz: f64,
    /// The project's axes: files must have as many.
    pub axes: Vec<String>,
    /// The project's rate: files must be within 1 % of it.
    pub rate_hz: f64,
    /// Seed for the automatic split.
    pub seed: u64,
    /// The project's sensor kind: `camera` projects take images, the others time series.
    pub sensor_kind: String,
}

/// Reads and checks every file; any bad file fails the whole import, naming the file.
pub fn import(plan: ImportPlan, ctx: &JobContext<JobOutput>) -> Result<JobOutput, JobError> {
    let ImportPlan {
        files,
        label,
        split,
        fallback_rate_hz,
        axes,
        rate_hz,
        seed,
        sensor_kind,
    } = plan;
    let images = sensor_kind == crate::project::CAMERA;
    let files = expand_folders(files).map_err(failed)?;
    if files.is_empty() {
        return Err(JobError::Failed(
            "no .csv, .json, .wav, .png, .jpg or .bmp files to import".into(),
        ));
    }
    let mut samples = Vec::with_capacity(files.len());
    let mut box_labels = super::box_labels::BoxLabels::default();
    for (done, (path, folder_label)) in files.iter().enumerate() {
        ctx.check_cancelled()?;
        ctx.progress(
            done as f32 / files.len() as f32,
            format!("reading {}", path.display()),
        );
        let label_of = |from_name: Option<String>| -> Result<String, JobError> {
            let Some(sample_label) = label.clone().or_else(|| folder_label.clone()).or(from_name)
            else {
                return Err(failed(format!(
                    "{}: no label: name files label.something.csv, put them in a folder named \
                     after the label, or pass --label",
                    path.display()
                )));
            };
            check_label(&sample_label).map_err(|e| failed(format!("{}: {e}", path.display())))?;
            Ok(sample_label)
        };
        let is_image = formats::image::is_image_path(path);
        if is_image != images {
            return Err(failed(if images {
                format!(
                    "{}: this is an image project: import .png, .jpg or .bmp files, or folders \
                     with one subfolder of images per label",
                    path.display()
                )
            } else {
                format!(
                    "{}: an image, but this project records {sensor_kind} data; images go in an \
                     image project (`tinylab new DIR --lab image`)",
                    path.display()
                )
            }));
        }
        if is_image {
            let image = formats::image::read_image(path).map_err(failed)?;
            // Object detection images: boxes from a label file beside them, which also name
            // the sample when nothing else does.
            let boxes = box_labels
                .boxes_for(path, image.width, image.height)
                .map_err(failed)?;
            let from_name = match &boxes {
                Some(boxes) => Some(super::box_labels::sample_label_from_boxes(boxes)),
                None => formats::label_from_file_name(path),
            };
            let sample_label = label_of(from_name)?;
            let boxes = boxes.unwrap_or_default();
            for b in &boxes {
                check_label(&b.label)
                    .map_err(|e| failed(format!("{}: a box's {e}", path.display())))?;
            }
            let mut sample = NewSample::from_image(
                image,
                sample_label,
                Split::Train,
                format!("import:{}", file_name(path)),
            );
            sample.boxes = boxes;
            samples.push(sample);
            continue;
        }
        let imported = formats::read_sample(path, fallback_rate_hz).map_err(failed)?;
        let sample_label = label_of(imported.label_from_name)?;
        if imported.series.axes.len() != axes.len() {
            return Err(failed(format!(
                "{}: has {} axes ({}), but this project records {} ({})",
                path.display(),
                imported.series.axes.len(),
                imported.series.axes.join(", "),
                axes.len(),
                axes.join(", ")
            )));
        }
        let mut series = imported.series;
        let file_rate_hz = series.rate_hz;
        let is_audio = matches!(SampleFormat::of(path), Ok(SampleFormat::Wav));
        if is_audio && file_rate_hz != rate_hz {
            // Audio at another rate is resampled to the project's (44.1/48 kHz → 16 kHz).
            series = resample_series(&series, rate_hz)
                .map_err(|e| failed(format!("{}: {e}", path.display())))?;
        } else if (file_rate_hz - rate_hz).abs() > 0.01 * rate_hz {
            return Err(failed(format!(
                "{}: sampled at {file_rate_hz:.1} Hz, but this project works at {rate_hz} Hz; resample the file \
                 first (e.g. `sox in.wav -r {rate_hz} out.wav`)",
                path.display()
            )));
        }
        samples.push(NewSample {
            series,
            label: sample_label,
            split: Split::Train,
            source: format!("import:{}", file_name(path)),
            image: None,
            boxes: Vec::new(),
        });
    }
    assign_splits(&mut samples, split, seed);
    Ok(JobOutput::Imported(samples))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A file import reads: a sample format by extension, or an image.
fn is_importable(path: &Path) -> bool {
    path.is_file() && (SampleFormat::of(path).is_ok() || formats::image::is_image_path(path))
}

/// Folders given to import stand for the sample files directly inside them (labels from their
/// names), plus those in each subfolder, labelled by the subfolder's name: the layout of Google
/// Speech Commands and of the book's keywords dataset (`FOLDER/yes/*.wav` → label `yes`), and
/// of image datasets (`FOLDER/robot/*.jpg`).
/// Edge Impulse's `training/` and `testing/` subfolders are the exception: their files keep the
/// labels in their names.
fn expand_folders(paths: Vec<PathBuf>) -> std::io::Result<Vec<(PathBuf, Option<String>)>> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push((path, None));
            continue;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            if entry.is_dir() {
                let name = entry.file_name().map(|n| n.to_string_lossy().into_owned());
                let label = name.filter(|n| n != "training" && n != "testing");
                files.extend(
                    sample_files_in(&entry)?
                        .into_iter()
                        .map(|f| (f, label.clone())),
                );
            } else if is_importable(&entry) {
                files.push((entry, None));
            }
        }
    }
    Ok(files)
}

/// The sample files directly inside `dir`, sorted.
fn sample_files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut inside: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_importable(p))
        .collect();
    inside.sort();
    Ok(inside)
}

/// `series` (one audio axis) resampled to `rate_hz`.
fn resample_series(
    series: &crate::project::sample::Series,
    rate_hz: f64,
) -> Result<crate::project::sample::Series, crate::dsp::resample::ResampleError> {
    let from_hz = series.rate_hz.round() as u32;
    let to_hz = rate_hz.round() as u32;
    let values = crate::dsp::resample::resample(&series.values, from_hz, to_hz)?;
    Ok(crate::project::sample::Series {
        axes: series.axes.clone(),
        rate_hz,
        values,
    })
}

/// Fixed: everything to one split. Auto: per label, a seeded shuffle puts 20 % (rounded) in
/// test, so each class is represented in both splits as soon as it has enough samples.
pub fn assign_splits(samples: &mut [NewSample], choice: SplitChoice, seed: u64) {
    match choice {
        SplitChoice::Fixed(split) => samples.iter_mut().for_each(|s| s.split = split),
        SplitChoice::Auto => {
            let mut by_label: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (i, s) in samples.iter().enumerate() {
                by_label.entry(s.label.as_str()).or_default().push(i);
            }
            let mut rng = Rng::new(seed);
            let mut test = Vec::new();
            for mut indices in by_label.into_values() {
                rng.shuffle(&mut indices);
                let n_test = (indices.len() as f64 * 0.2).round() as usize;
                test.extend(indices.into_iter().take(n_test));
            }
            for (i, s) in samples.iter_mut().enumerate() {
                s.split = if test.contains(&i) {
                    Split::Test
                } else {
                    Split::Train
                };
            }
        }
    }
}

/// A sample to export: its metadata and data file.
pub struct ExportItem {
    /// Metadata.
    pub meta: SampleMeta,
    /// Its CSV in the project.
    pub path: PathBuf,
}

/// Writes `out/training/<label>.<id>.<ext>` and `out/testing/...` plus Edge Impulse's
/// `info.labels`, so the folder uploads to Edge Impulse or imports back into TinyLab.
pub fn export(
    items: Vec<ExportItem>,
    out: &Path,
    format: SampleFormat,
    units: &str,
    ctx: &JobContext<JobOutput>,
) -> Result<JobOutput, JobError> {
    let mut listing = Vec::with_capacity(items.len());
    let mut boxes_by_folder: BTreeMap<&str, formats::boxes::BoxesByFile> = BTreeMap::new();
    for (done, ExportItem { meta, path }) in items.iter().enumerate() {
        ctx.check_cancelled()?;
        ctx.progress(
            done as f32 / items.len().max(1) as f32,
            format!("writing {}", meta.id),
        );
        let folder = match meta.split {
            Split::Train => "training",
            Split::Test => "testing",
        };
        if meta.image.is_some() {
            // Images are exported as the files that were imported.
            let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("png");
            let relative = format!("{folder}/{}.{}.{extension}", meta.label, meta.id);
            let target = out.join(&relative);
            let bytes =
                std::fs::read(path).map_err(|e| failed(format!("{}: {e}", path.display())))?;
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| failed(format!("{}: {e}", parent.display())))?;
            }
            atomic::write_bytes_atomic(&target, &bytes)
                .map_err(|e| failed(format!("{}: {e}", target.display())))?;
            if !meta.boxes.is_empty() {
                boxes_by_folder.entry(folder).or_default().insert(
                    format!("{}.{}.{extension}", meta.label, meta.id),
                    meta.boxes.clone(),
                );
            }
            listing.push(serde_json::json!({
                "path": relative,
                "category": folder,
                "label": { "type": "label", "label": meta.label },
            }));
            continue;
        }
        let series = formats::read_stored(path, meta.rate_hz).map_err(failed)?;
        // Audio stays audio: WAV samples export as WAV whatever format was asked for.
        let format = if matches!(SampleFormat::of(path), Ok(SampleFormat::Wav)) {
            SampleFormat::Wav
        } else {
            format
        };
        let relative = format!("{folder}/{}.{}.{}", meta.label, meta.id, format.extension());
        let target = out.join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| failed(format!("{}: {e}", parent.display())))?;
        }
        formats::write_sample(&target, format, &series, units)
            .map_err(|e| failed(format!("{}: {e}", target.display())))?;
        listing.push(serde_json::json!({
            "path": relative,
            "category": folder,
            "label": { "type": "label", "label": meta.label },
        }));
    }
    // Edge Impulse's uploader reads the boxes from a `bounding_boxes.labels` in each folder.
    for (folder, boxes) in &boxes_by_folder {
        let target = out.join(folder).join(formats::boxes::EI_LABELS_FILE);
        atomic::write_bytes_atomic(&target, formats::boxes::write_ei_labels(boxes).as_bytes())
            .map_err(|e| failed(format!("{}: {e}", target.display())))?;
    }
    let info = serde_json::json!({ "version": 1, "files": listing });
    let info_path = out.join("info.labels");
    let text = serde_json::to_vec_pretty(&info).map_err(failed)?;
    atomic::write_bytes_atomic(&info_path, &text)
        .map_err(|e| failed(format!("{}: {e}", info_path.display())))?;
    Ok(JobOutput::Done(format!(
        "exported {} samples to {}",
        items.len(),
        out.display()
    )))
}
