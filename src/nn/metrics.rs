//! Evaluation of a classifier on labelled samples: accuracy, loss, confusion matrix,
//! precision/recall/F1 per class, and Edge Impulse's "uncertain" predictions.
//!
//! A prediction is the class of highest probability (ties go to the lower index); it is
//! *uncertain* when that probability is below the confidence threshold (Edge Impulse's
//! "minimum confidence rating", 0.6 by default). Uncertain predictions follow Edge Impulse's
//! test page:
//! - they are **not correct**: accuracy = confident right predictions ÷ all samples;
//! - they sit in their own "uncertain" column beside the confusion matrix (`uncertain[true]`),
//!   so the matrix cells count only confident predictions and each row plus its uncertain
//!   count is the class's support;
//! - they count against recall (a true sample not confidently found) but not against any
//!   class's precision (nothing was predicted).
//!
//! That is scikit-learn's `precision_recall_fscore_support(y_true, y_pred, labels=range(C))`
//! with uncertain predictions given an extra label outside `labels`; a ratio with a zero
//! denominator is 0, like scikit-learn's `zero_division=0`. The loss is Keras's categorical
//! cross-entropy on probabilities: each row renormalised to sum 1, clipped to [1e-7, 1 − 1e-7],
//! −log of the true class, averaged over rows.

use ndarray::{ArrayView1, ArrayView2, Axis, Ix2};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{NnError, Tensor};

/// Edge Impulse's default minimum confidence: below it a prediction is "uncertain".
pub const DEFAULT_THRESHOLD: f32 = 0.6;

/// Keras's clipping of probabilities in the cross-entropy (`keras.config.epsilon()`).
const PROBABILITY_EPSILON: f64 = 1e-7;

/// One evaluated sample.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    /// The true class.
    pub truth: usize,
    /// The class of highest probability.
    pub predicted: usize,
    /// Its probability.
    pub confidence: f32,
}

/// Precision, recall and F1 of one class.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct ClassMetrics {
    /// Right confident predictions of this class ÷ confident predictions of this class.
    pub precision: f64,
    /// Right confident predictions of this class ÷ samples of this class.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Samples of this class.
    pub support: usize,
}

/// A classifier's results on a set of samples, at one confidence threshold.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Class names, in class-index order.
    pub labels: Vec<String>,
    /// Predictions below this confidence are uncertain.
    pub threshold: f32,
    /// Confident right predictions ÷ samples (0 when there are no samples).
    pub accuracy: f64,
    /// Mean categorical cross-entropy of the probabilities.
    pub loss: f64,
    /// `confusion_matrix[true][predicted]`: confident predictions only.
    pub confusion_matrix: Vec<Vec<usize>>,
    /// Uncertain predictions per true class (the matrix's extra column).
    pub uncertain: Vec<usize>,
    /// Uncertain predictions ÷ samples.
    pub uncertain_share: f64,
    /// Per class, in class-index order.
    pub per_class: Vec<ClassMetrics>,
    /// Every sample's prediction, in input order (for the list of misclassified samples and
    /// to move the threshold without the probabilities).
    pub predictions: Vec<Prediction>,
}

impl Evaluation {
    /// Evaluates probabilities `probs` (`[samples, classes]`, rows summing to about 1) against
    /// the true classes `truth`, with class names `labels`.
    pub fn new(
        labels: &[String],
        truth: &[usize],
        probs: &Tensor,
        threshold: f32,
    ) -> Result<Self, NnError> {
        let probs = probability_rows(probs, truth, labels.len())?;
        let mut loss_sum = 0.0f64;
        let mut predictions = Vec::with_capacity(truth.len());
        for (row, &label) in probs.axis_iter(Axis(0)).zip(truth) {
            let (predicted, confidence) = argmax(row.iter().copied());
            predictions.push(Prediction {
                truth: label,
                predicted,
                confidence,
            });
            loss_sum += row_loss(row, label);
        }
        let loss = loss_sum / truth.len().max(1) as f64;
        Self::from_predictions(labels.to_vec(), predictions, loss, threshold)
    }

