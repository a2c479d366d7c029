//! Training: mini-batch gradient descent on softmax cross-entropy, seeded end to end, with the
//! batch split across scoped threads.
//!
//! One run, given a [`Model`], a [`Dataset`] and a [`TrainConfig`]:
//! 1. hold out a validation set: per class, `round(count · validation_share)` rows drawn with
//!    the seeded RNG (stratified, so every class is in both sets when it has enough rows;
//!    Edge Impulse draws its split at random without stratifying);
//! 2. per epoch, shuffle the training rows (seeded by `(seed, epoch)`), cut them into batches of
//!    `batch_size` (the last one smaller) and for each batch: augment, `forward_train`,
//!    cross-entropy (with "balanced" class weights if asked), `backward`, batch-norm statistics,
//!    one optimizer step;
//! 3. report the epoch: training loss and accuracy are the running means over the epoch's
//!    batches (as Keras prints them: weights changing, dropout on), validation loss and accuracy
//!    are computed after the epoch in inference mode;
//! 4. stop early when the callback returns `Break` (the weights of the last finished epoch are
//!    kept), or when early stopping sees no improvement (see [`EarlyStopping`]).
//!
//! **Data parallelism.** Every batch is cut into `shards` contiguous parts of fixed sizes; each
//! part runs augmentation, `forward_train`, the loss and `backward` with its own RNG stream
//! derived from `(seed, epoch, batch, shard)`, and the gradients are summed in shard order.
//! Shard 0 runs on the calling thread, the others on scoped helper threads started once per
//! run (and joined before `train` returns) when a shard has enough work to pay for the hand-off
//! (the tiny motion DNN does not; the KWS Conv1D does), else on the calling thread too. Nothing
//! depends on which thread computes a shard, which finishes first or how many cores there are,
//! so the same seed, config and data give bit-identical weights. Each shard normalises its batch
//! norm with its own statistics (like data-parallel Keras without synchronised batch norm) and
//! the moving statistics are updated once per shard, in shard order; so `shards = 1` and
//! `shards = 2` give close but not identical results.

use std::ops::ControlFlow;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::augment::{Augmentation, Layout};
use super::loss::{balanced_class_weights, softmax_cross_entropy_over};
use super::metrics::accuracy_and_loss;
use super::optim::{Optimizer, OptimizerState};
use super::{Gradients, Layer, Model, NnError, Tensor, Trace};
use crate::rng::Rng;

/// Training settings: the Train panel's form and a preset's `[training]` table. Every field has
/// a default, so a table may set only what it changes; an unknown key is an error.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training rows (Edge Impulse's motion lab: 30).
    pub epochs: usize,
    /// Step size of the optimizer (the book's motion lab screenshot: 0.0005).
    pub learning_rate: f32,
    /// Rows per gradient step.
    pub batch_size: usize,
    /// Share of each class's rows held out for validation, in [0, 1).
    pub validation_share: f32,
    /// Adam (default, Keras's settings) or SGD.
    pub optimizer: Optimizer,
    /// Seeds the split, the shuffles, dropout and augmentation (weights are seeded when the
    /// model is built).
    pub seed: u64,
    /// Stop when the validation loss stops improving (off by default).
    pub early_stopping: Option<EarlyStopping>,
    /// Weight each class by `rows / (classes · rows of the class)` (Keras's "balanced").
    pub class_weights: bool,
    /// FOMO's loss weighting: object cells (class ≥ 1) weigh this much, background cells 1
    /// (Edge Impulse uses 100); overrides `class_weights`.
    pub object_weight: Option<f32>,
    /// Random changes to the training samples (off by default).
    pub augmentation: Augmentation,
    /// A batch is split in this many parts computed on scoped threads. Fixed by the settings,
    /// not by the core count, so that results do not depend on the machine.
    pub shards: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 30,
            learning_rate: 0.0005,
            batch_size: 32,
            validation_share: 0.2,
            optimizer: Optimizer::default(),
            seed: 0,
            early_stopping: None,
            class_weights: false,
            object_weight: None,
            augmentation: Augmentation::default(),
            shards: 2,
        }
    }
}

