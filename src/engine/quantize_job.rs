//! Quantization and model export as jobs.
//!
//! Quantizing a run: features of the dataset with the run's own DSP settings (from the cache when
//! nothing changed), the trained model lowered to a float32 graph, calibrated and quantized to
//! int8 on a seeded sample of training windows, then both graphs run by TinyLab's interpreter
//! (TFLite's reference kernels) on every test window, compared, written as `.tflite` and kept in
//! the run folder with the report. Exporting writes one of those models where the student asks:
//! a `.tflite` with `labels.txt` beside it, or the C array files in a folder.
//!
//! A FOMO run is compared per cell (the confusion matrices count cells) and by detection F1 at
//! the run's confidence threshold, each test image's boxes taken from the dataset as it is now.

use super::dataset_jobs::JobOutput;
use super::features_job::{self, FeaturePlan, FeatureSet};
use super::fomo;
use super::jobs::{JobContext, JobError, failed};
use crate::export::{c_array, c_library, tflite};
use crate::nn::detection::{self, DetectionMetrics, InputBox};
use crate::nn::metrics::{Evaluation, argmax};
use crate::project::atomic::{write_bytes_atomic, write_dir_atomic};
use crate::project::runs::{self, StoredRun};
use crate::project::sample::{SampleId, SampleMeta, Split};
use crate::protocol::ModelFormat;
use crate::quant::estimate::{ModelCost, estimate};
use crate::quant::interpreter::Runner;
use crate::quant::ptq::{self, PtqOptions};
use crate::quant::report::{Footprint, QuantReport, QuantizeSettings};
use crate::quant::stats::graph_stats;
use crate::quant::{Graph, Metadata, lower};
use crate::rng::Rng;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Name of the metadata entry holding the labels and DSP settings (JSON) in TinyLab's `.tflite`.
pub const METADATA_NAME: &str = "tinylab_impulse";
/// Seed of the calibration sample (fixed: the same run quantizes the same way twice).
const CALIBRATION_SEED: u64 = 0x5eed_ca1b;

/// What a quantization job needs.
pub struct QuantizePlan {
    /// Features with the run's DSP and windows (the caller fills in the run's settings).
    pub features: FeaturePlan,
    /// The project folder.
    pub project_dir: PathBuf,
    /// The run to quantize.
    pub run: String,
    /// How.
    pub settings: QuantizeSettings,
}

