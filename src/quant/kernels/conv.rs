//! `CONV_2D` and `DEPTHWISE_CONV_2D`: TFLite's `reference_ops::Conv` / `DepthwiseConv` (float32)
//! and `reference_integer_ops::ConvPerChannel` / `DepthwiseConvPerChannel` (int8).
//!
//! Shapes: input NHWC `[n, h, w, c_in]`, convolution filter OHWI `[c_out, kh, kw, c_in]`,
//! depthwise filter `[1, kh, kw, c_in · m]` with output channel `ic · m + k`. Padding is left out
//! of the sums (zero in real terms, i.e. the input zero point in int8).
//!
//! int8: `acc = Σ filter · (input + input_offset) + bias` in int32, then
//! `MultiplyByQuantizedMultiplier(acc, multiplier[c], shift[c]) + output_offset`, clamped to the
//! activation range. Float sums run in the reference's order (taps row by row, channels
//! innermost), so results match TFLite's float kernels bit for bit too.

use super::fixed_point::multiply_by_quantized_multiplier;
use super::{Window2d, check_len, clamp_f32};
use crate::quant::QuantError;

/// The int8 requantization of a convolution, fully connected or depthwise layer.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizedOutput {
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// The output zero point.
    pub output_offset: i32,
    /// `(multiplier, shift)` per output channel (from [`super::channel_multipliers`]).
    pub multipliers: Vec<(i32, i32)>,
    /// Lowest output value (fused activation and int8 range).
    pub activation_min: i32,
    /// Highest output value.
    pub activation_max: i32,
}

impl QuantizedOutput {
    /// The int8 output of channel `channel` for accumulator `acc` (bias included).
    pub fn requantize(&self, acc: i32, channel: usize) -> i8 {
        let (multiplier, shift) = self.multipliers.get(channel).copied().unwrap_or((0, 0));
        let scaled = multiply_by_quantized_multiplier(acc, multiplier, shift)
            .wrapping_add(self.output_offset);
        scaled.clamp(
            self.activation_min,
            self.activation_max.max(self.activation_min),
        ) as i8
    }
}

/// The shapes of one convolution: window geometry and channel counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Window geometry.
    pub window: Window2d,
    /// Input channels.
    pub input_channels: usize,
    /// Output channels.
    pub output_channels: usize,
}

impl ConvShape {
    fn check<T, B>(&self, input: &[T], filter: &[T], bias: Option<&[B]>) -> Result<(), QuantError> {
        let Self {
            window,
            input_channels,
            output_channels,
        } = *self;
        let [kh, kw] = window.filter_hw;
        check_len(
            "conv input",
            input.len(),
            window.input_pixels() * input_channels,
        )?;
        check_len(
            "conv filter",
            filter.len(),
            output_channels * kh * kw * input_channels,
        )?;
        if let Some(bias) = bias {
            check_len("conv bias", bias.len(), output_channels)?;
        }
        Ok(())
    }
}

/// Float32 `CONV_2D` with the clamp `(min, max)` of its fused activation.
pub fn conv_f32(
    shape: &ConvShape,
    input: &[f32],
    filter: &[f32],
    bias: Option<&[f32]>,
    (min, max): (f32, f32),
) -> Result<Vec<f32>, QuantError> {
    shape.check(input, filter, bias)?;
    let ConvShape {
        window,
        input_channels: c_in,
        output_channels: c_out,
    } = *shape;
    let taps = window.filter_hw[0] * window.filter_hw[1];
    let mut output = vec![0.0; window.output_pixels() * c_out];
    for (pixel, out) in output.chunks_exact_mut(c_out).enumerate() {
        window.for_each_tap(pixel, |input_pixel, tap| {
            let start = input_pixel * c_in;
            let x = input.get(start..start + c_in).unwrap_or_default();
            for (oc, acc) in out.iter_mut().enumerate() {
                let f_start = (oc * taps + tap) * c_in;
                let f = filter.get(f_start..f_start + c_in).unwrap_or_default();
                for (xv, fv) in x.iter().zip(f) {
                    *acc += xv * fv;
                }
            }
        });
        for (oc, acc) in out.iter_mut().enumerate() {
            let b = bias.and_then(|b| b.get(oc)).copied().unwrap_or(0.0);
            *acc = clamp_f32(*acc + b, min, max);
        }
    }
    Ok(output)
}