impl TrainConfig {
    /// Reads a preset's or project's `[training]` table; unknown keys and wrong types are
    /// `NnError::Spec` errors naming the key.
    pub fn from_table(table: &toml::Table) -> Result<Self, NnError> {
        let config: Self = table
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| NnError::Spec(format!("[training]: {}", e.message())))?;
        Ok(config)
    }

    /// Rejects settings that cannot train, in words that say what to change.
    pub fn validate(&self) -> Result<(), NnError> {
        let problem = if self.epochs == 0 {
            Some("epochs must be at least 1".to_string())
        } else if self.batch_size == 0 {
            Some("batch_size must be at least 1".to_string())
        } else if self.shards == 0 {
            Some("shards must be at least 1".to_string())
        } else if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            Some(format!(
                "learning_rate is {}; it must be a positive number",
                self.learning_rate
            ))
        } else if !(0.0..1.0).contains(&self.validation_share) {
            Some(format!(
                "validation_share is {}; it must be at least 0 and below 1",
                self.validation_share
            ))
        } else if self
            .early_stopping
            .is_some_and(|e| !(e.min_delta >= 0.0 && e.min_delta.is_finite()))
        {
            Some("early_stopping.min_delta must be a number ≥ 0".to_string())
        } else {
            None
        };
        match problem {
            Some(problem) => Err(NnError::Data(problem)),
            None => self.optimizer.validate(),
        }
    }
}

/// Keras's `EarlyStopping(monitor="val_loss", restore_best_weights=True)`: an epoch improves
/// when its loss is below the best so far by more than `min_delta`; after `patience` epochs in
/// a row without improvement training stops and the weights of the best epoch are restored.
/// Without a validation set the training loss is watched instead. When training runs all its
/// epochs, the last epoch's weights are kept, as in Keras.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// The least decrease of the loss that counts as an improvement.
    pub min_delta: f32,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self {
            patience: 5,
            min_delta: 0.0,
        }
    }
}

/// Labelled samples to train on.
#[derive(Clone, Debug)]
pub struct Dataset<'a> {
    /// Row-major samples, `rows × product(sample_shape)` values.
    pub inputs: &'a [f32],
    /// Per-sample shape, e.g. `[63]`, `[49, 13]` or `[96, 96, 3]` (its product must equal the
    /// model's input size; the values are taken in the model's input shape).
    pub sample_shape: Vec<usize>,
    /// Class of each row, `< classes`.
    pub labels: &'a [usize],
    /// Number of classes (the model's output size).
    pub classes: usize,
    /// For a per-cell (FOMO) model: the class of every output cell of every row, row-major
    /// (`rows × model.cells()` values, background 0); `labels` then only stratifies the split.
    pub cell_labels: Option<&'a [usize]>,
}

impl Dataset<'_> {
    /// Values per sample.
    pub fn sample_len(&self) -> usize {
        self.sample_shape.iter().product()
    }

    /// Number of samples.
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    /// The values of row `i` (empty when out of range).
    fn row(&self, i: usize) -> &[f32] {
        let len = self.sample_len();
        self.inputs.get(i * len..(i + 1) * len).unwrap_or(&[])
    }

    /// The training targets of `rows`: their labels, or their cells' labels for a per-cell
    /// model (`cells > 1`).
    fn targets(&self, rows: &[usize], cells: usize) -> Vec<usize> {
        match self.cell_labels {
            Some(all) if cells > 1 => rows
                .iter()
                .flat_map(|&i| all.get(i * cells..(i + 1) * cells).unwrap_or(&[]))
                .copied()
                .collect(),
            _ => rows
                .iter()
                .filter_map(|&i| self.labels.get(i).copied())
                .collect(),
        }
    }

    /// Rejects data that does not fit itself or the model.
    fn check(&self, model: &Model) -> Result<(), NnError> {
        let cells = model.cells();
        if cells > 1 {
            let Some(all) = self.cell_labels else {
                return Err(NnError::Data(format!(
                    "the model classifies {cells} cells per sample: the data needs cell labels"
                )));
            };
            if all.len() != self.rows() * cells || all.iter().any(|&c| c >= self.classes) {
                return Err(NnError::Data(format!(
                    "{} cell labels for {} samples of {cells} cells and {} classes",
                    all.len(),
                    self.rows(),
                    self.classes
                )));
            }
        }
        let len = self.sample_len();
        let model_len: usize = model.input_shape.iter().product();
        if len != model_len || len == 0 {
            return Err(NnError::Shape {
                layer: "training data".into(),
                expected: format!(
                    "samples of {model_len} values (model input {:?})",
                    model.input_shape
                ),
                got: self.sample_shape.clone(),
            });
        }
        if self.inputs.len() != self.rows() * len {
            return Err(NnError::Data(format!(
                "{} values for {} labels of {len}-value samples",
                self.inputs.len(),
                self.rows()
            )));
        }
        if self.rows() == 0 {
            return Err(NnError::Data("there are no samples to train on".into()));
        }
        if self.classes != model.classes() {
            return Err(NnError::Data(format!(
                "the data has {} classes but the model outputs {}",
                self.classes,
                model.classes()
            )));
        }
        if let Some(&bad) = self.labels.iter().find(|&&l| l >= self.classes) {
            return Err(NnError::Data(format!(
                "label {bad} is out of range for {} classes",
                self.classes
            )));
        }
        if self.inputs.iter().any(|v| !v.is_finite()) {
            return Err(NnError::Data(
                "a sample contains a NaN or infinite value".into(),
            ));
        }
        Ok(())
    }
}

