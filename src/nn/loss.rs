//! Softmax cross-entropy from logits, the loss every TinyLab classifier trains on.
//!
//! For a row of logits `z` (shape `[classes]`) with true class `y` and class weight `w_y`:
//! ```text
//! p = softmax(z) = exp(z − max z) / Σ exp(z − max z)        (shifted, so exp never overflows)
//! loss = w_y · (log Σ exp(z − max z) − (z_y − max z))      (= −w_y · log p_y, without log 0)
//! ∂loss/∂z = w_y · (p − onehot(y))
//! ```
//! A batch's loss is Keras's `sum_over_batch_size` reduction: the weighted losses summed and
//! divided by the number of rows (not by the sum of the weights), so class weights scale the
//! gradient exactly as `model.fit(class_weight=..)` does.

use ndarray::{Array2, Axis, Ix2};

use super::metrics::argmax;
use super::{NnError, Tensor};

/// The loss of a batch (or of one shard of it) and its gradient.
#[derive(Clone, Debug, PartialEq)]
pub struct CrossEntropy {
    /// Σ weighted row losses ÷ the divisor (the row count for [`softmax_cross_entropy`]).
    pub loss: f32,
    /// Rows whose largest logit is the true class (ties go to the lower class index).
    pub correct: usize,
    /// d(loss)/d(logits), shape `[rows, classes]`.
    pub grad_logits: Tensor,
}

/// Mean softmax cross-entropy of `logits` (`[rows, classes]`) against `labels`, with optional
/// per-class weights, and its gradient with respect to the logits.
pub fn softmax_cross_entropy(
    logits: &Tensor,
    labels: &[usize],
    class_weights: Option<&[f32]>,
) -> Result<CrossEntropy, NnError> {
    softmax_cross_entropy_over(logits, labels, class_weights, labels.len())
}

/// Like [`softmax_cross_entropy`] but divides by `divisor` rows instead of this array's own row
/// count: for one shard of a batch split across threads, `divisor` is the whole batch's row
/// count, so the shards' losses and gradients add up to the batch's mean.
pub fn softmax_cross_entropy_over(
    logits: &Tensor,
    labels: &[usize],
    class_weights: Option<&[f32]>,
    divisor: usize,
) -> Result<CrossEntropy, NnError> {
    let shape_error = |expected: String| NnError::Shape {
        layer: "cross_entropy".into(),
        expected,
        got: logits.shape().to_vec(),
    };
    let logits = logits
        .view()
        .into_dimensionality::<Ix2>()
        .map_err(|_| shape_error(format!("[{}, classes] logits", labels.len())))?;
    let (rows, classes) = logits.dim();
    if rows != labels.len() || classes == 0 {
        return Err(shape_error(format!(
            "[{}, classes ≥ 1] logits, one row per label",
            labels.len()
        )));
    }
    if let Some(weights) = class_weights
        && weights.len() != classes
    {
        return Err(NnError::Data(format!(
            "{} class weights for {classes} classes",
            weights.len()
        )));
    }
    if let Some(&bad) = labels.iter().find(|&&label| label >= classes) {
        return Err(NnError::Data(format!(
            "label {bad} is out of range for {classes} classes"
        )));
    }
    let scale = 1.0 / divisor.max(1) as f32;
    let mut grad = Array2::<f32>::zeros((rows, classes));
    let mut loss_sum = 0.0f64;
    let mut correct = 0;
    for ((row, mut grad_row), &label) in logits
        .axis_iter(Axis(0))
        .zip(grad.axis_iter_mut(Axis(0)))
        .zip(labels)
    {
        let weight = class_weights
            .and_then(|weights| weights.get(label).copied())
            .unwrap_or(1.0);
        let (predicted, max) = argmax(row.iter().copied());
        if predicted == label {
            correct += 1;
        }
        let mut sum = 0.0f32;
        for (g, &z) in grad_row.iter_mut().zip(row) {
            *g = (z - max).exp();
            sum += *g;
        }
        let true_logit = row.get(label).copied().unwrap_or(max);
        loss_sum += f64::from(weight * (sum.ln() - (true_logit - max)));
        let factor = weight * scale / sum;
        for g in grad_row.iter_mut() {
            *g *= factor;
        }
        if let Some(g) = grad_row.get_mut(label) {
            *g -= weight * scale;
        }
    }
    Ok(CrossEntropy {
        loss: (loss_sum * f64::from(scale)) as f32,
        correct,
        grad_logits: grad.into_dyn(),
    })
}

/// Keras's "balanced" class weights, `rows / (classes · count of the class)`; a class with no
/// rows gets weight 1 (it never occurs in a batch, so its weight never matters).
pub fn balanced_class_weights(labels: &[usize], classes: usize) -> Vec<f32> {
    let mut counts = vec![0usize; classes];
    for &label in labels {
        if let Some(count) = counts.get_mut(label) {
            *count += 1;
        }
    }
    counts
        .iter()
        .map(|&count| {
            if count == 0 {
                1.0
            } else {
                (labels.len() as f64 / (classes as f64 * count as f64)) as f32
            }
        })
        .collect()
}