/// Quantizes a saved run, compares float32 with int8 on the test split and keeps both models.
pub fn quantize_run(
    plan: QuantizePlan,
    ctx: &JobContext<JobOutput>,
) -> Result<JobOutput, JobError> {
    let started = Instant::now();
    let stored = runs::load(&plan.project_dir, Some(&plan.run)).map_err(failed)?;
    let metas: HashMap<SampleId, SampleMeta> = plan
        .features
        .samples
        .iter()
        .map(|(m, _)| (m.id, m.clone()))
        .collect();
    let set = features_job::generate(plan.features, ctx)?;
    if set.shape != stored.record.input_shape {
        return Err(failed(format!(
            "features now have shape {:?} but {} was trained on {:?}; train again",
            set.shape, stored.record.id, stored.record.input_shape
        )));
    }
    ctx.check_cancelled()?;
    ctx.progress(0.0, "lowering the model to TensorFlow Lite operators");
    let float_graph = float_graph(&stored).map_err(failed)?;
    let labels = &stored.record.labels;
    let grid = stored.record.grid;
    // FOMO's images all count (background 0): their boxes are the truth, not their label.
    let train = rows(&set, Split::Train, labels, grid.is_some());
    let test = rows(&set, Split::Test, labels, grid.is_some());
    if test.is_empty() {
        return Err(failed(
            "the test split has no windows of the trained labels: move some samples to test \
             (Dataset panel, Split) to compare float32 with int8",
        ));
    }
    let calibration = calibration_windows(&set, &train, plan.settings.calibration_windows);
    ctx.progress(
        0.1,
        format!("calibrating on {} training windows", calibration.len()),
    );
    let int8_graph = ptq::quantize(
        &float_graph,
        &calibration,
        PtqOptions::from_settings(&plan.settings),
    )
    .map_err(failed)?;
    ctx.check_cancelled()?;
    let boxes: Vec<Vec<InputBox>> = match grid {
        Some(_) => test_boxes(&stored, &metas, &set, &test)?,
        None => Vec::new(),
    };
    // One truth per window, or per cell of a FOMO image.
    let truth: Vec<usize> = match grid {
        Some(grid) => boxes
            .iter()
            .flat_map(|b| detection::cell_targets(grid, b))
            .collect(),
        None => test.iter().map(|&(_, class)| class).collect(),
    };
    let inputs: Vec<&[f32]> = test.iter().map(|&(row, _)| row_values(&set, row)).collect();
    ctx.progress(0.4, format!("float32 on {} test windows", inputs.len()));
    let float_probabilities = run_all(&float_graph, &inputs, ctx)?;
    ctx.progress(0.7, format!("int8 on {} test windows", inputs.len()));
    let int8_probabilities = run_all(&int8_graph, &inputs, ctx)?;
    // Accuracy at the run's confidence threshold, as the Evaluate panel counts it (below it a
    // window is "uncertain"); "changed" compares the top classes.
    let threshold = stored.record.model.confidence_threshold;
    let classes = labels.len().max(1);
    let evaluate = |probabilities: &[Vec<f32>]| {
        let flat: Vec<f32> = probabilities.iter().flatten().copied().collect();
        let array = ndarray::Array2::from_shape_vec((flat.len() / classes, classes), flat)
            .map_err(failed)?
            .into_dyn();
        Evaluation::new(labels, &truth, &array, threshold).map_err(failed)
    };
    let float = evaluate(&float_probabilities)?;
    let int8 = evaluate(&int8_probabilities)?;
    let detect = |probabilities: &[Vec<f32>]| {
        grid.map(|grid| {
            let images = probabilities
                .iter()
                .map(Vec::as_slice)
                .zip(boxes.iter().map(Vec::as_slice));
            DetectionMetrics::evaluate(images, grid, labels, threshold)
        })
    };
    let (float_detection, int8_detection) =
        (detect(&float_probabilities), detect(&int8_probabilities));
    // Windows (FOMO: cells) whose top class differs.
    let changed = float_probabilities
        .iter()
        .zip(&int8_probabilities)
        .flat_map(|(f, q)| f.chunks(classes).zip(q.chunks(classes)))
        .filter(|(f, q)| argmax(f.iter().copied()).0 != argmax(q.iter().copied()).0)
        .count();
    let max_probability_change = float_probabilities
        .iter()
        .zip(&int8_probabilities)
        .flat_map(|(f, q)| f.iter().zip(q).map(|(a, b)| (a - b).abs()))
        .fold(0.0f32, f32::max);
    let float_bytes = tflite::write(&float_graph).map_err(failed)?;
    let int8_bytes = tflite::write(&int8_graph).map_err(failed)?;
    let dsp_bytes = dsp_bytes(&stored);
    let float_footprint = footprint(&float_graph, &float_bytes, dsp_bytes)?;
    let int8_footprint = footprint(&int8_graph, &int8_bytes, dsp_bytes)?;
    let (c_library, c_library_unsupported) =
        match c_library_figures(&plan.project_dir, &stored, &int8_graph) {
            Ok(figures) => (Some(figures), None),
            Err(why) => (None, Some(why)),
        };
    let report = QuantReport {
        run: stored.record.id.clone(),
        settings: plan.settings.clone(),
        calibration_windows: calibration.len(),
        data: match grid {
            Some(_) => format!(
                "test split, {} images ({} cells), confidence threshold {threshold}",
                inputs.len(),
                truth.len()
            ),
            None => format!(
                "test split, {} windows, confidence threshold {threshold}",
                truth.len()
            ),
        },
        float,
        int8,
        changed,
        windows: truth.len(),
        max_probability_change,
        estimates: estimate(&int8_footprint.cost),
        float_footprint,
        int8_footprint,
        elapsed_s: started.elapsed().as_secs_f64(),
        float_detection,
        int8_detection,
        c_library,
        c_library_unsupported,
    };
    runs::save_quantized(&plan.project_dir, &report, &float_bytes, &int8_bytes).map_err(failed)?;
    Ok(JobOutput::Quantized(Box::new(report)))
}

/// The float32 graph of a stored run, with its labels and DSP settings in the metadata.
pub fn float_graph(stored: &StoredRun) -> Result<Graph, crate::quant::QuantError> {
    let description = format!(
        "TinyLab {} ({}), labels: {}",
        stored.record.id,
        stored.record.model.preset,
        stored.record.labels.join(", ")
    );
    let mut graph = lower::lower_float(&stored.model, &description)?;
    let impulse = serde_json::json!({
        "labels": stored.record.labels,
        "input_shape": stored.record.input_shape,
        "dsp": stored.record.dsp,
        "impulse": stored.record.impulse,
    });
    graph.metadata.push(Metadata {
        name: METADATA_NAME.into(),
        data: impulse.to_string().into_bytes(),
    });
    Ok(graph)
}