/// What one epoch did, for curves and progress lines.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// This epoch, counted from 1.
    pub epoch: usize,
    /// Epochs asked for.
    pub epochs: usize,
    /// Mean loss over the epoch's batches.
    pub train_loss: f32,
    /// Accuracy over the epoch's batches.
    pub train_accuracy: f32,
    /// Loss on the validation rows after the epoch (None without a validation set).
    pub val_loss: Option<f32>,
    /// Accuracy on the validation rows after the epoch.
    pub val_accuracy: Option<f32>,
    /// The learning rate used.
    pub learning_rate: f32,
    /// Seconds since training started, at the end of this epoch.
    pub elapsed_s: f64,
}

/// Why training ended.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StopReason {
    /// All epochs ran.
    Finished,
    /// A callback returned `Break`.
    Cancelled {
        /// The last finished epoch (from 1; 0 when none finished), whose weights the model has.
        epoch: usize,
    },
    /// Early stopping ended training and restored the weights of `best_epoch` (from 1).
    EarlyStopped {
        /// The epoch whose weights the model has.
        best_epoch: usize,
    },
}

/// The result of [`train`].
#[derive(Clone, Debug)]
pub struct TrainOutcome {
    /// The trained model.
    pub model: Model,
    /// One report per finished epoch.
    pub history: Vec<EpochReport>,
    /// The rows held out for validation, ascending.
    pub validation: Vec<usize>,
    /// Why training ended.
    pub stopped: StopReason,
}

/// Trains `model` on `data`; reports every epoch to `on_epoch`, which returns `Break` to cancel
/// (the model keeps the weights of the last finished epoch). Same seed, same config, same data →
/// bit-identical weights. Fails, without a model, on invalid settings or data and when the loss
/// becomes NaN or infinite (the learning rate is too high).
pub fn train(
    model: Model,
    data: &Dataset,
    config: &TrainConfig,
    on_epoch: impl FnMut(&EpochReport) -> ControlFlow<()>,
) -> Result<TrainOutcome, NnError> {
    train_with_progress(model, data, config, on_epoch, |_| ControlFlow::Continue(()))
}

/// Where training is within an epoch, reported after every batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchProgress {
    /// The epoch running, counted from 1.
    pub epoch: usize,
    /// Batches of this epoch done.
    pub batches_done: usize,
    /// Batches in an epoch.
    pub batches: usize,
}

/// [`train`] that also calls `on_batch` after every batch, for progress within long epochs and
/// a prompt cancel: `Break` from `on_batch` stops at once and the model gets back the weights of
/// the last finished epoch (the initial weights, with `Cancelled { epoch: 0 }`, during the
/// first).
pub fn train_with_progress(
    model: Model,
    data: &Dataset,
    config: &TrainConfig,
    on_epoch: impl FnMut(&EpochReport) -> ControlFlow<()>,
    on_batch: impl FnMut(&BatchProgress) -> ControlFlow<()>,
) -> Result<TrainOutcome, NnError> {
    train_on_threads(model, data, config, on_epoch, on_batch, None)
}

