//! Post-training int8 quantization in TensorFlow Lite's scheme (the converter's
//! `optimizations=[DEFAULT]` with a representative dataset and int8 input and output).
//!
//! - **Activations**: asymmetric int8, `real = s·(q − z)`, from the range each tensor takes on
//!   the calibration windows (run through the float graph by the interpreter). The range always
//!   contains 0 (so zero padding is exact): `s = (max − min) / 255`, `z = round(−128 − min / s)`.
//!   With a percentile `p`, the range is the `100 − p` to `p` percentile of a sample of the
//!   values instead of the extremes, which ignores rare outliers.
//! - **Ops that keep their input's parameters**: MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE and PAD
//!   write their output with their input's scale and zero point (TFLite's int8 spec requires it),
//!   and so does a RELU6 that is its own op: TFLM's int8 RELU6 only clamps, without rescaling, so
//!   with other output parameters TFLM and LiteRT (which rescales) would disagree;
//!   SOFTMAX writes scale 1/256, zero point −128.
//! - **Weights**: symmetric int8 in [−127, 127], zero point 0. CONV_2D, FULLY_CONNECTED and
//!   DEPTHWISE_CONV_2D get one scale per output channel (`quantized_dimension` 0, 0 and 3), as
//!   TensorFlow 2.21's converter does (fully connected layers too), or one per tensor when asked.
//!   `s = max|w| / 127` (1 for an all-zero channel).
//! - **Biases**: int32 with scale `input_scale × weight_scale` per channel, zero point 0.
//!
//! The graph's input and output tensors become int8 too: a board feeds quantized features and
//! reads quantized scores, and `Runner::probabilities` does the same conversion on the host.

use std::collections::HashMap;

use crate::quant::interpreter::{Runner, TensorData};
use crate::quant::report::QuantizeSettings;
use crate::quant::{DType, Graph, OpKind, QuantError, Quantization, TensorSpec};

/// Smallest activation scale: a tensor that is all but zero on the calibration windows (a dead
/// layer of an untrained model) would otherwise get a scale so small that a fused ReLU6's bound,
/// 6 / scale, overflows int32, or that SOFTMAX's input multiplier (scale · 2²⁶) drops below 1,
/// and TFLite's and TFLM's kernels refuse such a model.
const MIN_ACTIVATION_SCALE: f64 = 1e-7;

/// Values sampled per tensor per calibration window for percentile ranges.
const SAMPLES_PER_WINDOW: usize = 256;

/// How to quantize (the student's choices in the Optimize panel).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PtqOptions {
    /// Per-channel convolution weights (TFLite's default) instead of per-tensor.
    pub per_channel: bool,
    /// Activation ranges from this percentile (e.g. 99.99) instead of min/max.
    pub percentile: Option<f32>,
}

impl PtqOptions {
    /// The options a [`QuantizeSettings`] asks for.
    pub fn from_settings(settings: &QuantizeSettings) -> Self {
        Self {
            per_channel: settings.per_channel,
            percentile: settings.percentile,
        }
    }
}

