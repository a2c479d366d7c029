//! Training and evaluation as jobs. Training: features for every sample (from the cache when the
//! settings did not change), the classifier built from the project's model settings, trained
//! epoch by epoch with each epoch sent to the UI as it finishes, the K-means anomaly detector
//! fitted beside it, then every window predicted and the run saved under `runs/`. Evaluation:
//! the same prediction step for a saved run against the dataset as it is now.
//!
//! A preset with a per-cell head trains FOMO instead ([`super::fomo`]): labels `background` +
//! the box labels, per-cell targets from each image's boxes in the model's input pixels, and
//! each prediction is the image's heat map saved with those boxes.
//!
//! A cancelled training keeps the weights of the last finished epoch as a run (the curves so far
//! are worth comparing); cancelled before the first epoch, nothing is saved.

use super::dataset_jobs::JobOutput;
use super::features_job::{self, FeaturePlan, FeatureSet};
use super::fomo;
use super::jobs::{JobContext, JobError, failed};
use crate::dsp::image::{ImageSettings, InputMapping};
use crate::models::ModelSettings;
use crate::nn::Model;
use crate::nn::anomaly::KMeans;
use crate::nn::detection::{self, Grid, InputBox};
use crate::nn::model::Head;
use crate::nn::train::{self, BatchProgress, Dataset, EpochReport, StopReason};
use crate::project::runs::{
    self, DataSet, RUN_FORMAT_VERSION, RunRecord, StoredRun, WindowPrediction,
};
use crate::project::sample::{SampleId, SampleMeta, Split};
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Least time between two progress messages within an epoch.
const PROGRESS_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);
/// Windows predicted per forward pass.
const PREDICT_BATCH: usize = 256;

/// What a training job needs, copied from the project.
pub struct TrainPlan {
    /// Features of the dataset with the project's block and windowing.
    pub features: FeaturePlan,
    /// Model, training and anomaly settings.
    pub model: ModelSettings,
    /// The project folder (runs are saved under it).
    pub project_dir: PathBuf,
}

/// One finished epoch of run `run`, sent while training goes on.
#[derive(Clone, Debug)]
pub struct EpochUpdate {
    /// The run being trained.
    pub run: String,
    /// The epoch's figures.
    pub report: EpochReport,
}