    /// Builds the evaluation from per-sample predictions and an already computed loss.
    pub fn from_predictions(
        labels: Vec<String>,
        predictions: Vec<Prediction>,
        loss: f64,
        threshold: f32,
    ) -> Result<Self, NnError> {
        if threshold.is_nan() {
            return Err(NnError::Data(
                "the confidence threshold is not a number".into(),
            ));
        }
        let classes = labels.len();
        if let Some(bad) = predictions
            .iter()
            .find(|p| p.truth >= classes || p.predicted >= classes)
        {
            return Err(NnError::Data(format!(
                "a prediction names class {} of {classes} classes",
                bad.truth.max(bad.predicted)
            )));
        }
        let mut confusion_matrix = vec![vec![0usize; classes]; classes];
        let mut uncertain = vec![0usize; classes];
        for p in &predictions {
            let cell = if p.confidence < threshold {
                uncertain.get_mut(p.truth)
            } else {
                confusion_matrix
                    .get_mut(p.truth)
                    .and_then(|row| row.get_mut(p.predicted))
            };
            if let Some(cell) = cell {
                *cell += 1;
            }
        }
        let samples = predictions.len();
        let correct: usize = (0..classes)
            .filter_map(|c| confusion_matrix.get(c).and_then(|row| row.get(c)))
            .sum();
        let per_class = (0..classes)
            .map(|c| class_metrics(&confusion_matrix, &uncertain, c))
            .collect();
        Ok(Self {
            labels,
            threshold,
            accuracy: ratio(correct, samples),
            loss,
            uncertain_share: ratio(uncertain.iter().sum(), samples),
            confusion_matrix,
            uncertain,
            per_class,
            predictions,
        })
    }

    /// The same predictions judged at another confidence threshold (the Evaluate panel's
    /// slider); the loss does not depend on it.
    pub fn with_threshold(&self, threshold: f32) -> Result<Self, NnError> {
        Self::from_predictions(
            self.labels.clone(),
            self.predictions.clone(),
            self.loss,
            threshold,
        )
    }

    /// Whether a prediction is below this evaluation's threshold.
    pub fn is_uncertain(&self, prediction: &Prediction) -> bool {
        prediction.confidence < self.threshold
    }

    /// Indices (in input order) of the samples not confidently predicted right: wrong or
    /// uncertain.
    pub fn misclassified(&self) -> Vec<usize> {
        self.predictions
            .iter()
            .enumerate()
            .filter(|(_, p)| self.is_uncertain(p) || p.predicted != p.truth)
            .map(|(i, _)| i)
            .collect()
    }

    /// Each confusion-matrix row as shares of the class's samples, with the uncertain share as
    /// the last column (`classes + 1` columns; a class with no samples is all zeros).
    pub fn row_shares(&self) -> Vec<Vec<f64>> {
        self.confusion_matrix
            .iter()
            .zip(&self.uncertain)
            .map(|(row, &unsure)| {
                let total = row.iter().sum::<usize>() + unsure;
                row.iter()
                    .chain(std::iter::once(&unsure))
                    .map(|&n| ratio(n, total))
                    .collect()
            })
            .collect()
    }

    /// The JSON that `tinylab eval --json` prints: `accuracy`, `loss`, `threshold`, `samples`,
    /// `uncertain_share`, `labels`, `confusion_matrix` (rows true, columns predicted),
    /// `uncertain` (per true class) and `per_class` (`{label: {precision, recall, f1, support,
    /// uncertain}}`).
    pub fn to_json(&self) -> Value {
        let mut per_class = Map::new();
        for ((label, metrics), unsure) in
            self.labels.iter().zip(&self.per_class).zip(&self.uncertain)
        {
            per_class.insert(
                label.clone(),
                json!({
                    "precision": metrics.precision,
                    "recall": metrics.recall,
                    "f1": metrics.f1,
                    "support": metrics.support,
                    "uncertain": unsure,
                }),
            );
        }
        json!({
            "accuracy": self.accuracy,
            "loss": self.loss,
            "threshold": self.threshold,
            "samples": self.predictions.len(),
            "uncertain_share": self.uncertain_share,
            "labels": self.labels,
            "confusion_matrix": self.confusion_matrix,
            "uncertain": self.uncertain,
            "per_class": per_class,
        })
    }
}