/// The int8 graph of the float32 graph `float`, calibrated on `calibration` (one feature vector
/// per window, each the size of the graph's input).
pub fn quantize(
    float: &Graph,
    calibration: &[Vec<f32>],
    options: PtqOptions,
) -> Result<Graph, QuantError> {
    if calibration.is_empty() {
        return Err(QuantError::Input(
            "quantization needs at least one calibration window".into(),
        ));
    }
    let ranges = calibrate(float, calibration, options.percentile)?;
    let mut graph = float.clone();
    let mut params: HashMap<usize, Quantization> = HashMap::new();
    for &input in &float.inputs {
        params.insert(input, activation_params(ranges.get(&input))?);
    }
    for op in &float.operators {
        let first_input = op.inputs.first().copied().flatten();
        for &output in &op.outputs {
            let q = match op.kind {
                OpKind::Softmax { .. } => Quantization::per_tensor(1.0 / 256.0, -128),
                OpKind::MaxPool2d { .. }
                | OpKind::AveragePool2d { .. }
                | OpKind::Reshape { .. }
                | OpKind::Pad
                | OpKind::Relu6 => first_input
                    .and_then(|i| params.get(&i).cloned())
                    .ok_or_else(|| {
                        QuantError::Invalid(format!("{} without a quantized input", op.kind.name()))
                    })?,
                OpKind::Quantize | OpKind::Dequantize => {
                    return Err(QuantError::Model(format!(
                        "the graph is already quantized ({})",
                        op.kind.name()
                    )));
                }
                _ => activation_params(ranges.get(&output))?,
            };
            params.insert(output, q);
        }
    }
    for (index, q) in &params {
        if let Some(tensor) = graph.tensors.get_mut(*index) {
            tensor.dtype = DType::I8;
            tensor.quantization = Some(q.clone());
        }
    }
    for op in &float.operators {
        let (per_channel_axis, weighted) = match op.kind {
            OpKind::Conv2d { .. } => (options.per_channel.then_some(0), true),
            OpKind::DepthwiseConv2d { .. } => (options.per_channel.then_some(3), true),
            OpKind::FullyConnected { .. } => (options.per_channel.then_some(0), true),
            _ => (None, false),
        };
        if !weighted {
            continue;
        }
        let (Some(Some(x)), Some(Some(w))) = (op.inputs.first(), op.inputs.get(1)) else {
            return Err(QuantError::Invalid(format!(
                "{} without input and weights",
                op.kind.name()
            )));
        };
        let input_scale = params
            .get(x)
            .and_then(|q| q.scale.first().copied())
            .ok_or_else(|| {
                QuantError::Invalid(format!("{} input not quantized", op.kind.name()))
            })?;
        let weights = quantize_weights(float.tensor(*w)?, per_channel_axis)?;
        let weight_scales = weights
            .quantization
            .as_ref()
            .map(|q| q.scale.clone())
            .unwrap_or_default();
        replace(&mut graph, *w, weights)?;
        if let Some(Some(b)) = op.inputs.get(2) {
            let bias = quantize_bias(float.tensor(*b)?, input_scale, &weight_scales)?;
            replace(&mut graph, *b, bias)?;
        }
    }
    if let Some(t) = graph
        .tensors
        .iter()
        .find(|t| t.dtype == DType::F32 && t.is_constant())
    {
        return Err(QuantError::Model(format!(
            "float constant {:?} is not the weights or bias of an operator that has int8 kernels",
            t.name
        )));
    }
    graph.validate()?;
    Ok(graph)
}

fn replace(graph: &mut Graph, index: usize, tensor: TensorSpec) -> Result<(), QuantError> {
    let slot = graph
        .tensors
        .get_mut(index)
        .ok_or_else(|| QuantError::Invalid(format!("tensor {index} out of range")))?;
    *slot = tensor;
    Ok(())
}

/// What calibration saw of one float tensor.
#[derive(Default)]
struct Range {
    min: f32,
    max: f32,
    samples: Vec<f32>,
}