/// Trains a classifier (and anomaly detector) and saves the run.
pub fn train_run(plan: TrainPlan, ctx: &JobContext<JobOutput>) -> Result<JobOutput, JobError> {
    let TrainPlan {
        features,
        model: settings,
        project_dir,
    } = plan;
    let (dsp, impulse) = (features.dsp.clone(), features.window.clone());
    let per_cell = fomo::is_per_cell(&settings).map_err(failed)?;
    // FOMO's labels come from the boxes, which the feature rows do not carry.
    let metas: HashMap<SampleId, SampleMeta> = if per_cell {
        fomo::image_settings(&dsp).map_err(failed)?;
        features
            .samples
            .iter()
            .map(|(m, _)| (m.id, m.clone()))
            .collect()
    } else {
        HashMap::new()
    };
    let set = features_job::generate(features, ctx)?;
    let labels = if per_cell {
        fomo::detection_labels(metas.values()).map_err(failed)?
    } else {
        train_labels(&set)?
    };
    let training_rows: Vec<usize> = if per_cell {
        rows_in(&set, Split::Train, None)
    } else {
        rows_in(&set, Split::Train, Some(&labels))
    };
    let mut inputs = Vec::new();
    let mut targets = Vec::new();
    for &row in &training_rows {
        inputs.extend_from_slice(row_values(&set, row));
        // FOMO: the image's own label only stratifies the validation split.
        targets.extend(truth_of(&set, row, &labels).or(per_cell.then_some(0)));
    }
    let body = settings.body().map_err(failed)?;
    let head = if per_cell { Head::PerCell } else { Head::Dense };
    let mut model = Model::with_head(
        &set.shape,
        &body,
        labels.len(),
        settings.training.seed,
        head,
    )
    .map_err(failed)?;
    if let Some(momentum) = fomo::batch_norm_momentum(&settings).map_err(failed)? {
        model.set_batch_norm_momentum(momentum);
    }
    let detection = if per_cell {
        Some(Detection {
            grid: fomo::grid_of(&model).map_err(failed)?,
            image: fomo::image_settings(&dsp).map_err(failed)?.clone(),
            metas,
        })
    } else {
        None
    };
    let cell_labels: Option<Vec<usize>> = match &detection {
        Some(d) => Some(
            training_rows
                .iter()
                .map(|&row| d.cell_targets(&set, row, &labels))
                .collect::<Result<Vec<_>, _>>()?
                .concat(),
        ),
        None => None,
    };
    let parameters = model
        .summary()
        .map_err(failed)?
        .iter()
        .map(|l| l.params)
        .sum();
    let run_id = runs::next_id(&project_dir);
    let created_unix_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let data = Dataset {
        inputs: &inputs,
        sample_shape: set.shape.clone(),
        labels: &targets,
        classes: labels.len(),
        cell_labels: cell_labels.as_deref(),
    };
    let epochs = settings.training.epochs.max(1);
    ctx.progress(0.0, format!("training {run_id}: epoch 1 of {epochs}"));
    let started = Instant::now();
    let mut last_progress = Instant::now();
    let on_batch = |batch: &BatchProgress| {
        // Long epochs (MobileNet) report within the epoch, a few times a second at most.
        if last_progress.elapsed() > PROGRESS_INTERVAL {
            last_progress = Instant::now();
            let done =
                (batch.epoch - 1) as f32 + batch.batches_done as f32 / batch.batches.max(1) as f32;
            ctx.progress(
                done / epochs as f32,
                format!(
                    "training {run_id}: epoch {} of {epochs}, batch {} of {}",
                    batch.epoch, batch.batches_done, batch.batches
                ),
            );
        }
        if ctx.is_cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let on_epoch = |report: &EpochReport| {
        ctx.partial(JobOutput::Epoch(EpochUpdate {
            run: run_id.clone(),
            report: report.clone(),
        }));
        ctx.progress(
            report.epoch as f32 / epochs as f32,
            format!(
                "training {run_id}: epoch {} of {epochs}, loss {:.3}",
                report.epoch, report.train_loss
            ),
        );
        if ctx.is_cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let outcome = train::train_with_progress(model, &data, &settings.training, on_epoch, on_batch)
        .map_err(failed)?;
    let train_seconds = started.elapsed().as_secs_f64();
    if outcome.history.is_empty() {
        return Err(JobError::Cancelled);
    }
    let validation: HashSet<(SampleId, usize)> = outcome
        .validation
        .iter()
        .filter_map(|&i| training_rows.get(i))
        .filter_map(|&row| set.rows.get(row))
        .map(|r| (r.sample, r.window))
        .collect();

    let anomaly = if settings.anomaly.enabled {
        ctx.progress(1.0, "fitting the K-means anomaly detector");
        let columns = settings.anomaly.feature_indices(&set.names);
        let selected: Vec<f32> = training_rows
            .iter()
            .flat_map(|&row| pick(row_values(&set, row), &columns))
            .collect();
        Some(
            KMeans::fit(
                &selected,
                columns.len(),
                settings.anomaly.clusters,
                settings.training.seed,
            )
            .map_err(failed)?,
        )
    } else {
        None
    };
    let stopped = match outcome.stopped {
        StopReason::Finished => format!("finished {epochs} epochs"),
        StopReason::Cancelled { epoch } => format!("cancelled after {epoch} of {epochs} epochs"),
        StopReason::EarlyStopped { best_epoch } => format!(
            "stopped early after {} epochs, kept epoch {best_epoch}",
            outcome.history.len()
        ),
    };
    let mut record = RunRecord {
        format_version: RUN_FORMAT_VERSION,
        id: run_id,
        created_unix_s,
        model: settings,
        dsp,
        impulse,
        labels,
        input_shape: set.shape.clone(),
        parameters,
        history: outcome.history,
        stopped,
        train_seconds,
        predictions: Vec::new(),
        grid: detection.as_ref().map(|d| d.grid),
    };
    ctx.progress(1.0, "predicting every window");
    record.predictions = predict_windows(
        &outcome.model,
        anomaly.as_ref(),
        &record,
        &set,
        &validation,
        detection.as_ref(),
    )?;
    let run = StoredRun {
        record,
        model: outcome.model,
        anomaly,
    };
    runs::save(&project_dir, &run).map_err(failed)?;
    Ok(JobOutput::Trained(Box::new(run), Box::new(set)))
}

/// Re-predicts every window of the dataset with a saved run (its own DSP settings) and saves it.
pub fn evaluate_run(
    project_dir: PathBuf,
    run_id: Option<String>,
    samples: Vec<(crate::project::sample::SampleMeta, PathBuf)>,
    ctx: &JobContext<JobOutput>,
) -> Result<JobOutput, JobError> {
    let mut run = runs::load(&project_dir, run_id.as_deref()).map_err(failed)?;
    let detection = match run.record.grid {
        Some(grid) => Some(Detection {
            grid,
            image: fomo::image_settings(&run.record.dsp)
                .map_err(failed)?
                .clone(),
            metas: samples.iter().map(|(m, _)| (m.id, m.clone())).collect(),
        }),
        None => None,
    };
    let plan = FeaturePlan {
        dsp: run.record.dsp.clone(),
        window: run.record.impulse.clone(),
        samples,
        cache_root: project_dir.join(crate::project::CACHE_DIR).join("features"),
    };
    let set = features_job::generate(plan, ctx)?;
    if set.shape != run.record.input_shape {
        return Err(failed(format!(
            "features now have shape {:?} but {} was trained on {:?}; train again",
            set.shape, run.record.id, run.record.input_shape
        )));
    }
    let validation: HashSet<(SampleId, usize)> = run
        .record
        .predictions
        .iter()
        .filter(|p| p.set == DataSet::Validation)
        .map(|p| (p.sample, p.window))
        .collect();
    ctx.progress(1.0, "predicting every window");
    run.record.predictions = predict_windows(
        &run.model,
        run.anomaly.as_ref(),
        &run.record,
        &set,
        &validation,
        detection.as_ref(),
    )?;
    runs::save_record(&project_dir, &run.record).map_err(failed)?;
    Ok(JobOutput::Evaluated(Box::new(run), Box::new(set)))
}

/// Labels of the train split, sorted (the model's output order).
fn train_labels(set: &FeatureSet) -> Result<Vec<String>, JobError> {
    let mut labels: Vec<String> = set
        .rows
        .iter()
        .filter(|r| r.split == Split::Train)
        .map(|r| r.label.clone())
        .collect();
    labels.sort();
    labels.dedup();
    if labels.len() < 2 {
        return Err(failed(format!(
            "the train split has {} label(s); a classifier needs samples of at least two",
            labels.len()
        )));
    }
    Ok(labels)
}

/// Rows of `split` (with one of `labels`, when given).
fn rows_in(set: &FeatureSet, split: Split, labels: Option<&[String]>) -> Vec<usize> {
    set.rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.split == split && labels.is_none_or(|l| l.contains(&r.label)))
        .map(|(i, _)| i)
        .collect()
}

/// What a FOMO run needs besides the features: the grid, the resize, each image's boxes.
struct Detection {
    grid: Grid,
    image: ImageSettings,
    metas: HashMap<SampleId, SampleMeta>,
}

impl Detection {
    /// The boxes of `row`'s image in input pixels, and the mapping that placed them.
    fn boxes(
        &self,
        set: &FeatureSet,
        row: usize,
        labels: &[String],
    ) -> Result<(Vec<InputBox>, Option<InputMapping>), JobError> {
        let Some(meta) = set.rows.get(row).and_then(|r| self.metas.get(&r.sample)) else {
            return Ok((Vec::new(), None));
        };
        fomo::input_boxes(meta, &self.image, labels)
            .map_err(|why| failed(format!("{}: {why}", meta.id)))
    }

    /// The class of every output cell of `row`'s image (background 0).
    fn cell_targets(
        &self,
        set: &FeatureSet,
        row: usize,
        labels: &[String],
    ) -> Result<Vec<usize>, JobError> {
        let (boxes, _) = self.boxes(set, row, labels)?;
        Ok(detection::cell_targets(self.grid, &boxes))
    }
}

fn truth_of(set: &FeatureSet, row: usize, labels: &[String]) -> Option<usize> {
    let label = &set.rows.get(row)?.label;
    labels.iter().position(|l| l == label)
}

fn row_values(set: &FeatureSet, row: usize) -> &[f32] {
    let width = set.shape.iter().product::<usize>();
    set.values
        .get(row * width..(row + 1) * width)
        .unwrap_or_default()
}

fn pick<'a>(values: &'a [f32], columns: &'a [usize]) -> impl Iterator<Item = f32> + 'a {
    columns
        .iter()
        .map(|&c| values.get(c).copied().unwrap_or(0.0))
}

/// One prediction per row of `set`, in batches (a FOMO run's: a heat map, with the image's
/// boxes in input pixels).
fn predict_windows(
    model: &Model,
    anomaly: Option<&KMeans>,
    record: &RunRecord,
    set: &FeatureSet,
    validation: &HashSet<(SampleId, usize)>,
    detection: Option<&Detection>,
) -> Result<Vec<WindowPrediction>, JobError> {
    let probabilities: Vec<f32> = train::predict(model, &set.values, &set.shape, PREDICT_BATCH)
        .map_err(failed)?
        .iter()
        .copied()
        .collect();
    let columns = record.model.anomaly.feature_indices(&set.names);
    let outputs = record.labels.len() * model.cells();
    let placed: Vec<(Vec<InputBox>, Option<InputMapping>)> = match detection {
        Some(d) => (0..set.rows.len())
            .map(|row| d.boxes(set, row, &record.labels))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    Ok(set
        .rows
        .iter()
        .enumerate()
        .zip(probabilities.chunks_exact(outputs.max(1)))
        .map(|((index, row), probs)| WindowPrediction {
            sample: row.sample,
            window: row.window,
            set: match row.split {
                Split::Test => DataSet::Test,
                Split::Train if validation.contains(&(row.sample, row.window)) => {
                    DataSet::Validation
                }
                Split::Train => DataSet::Training,
            },
            truth: record.labels.iter().position(|l| *l == row.label),
            probabilities: probs.to_vec(),
            anomaly: anomaly.map(|k| {
                let picked: Vec<f32> = pick(row_values(set, index), &columns).collect();
                k.score(&picked)
            }),
            boxes: placed.get(index).map(|p| p.0.clone()).unwrap_or_default(),
            mapping: placed.get(index).and_then(|p| p.1),
        })
        .collect())
}
