//! Element-wise and data-movement operators: `ADD` (TFLM `add.cc`, int8 with `left_shift` 20),
//! `RELU`, `RELU6` (TFLM `activations.cc`), `PAD`, `QUANTIZE` (`AffineQuantize`, `Requantize`)
//! and `DEQUANTIZE`. `RESHAPE` moves no data and needs no kernel.
//!
//! int8 `ADD`: both inputs are offset by their zero points, shifted left by 20 bits, scaled by
//! `scale_i / (2 · max(scale_1, scale_2))`, summed, scaled by `2 · max_scale / (2^20 ·
//! output_scale)`, offset by the output zero point and clamped — every multiplier through
//! `MultiplyByQuantizedMultiplierSmallerThanOneExp`.

use super::fixed_point::{
    multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_smaller_than_one,
    quantize_multiplier,
};
use super::{INT8_RANGE, activation_range_quantized, check_len, clamp_f32};
use crate::quant::{Activation, QuantError};

/// `input` of `input_shape` broadcast to `output_shape` (NumPy rules, shapes aligned on the
/// right), or an error when the shapes are incompatible.
pub fn broadcast<T: Copy>(
    input: &[T],
    input_shape: &[usize],
    output_shape: &[usize],
) -> Result<Vec<T>, QuantError> {
    let incompatible = || {
        QuantError::Invalid(format!(
            "cannot broadcast shape {input_shape:?} to {output_shape:?}"
        ))
    };
    check_len("broadcast input", input.len(), input_shape.iter().product())?;
    if input_shape.len() > output_shape.len() {
        return Err(incompatible());
    }
    let lead = output_shape.len() - input_shape.len();
    // Stride of each output axis in the input (0 where the input is broadcast).
    let mut strides = vec![0usize; output_shape.len()];
    let mut stride = 1;
    for (axis, &in_dim) in input_shape.iter().enumerate().rev() {
        let out_dim = output_shape.get(lead + axis).copied().unwrap_or(0);
        if in_dim != out_dim && in_dim != 1 {
            return Err(incompatible());
        }
        if let Some(s) = strides.get_mut(lead + axis) {
            *s = if in_dim == 1 { 0 } else { stride };
        }
        stride *= in_dim;
    }
    let total: usize = output_shape.iter().product();
    let mut output = Vec::with_capacity(total);
    let mut index = vec![0usize; output_shape.len()];
    let mut offset = 0usize;
    for _ in 0..total {
        output.push(input.get(offset).copied().ok_or_else(incompatible)?);
        for ((i, &dim), &s) in index.iter_mut().zip(output_shape).zip(&strides).rev() {
            *i += 1;
            offset += s;
            if *i < dim {
                break;
            }
            offset -= s * dim;
            *i = 0;
        }
    }
    Ok(output)
}

/// Float32 `ADD` of same-length inputs with the clamp `(min, max)` of its fused activation.
pub fn add_f32(a: &[f32], b: &[f32], (min, max): (f32, f32)) -> Result<Vec<f32>, QuantError> {
    check_len("ADD second input", b.len(), a.len())?;
    Ok(a.iter()
        .zip(b)
        .map(|(x, y)| clamp_f32(x + y, min, max))
        .collect())
}

/// The int8 `ADD` parameters of TFLM's `CalculateOpDataAdd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddQuant {
    /// `-zero_point` of the first input.
    pub input1_offset: i32,
    /// `-zero_point` of the second input.
    pub input2_offset: i32,
    /// Output zero point.
    pub output_offset: i32,
    /// 20 for int8.
    pub left_shift: i32,
    /// `(multiplier, shift)` of `scale_1 / (2 · max_scale)`.
    pub input1_multiplier: (i32, i32),
    /// `(multiplier, shift)` of `scale_2 / (2 · max_scale)`.
    pub input2_multiplier: (i32, i32),
    /// `(multiplier, shift)` of `2 · max_scale / (2^20 · output_scale)`.
    pub output_multiplier: (i32, i32),
    /// Lowest output value.
    pub activation_min: i32,
    /// Highest output value.
    pub activation_max: i32,
}