/// [`train_with_progress`] with the number of helper threads given (`None`: decided by
/// [`helper_threads`]). The results do not depend on it; tests use it to show that.
fn train_on_threads(
    model: Model,
    data: &Dataset,
    config: &TrainConfig,
    mut on_epoch: impl FnMut(&EpochReport) -> ControlFlow<()>,
    mut on_batch: impl FnMut(&BatchProgress) -> ControlFlow<()>,
    threads: Option<usize>,
) -> Result<TrainOutcome, NnError> {
    config.validate()?;
    data.check(&model)?;
    let layout = augmentation_layout(&model, &data.sample_shape);
    config.augmentation.check(&layout)?;
    let started = Instant::now();
    let (train_rows, validation) = split(data.labels, data.classes, config);
    if train_rows.is_empty() {
        return Err(NnError::Data(format!(
            "no rows are left for training after holding out {} for validation",
            validation.len()
        )));
    }
    let train_labels: Vec<usize> = train_rows
        .iter()
        .filter_map(|&i| data.labels.get(i).copied())
        .collect();
    let cells = model.cells();
    if cells > 1 && (config.augmentation.flip_horizontal || config.augmentation.crop_share > 0.0) {
        return Err(NnError::Spec(
            "flips and crops would move the objects off their cell labels: turn them off for a \
             per-cell (FOMO) model"
                .into(),
        ));
    }
    let weights = match config.object_weight {
        // FOMO's weighting: background cells 1, object cells `object_weight`.
        Some(w) => Some(
            (0..data.classes)
                .map(|c| if c == 0 { 1.0 } else { w })
                .collect::<Vec<f32>>(),
        ),
        None => config
            .class_weights
            .then(|| balanced_class_weights(&train_labels, data.classes)),
    };
    let validation_inputs = gather(data, &validation);
    let validation_labels = data.targets(&validation, cells);
    let threads = threads.unwrap_or_else(|| helper_threads(&model, config));
    let step = BatchStep {
        data,
        config,
        layout,
        class_weights: weights.as_deref(),
        cells,
    };
    let mut model = model;
    let lengths: Vec<usize> = model.params_mut().iter().map(|p| p.len()).collect();
    let mut optimizer = OptimizerState::new(config.optimizer, &lengths);
    let shared = RwLock::new(model);

    let mut history = Vec::with_capacity(config.epochs);
    let mut best: Option<(f32, usize, Model)> = None;
    let mut stopped = StopReason::Finished;
    let mut order = train_rows;
    std::thread::scope(|scope| -> Result<(), NnError> {
        let pool = ShardPool::start(scope, &shared, &step, threads)?;
        let batches = order.len().div_ceil(config.batch_size);
        'epochs: for epoch in 0..config.epochs {
            Rng::new(stream_seed(config.seed, &[SHUFFLE, epoch as u64])).shuffle(&mut order);
            let (mut loss_sum, mut correct) = (0.0f64, 0usize);
            // What a cancel in the middle of this epoch goes back to.
            let start_of_epoch = read(&shared)?.clone();
            for (batch_index, batch) in order.chunks(config.batch_size).enumerate() {
                let seeds = [config.seed, epoch as u64, batch_index as u64];
                let result = pool.run(batch, seeds)?;
                {
                    // The write guard must end here: the helpers read the model next batch.
                    let mut model = write(&shared)?;
                    for trace in &result.traces {
                        model.update_batch_stats(trace);
                    }
                    optimizer.step(
                        model.params_mut(),
                        &result.gradients.0,
                        config.learning_rate,
                    )?;
                }
                loss_sum += f64::from(result.loss) * batch.len() as f64;
                correct += result.correct;
                let progress = BatchProgress {
                    epoch: epoch + 1,
                    batches_done: batch_index + 1,
                    batches,
                };
                if on_batch(&progress).is_break() {
                    *write(&shared)? = start_of_epoch;
                    stopped = StopReason::Cancelled { epoch };
                    break 'epochs;
                }
            }
            let train_loss = (loss_sum / order.len() as f64) as f32;
            if !train_loss.is_finite() {
                return Err(NnError::Data(format!(
                    "training diverged: the loss became {train_loss} in epoch {}; lower the \
                     learning rate",
                    epoch + 1
                )));
            }
            let (val_loss, val_accuracy) = if validation.is_empty() {
                (None, None)
            } else {
                let probs = predict(
                    &*read(&shared)?,
                    &validation_inputs,
                    &data.sample_shape,
                    config.batch_size,
                )?;
                let probs = per_cell_rows(probs, data.classes)?;
                let (accuracy, loss) = accuracy_and_loss(&validation_labels, &probs)?;
                (Some(loss as f32), Some(accuracy as f32))
            };
            let report = EpochReport {
                epoch: epoch + 1,
                epochs: config.epochs,
                train_loss,
                train_accuracy: (correct as f64 / (order.len() * cells) as f64) as f32,
                val_loss,
                val_accuracy,
                learning_rate: config.learning_rate,
                elapsed_s: started.elapsed().as_secs_f64(),
            };
            let cancelled = on_epoch(&report).is_break();
            history.push(report);
            if cancelled {
                stopped = StopReason::Cancelled { epoch: epoch + 1 };
                break;
            }
            if let Some(rule) = config.early_stopping {
                let watched = val_loss.unwrap_or(train_loss);
                let improved = best
                    .as_ref()
                    .is_none_or(|(best_loss, _, _)| watched < best_loss - rule.min_delta);
                if improved {
                    best = Some((watched, epoch, read(&shared)?.clone()));
                } else if let Some((_, best_epoch, _)) = &best
                    && epoch - best_epoch >= rule.patience
                {
                    if let Some((_, best_epoch, best_model)) = best.take() {
                        *write(&shared)? = best_model;
                        stopped = StopReason::EarlyStopped {
                            best_epoch: best_epoch + 1,
                        };
                    }
                    break;
                }
            }
        }
        Ok(())
        // The pool is dropped here: its job channels close, its threads end and are joined.
    })?;
    let model = shared.into_inner().map_err(|_| poisoned())?;
    Ok(TrainOutcome {
        model,
        history,
        validation,
        stopped,
    })
}