impl Range {
    fn observe(&mut self, values: &[f32], sample: bool) {
        for &v in values {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        if sample {
            let step = (values.len() / SAMPLES_PER_WINDOW).max(1);
            self.samples.extend(values.iter().step_by(step));
        }
    }

    /// `(min, max)` of the values, or the `100 − p` and `p` percentiles of the sample.
    fn bounds(&self, percentile: Option<f32>) -> (f32, f32) {
        let Some(p) = percentile else {
            return (self.min, self.max);
        };
        let mut sorted = self.samples.clone();
        sorted.sort_by(f32::total_cmp);
        let at = |q: f32| {
            let last = sorted.len().saturating_sub(1);
            let i = ((q / 100.0).clamp(0.0, 1.0) * last as f32).round() as usize;
            sorted.get(i).copied().unwrap_or(0.0)
        };
        (at(100.0 - p), at(p))
    }
}

/// `(min, max)` of every float activation over the calibration windows.
fn calibrate(
    float: &Graph,
    calibration: &[Vec<f32>],
    percentile: Option<f32>,
) -> Result<HashMap<usize, (f32, f32)>, QuantError> {
    let runner = Runner::new(float)?;
    let sample = percentile.is_some();
    let mut ranges: HashMap<usize, Range> = HashMap::new();
    for window in calibration {
        for &input in &float.inputs {
            ranges.entry(input).or_default().observe(window, sample);
        }
        let mut observe = |index: usize, data: &TensorData| {
            if let TensorData::F32(values) = data {
                ranges.entry(index).or_default().observe(values, sample);
            }
        };
        runner.invoke_observed(&[TensorData::F32(window.clone())], &mut observe)?;
    }
    Ok(ranges
        .into_iter()
        .map(|(index, range)| (index, range.bounds(percentile)))
        .collect())
}

/// Asymmetric int8 parameters for a range (see the module doc).
fn activation_params(range: Option<&(f32, f32)>) -> Result<Quantization, QuantError> {
    let &(min, max) = range.ok_or_else(|| {
        QuantError::Invalid("an activation the calibration never computed".into())
    })?;
    let (min, max) = (min.min(0.0) as f64, max.max(0.0) as f64);
    if max - min <= f64::EPSILON {
        // Always zero: any scale represents it; TFLite uses 1 in this case too.
        return Ok(Quantization::per_tensor(1.0, -128));
    }
    let scale = ((max - min) / 255.0).max(MIN_ACTIVATION_SCALE);
    let zero_point = (-128.0 - min / scale).round().clamp(-128.0, 127.0) as i64;
    Ok(Quantization::per_tensor(scale as f32, zero_point))
}

/// Symmetric int8 weights, per channel along `axis` or per tensor.
fn quantize_weights(tensor: &TensorSpec, axis: Option<usize>) -> Result<TensorSpec, QuantError> {
    let values = tensor.data_f32()?;
    // Element i belongs to channel (i / inner) % channels along the axis.
    let (channels, inner) = match axis {
        Some(axis) => {
            let channels = tensor.shape.get(axis).copied().unwrap_or(1).max(1);
            let inner: usize = tensor.shape.iter().skip(axis + 1).product();
            (channels, inner.max(1))
        }
        None => (1, values.len().max(1)),
    };
    let channel_of = |i: usize| (i / inner) % channels;
    let mut max_abs = vec![0f32; channels];
    for (i, v) in values.iter().enumerate() {
        if let Some(m) = max_abs.get_mut(channel_of(i)) {
            *m = m.max(v.abs());
        }
    }
    let scales: Vec<f32> = max_abs
        .iter()
        .map(|&m| if m > 0.0 { m / 127.0 } else { 1.0 })
        .collect();
    let q: Vec<i8> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let s = scales.get(channel_of(i)).copied().unwrap_or(1.0);
            (v / s).round().clamp(-127.0, 127.0) as i8
        })
        .collect();
    let mut out = TensorSpec::constant_i8(tensor.name.clone(), tensor.shape.clone(), &q);
    out.quantization = Some(Quantization {
        zero_point: vec![0; scales.len()],
        scale: scales,
        quantized_dimension: axis.unwrap_or(0),
    });
    Ok(out)
}