/// Bytes the DSP block works in per window, estimated as the float32 features twice over (the
/// output and one working buffer of the same size: frames, FFT, filterbank).
fn dsp_bytes(stored: &StoredRun) -> u64 {
    let features: usize = stored.record.input_shape.iter().product();
    features as u64 * 4 * 2
}

fn footprint(graph: &Graph, bytes: &[u8], dsp_bytes: u64) -> Result<Footprint, JobError> {
    let stats = graph_stats(graph).map_err(failed)?;
    Ok(Footprint {
        file_bytes: bytes.len() as u64,
        cost: ModelCost {
            macs: stats.macs,
            operators: stats.operators,
            operator_kinds: stats.operator_kinds,
            arena_bytes: stats.arena_bytes,
            weights_bytes: stats.weights_bytes,
            dsp_bytes,
        },
    })
}

/// `(row, class)` of every window of `split` whose label the run knows (every image, class 0
/// for a label it does not know, with `all`).
fn rows(set: &FeatureSet, split: Split, labels: &[String], all: bool) -> Vec<(usize, usize)> {
    set.rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.split == split)
        .filter_map(|(i, r)| {
            let class = labels.iter().position(|l| *l == r.label);
            Some((i, if all { class.unwrap_or(0) } else { class? }))
        })
        .collect()
}

/// The boxes of each test image in the run's input pixels, from the dataset as it is now.
fn test_boxes(
    stored: &StoredRun,
    metas: &HashMap<SampleId, SampleMeta>,
    set: &FeatureSet,
    test: &[(usize, usize)],
) -> Result<Vec<Vec<InputBox>>, JobError> {
    let image = fomo::image_settings(&stored.record.dsp).map_err(failed)?;
    test.iter()
        .map(|&(row, _)| {
            let Some(meta) = set.rows.get(row).and_then(|r| metas.get(&r.sample)) else {
                return Ok(Vec::new());
            };
            fomo::input_boxes(meta, image, &stored.record.labels)
                .map(|(boxes, _)| boxes)
                .map_err(|why| failed(format!("{}: {why}", meta.id)))
        })
        .collect()
}

fn row_values(set: &FeatureSet, row: usize) -> &[f32] {
    let width = set.shape.iter().product::<usize>();
    set.values
        .get(row * width..(row + 1) * width)
        .unwrap_or_default()
}

/// A seeded sample of at most `count` training windows.
fn calibration_windows(set: &FeatureSet, train: &[(usize, usize)], count: usize) -> Vec<Vec<f32>> {
    let mut rows: Vec<usize> = train.iter().map(|&(row, _)| row).collect();
    Rng::new(CALIBRATION_SEED).shuffle(&mut rows);
    rows.truncate(count.max(1));
    rows.iter().map(|&r| row_values(set, r).to_vec()).collect()
}