/// `QuantizeMultiplierSmallerThanOneExp`: a multiplier in `(0, 1)`.
fn smaller_than_one(real: f64, what: &str) -> Result<(i32, i32), QuantError> {
    if !(real > 0.0 && real < 1.0) {
        return Err(QuantError::Invalid(format!(
            "ADD: the {what} multiplier {real} is not in (0, 1)"
        )));
    }
    Ok(quantize_multiplier(real))
}

impl AddQuant {
    /// The parameters for inputs and output given as `(scale, zero_point)`.
    pub fn new(
        input1: (f32, i32),
        input2: (f32, i32),
        output: (f32, i32),
        activation: Activation,
    ) -> Result<AddQuant, QuantError> {
        let left_shift = 20;
        let twice_max_input_scale = 2.0 * f64::from(input1.0.max(input2.0));
        let (activation_min, activation_max) =
            activation_range_quantized(activation, output.0, output.1, INT8_RANGE)?;
        Ok(AddQuant {
            input1_offset: -input1.1,
            input2_offset: -input2.1,
            output_offset: output.1,
            left_shift,
            input1_multiplier: smaller_than_one(
                f64::from(input1.0) / twice_max_input_scale,
                "first input",
            )?,
            input2_multiplier: smaller_than_one(
                f64::from(input2.0) / twice_max_input_scale,
                "second input",
            )?,
            output_multiplier: smaller_than_one(
                twice_max_input_scale / (f64::from(1u32 << left_shift) * f64::from(output.0)),
                "output",
            )?,
            activation_min,
            activation_max,
        })
    }

    /// `AddFunc` for one pair of values.
    pub fn add(&self, x: i8, y: i8) -> i8 {
        let scale = |v: i8, offset: i32, (m, s): (i32, i32)| {
            let shifted = (offset + i32::from(v)).wrapping_mul(1 << self.left_shift);
            multiply_by_quantized_multiplier_smaller_than_one(shifted, m, s)
        };
        let raw_sum = scale(x, self.input1_offset, self.input1_multiplier).wrapping_add(scale(
            y,
            self.input2_offset,
            self.input2_multiplier,
        ));
        let (m, s) = self.output_multiplier;
        let raw_output = multiply_by_quantized_multiplier_smaller_than_one(raw_sum, m, s)
            .wrapping_add(self.output_offset);
        raw_output.max(self.activation_min).min(self.activation_max) as i8
    }
}

/// int8 `ADD` of same-length inputs.
pub fn add_i8(a: &[i8], b: &[i8], quant: &AddQuant) -> Result<Vec<i8>, QuantError> {
    check_len("ADD second input", b.len(), a.len())?;
    Ok(a.iter().zip(b).map(|(&x, &y)| quant.add(x, y)).collect())
}

/// Float32 `RELU` (`max(x, 0)`) or `RELU6` (`min(max(x, 0), 6)`).
pub fn relu_f32(input: &[f32], six: bool) -> Vec<f32> {
    let upper = if six { 6.0 } else { f32::INFINITY };
    input
        .iter()
        .map(|&v| {
            if v > upper {
                upper
            } else if v < 0.0 {
                0.0
            } else {
                v
            }
        })
        .collect()
}

/// The int8 `RELU` parameters (TFLM's `CalculateReluOpData`): a requantization from the input
/// to the output scale, clamped below at the output zero point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReluQuant {
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
    /// `QuantizeMultiplier(input_scale / output_scale)`, the ratio in float32.
    pub multiplier: (i32, i32),
    /// `max(-128, output_zero_point)`.
    pub activation_min: i32,
}

