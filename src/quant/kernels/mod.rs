//! TensorFlow Lite Micro's reference kernels, float32 and int8, as plain functions over
//! slices: the interpreter (`quant::interpreter`) checks the graph and precomputes parameters,
//! these compute, bit-exact with `tensorflow/lite/kernels/internal/reference/**`.
//!
//! Shared here: window geometry (`ComputePaddingHeightWidth`), fused activation ranges
//! (`CalculateActivationRange`, `CalculateActivationRangeQuantized`), and the per-channel
//! multipliers of convolutions. Kernels check slice lengths on entry and return
//! [`QuantError::Invalid`] instead of panicking.

pub mod conv;
pub mod elementwise;
pub mod fixed_point;
pub mod fully_connected;
pub mod pool;
pub mod reduce;
pub mod softmax;

use crate::nn::Padding;
use crate::quant::{Activation, QuantError};

/// `(output length, padding before)` of one spatial axis, as TFLite's `ComputeOutSize` and
/// `ComputePaddingWithOffset` give them (`same`: `ceil(in / stride)`; `valid`:
/// `(in − effective + stride) / stride` with `effective = (filter − 1)·dilation + 1`; padding
/// before is half the total, rounded down). `None` when a size is zero or a valid window does
/// not fit.
pub fn window(
    padding: Padding,
    input: usize,
    filter: usize,
    stride: usize,
    dilation: usize,
) -> Option<(usize, usize)> {
    if input == 0 || filter == 0 || stride == 0 || dilation == 0 {
        return None;
    }
    let effective = (filter - 1) * dilation + 1;
    let output = match padding {
        Padding::Same => input.div_ceil(stride),
        Padding::Valid => {
            if effective > input {
                return None;
            }
            (input - effective + stride) / stride
        }
    };
    let total = ((output - 1) * stride + effective).saturating_sub(input);
    Some((output, total / 2))
}

/// The sliding-window geometry of one convolution or pooling operator (NHWC, `[h, w]` pairs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window2d {
    /// Batch size.
    pub batches: usize,
    /// Input `[height, width]`.
    pub input_hw: [usize; 2],
    /// Output `[height, width]`.
    pub output_hw: [usize; 2],
    /// Filter `[height, width]`.
    pub filter_hw: [usize; 2],
    /// `[stride_h, stride_w]`.
    pub stride_hw: [usize; 2],
    /// `[dilation_h, dilation_w]`.
    pub dilation_hw: [usize; 2],
    /// Padding `[top, left]`.
    pub pad_hw: [usize; 2],
}

impl Window2d {
    /// The geometry for an input of `[batches, h, w, _]`, or `None` when a window does not fit.
    pub fn new(
        batches: usize,
        input_hw: [usize; 2],
        filter_hw: [usize; 2],
        stride_hw: [usize; 2],
        dilation_hw: [usize; 2],
        padding: Padding,
    ) -> Option<Window2d> {
        let [h, w] = input_hw;
        let [fh, fw] = filter_hw;
        let (oh, pad_top) = window(padding, h, fh, stride_hw[0], dilation_hw[0])?;
        let (ow, pad_left) = window(padding, w, fw, stride_hw[1], dilation_hw[1])?;
        Some(Window2d {
            batches,
            input_hw,
            output_hw: [oh, ow],
            filter_hw,
            stride_hw,
            dilation_hw,
            pad_hw: [pad_top, pad_left],
        })
    }

    /// Output pixels over the batch.
    pub fn output_pixels(&self) -> usize {
        self.batches * self.output_hw[0] * self.output_hw[1]
    }

    /// Input pixels over the batch.
    pub fn input_pixels(&self) -> usize {
        self.batches * self.input_hw[0] * self.input_hw[1]
    }

    /// `(batch, out_y, out_x)` of output pixel `pixel` (NHWC order).
    pub fn output_position(&self, pixel: usize) -> (usize, usize, usize) {
        let [oh, ow] = self.output_hw;
        let per_image = (oh * ow).max(1);
        (
            pixel / per_image,
            (pixel % per_image) / ow.max(1),
            pixel % ow.max(1),
        )
    }

    /// The input coordinate on `axis` (0 = height, 1 = width) under filter tap `tap` of output
    /// position `out`, or `None` when it falls in the padding.
    pub fn input_coordinate(&self, axis: usize, out: usize, tap: usize) -> Option<usize> {
        let (stride, dilation, pad, size) = match axis {
            0 => (
                self.stride_hw[0],
                self.dilation_hw[0],
                self.pad_hw[0],
                self.input_hw[0],
            ),
            _ => (
                self.stride_hw[1],
                self.dilation_hw[1],
                self.pad_hw[1],
                self.input_hw[1],
            ),
        };
        (out * stride + tap * dilation)
            .checked_sub(pad)
            .filter(|&i| i < size)
    }

    /// Calls `visit(input_pixel, tap)` for every in-bounds filter tap of output pixel `pixel`,
    /// rows then columns, where `input_pixel` indexes NHWC pixels of the input batch and `tap`
    /// is `ky · filter_w + kx`.
    pub fn for_each_tap(&self, pixel: usize, mut visit: impl FnMut(usize, usize)) {
        let (batch, oy, ox) = self.output_position(pixel);
        let [h, w] = self.input_hw;
        let [fh, fw] = self.filter_hw;
        for ky in 0..fh {
            let Some(iy) = self.input_coordinate(0, oy, ky) else {
                continue;
            };
            for kx in 0..fw {
                let Some(ix) = self.input_coordinate(1, ox, kx) else {
                    continue;
                };
                visit((batch * h + iy) * w + ix, ky * fw + kx);
            }
        }
    }
}

