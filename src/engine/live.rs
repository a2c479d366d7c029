//! Continuous classification of a stream, as Edge Impulse's `run_classifier_continuous` does on
//! the board: readings arrive in chunks of any size; every window increase (the impulse's
//! stride, 500 ms for the KWS lab) the latest window (1 s) is cut, its features computed with
//! the run's processing block, and the run's model predicts it. Each window gives one
//! [`LiveWindow`] with the per-class probabilities, the DSP and NN times and, when the run has a
//! detector, the anomaly score.
//!
//! **Averaging and threshold (the detected label).** Edge Impulse's continuous mode smooths the
//! probabilities with a moving average over the slices that make up one model window
//! (`enable_maf`), and the lab's sketches print the top class, which the book's post-processing
//! trusts above 0.6 (Edge Impulse's "uncertain" below 0.6, the XIAO sketch's "confident > 0.6").
//! TinyLab's rule: the average of the last `window_ms / window_increase_ms` windows' probabilities
//! (2 for the KWS lab: every window that overlaps the newest by half), and the detected label is
//! its top class when that average is above the run's confidence threshold (0.6 in the lab
//! presets); otherwise nothing is detected. Consecutive windows with the same detected label are
//! one [`Detection`].
//!
//! The classifier itself does no IO and starts no thread; the engine feeds it from the device
//! stream and `tinylab classify` feeds it a whole file at once.

use crate::dsp::block::{BlockInput, DspSettings};
use crate::dsp::windowing::readings_in;
use crate::dsp::{Features, Signal};
use crate::nn::Model;
use crate::nn::anomaly::KMeans;
use crate::project::runs::StoredRun;
use std::collections::VecDeque;
use std::time::Instant;

/// One classified window of the stream.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveWindow {
    /// Index of the window since the stream started (0, 1, 2, …).
    pub index: usize,
    /// Where the window starts in the stream, in seconds.
    pub start_s: f64,
    /// Where it ends (the newest reading it holds), in seconds.
    pub end_s: f64,
    /// The model's probabilities for this window alone, in label order.
    pub probabilities: Vec<f32>,
    /// The moving average of the last windows' probabilities (see the module doc).
    pub averaged: Vec<f32>,
    /// The detected label (index into the labels) and its averaged probability, when above the
    /// confidence threshold.
    pub detected: Option<(usize, f32)>,
    /// K-means anomaly score of this window, when the run has a detector.
    pub anomaly: Option<f32>,
    /// Time spent computing the features, in milliseconds.
    pub dsp_ms: f64,
    /// Time spent running the model, in milliseconds.
    pub nn_ms: f64,
}

/// A stretch of consecutive windows that detected the same label.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// Index of the label.
    pub label: usize,
    /// Start of the first window, in seconds.
    pub start_s: f64,
    /// End of the last window, in seconds.
    pub end_s: f64,
    /// Highest averaged probability over the stretch.
    pub peak: f32,
}

/// Why a stream cannot be classified with a run.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The stream's rate differs from the rate the run was trained at.
    #[error(
        "the stream is at {stream_hz} Hz but {run} was trained on {trained_hz} Hz samples; use a {trained_hz} Hz source (or resample it)"
    )]
    Rate {
        /// The run id.
        run: String,
        /// The stream's rate.
        stream_hz: f64,
        /// The project's rate.
        trained_hz: f64,
    },
    /// The stream's axes differ from the run's features.
    #[error("{0}")]
    Shape(String),
    /// A processing or model error on one window.
    #[error("{0}")]
    Compute(String),
}

/// What the classifier needs of a stream.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamShape {
    /// Axis names (one per value of a reading).
    pub axes: Vec<String>,
    /// Readings per second.
    pub rate_hz: f64,
}

/// Classifies a stream window by window with a trained run.
pub struct LiveClassifier {
    run_id: String,
    labels: Vec<String>,
    dsp: DspSettings,
    model: Model,
    anomaly: Option<(KMeans, Vec<usize>)>,
    input_shape: Vec<usize>,
    stream: StreamShape,
    window_readings: usize,
    stride_readings: usize,
    averaging: usize,
    threshold: f32,
    /// The newest `window_readings` readings at most, interleaved.
    buffer: VecDeque<f32>,
    /// Readings received since the stream started.
    received: usize,
    /// Reading count at which the next window is due.
    next_due: usize,
    windows: usize,
    recent: VecDeque<Vec<f32>>,
}