impl ReluQuant {
    /// The parameters for `(scale, zero_point)` of input and output.
    pub fn new(input: (f32, i32), output: (f32, i32)) -> ReluQuant {
        ReluQuant {
            input_zero_point: input.1,
            output_zero_point: output.1,
            multiplier: quantize_multiplier(f64::from(input.0 / output.0)),
            activation_min: i32::from(i8::MIN).max(output.1),
        }
    }
}

/// int8 `RELU` (`ReluQuantized`).
pub fn relu_i8(input: &[i8], quant: &ReluQuant) -> Vec<i8> {
    let (m, s) = quant.multiplier;
    input
        .iter()
        .map(|&v| {
            let scaled = quant
                .output_zero_point
                .wrapping_add(multiply_by_quantized_multiplier(
                    i32::from(v) - quant.input_zero_point,
                    m,
                    s,
                ));
            scaled.max(quant.activation_min).min(i32::from(i8::MAX)) as i8
        })
        .collect()
}

/// TFLM's `FloatToQuantizedType<int8_t>`: `round(value / scale) + zero_point`, clamped to int8.
pub fn float_to_int8(value: f32, scale: f32, zero_point: i32) -> i8 {
    let rounded = (value / scale).round() as i32;
    rounded
        .saturating_add(zero_point)
        .clamp(i32::from(i8::MIN), i32::from(i8::MAX)) as i8
}

/// int8 `RELU6` (`Relu6Quantized`): the raw values clamped to `[zero_point, q(6)]`, with no
/// rescaling (TFLM assumes the output shares the input's quantization).
pub fn relu6_i8(input: &[i8], scale: f32, zero_point: i32) -> Vec<i8> {
    let lower = zero_point.clamp(i32::from(i8::MIN), i32::from(i8::MAX)) as i8;
    let upper = float_to_int8(6.0, scale, zero_point);
    input
        .iter()
        .map(|&v| {
            if v > upper {
                upper
            } else if v < lower {
                lower
            } else {
                v
            }
        })
        .collect()
}

/// `PAD`: `input` of `input_shape` with `paddings[axis] = (before, after)` values of `value`
/// around it.
pub fn pad<T: Copy>(
    input: &[T],
    input_shape: &[usize],
    paddings: &[(usize, usize)],
    value: T,
) -> Result<Vec<T>, QuantError> {
    check_len("PAD input", input.len(), input_shape.iter().product())?;
    check_len("PAD paddings", paddings.len(), input_shape.len())?;
    let output_shape: Vec<usize> = input_shape
        .iter()
        .zip(paddings)
        .map(|(d, (before, after))| d + before + after)
        .collect();
    let mut output_strides = vec![0usize; output_shape.len()];
    let mut stride = 1;
    for (s, &d) in output_strides.iter_mut().zip(&output_shape).rev() {
        *s = stride;
        stride *= d;
    }
    let mut output = vec![value; stride];
    let mut index = vec![0usize; input_shape.len()];
    let mut offset: usize = paddings
        .iter()
        .zip(&output_strides)
        .map(|((before, _), s)| before * s)
        .sum();
    for &v in input {
        if let Some(o) = output.get_mut(offset) {
            *o = v;
        }
        for ((i, &dim), &s) in index.iter_mut().zip(input_shape).zip(&output_strides).rev() {
            *i += 1;
            offset += s;
            if *i < dim {
                break;
            }
            offset -= s * dim;
            *i = 0;
        }
    }
    Ok(output)
}

/// `QUANTIZE` float32 → int8 (`AffineQuantize`): `round(x / scale) + zero_point` (float32
/// division, ties away from zero), clamped.
pub fn quantize_f32_to_i8(input: &[f32], scale: f32, zero_point: i32) -> Vec<i8> {
    input
        .iter()
        .map(|&v| {
            ((v / scale).round() as i32)
                .saturating_add(zero_point)
                .clamp(i32::from(i8::MIN), i32::from(i8::MAX)) as i8
        })
        .collect()
}