/// `std::min(std::max(x, min), max)` with C++'s comparison semantics (a NaN passes through).
pub fn clamp_f32(x: f32, min: f32, max: f32) -> f32 {
    let low = if x < min { min } else { x };
    if max < low { max } else { low }
}

/// The float clamp of a fused activation (`CalculateActivationRange`).
pub fn activation_range_f32(activation: Activation) -> (f32, f32) {
    match activation {
        Activation::None => (f32::MIN, f32::MAX),
        Activation::Relu => (0.0, f32::MAX),
        Activation::Relu6 => (0.0, 6.0),
    }
}

/// TFLite's `Quantize` helper of `kernel_util.cc`: `zero_point + round(value / scale)` in
/// float32, or an error when it overflows `int32`.
fn quantize_for_range(scale: f32, zero_point: i32, value: f32) -> Result<i32, QuantError> {
    let quotient = (value / scale).round();
    if !(quotient >= i32::MIN as f32 && quotient <= i32::MAX as f32) {
        return Err(QuantError::Invalid(format!(
            "activation bound {value} does not fit int32 at scale {scale}"
        )));
    }
    Ok(zero_point.saturating_add(quotient as i32))
}

/// `CalculateActivationRangeQuantized` for an output of scale `scale`, zero point `zero_point`
/// and type range `[type_min, type_max]`: the fused activation's clamp in quantized units.
pub fn activation_range_quantized(
    activation: Activation,
    scale: f32,
    zero_point: i32,
    [type_min, type_max]: [i32; 2],
) -> Result<(i32, i32), QuantError> {
    match activation {
        Activation::None => Ok((type_min, type_max)),
        Activation::Relu => Ok((
            type_min.max(quantize_for_range(scale, zero_point, 0.0)?),
            type_max,
        )),
        Activation::Relu6 => Ok((
            type_min.max(quantize_for_range(scale, zero_point, 0.0)?),
            type_max.min(quantize_for_range(scale, zero_point, 6.0)?),
        )),
    }
}

/// The int8 range `[-128, 127]`.
pub const INT8_RANGE: [i32; 2] = [i8::MIN as i32, i8::MAX as i32];

/// Per-channel `(multiplier, shift)` of a convolution or fully connected layer, as
/// `PopulateConvolutionQuantizationParams` computes them: `input_scale · filter_scale /
/// output_scale` in double, one per output channel (a single filter scale is broadcast).
pub fn channel_multipliers(
    input_scale: f32,
    filter_scales: &[f32],
    output_scale: f32,
    channels: usize,
) -> Vec<(i32, i32)> {
    (0..channels)
        .map(|c| {
            let filter_scale = match filter_scales {
                [single] => *single,
                many => many.get(c).copied().unwrap_or(0.0),
            };
            fixed_point::quantize_multiplier(
                f64::from(input_scale) * f64::from(filter_scale) / f64::from(output_scale),
            )
        })
        .collect()
}

/// Checks that a kernel argument has the length the geometry implies.
pub(crate) fn check_len(what: &str, actual: usize, expected: usize) -> Result<(), QuantError> {
    if actual == expected {
        Ok(())
    } else {
        Err(QuantError::Invalid(format!(
            "{what} has {actual} values, expected {expected}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_with_stride_two_on_odd_sizes() {
        // in 5, k 3, s 2: out = ceil(5/2) = 3, total = (3-1)·2 + 3 - 5 = 2, 1 before.
        assert_eq!(window(Padding::Same, 5, 3, 2, 1), Some((3, 1)));
        // in 7, k 2, s 2: out 4, total = 3·2 + 2 - 7 = 1, 0 before (the extra goes after).
        assert_eq!(window(Padding::Same, 7, 2, 2, 1), Some((4, 0)));
        // Dilation 2 makes a 3-tap filter span 5: in 5, s 1: out 5, total 4, 2 before.
        assert_eq!(window(Padding::Same, 5, 3, 1, 2), Some((5, 2)));
        assert_eq!(window(Padding::Valid, 5, 3, 2, 1), Some((2, 0)));
        assert_eq!(window(Padding::Valid, 2, 3, 1, 1), None);
    }

    #[test]
    fn quantized_activation_ranges() {
        // Scale 0.1, zero point -10: 0 → -10, 6 → -10 + 60 = 50.
        assert_eq!(
            activation_range_quantized(Activation::Relu6, 0.1, -10, INT8_RANGE).unwrap(),
            (-10, 50)
        );
        assert_eq!(
            activation_range_quantized(Activation::Relu, 0.1, -128, INT8_RANGE).unwrap(),
            (-128, 127)
        );
        // 6 / 0.01 = 600 is clamped to the type.
        assert_eq!(
            activation_range_quantized(Activation::Relu6, 0.01, 0, INT8_RANGE).unwrap(),
            (0, 127)
        );
    }

    #[test]
    fn taps_skip_the_padding() {
        // 3×3 input, 3×3 filter, same, stride 1: the corner output sees taps 4, 5, 7, 8.
        let w = Window2d::new(1, [3, 3], [3, 3], [1, 1], [1, 1], Padding::Same).unwrap();
        let mut taps = Vec::new();
        w.for_each_tap(0, |pixel, tap| taps.push((pixel, tap)));
        assert_eq!(taps, vec![(0, 4), (1, 5), (3, 7), (4, 8)]);
    }
}
