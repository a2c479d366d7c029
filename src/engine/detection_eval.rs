//! What the Evaluate panel and `tinylab eval` show of a FOMO run: per-class precision, recall
//! and F1 with centroid matching ([`crate::nn::detection`]) at the chosen confidence threshold,
//! the per-cell confusion matrix, the images the model got wrong, and every image's labelled
//! boxes and predicted centroids in file pixels for the "predictions vs labels" view. Pure and
//! cheap (decoding a 12 × 12 map per image), so it is recomputed when the threshold moves.

use crate::nn::NnError;
use crate::nn::detection::{self, Centroid, Counts, DetectionMetrics, Grid, InputBox};
use crate::nn::metrics::Evaluation;
use crate::project::runs::{DataSet, RunRecord, WindowPrediction};
use crate::project::sample::SampleId;
use crate::protocol::Misclassified;

/// A FOMO run's results on one data set.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectionEvaluation {
    /// Per-class and overall precision, recall and F1.
    pub metrics: DetectionMetrics,
    /// Every image of the set, in sample order.
    pub images: Vec<ImageDetections>,
}

/// One image: what was labelled and what the model found, in the image file's pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageDetections {
    /// The sample.
    pub sample: SampleId,
    /// Labelled boxes as the model saw them (clipped to its input), mapped back to file pixels.
    pub boxes: Vec<InputBox>,
    /// Centroids found at the threshold, `x`/`y` in file pixels.
    pub centroids: Vec<Centroid>,
    /// This image's matches, over all classes.
    pub counts: Counts,
}

/// The per-cell confusion matrix (every cell a row: its target class against its prediction)
/// and the detection results of `record`'s predictions on `set`.
pub fn evaluate(
    record: &RunRecord,
    grid: Grid,
    set: DataSet,
    confidence_threshold: f32,
) -> Result<(Evaluation, Vec<Misclassified>, DetectionEvaluation), NnError> {
    let classes = record.labels.len();
    let images: Vec<&WindowPrediction> =
        record.predictions.iter().filter(|p| p.set == set).collect();
    let mut cell_truth = Vec::with_capacity(images.len() * grid.cells());
    let mut cell_probs = Vec::with_capacity(images.len() * grid.cells() * classes);
    let mut per_class = vec![Counts::default(); classes];
    let mut results = Vec::with_capacity(images.len());
    let mut misclassified = Vec::new();
    for p in images {
        if p.probabilities.len() != grid.cells() * classes {
            return Err(NnError::Data(format!(
                "{}: {} has {} outputs, not {} cells × {classes} classes; train again",
                record.id,
                p.sample,
                p.probabilities.len(),
                grid.cells()
            )));
        }
        cell_truth.extend(detection::cell_targets(grid, &p.boxes));
        cell_probs.extend_from_slice(&p.probabilities);
        let found = detection::decode(&p.probabilities, grid, classes, confidence_threshold);
        let mut image_counts = vec![Counts::default(); classes];
        detection::match_image(&found, &p.boxes, &mut image_counts);
        let mut counts = Counts::default();
        for (total, image) in per_class.iter_mut().zip(&image_counts) {
            total.true_positives += image.true_positives;
            total.false_positives += image.false_positives;
            total.false_negatives += image.false_negatives;
            counts.true_positives += image.true_positives;
            counts.false_positives += image.false_positives;
            counts.false_negatives += image.false_negatives;
        }
        if counts.false_positives + counts.false_negatives > 0 {
            misclassified.push(Misclassified {
                sample: p.sample,
                window: p.window,
                truth: tally(p.boxes.iter().map(|b| b.class), &record.labels),
                predicted: tally(found.iter().map(|c| c.class), &record.labels),
                confidence: found.iter().map(|c| c.score).fold(0.0, f32::max),
                anomaly: p.anomaly,
            });
        }
        results.push(ImageDetections {
            sample: p.sample,
            boxes: p.boxes.iter().map(|b| box_to_file(p, b)).collect(),
            centroids: found
                .into_iter()
                .map(|c| {
                    let (x, y) = to_file(p, c.x, c.y);
                    Centroid { x, y, ..c }
                })
                .collect(),
            counts,
        });
    }
    let rows = cell_truth.len();
    let probabilities = ndarray::Array2::from_shape_vec((rows, classes), cell_probs)
        .map_err(|_| NnError::Data(format!("{}: a prediction has the wrong length", record.id)))?
        .into_dyn();
    let cells = Evaluation::new(
        &record.labels,
        &cell_truth,
        &probabilities,
        confidence_threshold,
    )?;
    let metrics = DetectionMetrics::from_counts(
        &record.labels,
        &per_class,
        results.len(),
        confidence_threshold,
    );
    Ok((
        cells,
        misclassified,
        DetectionEvaluation {
            metrics,
            images: results,
        },
    ))
}

/// "2 box, 1 wheel" (class order), or "nothing".
fn tally(classes: impl Iterator<Item = usize>, labels: &[String]) -> String {
    let mut counts = vec![0usize; labels.len()];
    for class in classes {
        if let Some(n) = counts.get_mut(class) {
            *n += 1;
        }
    }
    let parts: Vec<String> = labels
        .iter()
        .zip(&counts)
        .filter(|(_, n)| **n > 0)
        .map(|(label, n)| format!("{n} {label}"))
        .collect();
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join(", ")
    }
}

fn to_file(p: &WindowPrediction, x: f32, y: f32) -> (f32, f32) {
    match p.mapping {
        Some(m) => {
            let (fx, fy) = m.to_file(f64::from(x), f64::from(y));
            (fx as f32, fy as f32)
        }
        None => (x, y),
    }
}

fn box_to_file(p: &WindowPrediction, b: &InputBox) -> InputBox {
    let (x0, y0) = to_file(p, b.x, b.y);
    let (x1, y1) = to_file(p, b.x + b.width, b.y + b.height);
    InputBox {
        class: b.class,
        x: x0,
        y: y0,
        width: x1 - x0,
        height: y1 - y0,
    }
}