/// Probabilities `[rows, classes]` of `inputs` (row-major, `product(sample_shape)` values a
/// row), computed `batch` rows at a time in inference mode; the rows are split in two halves
/// run on scoped threads when there are at least two batches.
pub fn predict(
    model: &Model,
    inputs: &[f32],
    sample_shape: &[usize],
    batch: usize,
) -> Result<Tensor, NnError> {
    let len: usize = sample_shape.iter().product();
    let model_len: usize = model.input_shape.iter().product();
    if len != model_len || len == 0 || !inputs.len().is_multiple_of(len) {
        return Err(NnError::Shape {
            layer: "predict".into(),
            expected: format!(
                "rows of {model_len} values (model input {:?})",
                model.input_shape
            ),
            got: vec![inputs.len(), len],
        });
    }
    let rows = inputs.len() / len;
    let batch = batch.max(1);
    let run = |part: &[f32]| -> Result<Vec<Tensor>, NnError> {
        part.chunks(batch * len)
            .map(|chunk| model.forward(&batch_tensor(model, chunk.to_vec(), chunk.len() / len)?))
            .collect()
    };
    let parts: Vec<Tensor> = if rows >= 2 * batch {
        let middle = rows.div_ceil(2) * len;
        let (first, second) = inputs.split_at(middle.min(inputs.len()));
        std::thread::scope(|scope| {
            let handle = std::thread::Builder::new()
                .name("nn-predict".into())
                .spawn_scoped(scope, || run(second))
                .map_err(|e| NnError::Data(format!("cannot start a prediction thread: {e}")))?;
            let mut parts = run(first)?;
            let rest = handle
                .join()
                .map_err(|_| NnError::Data("a prediction thread panicked".into()))??;
            parts.extend(rest);
            Ok::<_, NnError>(parts)
        })?
    } else {
        run(inputs)?
    };
    // Per sample: `classes` probabilities, or `cells × classes` for a per-cell model.
    let classes = model.cells() * model.classes();
    let mut out = Vec::with_capacity(rows * classes);
    for part in &parts {
        out.extend(part.iter().copied());
    }
    Tensor::from_shape_vec(ndarray::IxDyn(&[rows, classes]), out).map_err(|_| NnError::Shape {
        layer: "predict".into(),
        expected: format!("[{rows}, {classes}] probabilities"),
        got: parts
            .first()
            .map(|p| p.shape().to_vec())
            .unwrap_or_default(),
    })
}

/// Tag of the shuffling streams (one per epoch).
const SHUFFLE: u64 = 1;
/// Tag of the validation split stream.
const SPLIT: u64 = 2;
/// Tag of the per-shard streams (dropout and augmentation).
const SHARD: u64 = 3;