/// Index and value of the largest element (the first one on ties; NaN never wins).
pub fn argmax(values: impl IntoIterator<Item = f32>) -> (usize, f32) {
    values
        .into_iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(best_i, best), (i, v)| {
            if v > best { (i, v) } else { (best_i, best) }
        })
}

/// Plain accuracy (class of highest probability, no threshold: what Keras reports as
/// `val_accuracy`) and the mean categorical cross-entropy of probabilities `[rows, classes]`.
pub fn accuracy_and_loss(truth: &[usize], probs: &Tensor) -> Result<(f64, f64), NnError> {
    let classes = probs.shape().get(1).copied().unwrap_or(0);
    let probs = probability_rows(probs, truth, classes)?;
    let mut correct = 0;
    let mut loss_sum = 0.0f64;
    for (row, &label) in probs.axis_iter(Axis(0)).zip(truth) {
        if argmax(row.iter().copied()).0 == label {
            correct += 1;
        }
        loss_sum += row_loss(row, label);
    }
    Ok((
        ratio(correct, truth.len()),
        loss_sum / truth.len().max(1) as f64,
    ))
}

/// `probs` as a 2-D view, checked to be `[truth.len(), classes]` with every true class in range.
fn probability_rows<'a>(
    probs: &'a Tensor,
    truth: &[usize],
    classes: usize,
) -> Result<ArrayView2<'a, f32>, NnError> {
    let rows = probs
        .view()
        .into_dimensionality::<Ix2>()
        .ok()
        .filter(|p| p.dim() == (truth.len(), classes))
        .ok_or_else(|| NnError::Shape {
            layer: "evaluation".into(),
            expected: format!("[{}, {classes}] probabilities", truth.len()),
            got: probs.shape().to_vec(),
        })?;
    check_labels(truth, classes)?;
    Ok(rows)
}

/// Keras's categorical cross-entropy of one row of probabilities: renormalised, clipped,
/// −log of the true class.
fn row_loss(row: ArrayView1<f32>, label: usize) -> f64 {
    let total: f64 = row.iter().map(|&p| f64::from(p)).sum();
    let p_true = row.get(label).map_or(0.0, |&p| f64::from(p)) / total;
    -p_true
        .clamp(PROBABILITY_EPSILON, 1.0 - PROBABILITY_EPSILON)
        .ln()
}

/// Rejects a true class outside `0..classes`.
fn check_labels(truth: &[usize], classes: usize) -> Result<(), NnError> {
    match truth.iter().find(|&&t| t >= classes) {
        Some(bad) => Err(NnError::Data(format!(
            "true class {bad} is out of range for {classes} labels"
        ))),
        None => Ok(()),
    }
}

fn class_metrics(matrix: &[Vec<usize>], uncertain: &[usize], class: usize) -> ClassMetrics {
    let cell = |t: usize, p: usize| matrix.get(t).and_then(|row| row.get(p)).copied();
    let right = cell(class, class).unwrap_or(0);
    let predicted: usize = (0..matrix.len()).filter_map(|t| cell(t, class)).sum();
    let support = matrix.get(class).map_or(0, |row| row.iter().sum::<usize>())
        + uncertain.get(class).copied().unwrap_or(0);
    // F1 = 2PR/(P+R) = 2·right/(predicted + support), the exact form scikit-learn uses.
    ClassMetrics {
        precision: ratio(right, predicted),
        recall: ratio(right, support),
        f1: ratio(2 * right, predicted + support),
        support,
    }
}

/// `part / whole`, 0 when `whole` is 0.
fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