/// int8 `CONV_2D` (`ConvPerChannel`; per-tensor filters use one multiplier for every channel).
pub fn conv_i8(
    shape: &ConvShape,
    input: &[i8],
    filter: &[i8],
    bias: Option<&[i32]>,
    quant: &QuantizedOutput,
) -> Result<Vec<i8>, QuantError> {
    shape.check(input, filter, bias)?;
    let ConvShape {
        window,
        input_channels: c_in,
        output_channels: c_out,
    } = *shape;
    let taps = window.filter_hw[0] * window.filter_hw[1];
    let mut output = vec![0i8; window.output_pixels() * c_out];
    let mut acc = vec![0i32; c_out];
    let mut shifted_input = vec![0i32; c_in];
    for (pixel, out) in output.chunks_exact_mut(c_out).enumerate() {
        acc.fill(0);
        window.for_each_tap(pixel, |input_pixel, tap| {
            let start = input_pixel * c_in;
            let x = input.get(start..start + c_in).unwrap_or_default();
            for (s, &xv) in shifted_input.iter_mut().zip(x) {
                *s = i32::from(xv) + quant.input_offset;
            }
            for (oc, a) in acc.iter_mut().enumerate() {
                let f_start = (oc * taps + tap) * c_in;
                let f = filter.get(f_start..f_start + c_in).unwrap_or_default();
                let mut sum = *a;
                for (&s, &fv) in shifted_input.iter().zip(f) {
                    sum = sum.wrapping_add(i32::from(fv).wrapping_mul(s));
                }
                *a = sum;
            }
        });
        for (oc, (o, &a)) in out.iter_mut().zip(&acc).enumerate() {
            let b = bias.and_then(|b| b.get(oc)).copied().unwrap_or(0);
            *o = quant.requantize(a.wrapping_add(b), oc);
        }
    }
    Ok(output)
}

/// The shapes of one depthwise convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthwiseShape {
    /// Window geometry.
    pub window: Window2d,
    /// Input channels.
    pub input_channels: usize,
    /// Output channels per input channel (`output channels = input channels · m`).
    pub depth_multiplier: usize,
}

impl DepthwiseShape {
    /// Output channels.
    pub fn output_channels(&self) -> usize {
        self.input_channels * self.depth_multiplier
    }

    fn check<T, B>(&self, input: &[T], filter: &[T], bias: Option<&[B]>) -> Result<(), QuantError> {
        let [kh, kw] = self.window.filter_hw;
        let c_out = self.output_channels();
        if self.depth_multiplier == 0 {
            return Err(QuantError::Invalid("depth multiplier 0".into()));
        }
        check_len(
            "depthwise input",
            input.len(),
            self.window.input_pixels() * self.input_channels,
        )?;
        check_len("depthwise filter", filter.len(), kh * kw * c_out)?;
        if let Some(bias) = bias {
            check_len("depthwise bias", bias.len(), c_out)?;
        }
        Ok(())
    }
}

/// Float32 `DEPTHWISE_CONV_2D` with the clamp `(min, max)` of its fused activation.
pub fn depthwise_f32(
    shape: &DepthwiseShape,
    input: &[f32],
    filter: &[f32],
    bias: Option<&[f32]>,
    (min, max): (f32, f32),
) -> Result<Vec<f32>, QuantError> {
    shape.check(input, filter, bias)?;
    let (c_in, m, c_out) = (
        shape.input_channels,
        shape.depth_multiplier,
        shape.output_channels(),
    );
    let mut output = vec![0.0; shape.window.output_pixels() * c_out];
    for (pixel, out) in output.chunks_exact_mut(c_out).enumerate() {
        shape.window.for_each_tap(pixel, |input_pixel, tap| {
            let start = input_pixel * c_in;
            let x = input.get(start..start + c_in).unwrap_or_default();
            let f = filter
                .get(tap * c_out..(tap + 1) * c_out)
                .unwrap_or_default();
            for ((accs, fs), xv) in out.chunks_exact_mut(m).zip(f.chunks_exact(m)).zip(x) {
                for (acc, fv) in accs.iter_mut().zip(fs) {
                    *acc += xv * fv;
                }
            }
        });
        for (oc, acc) in out.iter_mut().enumerate() {
            let b = bias.and_then(|b| b.get(oc)).copied().unwrap_or(0.0);
            *acc = clamp_f32(*acc + b, min, max);
        }
    }
    Ok(output)
}

