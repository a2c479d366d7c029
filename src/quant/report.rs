//! The float32-versus-int8 comparison of one trained run, as the Optimize panel and
//! `tinylab quantize` show it and as `runs/run-NNN/quantized.json` keeps it.

use serde::{Deserialize, Serialize};

use crate::nn::metrics::Evaluation;
use crate::quant::estimate::{ModelCost, TargetEstimate};

/// How the run was quantized: the settings a student can change in the Optimize panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuantizeSettings {
    /// One scale per output channel of each weight tensor (TFLite's default); `false`: one per
    /// tensor.
    pub per_channel: bool,
    /// Activation ranges from the extreme values seen (`None`) or from this percentile of the
    /// absolute values (e.g. 99.99), which ignores outliers.
    pub percentile: Option<f32>,
    /// Training windows used to calibrate the activation ranges (a seeded sample of them).
    pub calibration_windows: usize,
}

impl Default for QuantizeSettings {
    fn default() -> Self {
        Self {
            per_channel: true,
            percentile: None,
            calibration_windows: 300,
        }
    }
}

/// One model's size and cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Footprint {
    /// Bytes of the `.tflite` file.
    pub file_bytes: u64,
    /// MACs, operators, arena, weights and DSP bytes.
    pub cost: ModelCost,
}

/// float32 and int8 side by side for one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantReport {
    /// The run quantized.
    pub run: String,
    /// How.
    pub settings: QuantizeSettings,
    /// Windows actually used for calibration.
    pub calibration_windows: usize,
    /// Which data the comparison uses ("test", or "validation" when the test split is empty).
    pub data: String,
    /// The float32 model (TinyLab's interpreter on the float `.tflite` graph).
    pub float: Evaluation,
    /// The int8 model (TinyLab's int8 engine with TFLite's reference kernels).
    pub int8: Evaluation,
    /// Windows whose predicted class differs between the two.
    pub changed: usize,
    /// Windows compared.
    pub windows: usize,
    /// Largest difference of any class probability between the two.
    pub max_probability_change: f32,
    /// float32 model size and cost.
    pub float_footprint: Footprint,
    /// int8 model size and cost.
    pub int8_footprint: Footprint,
    /// Per-kit estimates of the int8 (and float32) model.
    pub estimates: Vec<TargetEstimate>,
    /// Wall time of the whole job.
    pub elapsed_s: f64,
    /// FOMO runs: the float32 model's detection precision, recall and F1 (centroid matching).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub float_detection: Option<crate::nn::detection::DetectionMetrics>,
    /// FOMO runs: the int8 model's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8_detection: Option<crate::nn::detection::DetectionMetrics>,
    /// The C library export of the int8 model, counted exactly at generation (`None` in
    /// reports written before it existed, or when the export does not support the run).
    #[serde(default)]
    pub c_library: Option<CLibraryFigures>,
    /// Why the run has no C library figures, in words, when the export refuses it.
    #[serde(default)]
    pub c_library_unsupported: Option<String>,
}

/// What the C library export (`tinylab export --format c-library`) of a run costs, counted
/// from the generated declarations for a 32-bit target: exact for data, an estimate for code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CLibraryFigures {
    /// The model's static tensor arena.
    pub arena_bytes: u64,
    /// The model file's other static buffers (features of `tinylab_classify`, anomaly score).
    pub model_buffer_bytes: u64,
    /// The DSP's static scratch buffers.
    pub dsp_buffer_bytes: u64,
    /// One raw window (`TINYLAB_RAW_LEN` floats), which the sketch keeps (images: packed pixels).
    pub raw_window_bytes: u64,
    /// The model's constants: weights, biases, multipliers, labels, K-means centres.
    pub model_constant_bytes: u64,
    /// The DSP's constant tables.
    pub dsp_table_bytes: u64,
    /// The model's machine code, estimated per kernel kind.
    pub model_code_bytes_estimate: u64,
}

impl CLibraryFigures {
    /// Static RAM of the library and its input window.
    pub fn ram_bytes(&self) -> u64 {
        self.arena_bytes + self.model_buffer_bytes + self.dsp_buffer_bytes + self.raw_window_bytes
    }

    /// Constant bytes (flash without code).
    pub fn constant_bytes(&self) -> u64 {
        self.model_constant_bytes + self.dsp_table_bytes
    }
}

impl QuantReport {
    /// Share of windows whose prediction changed.
    pub fn changed_share(&self) -> f64 {
        self.changed as f64 / self.windows.max(1) as f64
    }

    /// int8 accuracy minus float32 accuracy, in percentage points.
    pub fn accuracy_change_points(&self) -> f64 {
        (self.int8.accuracy - self.float.accuracy) * 100.0
    }
}