impl LiveClassifier {
    /// A classifier for `stream` with `run` (its own DSP and window settings), detecting above
    /// `threshold`. `trained_rate_hz` is the project's rate, which the stream must match.
    pub fn new(
        run: &StoredRun,
        stream: StreamShape,
        trained_rate_hz: f64,
        threshold: f32,
    ) -> Result<Self, LiveError> {
        let record = &run.record;
        if (stream.rate_hz - trained_rate_hz).abs() > trained_rate_hz * 0.01 {
            return Err(LiveError::Rate {
                run: record.id.clone(),
                stream_hz: stream.rate_hz,
                trained_hz: trained_rate_hz,
            });
        }
        let window_readings = readings_in(record.impulse.window_ms, stream.rate_hz);
        let stride_readings = readings_in(record.impulse.window_increase_ms, stream.rate_hz).max(1);
        if window_readings == 0 || stream.axes.is_empty() {
            return Err(LiveError::Shape(
                "the stream has no axes or the window is empty".into(),
            ));
        }
        let averaging = (f64::from(record.impulse.window_ms)
            / f64::from(record.impulse.window_increase_ms.max(1)))
        .round()
        .clamp(1.0, 20.0) as usize;
        let mut classifier = Self {
            run_id: record.id.clone(),
            labels: record.labels.clone(),
            dsp: record.dsp.clone(),
            model: run.model.clone(),
            anomaly: None,
            input_shape: record.input_shape.clone(),
            stream,
            window_readings,
            stride_readings,
            averaging,
            threshold,
            buffer: VecDeque::new(),
            received: 0,
            next_due: window_readings,
            windows: 0,
            recent: VecDeque::new(),
        };
        // One silent window checks shapes now rather than on the first real window.
        let probe = vec![0.0; window_readings * classifier.stream.axes.len()];
        let features = classifier.features(&probe)?;
        if features.shape.iter().product::<usize>() != record.input_shape.iter().product::<usize>()
        {
            return Err(LiveError::Shape(format!(
                "the stream ({} axes at {} Hz) gives features of shape {:?} but {} expects {:?}",
                classifier.stream.axes.len(),
                classifier.stream.rate_hz,
                features.shape,
                record.id,
                record.input_shape
            )));
        }
        if let Some(kmeans) = &run.anomaly {
            let columns = record.model.anomaly.feature_indices(&features.names);
            classifier.anomaly = Some((kmeans.clone(), columns));
        }
        Ok(classifier)
    }

    /// The run's labels, in output order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// True when the run has an anomaly detector.
    pub fn has_anomaly(&self) -> bool {
        self.anomaly.is_some()
    }

    /// Windows averaged for the detected label.
    pub fn averaging(&self) -> usize {
        self.averaging
    }

    /// Changes the detection threshold from the next window on.
    pub fn set_threshold(&mut self, threshold: f32) {
        self.threshold = threshold;
    }

    /// Feeds interleaved readings (a partial reading at the end is dropped); returns the windows
    /// that became due, in order.
    pub fn push(&mut self, values: &[f32]) -> Result<Vec<LiveWindow>, LiveError> {
        let axes = self.stream.axes.len();
        let mut out = Vec::new();
        for reading in values.chunks_exact(axes) {
            self.buffer.extend(reading);
            while self.buffer.len() > self.window_readings * axes {
                self.buffer.pop_front();
            }
            self.received += 1;
            if self.received >= self.next_due {
                self.next_due += self.stride_readings;
                out.push(self.classify_buffer()?);
            }
        }
        Ok(out)
    }

    fn features(&self, values: &[f32]) -> Result<Features, LiveError> {
        let signal = Signal {
            axes: self.stream.axes.len(),
            rate_hz: self.stream.rate_hz,
            values,
        };
        self.dsp
            .features(&BlockInput::Signal {
                signal,
                axis_names: &self.stream.axes,
            })
            .map_err(|e| LiveError::Compute(e.to_string()))
    }

    fn classify_buffer(&mut self) -> Result<LiveWindow, LiveError> {
        let values: Vec<f32> = self.buffer.iter().copied().collect();
        let started = Instant::now();
        let features = self.features(&values)?;
        let dsp_ms = started.elapsed().as_secs_f64() * 1000.0;
        let started = Instant::now();
        let probabilities: Vec<f32> =
            crate::nn::train::predict(&self.model, &features.values, &self.input_shape, 1)
                .map_err(|e| LiveError::Compute(e.to_string()))?
                .iter()
                .copied()
                .collect();
        let nn_ms = started.elapsed().as_secs_f64() * 1000.0;
        let anomaly = self.anomaly.as_ref().map(|(kmeans, columns)| {
            let picked: Vec<f32> = columns
                .iter()
                .map(|&c| features.values.get(c).copied().unwrap_or(0.0))
                .collect();
            kmeans.score(&picked)
        });
        self.recent.push_back(probabilities.clone());
        while self.recent.len() > self.averaging {
            self.recent.pop_front();
        }
        let averaged = average(&self.recent, probabilities.len());
        let detected = top(&averaged).filter(|&(_, p)| p > self.threshold);
        let rate = self.stream.rate_hz;
        let end = self.received;
        let window = LiveWindow {
            index: self.windows,
            start_s: end.saturating_sub(self.window_readings) as f64 / rate,
            end_s: end as f64 / rate,
            probabilities,
            averaged,
            detected,
            anomaly,
            dsp_ms,
            nn_ms,
        };
        self.windows += 1;
        Ok(window)
    }
}