/// int8 `DEPTHWISE_CONV_2D` (`DepthwiseConvPerChannel`).
pub fn depthwise_i8(
    shape: &DepthwiseShape,
    input: &[i8],
    filter: &[i8],
    bias: Option<&[i32]>,
    quant: &QuantizedOutput,
) -> Result<Vec<i8>, QuantError> {
    shape.check(input, filter, bias)?;
    let (c_in, m, c_out) = (
        shape.input_channels,
        shape.depth_multiplier,
        shape.output_channels(),
    );
    let mut output = vec![0i8; shape.window.output_pixels() * c_out];
    let mut acc = vec![0i32; c_out];
    for (pixel, out) in output.chunks_exact_mut(c_out).enumerate() {
        acc.fill(0);
        shape.window.for_each_tap(pixel, |input_pixel, tap| {
            let start = input_pixel * c_in;
            let x = input.get(start..start + c_in).unwrap_or_default();
            let f = filter
                .get(tap * c_out..(tap + 1) * c_out)
                .unwrap_or_default();
            for ((accs, fs), &xv) in acc.chunks_exact_mut(m).zip(f.chunks_exact(m)).zip(x) {
                let shifted = i32::from(xv) + quant.input_offset;
                for (a, &fv) in accs.iter_mut().zip(fs) {
                    *a = a.wrapping_add(i32::from(fv).wrapping_mul(shifted));
                }
            }
        });
        for (oc, (o, &a)) in out.iter_mut().zip(&acc).enumerate() {
            let b = bias.and_then(|b| b.get(oc)).copied().unwrap_or(0);
            *o = quant.requantize(a.wrapping_add(b), oc);
        }
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Padding;

    fn window(hw: [usize; 2], k: [usize; 2], s: [usize; 2], padding: Padding) -> Window2d {
        Window2d::new(1, hw, k, s, [1, 1], padding).unwrap()
    }

    #[test]
    fn float_conv_same_stride_two_odd_input() {
        // 3×3 single-channel input 1..9, 3×3 filter of ones, SAME, stride 2: output 2×2, one
        // row/column of padding before. Each output sums the in-bounds 3×3 neighbourhood of
        // input (2·oy, 2·ox) (0-based, centre at the input pixel).
        let input: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let shape = ConvShape {
            window: window([3, 3], [3, 3], [2, 2], Padding::Same),
            input_channels: 1,
            output_channels: 1,
        };
        let out = conv_f32(
            &shape,
            &input,
            &[1.0; 9],
            Some(&[0.5]),
            (f32::MIN, f32::MAX),
        )
        .unwrap();
        // (0,0): 1+2+4+5 = 12; (0,2): 2+3+5+6 = 16; (2,0): 4+5+7+8 = 24; (2,2): 5+6+8+9 = 28.
        assert_eq!(out, vec![12.5, 16.5, 24.5, 28.5]);
    }

    #[test]
    fn float_conv_two_channels_valid_and_relu() {
        // 1×2 input with 2 channels [[1, 2], [3, 4]], 1×2 filter, 2 output channels:
        // oc0 weights [1, 0, 0, 1] → 1 + 4 = 5; oc1 weights [-1, -1, -1, -1] → -10 → relu 0.
        let shape = ConvShape {
            window: window([1, 2], [1, 2], [1, 1], Padding::Valid),
            input_channels: 2,
            output_channels: 2,
        };
        let filter = [1.0, 0.0, 0.0, 1.0, -1.0, -1.0, -1.0, -1.0];
        let out = conv_f32(
            &shape,
            &[1.0, 2.0, 3.0, 4.0],
            &filter,
            None,
            (0.0, f32::MAX),
        )
        .unwrap();
        assert_eq!(out, vec![5.0, 0.0]);
    }

    #[test]
    fn int8_conv_per_channel() {
        // Input zero point -1 (offset +1), values [3, -1] → shifted [4, 0]. 1×2 filter, 2 output
        // channels: oc0 [2, 5] → acc 8 + bias 2 = 10; oc1 [-3, 7] → -12 + bias 0 = -12.
        // Multipliers: oc0 0.5 (2^30, 0) → 10·0.5 = 5, + out zp 3 = 8;
        // oc1 0.75 (1610612736, 0) → -12·0.75 = -9, + 3 = -6.
        let shape = ConvShape {
            window: window([1, 2], [1, 2], [1, 1], Padding::Valid),
            input_channels: 1,
            output_channels: 2,
        };
        let quant = QuantizedOutput {
            input_offset: 1,
            output_offset: 3,
            multipliers: vec![(1 << 30, 0), (1_610_612_736, 0)],
            activation_min: -128,
            activation_max: 127,
        };
        let out = conv_i8(&shape, &[3, -1], &[2, 5, -3, 7], Some(&[2, 0]), &quant).unwrap();
        assert_eq!(out, vec![8, -6]);
    }

    #[test]
    fn int8_conv_padding_contributes_nothing_and_clamps() {
        // 1×1 input [10] (offset 0), 3×3 filter of 2s, SAME: only the centre tap is in bounds:
        // acc = 20, multiplier 8 = (2^30, 4): 20·0.5·16 = 160, clamped to 127.
        let shape = ConvShape {
            window: window([1, 1], [3, 3], [1, 1], Padding::Same),
            input_channels: 1,
            output_channels: 1,
        };
        let quant = QuantizedOutput {
            input_offset: 0,
            output_offset: 0,
            multipliers: vec![(1 << 30, 4)],
            activation_min: -128,
            activation_max: 127,
        };
        assert_eq!(
            conv_i8(&shape, &[10], &[2; 9], None, &quant).unwrap(),
            vec![127]
        );
    }

    #[test]
    fn float_depthwise_multiplier_two() {
        // 1×1 pixel with channels [2, 3], 1×1 filter, m = 2: outputs [2·w0, 2·w1, 3·w2, 3·w3].
        let shape = DepthwiseShape {
            window: window([1, 1], [1, 1], [1, 1], Padding::Valid),
            input_channels: 2,
            depth_multiplier: 2,
        };
        let out = depthwise_f32(
            &shape,
            &[2.0, 3.0],
            &[1.0, -1.0, 10.0, 0.5],
            Some(&[0.0, 0.0, 1.0, 0.0]),
            (f32::MIN, f32::MAX),
        )
        .unwrap();
        assert_eq!(out, vec![2.0, -2.0, 31.0, 1.5]);
    }

    #[test]
    fn float_depthwise_same_stride_two() {
        // 3×3×1 input 1..9, 2×2 filter [[1, 10], [100, 1000]], SAME stride 2: out 2×2, total
        // padding (2-1)·2 + 2 - 3 = 1, so 0 before (the extra row/column is after).
        // (0,0): 1 + 20 + 400 + 5000 = 5421; (0,1): 3 + 0 + 600 + 0 = 603;
        // (1,0): 7 + 80 = 87; (1,1): 9.
        let shape = DepthwiseShape {
            window: window([3, 3], [2, 2], [2, 2], Padding::Same),
            input_channels: 1,
            depth_multiplier: 1,
        };
        let input: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let out = depthwise_f32(
            &shape,
            &input,
            &[1.0, 10.0, 100.0, 1000.0],
            None,
            (f32::MIN, f32::MAX),
        )
        .unwrap();
        assert_eq!(out, vec![5421.0, 603.0, 87.0, 9.0]);
    }

    #[test]
    fn int8_depthwise() {
        // Channels [5, -2] with input offset 2 → [7, 0]; 1×2 window over 2 pixels:
        // pixel 0 = [5, -2], pixel 1 = [-1, 4] → shifted [1, 6].
        // ch0 weights [3, -4]: 7·3 + 1·(-4) = 17; ch1 weights [1, 2]: 0 + 12 = 12.
        // Bias [1, -2] → 18, 10; multiplier 0.5 → 9, 5; zero point -5 → 4, 0; relu clamp at -5.
        let shape = DepthwiseShape {
            window: window([1, 2], [1, 2], [1, 1], Padding::Valid),
            input_channels: 2,
            depth_multiplier: 1,
        };
        let quant = QuantizedOutput {
            input_offset: 2,
            output_offset: -5,
            multipliers: vec![(1 << 30, 0); 2],
            activation_min: -5,
            activation_max: 127,
        };
        let out = depthwise_i8(
            &shape,
            &[5, -2, -1, 4],
            &[3, 1, -4, 2],
            Some(&[1, -2]),
            &quant,
        )
        .unwrap();
        assert_eq!(out, vec![4, 0]);
    }

    #[test]
    fn wrong_lengths_are_errors() {
        let shape = ConvShape {
            window: window([1, 2], [1, 2], [1, 1], Padding::Valid),
            input_channels: 1,
            output_channels: 1,
        };
        assert!(conv_f32(&shape, &[1.0], &[1.0, 1.0], None, (0.0, 1.0)).is_err());
    }
}