/// A seed for one independent stream, from the run's seed and the stream's coordinates
/// (SplitMix64 folding: close coordinates give unrelated streams).
fn stream_seed(seed: u64, coordinates: &[u64]) -> u64 {
    coordinates.iter().fold(seed, |state, &c| {
        Rng::new(state ^ c.wrapping_mul(0x9E37_79B9_7F4A_7C15)).next_u64()
    })
}

/// Stratified split: per class, `round(count · share)` rows drawn for validation. Returns
/// (training rows in ascending order, validation rows in ascending order).
fn split(labels: &[usize], classes: usize, config: &TrainConfig) -> (Vec<usize>, Vec<usize>) {
    let mut rng = Rng::new(stream_seed(config.seed, &[SPLIT]));
    let mut held_out = vec![false; labels.len()];
    for class in 0..classes {
        let mut rows: Vec<usize> = (0..labels.len())
            .filter(|&i| labels.get(i) == Some(&class))
            .collect();
        rng.shuffle(&mut rows);
        let take = (rows.len() as f64 * f64::from(config.validation_share)).round() as usize;
        for &row in rows.iter().take(take) {
            if let Some(flag) = held_out.get_mut(row) {
                *flag = true;
            }
        }
    }
    (0..labels.len()).partition(|&i| !held_out.get(i).copied().unwrap_or(false))
}

/// The layout augmentation sees: the data's own 2-D or 3-D shape, else the model's input
/// shape, else the shape of a leading reshape layer (the KWS preset reshapes 637 MFCC values
/// to `[49, 13]`).
fn augmentation_layout(model: &Model, sample_shape: &[usize]) -> Layout {
    let structured =
        |shape: &[usize]| matches!(shape.len(), 2 | 3).then(|| Layout::from_shape(shape));
    structured(sample_shape)
        .or_else(|| structured(&model.input_shape))
        .or_else(|| match model.layers.first() {
            Some(Layer::Reshape { shape }) => structured(shape),
            _ => None,
        })
        .unwrap_or_else(|| Layout::from_shape(sample_shape))
}

/// The values of `rows`, concatenated.
fn gather(data: &Dataset, rows: &[usize]) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows.len() * data.sample_len());
    for &row in rows {
        out.extend_from_slice(data.row(row));
    }
    out
}

/// Any `[n, …, classes]` tensor as `[n · …, classes]` rows (a classifier's `[n, classes]`
/// unchanged).
fn per_cell_rows(t: Tensor, classes: usize) -> Result<Tensor, NnError> {
    let rows = t.len().checked_div(classes).unwrap_or(0);
    let shape = t.shape().to_vec();
    t.as_standard_layout()
        .into_owned()
        .into_shape_with_order(ndarray::IxDyn(&[rows, classes]))
        .map_err(|_| NnError::Shape {
            layer: "per-cell output".into(),
            expected: format!("[…, {classes}]"),
            got: shape,
        })
}

/// `values` as a `[rows, ..input_shape]` tensor.
fn batch_tensor(model: &Model, values: Vec<f32>, rows: usize) -> Result<Tensor, NnError> {
    let mut shape = vec![rows];
    shape.extend_from_slice(&model.input_shape);
    let got = vec![values.len()];
    Tensor::from_shape_vec(ndarray::IxDyn(&shape), values).map_err(|_| NnError::Shape {
        layer: "model input".into(),
        expected: format!("{shape:?}"),
        got,
    })
}

/// Everything one gradient step needs besides the model and the batch.
struct BatchStep<'a> {
    data: &'a Dataset<'a>,
    config: &'a TrainConfig,
    layout: Layout,
    class_weights: Option<&'a [f32]>,
    /// Output cells per sample (1 for a classifier).
    cells: usize,
}

/// One batch's summed gradients, loss, right predictions and per-shard traces.
struct BatchResult {
    gradients: Gradients,
    loss: f32,
    correct: usize,
    traces: Vec<Trace>,
}

/// One shard's share of a batch.
struct ShardResult {
    gradients: Gradients,
    loss: f32,
    correct: usize,
    trace: Trace,
}

