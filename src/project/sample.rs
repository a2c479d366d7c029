//! What a sample is: its metadata (label, split, sensor, rate) and, for sensor samples, the time
//! series itself. Series live in `samples/<id>.csv` as Edge Impulse-style CSV (a `timestamp`
//! column in milliseconds, then one column per axis), so any spreadsheet or Edge Impulse reads them.
//! Images (camera projects) live in `samples/<id>.png|jpg|bmp` with their size in [`ImageSize`]
//! and, for object detection, their labelled [`BoundingBox`]es.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A sample's identity inside one project; never reused, even after a delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SampleId(pub u64);

impl fmt::Display for SampleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{:05}", self.0)
    }
}

/// Which part of the dataset a sample belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Used for training (and its validation share).
    #[default]
    Train,
    /// Held out for the final test, never seen in training.
    Test,
}

impl Split {
    /// The other split: what "move to train/test" does.
    pub fn other(self) -> Self {
        match self {
            Self::Train => Self::Test,
            Self::Test => Self::Train,
        }
    }

    /// Lower-case name as used on disk and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Split {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "train" | "training" => Ok(Self::Train),
            "test" | "testing" => Ok(Self::Test),
            other => Err(format!("unknown split {other:?}: use train or test")),
        }
    }
}

/// Everything the project knows about a sample without reading its data file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleMeta {
    /// Unique id in this project.
    pub id: SampleId,
    /// Data file, relative to the project's `samples/` folder.
    pub file: String,
    /// Class label, e.g. `idle`.
    pub label: String,
    /// Train or test.
    pub split: Split,
    /// Sensor kind, e.g. `accelerometer`.
    pub sensor: String,
    /// Axis names in column order, e.g. `accX, accY, accZ`.
    pub axes: Vec<String>,
    /// Sampling rate of the series.
    pub rate_hz: f64,
    /// Number of readings (rows).
    pub readings: usize,
    /// Where it came from: `serial:/dev/ttyACM0`, `virtual-board`, `import:walk.csv`.
    pub source: String,
    /// Creation time, seconds since the Unix epoch.
    pub created_unix_s: u64,
    /// For an image sample: its size and colour channels (`None` for time series). An image has
    /// no axes, `rate_hz` 0 and one reading, so it counts as one sample of no duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageSize>,
    /// For an object detection image: its labelled boxes, in the file's pixels (empty for
    /// everything else; absent in projects written before boxes existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boxes: Vec<BoundingBox>,
}

/// A labelled box on an image, in pixels of the image file, origin at the top left (Edge
/// Impulse's `bounding_boxes.labels` convention).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox {
    /// The object's class, e.g. `box`.
    pub label: String,
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width (at least 1).
    pub width: u32,
    /// Height (at least 1).
    pub height: u32,
}

impl BoundingBox {
    /// The box's centre in pixels.
    pub fn centre(&self) -> (f32, f32) {
        (
            self.x as f32 + self.width as f32 / 2.0,
            self.y as f32 + self.height as f32 / 2.0,
        )
    }

    /// Whether the point `(x, y)` (pixels) lies inside the box (edges included).
    pub fn contains(&self, x: f32, y: f32) -> bool {
        x >= self.x as f32
            && y >= self.y as f32
            && x <= (self.x + self.width) as f32
            && y <= (self.y + self.height) as f32
    }
}

/// The size of an image sample as its file holds it (the image block resizes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSize {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Colour channels of the file: 1 (grayscale) or 3 (colour).
    pub channels: u8,
}

impl SampleMeta {
    /// Length of the sample in seconds.
    pub fn duration_s(&self) -> f64 {
        if self.rate_hz > 0.0 {
            self.readings as f64 / self.rate_hz
        } else {
            0.0
        }
    }
}

/// A multi-axis time series sampled at a fixed rate, stored row-major
/// (`values[row * axes.len() + axis]`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Series {
    /// Axis names in column order.
    pub axes: Vec<String>,
    /// Sampling rate.
    pub rate_hz: f64,
    /// Row-major readings, `readings() * axes.len()` values.
    pub values: Vec<f32>,
}

impl Series {
    /// An empty series with the given axes and rate.
    pub fn new(axes: Vec<String>, rate_hz: f64) -> Self {
        Self {
            axes,
            rate_hz,
            values: Vec::new(),
        }
    }

    /// Number of readings (rows).
    pub fn readings(&self) -> usize {
        self.values.len().checked_div(self.axes.len()).unwrap_or(0)
    }

    /// Appends one reading; returns false (and appends nothing) if its width is wrong.
    pub fn push(&mut self, reading: &[f32]) -> bool {
        if reading.len() != self.axes.len() {
            return false;
        }
        self.values.extend_from_slice(reading);
        true
    }

    /// One axis as a column vector.
    pub fn axis(&self, axis: usize) -> impl Iterator<Item = f32> + '_ {
        self.values
            .iter()
            .skip(axis)
            .step_by(self.axes.len().max(1))
            .copied()
    }

    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        if self.rate_hz > 0.0 {
            self.readings() as f64 / self.rate_hz
        } else {
            0.0
        }
    }
}