/// int32 bias with scale `input_scale × weight_scale[c]`.
fn quantize_bias(
    tensor: &TensorSpec,
    input_scale: f32,
    weight_scales: &[f32],
) -> Result<TensorSpec, QuantError> {
    let values = tensor.data_f32()?;
    let scale_of = |c: usize| {
        let w = if weight_scales.len() == 1 {
            weight_scales.first()
        } else {
            weight_scales.get(c)
        };
        input_scale as f64 * w.copied().unwrap_or(1.0) as f64
    };
    if weight_scales.len() != 1 && weight_scales.len() != values.len() {
        return Err(QuantError::Invalid(format!(
            "bias {:?} has {} values for {} weight scales",
            tensor.name,
            values.len(),
            weight_scales.len()
        )));
    }
    let q: Vec<i32> = values
        .iter()
        .enumerate()
        .map(|(c, &b)| {
            (b as f64 / scale_of(c))
                .round()
                .clamp(i32::MIN as f64, i32::MAX as f64) as i32
        })
        .collect();
    let scales: Vec<f32> = (0..values.len()).map(|c| scale_of(c) as f32).collect();
    let mut out = TensorSpec::constant_i32(tensor.name.clone(), tensor.shape.clone(), &q);
    out.quantization = Some(Quantization {
        zero_point: vec![0; scales.len()],
        scale: scales,
        quantized_dimension: 0,
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_range_always_contains_zero() {
        let q = activation_params(Some(&(0.5, 2.55))).unwrap();
        // min is pulled to 0: scale 2.55 / 255 = 0.01, zero point −128.
        assert!((q.scale[0] - 0.01).abs() < 1e-7);
        assert_eq!(q.zero_point, vec![-128]);
        let q = activation_params(Some(&(-1.0, 1.0))).unwrap();
        assert!((q.scale[0] - 2.0 / 255.0).abs() < 1e-7);
        // −128 − (−1)/(2/255) = −0.5 → rounds away from zero to −1.
        assert_eq!(q.zero_point, vec![-1]);
    }

    #[test]
    fn a_nearly_zero_tensor_still_gets_a_usable_scale() {
        let q = activation_params(Some(&(0.0, 4e-7))).unwrap();
        let (scale, zero_point) = q.single().unwrap();
        let bounds = crate::quant::kernels::activation_range_quantized(
            crate::quant::Activation::Relu6,
            scale,
            zero_point as i32,
            [-128, 127],
        );
        assert!(bounds.is_ok(), "{bounds:?} at scale {scale}");
    }

    #[test]
    fn per_channel_weights_use_each_channels_maximum() {
        let w = TensorSpec::constant_f32("w", vec![2, 1, 1, 2], &[1.0, -0.5, 0.1, 0.05]);
        let q = quantize_weights(&w, Some(0)).unwrap();
        let params = q.quantization.clone().unwrap();
        assert_eq!(params.scale, vec![1.0 / 127.0, 0.1 / 127.0]);
        assert_eq!(q.data_i8().unwrap(), vec![127, -64, 127, 64]);
        let depthwise = TensorSpec::constant_f32("dw", vec![1, 1, 2, 2], &[1.0, 0.2, -0.5, 0.1]);
        let q = quantize_weights(&depthwise, Some(3)).unwrap();
        assert_eq!(
            q.quantization.clone().unwrap().scale,
            vec![1.0 / 127.0, 0.2 / 127.0]
        );
        assert_eq!(q.data_i8().unwrap(), vec![127, 127, -64, 64]);
    }

    #[test]
    fn bias_scale_is_input_times_weight_scale() {
        let b = TensorSpec::constant_f32("b", vec![2], &[0.5, -0.25]);
        let q = quantize_bias(&b, 0.5, &[0.01, 0.02]).unwrap();
        assert_eq!(q.data_i32().unwrap(), vec![100, -25]);
    }

    #[test]
    fn percentile_ignores_outliers() {
        let mut range = Range::default();
        let mut values: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        values.push(100.0);
        for chunk in values.chunks(200) {
            range.observe(chunk, true);
        }
        let (_, max) = range.bounds(Some(99.0));
        assert!(max < 1.0, "{max}");
        assert_eq!(range.bounds(None).1, 100.0);
    }
}