impl BatchStep<'_> {
    /// Augments, runs forward and backward on one shard; the loss is divided by the whole
    /// batch's row count so the shards add up to the batch mean.
    fn shard(
        &self,
        model: &Model,
        rows: &[usize],
        batch_rows: usize,
        [seed, epoch, batch]: [u64; 3],
        shard: usize,
    ) -> Result<ShardResult, NnError> {
        let mut rng = Rng::new(stream_seed(seed, &[SHARD, epoch, batch, shard as u64]));
        let mut values = gather(self.data, rows);
        self.config
            .augmentation
            .apply_batch(&mut values, &self.layout, &mut rng);
        let x = batch_tensor(model, values, rows.len())?;
        let labels = self.data.targets(rows, self.cells);
        let (logits, trace) = model.forward_train(&x, &mut rng)?;
        // A per-cell model's `[n, H, W, C]` logits are `n·H·W` rows of one cross-entropy,
        // averaged over every cell of the batch.
        let logit_shape = logits.shape().to_vec();
        let logits = per_cell_rows(logits, self.data.classes)?;
        let mut loss = softmax_cross_entropy_over(
            &logits,
            &labels,
            self.class_weights,
            batch_rows * self.cells,
        )?;
        loss.grad_logits = loss
            .grad_logits
            .into_shape_with_order(ndarray::IxDyn(&logit_shape))
            .map_err(|e| NnError::Data(format!("per-cell gradient: {e}")))?;
        let gradients = model.backward(&trace, &loss.grad_logits)?;
        Ok(ShardResult {
            gradients,
            loss: loss.loss,
            correct: loss.correct,
            trace,
        })
    }
}

/// A shard handed to a helper thread.
struct Job {
    rows: Vec<usize>,
    batch_rows: usize,
    seeds: [u64; 3],
    shard: usize,
}

/// A helper thread's two channels.
struct Worker {
    jobs: SyncSender<Job>,
    results: Receiver<Result<ShardResult, NnError>>,
}

/// Runs the shards of each batch: shard 0 and any shard without a helper on the calling
/// thread, the others on helper threads that live for the whole training (one hand-off per
/// shard and batch instead of one thread start). Results are summed in shard order, so they
/// are the same whatever ran where.
struct ShardPool<'a> {
    model: &'a RwLock<Model>,
    step: &'a BatchStep<'a>,
    workers: Vec<Worker>,
}

impl<'a> ShardPool<'a> {
    /// Starts `threads` helpers in `scope`.
    fn start<'scope>(
        scope: &'scope std::thread::Scope<'scope, 'a>,
        model: &'a RwLock<Model>,
        step: &'a BatchStep<'a>,
        threads: usize,
    ) -> Result<Self, NnError> {
        let mut workers = Vec::with_capacity(threads);
        for index in 0..threads {
            let (jobs, job_inbox) = sync_channel::<Job>(1);
            let (result_outbox, results) = sync_channel(1);
            std::thread::Builder::new()
                .name(format!("nn-train-shard-{}", index + 1))
                .spawn_scoped(scope, move || {
                    for job in job_inbox {
                        let result = read(model).and_then(|model| {
                            step.shard(&model, &job.rows, job.batch_rows, job.seeds, job.shard)
                        });
                        if result_outbox.send(result).is_err() {
                            break;
                        }
                    }
                })
                .map_err(|e| NnError::Data(format!("cannot start a training thread: {e}")))?;
            workers.push(Worker { jobs, results });
        }
        Ok(Self {
            model,
            step,
            workers,
        })
    }

    /// Gradients, loss and traces of one batch, its shards summed in order.
    fn run(&self, batch: &[usize], seeds: [u64; 3]) -> Result<BatchResult, NnError> {
        let shards = self.step.config.shards.min(batch.len()).max(1);
        let parts = split_even(batch, shards);
        // Hand shards 1.. to the helpers first so they run while this thread does shard 0.
        let mut handed = Vec::with_capacity(parts.len());
        for (shard, part) in parts.iter().enumerate() {
            let worker = shard.checked_sub(1).and_then(|i| self.workers.get(i));
            if let Some(worker) = worker {
                let job = Job {
                    rows: part.to_vec(),
                    batch_rows: batch.len(),
                    seeds,
                    shard,
                };
                worker.jobs.send(job).map_err(|_| stopped_thread())?;
            }
            handed.push(worker);
        }
        let model = read(self.model)?;
        let mut total: Option<BatchResult> = None;
        for (shard, (part, worker)) in parts.iter().zip(handed).enumerate() {
            let result = match worker {
                Some(worker) => worker.results.recv().map_err(|_| stopped_thread())?,
                None => self.step.shard(&model, part, batch.len(), seeds, shard),
            }?;
            match &mut total {
                None => {
                    total = Some(BatchResult {
                        gradients: result.gradients,
                        loss: result.loss,
                        correct: result.correct,
                        traces: vec![result.trace],
                    });
                }
                Some(total) => {
                    total.gradients.add_assign(&result.gradients);
                    total.loss += result.loss;
                    total.correct += result.correct;
                    total.traces.push(result.trace);
                }
            }
        }
        total.ok_or_else(|| NnError::Data("an empty batch".into()))
    }
}