/// `QUANTIZE` between integer types (`Requantize`, TFLM's effective scale
/// `in_scale / out_scale` in double).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequantizeQuant {
    /// `QuantizeMultiplier(input_scale / output_scale)`.
    pub multiplier: (i32, i32),
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
}

impl RequantizeQuant {
    /// The parameters for `(scale, zero_point)` of input and output.
    pub fn new(input: (f32, i32), output: (f32, i32)) -> RequantizeQuant {
        RequantizeQuant {
            multiplier: quantize_multiplier(f64::from(input.0) / f64::from(output.0)),
            input_zero_point: input.1,
            output_zero_point: output.1,
        }
    }

    /// `(q − in_zp) · multiplier + out_zp`, clamped to `[min, max]` (the output type's range).
    pub fn apply(&self, q: i32, [min, max]: [i32; 2]) -> i32 {
        let (m, s) = self.multiplier;
        multiply_by_quantized_multiplier(q.wrapping_sub(self.input_zero_point), m, s)
            .wrapping_add(self.output_zero_point)
            .clamp(min, max)
    }
}

/// `DEQUANTIZE` (and the float view of any quantized value): `scale · (q − zero_point)` in
/// double, rounded once to float32.
pub fn dequantize(values: impl IntoIterator<Item = i32>, scale: f32, zero_point: i32) -> Vec<f32> {
    let scale = f64::from(scale);
    values
        .into_iter()
        .map(|q| (scale * f64::from(q.wrapping_sub(zero_point))) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_follows_numpy() {
        // [2, 1] → [2, 3]: each row repeats its value; [3] → [2, 3]: each row is the vector.
        assert_eq!(
            broadcast(&[1, 2], &[2, 1], &[2, 3]).unwrap(),
            vec![1, 1, 1, 2, 2, 2]
        );
        assert_eq!(
            broadcast(&[1, 2, 3], &[3], &[2, 3]).unwrap(),
            vec![1, 2, 3, 1, 2, 3]
        );
        assert!(broadcast(&[1, 2], &[2], &[3]).is_err());
    }

    #[test]
    fn float_add_and_relus() {
        assert_eq!(
            add_f32(&[1.0, -4.0, 5.0], &[2.0, 1.0, 3.0], (0.0, 6.0)).unwrap(),
            vec![3.0, 0.0, 6.0]
        );
        assert_eq!(relu_f32(&[-1.0, 0.5, 7.0], false), vec![0.0, 0.5, 7.0]);
        assert_eq!(relu_f32(&[-1.0, 0.5, 7.0], true), vec![0.0, 0.5, 6.0]);
    }

    #[test]
    fn int8_add_same_scales() {
        // All scales 0.5, zero points 1, 2 → output 0. twice_max = 1: input multipliers 0.5 =
        // (2^30, 0); output 1 / (2^20 · 0.5) = 2^-19 = (2^30, -18).
        let q = AddQuant::new((0.5, 1), (0.5, 2), (0.5, 0), Activation::None).unwrap();
        assert_eq!(q.input1_multiplier, (1 << 30, 0));
        assert_eq!(q.output_multiplier, (1 << 30, -18));
        // x = 5 → 4 · 2^20 · 0.5 = 2^21; y = 7 → 5 · 2^19; sum 9 · 2^19, × 2^-19 = 9.
        // Real: 0.5·4 + 0.5·5 = 4.5 = 9 · 0.5.
        assert_eq!(add_i8(&[5], &[7], &q).unwrap(), vec![9]);
        // Negative: x = -3 → -4 · 2^19; y = 2 → 0: -4 · 2^19 · 2^-19 = -4.
        assert_eq!(add_i8(&[-3], &[2], &q).unwrap(), vec![-4]);
        // Saturation at 127.
        assert_eq!(add_i8(&[127], &[127], &q).unwrap(), vec![127]);
    }

    #[test]
    fn int8_add_different_scales_and_relu() {
        // Scales 1 and 0.25, output 0.5, all zero points 0: twice_max = 2, multipliers 0.5 and
        // 0.125 = (2^30, -2); output 2 / (2^20 · 0.5) = 2^-18 = (2^30, -17).
        // x = 3, y = 6: 3 · 2^20 · 0.5 = 3 · 2^19, 6 · 2^20 / 8 = 6 · 2^17 = 1.5 · 2^19;
        // sum 4.5 · 2^19 · 2^-18 = 9 (real 3 + 1.5 = 4.5 = 9 · 0.5).
        let q = AddQuant::new((1.0, 0), (0.25, 0), (0.5, 0), Activation::Relu).unwrap();
        assert_eq!(q.input2_multiplier, (1 << 30, -2));
        assert_eq!(add_i8(&[3, -10], &[6, 0], &q).unwrap(), vec![9, 0]);
    }

    #[test]
    fn int8_relu_and_relu6() {
        // Same scale 0.5, zero point -3: relu clamps below at -3 and keeps the rest.
        let q = ReluQuant::new((0.5, -3), (0.5, -3));
        assert_eq!(q.multiplier, (1 << 30, 1));
        assert_eq!(relu_i8(&[-128, -3, 0, 127], &q), vec![-3, -3, 0, 127]);
        // Output scale 1 (half the resolution): (q + 3) · 0.5 + (-3): 5 → 4·0.5=4 → 1; -2 → 0.5
        // rounds up to 1 → -2.
        let q = ReluQuant::new((0.5, -3), (1.0, -3));
        assert_eq!(relu_i8(&[5, -2], &q), vec![1, -2]);
        // Relu6 at scale 0.1, zero point -10: six = 60 - 10 = 50.
        assert_eq!(
            relu6_i8(&[-20, -10, 0, 50, 51, 127], 0.1, -10),
            vec![-10, -10, 0, 50, 50, 50]
        );
    }

    #[test]
    fn pad_two_dimensions() {
        // [2, 2] padded by (1, 0) rows and (0, 1) columns with 9.
        assert_eq!(
            pad(&[1, 2, 3, 4], &[2, 2], &[(1, 0), (0, 1)], 9).unwrap(),
            vec![9, 9, 9, 1, 2, 9, 3, 4, 9]
        );
    }

    #[test]
    fn quantize_requantize_dequantize() {
        // Scale 0.5, zero point -1: 1.25 / 0.5 = 2.5 → 3 (ties away) → 2; -0.25 → -0.5 → -1 → -2;
        // 1000 clamps to 127.
        assert_eq!(
            quantize_f32_to_i8(&[1.25, -0.25, 1000.0, -1000.0], 0.5, -1),
            vec![2, -2, 127, -128]
        );
        assert_eq!(dequantize([2, -2, 127], 0.5, -1), vec![1.5, -0.5, 64.0]);
        // Round trip: every int8 survives dequantize → quantize at the same parameters.
        let all: Vec<i32> = (-128..=127).collect();
        let real = dequantize(all.iter().copied(), 0.037, 5);
        let back = quantize_f32_to_i8(&real, 0.037, 5);
        assert!(all.iter().zip(&back).all(|(&a, &b)| a == i32::from(b)));
        // Requantize scale 0.5 → 0.25 (× 2), zero point 0 → 10: q = 3 → 6 + 10 = 16.
        let r = RequantizeQuant::new((0.5, 0), (0.25, 10));
        assert_eq!(r.apply(3, INT8_RANGE), 16);
        assert_eq!(r.apply(100, INT8_RANGE), 127);
        // uint8 → int8 with the same scale: zero point 128 → 0 is a shift by 128.
        let r = RequantizeQuant::new((0.1, 128), (0.1, 0));
        assert_eq!(r.apply(200, INT8_RANGE), 72);
        assert_eq!(r.apply(0, INT8_RANGE), -128);
    }
}
