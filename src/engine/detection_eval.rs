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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::dsp::image::input_mapping;
    use crate::project::runs::RUN_FORMAT_VERSION;

    fn prediction(sample: u64, probabilities: Vec<f32>, boxes: Vec<InputBox>) -> WindowPrediction {
        WindowPrediction {
            sample: SampleId(sample),
            window: 0,
            set: DataSet::Test,
            truth: Some(1),
            probabilities,
            anomaly: None,
            boxes,
            // A 4 × 4 file squashed to the 2 × 2 input: file = 2 · input.
            mapping: Some(input_mapping(4, 4, 2, 2, "squash").unwrap()),
        }
    }

    /// Two 2 × 2 heat maps (cells of 1 × 1 input pixel), worked by hand: image 1 has a box at
    /// the top left, found (TP) plus a false centroid at the bottom right (FP); image 2 has a
    /// box nobody found (FN) because its cell's 0.7 is under the 0.8 threshold.
    #[test]
    fn counts_cells_and_centroids_of_hand_made_maps() {
        let b = |x: f32, y: f32| InputBox {
            class: 1,
            x,
            y,
            width: 1.0,
            height: 1.0,
        };
        let record = RunRecord {
            format_version: RUN_FORMAT_VERSION,
            id: "run-001".into(),
            created_unix_s: 0,
            model: Default::default(),
            dsp: crate::dsp::block::DspSettings::Image(Default::default()),
            impulse: Default::default(),
            labels: vec!["background".into(), "box".into()],
            input_shape: vec![2, 2, 1],
            parameters: 0,
            history: Vec::new(),
            stopped: String::new(),
            train_seconds: 0.0,
            predictions: vec![
                prediction(
                    1,
                    vec![0.1, 0.9, 1.0, 0.0, 1.0, 0.0, 0.05, 0.95],
                    vec![b(0.0, 0.0)],
                ),
                prediction(
                    2,
                    vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.3, 0.7],
                    vec![b(1.0, 1.0)],
                ),
            ],
            grid: None,
        };
        let grid = Grid {
            width: 2,
            height: 2,
            input_width: 2,
            input_height: 2,
        };
        let (cells, misclassified, d) = evaluate(&record, grid, DataSet::Test, 0.8).unwrap();
        let counts = d.metrics.per_class[0].counts;
        assert_eq!(
            (
                counts.true_positives,
                counts.false_positives,
                counts.false_negatives
            ),
            (1, 1, 1)
        );
        assert!((d.metrics.f1 - 0.5).abs() < 1e-12);
        // Cells: 8, of which the two box cells are truth 1; one is found, one uncertain.
        assert_eq!(cells.predictions.len(), 8);
        assert_eq!(cells.confusion_matrix, vec![vec![5, 1], vec![0, 1]]);
        assert_eq!(misclassified.len(), 2);
        assert_eq!(
            (
                misclassified[1].truth.as_str(),
                misclassified[1].predicted.as_str()
            ),
            ("1 box", "nothing")
        );
        // Centroids and boxes come back in file pixels (× 2).
        let first = &d.images[0];
        assert_eq!((first.centroids[0].x, first.centroids[0].y), (1.0, 1.0));
        assert_eq!((first.boxes[0].width, first.boxes[0].height), (2.0, 2.0));
    }

    /// Runs saved before object detection load: no grid, no boxes, no mapping.
    #[test]
    fn a_prediction_without_boxes_loads() {
        let old = r#"{"sample": 3, "window": 0, "set": "test", "truth": 1,
                      "probabilities": [0.2, 0.8], "anomaly": null}"#;
        let p: WindowPrediction = serde_json::from_str(old).unwrap();
        assert!(p.boxes.is_empty() && p.mapping.is_none());
    }
}