/// Forward MACs per shard from which a helper thread pays for its hand-off (measured on this
/// 2-core machine: the motion DNN, ~1.5 k MACs a sample, is fastest on one thread; the KWS
/// Conv1D, ~26 k, gains from two).
const PARALLEL_MIN_MACS: u64 = 100_000;

/// How many helper threads training uses: none when a shard is too small to pay for the
/// hand-off, else one per shard beyond the first, at most one per spare core.
fn helper_threads(model: &Model, config: &TrainConfig) -> usize {
    if config.shards < 2 {
        return 0;
    }
    let macs_per_sample: u64 = model
        .summary()
        .map(|rows| rows.iter().map(|r| r.macs).sum())
        .unwrap_or(0);
    let rows_per_shard = (config.batch_size / config.shards).max(1) as u64;
    if macs_per_sample.saturating_mul(rows_per_shard) < PARALLEL_MIN_MACS {
        return 0;
    }
    let spare_cores = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1);
    (config.shards - 1).min(spare_cores)
}

fn read(model: &RwLock<Model>) -> Result<RwLockReadGuard<'_, Model>, NnError> {
    model.read().map_err(|_| poisoned())
}

fn write(model: &RwLock<Model>) -> Result<RwLockWriteGuard<'_, Model>, NnError> {
    model.write().map_err(|_| poisoned())
}

fn poisoned() -> NnError {
    NnError::Data("a training thread panicked".into())
}

fn stopped_thread() -> NnError {
    NnError::Data("a training thread stopped".into())
}

/// `items` cut into `parts` contiguous pieces whose sizes differ by at most one (the first
/// pieces are the larger).
fn split_even<T>(items: &[T], parts: usize) -> Vec<&[T]> {
    let parts = parts.max(1);
    let (base, extra) = (items.len() / parts, items.len() % parts);
    let mut out = Vec::with_capacity(parts);
    let mut rest = items;
    for part in 0..parts {
        let size = base + usize::from(part < extra);
        let (head, tail) = rest.split_at(size.min(rest.len()));
        out.push(head);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shards computed on helper threads or all on the calling thread: the same bits.
    #[test]
    fn helper_threads_do_not_change_the_result() {
        let mut rng = Rng::new(4);
        let labels: Vec<usize> = (0..60).map(|i| i % 3).collect();
        let inputs: Vec<f32> = labels
            .iter()
            .flat_map(|&l| [l as f32, 0.0, 1.0].map(|c| c + rng.next_gaussian() as f32))
            .collect();
        let data = Dataset {
            inputs: &inputs,
            sample_shape: vec![3],
            labels: &labels,
            classes: 3,
            cell_labels: None,
        };
        let body = [
            Layer::Dense {
                units: 8,
                weights: Vec::new(),
                bias: Vec::new(),
            },
            Layer::Relu,
            Layer::Dropout { rate: 0.2 },
        ];
        let config = TrainConfig {
            epochs: 3,
            batch_size: 7,
            shards: 3,
            ..TrainConfig::default()
        };
        let run = |threads| {
            let model = Model::classifier(&[3], &body, 3, 1).unwrap();
            let epoch = |_: &EpochReport| ControlFlow::Continue(());
            let batch = |_: &BatchProgress| ControlFlow::Continue(());
            train_on_threads(model, &data, &config, epoch, batch, Some(threads))
                .unwrap()
                .model
        };
        let inline = run(0);
        assert_eq!(run(1), inline);
        assert_eq!(run(2), inline);
    }
}
