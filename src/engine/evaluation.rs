//! What the Evaluate panel and `tinylab eval` show of a run: the metrics of one data set at the
//! chosen thresholds, the misclassified windows, and one line per sample with its majority
//! prediction and its highest anomaly score. Pure and cheap (a few thousand windows), so the
//! engine recomputes it whenever a threshold slider moves. A FOMO run (one with a grid) is
//! scored by [`super::detection_eval`] instead.

use crate::nn::NnError;
use crate::nn::metrics::{Evaluation, argmax};
use crate::project::runs::{DataSet, RunRecord, WindowPrediction};
use crate::protocol::{Misclassified, RunEvaluation, SampleScore};
use std::collections::BTreeMap;

/// Evaluates `record`'s predictions on `set` at the given thresholds.
pub fn evaluate(
    record: &RunRecord,
    set: DataSet,
    confidence_threshold: f32,
    anomaly_threshold: f32,
) -> Result<RunEvaluation, NnError> {
    if let Some(grid) = record.grid {
        let (metrics, misclassified, detection) =
            super::detection_eval::evaluate(record, grid, set, confidence_threshold)?;
        return Ok(RunEvaluation {
            run: record.id.clone(),
            set,
            labels: record.labels.clone(),
            metrics,
            misclassified,
            samples: Vec::new(),
            confidence_threshold,
            anomaly_threshold,
            anomalies: 0,
            has_anomaly: false,
            detection: Some(std::sync::Arc::new(detection)),
        });
    }
    let known: Vec<&WindowPrediction> = record
        .predictions
        .iter()
        .filter(|p| p.set == set && p.truth.is_some())
        .collect();
    let truth: Vec<usize> = known.iter().filter_map(|p| p.truth).collect();
    let classes = record.labels.len();
    let flat: Vec<f32> = known
        .iter()
        .flat_map(|p| p.probabilities.iter().copied())
        .collect();
    let probabilities = ndarray::Array2::from_shape_vec((known.len(), classes), flat)
        .map_err(|_| NnError::Data(format!("{}: a prediction has the wrong length", record.id)))?
        .into_dyn();
    let metrics = Evaluation::new(&record.labels, &truth, &probabilities, confidence_threshold)?;
    let label_of = |index: Option<usize>| -> String {
        index
            .and_then(|i| record.labels.get(i))
            .cloned()
            .unwrap_or_else(|| "uncertain".into())
    };
    let misclassified = known
        .iter()
        .filter_map(|p| {
            let (predicted, confidence) = decide(&p.probabilities, confidence_threshold);
            (predicted != p.truth).then(|| Misclassified {
                sample: p.sample,
                window: p.window,
                truth: label_of(p.truth),
                predicted: label_of(predicted),
                confidence,
                anomaly: p.anomaly,
            })
        })
        .collect();
    Ok(RunEvaluation {
        run: record.id.clone(),
        set,
        labels: record.labels.clone(),
        metrics,
        misclassified,
        samples: sample_scores(record, set, confidence_threshold),
        confidence_threshold,
        anomaly_threshold,
        anomalies: record
            .predictions
            .iter()
            .filter(|p| p.set == set && p.anomaly.is_some_and(|a| a > anomaly_threshold))
            .count(),
        has_anomaly: record.predictions.iter().any(|p| p.anomaly.is_some()),
        detection: None,
    })
}

/// The predicted class (`None`: uncertain, below the threshold) and the top probability.
pub fn decide(probabilities: &[f32], confidence_threshold: f32) -> (Option<usize>, f32) {
    let (best, top) = argmax(probabilities.iter().copied());
    if top >= confidence_threshold {
        (Some(best), top)
    } else {
        (None, top.max(0.0))
    }
}

/// One line per sample of `set`: majority vote over its windows and its highest anomaly score.
fn sample_scores(record: &RunRecord, set: DataSet, confidence_threshold: f32) -> Vec<SampleScore> {
    let mut by_sample: BTreeMap<_, Vec<&WindowPrediction>> = BTreeMap::new();
    for p in record.predictions.iter().filter(|p| p.set == set) {
        by_sample.entry(p.sample).or_default().push(p);
    }
    by_sample
        .into_iter()
        .map(|(sample, windows)| {
            let mut votes = vec![0usize; record.labels.len() + 1];
            for w in &windows {
                let (predicted, _) = decide(&w.probabilities, confidence_threshold);
                let slot = predicted.unwrap_or(record.labels.len());
                if let Some(v) = votes.get_mut(slot) {
                    *v += 1;
                }
            }
            let (winner, count) = votes
                .iter()
                .enumerate()
                .max_by_key(|&(i, &v)| (v, usize::MAX - i))
                .map_or((record.labels.len(), 0), |(i, &v)| (i, v));
            SampleScore {
                sample,
                truth: windows
                    .first()
                    .and_then(|w| w.truth)
                    .and_then(|t| record.labels.get(t))
                    .cloned(),
                predicted: record.labels.get(winner).cloned(),
                agreement: count as f32 / windows.len().max(1) as f32,
                windows: windows.len(),
                max_anomaly: windows
                    .iter()
                    .filter_map(|w| w.anomaly)
                    .fold(None, |m: Option<f32>, a| Some(m.map_or(a, |m| m.max(a)))),
            }
        })
        .collect()
}