/// Element-wise mean of the rows.
fn average(rows: &VecDeque<Vec<f32>>, width: usize) -> Vec<f32> {
    let mut sum = vec![0.0_f32; width];
    for row in rows {
        for (s, v) in sum.iter_mut().zip(row) {
            *s += v;
        }
    }
    let n = rows.len().max(1) as f32;
    sum.into_iter().map(|s| s / n).collect()
}

/// Index and value of the largest entry.
pub fn top(values: &[f32]) -> Option<(usize, f32)> {
    values
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Merges consecutive windows with the same detected label into detections.
pub fn detections(windows: &[LiveWindow]) -> Vec<Detection> {
    let mut out: Vec<Detection> = Vec::new();
    let mut previous: Option<usize> = None;
    for window in windows {
        if let Some((label, p)) = window.detected {
            match out.last_mut() {
                Some(last) if previous == Some(label) => {
                    last.end_s = window.end_s;
                    last.peak = last.peak.max(p);
                }
                _ => out.push(Detection {
                    label,
                    start_s: window.start_s,
                    end_s: window.end_s,
                    peak: p,
                }),
            }
        }
        previous = window.detected.map(|(label, _)| label);
    }
    out
}

/// `0.50 s  yes 0.93  (no 0.02, noise 0.01, unknown 0.04)`: one window as `tinylab classify`
/// prints it, then `->` and the detected label (or "uncertain").
pub fn format_window(window: &LiveWindow, labels: &[String]) -> String {
    let name = |i: usize| labels.get(i).map_or("?", String::as_str);
    let Some((best, p)) = top(&window.probabilities) else {
        return format!("{:.2} s  (no output)", window.start_s);
    };
    let others: Vec<String> = window
        .probabilities
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != best)
        .map(|(i, q)| format!("{} {q:.2}", name(i)))
        .collect();
    let detected = match window.detected {
        Some((label, q)) => format!("{} {q:.2}", name(label)),
        None => "uncertain".into(),
    };
    let anomaly = window
        .anomaly
        .map_or(String::new(), |a| format!("  anomaly {a:.3}"));
    format!(
        "{:6.2} s  {} {p:.2}  ({})  -> {detected}{anomaly}",
        window.start_s,
        name(best),
        others.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(index: usize, detected: Option<(usize, f32)>) -> LiveWindow {
        LiveWindow {
            index,
            start_s: index as f64 * 0.5,
            end_s: index as f64 * 0.5 + 1.0,
            probabilities: vec![0.5, 0.5],
            averaged: vec![0.5, 0.5],
            detected,
            anomaly: None,
            dsp_ms: 0.0,
            nn_ms: 0.0,
        }
    }

    #[test]
    fn consecutive_windows_of_one_label_are_one_detection() {
        let windows = [
            window(0, None),
            window(1, Some((1, 0.7))),
            window(2, Some((1, 0.9))),
            window(3, Some((0, 0.8))),
            window(4, None),
            window(5, Some((1, 0.65))),
        ];
        let found = detections(&windows);
        assert_eq!(found.len(), 3);
        assert_eq!(
            found.first(),
            Some(&Detection {
                label: 1,
                start_s: 0.5,
                end_s: 2.0,
                peak: 0.9
            })
        );
        assert_eq!(found.get(1).map(|d| d.label), Some(0));
        assert_eq!(found.get(2).map(|d| d.start_s), Some(2.5));
    }

    #[test]
    fn average_and_top() {
        let rows: VecDeque<Vec<f32>> = [vec![0.2, 0.8], vec![0.6, 0.4]].into();
        assert_eq!(average(&rows, 2), vec![0.4, 0.6]);
        assert_eq!(top(&[0.1, 0.7, 0.2]), Some((1, 0.7)));
        assert_eq!(top(&[]), None);
    }
}