/// Probabilities of every input, on all cores.
fn run_all(
    graph: &Graph,
    inputs: &[&[f32]],
    ctx: &JobContext<JobOutput>,
) -> Result<Vec<Vec<f32>>, JobError> {
    let runner = Runner::new(graph).map_err(failed)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = inputs.len().div_ceil(threads).max(1);
    let results: Vec<Result<Vec<Vec<f32>>, JobError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = inputs
            .chunks(chunk)
            .map(|part| {
                let runner = &runner;
                scope.spawn(move || {
                    part.iter()
                        .map(|x| {
                            ctx.check_cancelled()?;
                            runner.probabilities(x).map_err(failed)
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(failed("a worker thread panicked")))
            })
            .collect()
    });
    let mut all = Vec::with_capacity(inputs.len());
    for part in results {
        all.extend(part?);
    }
    Ok(all)
}

/// Writes run `run`'s model in `format` to `path` (a file for `.tflite`, a folder for the C
/// array); returns a sentence saying what was written. The models are the ones the run's last
/// quantization kept in its folder.
pub fn export_model(
    project_dir: &Path,
    run: &str,
    format: ModelFormat,
    path: &Path,
) -> Result<String, JobError> {
    let stored = runs::load(project_dir, Some(run)).map_err(failed)?;
    let dir = runs::run_dir(project_dir, run);
    let model_file = match format {
        ModelFormat::TfliteF32 => runs::FLOAT_TFLITE,
        ModelFormat::TfliteInt8
        | ModelFormat::CArray
        | ModelFormat::CLibrary
        | ModelFormat::Arduino => runs::INT8_TFLITE,
    };
    let bytes = std::fs::read(dir.join(model_file)).map_err(|e| {
        failed(format!(
            "{run} has no {model_file} ({e}): quantize it first (Optimize panel, or \
             `tinylab quantize`)"
        ))
    })?;
    let labels = labels_text(&stored.record.labels);
    let write = |path: &Path, bytes: &[u8]| {
        write_bytes_atomic(path, bytes).map_err(|e| failed(format!("{}: {e}", path.display())))
    };
    match format {
        ModelFormat::TfliteF32 | ModelFormat::TfliteInt8 => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| failed(format!("{}: {e}", parent.display())))?;
            }
            write(path, &bytes)?;
            let labels_path = path.with_file_name("labels.txt");
            write(&labels_path, labels.as_bytes())?;
            Ok(format!(
                "wrote {} ({} bytes) and {}",
                path.display(),
                bytes.len(),
                labels_path.display()
            ))
        }
        ModelFormat::CLibrary => export_c_library(project_dir, &stored, &bytes, path),
        ModelFormat::Arduino => {
            super::arduino_export::export_arduino_zip(project_dir, &stored, &bytes, path)
                .map_err(failed)
        }
        ModelFormat::CArray => {
            std::fs::create_dir_all(path)
                .map_err(|e| failed(format!("{}: {e}", path.display())))?;
            let files = c_array::c_array_files(&bytes, "g_model", &stored.record.labels);
            for (name, text) in &files {
                write(&path.join(name), text.as_bytes())?;
            }
            let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
            Ok(format!(
                "wrote {} in {} (the int8 model, {} bytes)",
                names.join(", "),
                path.display(),
                bytes.len()
            ))
        }
    }
}

/// The project's `tinylab.toml` (the name and sensor the C library is generated for).
fn read_project_file(project_dir: &Path) -> Result<crate::project::ProjectFile, String> {
    let project_file = project_dir.join(crate::project::PROJECT_FILE);
    std::fs::read_to_string(&project_file)
        .map_err(|e| e.to_string())
        .and_then(|text| toml::from_str(&text).map_err(|e| e.to_string()))
        .map_err(|e| format!("{}: {e}", project_file.display()))
}

/// What the run's C library export would cost (generated in memory, not written): the exact
/// figures the Optimize panel shows beside the estimate, or why the export refuses the run.
fn c_library_figures(
    project_dir: &Path,
    stored: &StoredRun,
    int8: &Graph,
) -> Result<crate::quant::report::CLibraryFigures, String> {
    let settings = read_project_file(project_dir)?;
    let library = c_library::library_files(stored, int8, &settings.name, &settings.sensor, "")
        .map_err(|e| e.to_string())?;
    Ok(library.figures())
}

/// Writes the C library of `stored` (int8 model bytes `int8_tflite`) into the folder `path`,
/// replacing it whole; returns what was written with the RAM and flash figures.
fn export_c_library(
    project_dir: &Path,
    stored: &StoredRun,
    int8_tflite: &[u8],
    path: &Path,
) -> Result<String, JobError> {
    let settings = read_project_file(project_dir).map_err(failed)?;
    let graph = tflite::read(int8_tflite).map_err(failed)?;
    let generated = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let library = c_library::library_files(
        stored,
        &graph,
        &settings.name,
        &settings.sensor,
        &c_library::utc_date(generated),
    )
    .map_err(failed)?;
    let files: Vec<(String, Vec<u8>)> = library
        .files
        .iter()
        .map(|(name, text)| (name.clone(), text.clone().into_bytes()))
        .collect();
    write_dir_atomic(path, &files).map_err(|e| failed(format!("{}: {e}", path.display())))?;
    let names: Vec<&str> = library.files.iter().map(|(n, _)| n.as_str()).collect();
    Ok(format!(
        "wrote {} in {} (TINYLAB_RAW_LEN {}); {}",
        names.join(", "),
        path.display(),
        library.raw_len,
        library.summary()
    ))
}

/// `labels.txt`: one label per line, in the model's output order.
pub fn labels_text(labels: &[String]) -> String {
    labels.iter().map(|l| format!("{l}\n")).collect()
}
