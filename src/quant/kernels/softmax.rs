//! `SOFTMAX` over the last axis: TFLite's float `reference_ops::Softmax` and the int8 → int8
//! fixed-point one TFLM runs (`softmax_common.cc` + `reference/softmax.h`).
//!
//! int8: `PreprocessSoftmaxScaling(beta, input_scale, 5)` gives a multiplier that maps input
//! differences `x − max` to Q5.26; differences below `diff_min = −CalculateInputRadius(5, shift)`
//! are dropped. The exps (gemmlowp `exp_on_negative_values`) are summed in Q12.19, the sum is
//! inverted with `GetReciprocal`, and each `exp · 1/sum` is shifted to 8 bits. The output
//! quantization is fixed: scale 1/256, zero point −128.

use super::fixed_point::{
    exp_on_negative_values, multiply_by_quantized_multiplier_greater_than_one, quantize_multiplier,
    reciprocal, rounding_divide_by_pot, saturating_rounding_doubling_high_mul,
};
use crate::quant::QuantError;

/// Integer bits of the scaled input differences (Q5.26).
const SCALED_DIFF_INTEGER_BITS: u32 = 5;
/// Integer bits of the sum of exps (Q12.19).
const ACCUMULATION_INTEGER_BITS: i32 = 12;

/// Float32 softmax of rows of `depth` values: `exp((x − max) · beta) / Σ`.
pub fn softmax_f32(input: &[f32], depth: usize, beta: f32) -> Result<Vec<f32>, QuantError> {
    let depth = check_depth(input.len(), depth)?;
    let mut output = vec![0.0f32; input.len()];
    for (row, out) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(depth))
    {
        let max = row.iter().fold(f32::MIN, |m, &v| if m < v { v } else { m });
        let mut sum = 0.0f32;
        for (o, &v) in out.iter_mut().zip(row) {
            *o = ((v - max) * beta).exp();
            sum += *o;
        }
        for o in out.iter_mut() {
            *o /= sum;
        }
    }
    Ok(output)
}

fn check_depth(len: usize, depth: usize) -> Result<usize, QuantError> {
    if depth == 0 || !len.is_multiple_of(depth) {
        return Err(QuantError::Invalid(format!(
            "SOFTMAX over rows of {depth} values cannot split {len} values"
        )));
    }
    Ok(depth)
}

/// The int8 softmax parameters TFLM's `CalculateSoftmaxParams` derives from beta and the input
/// scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SoftmaxQuant {
    /// Multiplier of the input differences.
    pub input_multiplier: i32,
    /// Its left shift.
    pub input_left_shift: i32,
    /// Differences below this are treated as exp = 0.
    pub diff_min: i32,
}

impl SoftmaxQuant {
    /// `PreprocessSoftmaxScaling(beta, input_scale, 5)` and `CalculateInputRadius(5, shift)`.
    pub fn new(beta: f32, input_scale: f32) -> Result<SoftmaxQuant, QuantError> {
        let max_real_multiplier = ((1i64 << 31) - 1) as f64;
        let real = (f64::from(beta)
            * f64::from(input_scale)
            * f64::from(1u32 << (31 - SCALED_DIFF_INTEGER_BITS)))
        .min(max_real_multiplier);
        // QuantizeMultiplierGreaterThanOne.
        if real.is_nan() || real <= 1.0 {
            return Err(QuantError::Invalid(format!(
                "SOFTMAX: beta {beta} · input scale {input_scale} is too small for int8"
            )));
        }
        let (input_multiplier, input_left_shift) = quantize_multiplier(real);
        let bits = SCALED_DIFF_INTEGER_BITS as i32;
        let max_input_rescaled = f64::from((1i32 << bits) - 1) * (1i64 << (31 - bits)) as f64
            / (1i64 << input_left_shift.clamp(0, 62)) as f64;
        Ok(SoftmaxQuant {
            input_multiplier,
            input_left_shift,
            diff_min: -(max_input_rescaled.floor() as i32),
        })
    }

    /// Q0.31 exp of the difference `diff = x − max`, or `None` below `diff_min`.
    fn exp(&self, diff: i32) -> Option<i32> {
        (diff >= self.diff_min).then(|| {
            let rescaled = multiply_by_quantized_multiplier_greater_than_one(
                diff,
                self.input_multiplier,
                self.input_left_shift,
            );
            exp_on_negative_values(rescaled, SCALED_DIFF_INTEGER_BITS)
        })
    }
}

/// int8 → int8 softmax of rows of `depth` values (output scale 1/256, zero point −128).
pub fn softmax_i8(input: &[i8], depth: usize, quant: &SoftmaxQuant) -> Result<Vec<i8>, QuantError> {
    let depth = check_depth(input.len(), depth)?;
    let mut output = vec![i8::MIN; input.len()];
    for (row, out) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(depth))
    {
        let max = i32::from(row.iter().copied().max().unwrap_or(i8::MIN));
        let mut sum_of_exps = 0i32;
        for &v in row {
            if let Some(exp) = quant.exp(i32::from(v) - max) {
                // Rescale<12>: Q0.31 → Q12.19.
                sum_of_exps = sum_of_exps.wrapping_add(rounding_divide_by_pot(
                    exp,
                    ACCUMULATION_INTEGER_BITS as u32,
                ));
            }
        }
        let (shifted_scale, num_bits_over_unit) =
            reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS);
        let exponent = num_bits_over_unit + 31 - 8;
        if !(0..=31).contains(&exponent) {
            return Err(QuantError::Invalid(format!(
                "SOFTMAX: sum of exps {sum_of_exps} gives shift {exponent}"
            )));
        }
        for (o, &v) in out.iter_mut().zip(row) {
            if let Some(exp) = quant.exp(i32::from(v) - max) {
                let unsaturated = rounding_divide_by_pot(
                    saturating_rounding_doubling_high_mul(shifted_scale, exp),
                    exponent as u32,
                );
                *o = unsaturated
                    .wrapping_add(i32::from(i8::MIN))
                    .clamp(i32::from(i8::MIN), i32::from(i8::MAX)) as i8;
            }
        }
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_softmax_rows() {
        let out = softmax_f32(&[0.0, 0.0, 1.0, 1.0, 3.0, 1.0], 2, 1.0).unwrap();
        assert_eq!(&out[..4], &[0.5, 0.5, 0.5, 0.5]);
        let e2 = 2f32.exp();
        assert!((out[4] - e2 / (e2 + 1.0)).abs() < 1e-6);
        assert!((out[4] + out[5] - 1.0).abs() < 1e-6);
        assert!(softmax_f32(&[1.0, 2.0, 3.0], 2, 1.0).is_err());
    }

    #[test]
    fn int8_parameters_from_the_reference_formulas() {
        // Scale 1/16, beta 1: 2^-4 · 2^26 = 2^22 = 0.5 · 2^23 → (2^30, 23).
        // Radius: 31 · 2^26 / 2^23 = 248 → diff_min -248.
        let q = SoftmaxQuant::new(1.0, 1.0 / 16.0).unwrap();
        assert_eq!(
            q,
            SoftmaxQuant {
                input_multiplier: 1 << 30,
                input_left_shift: 23,
                diff_min: -248
            }
        );
    }

    #[test]
    fn int8_equal_logits_split_evenly() {
        // Two equal inputs: each probability 0.5 = 128/256 → 128 − 128 = 0.
        let q = SoftmaxQuant::new(1.0, 0.1).unwrap();
        assert_eq!(softmax_i8(&[5, 5], 2, &q).unwrap(), vec![0, 0]);
        // Four equal inputs: 0.25 = 64/256 → -64.
        assert_eq!(softmax_i8(&[-7; 4], 4, &q).unwrap(), vec![-64; 4]);
        // One input: probability 1 = 256/256, clamped to 127.
        assert_eq!(softmax_i8(&[42], 1, &q).unwrap(), vec![127]);
    }

    #[test]
    fn int8_softmax_sums_to_256_and_is_monotone() {
        let q = SoftmaxQuant::new(1.0, 0.05).unwrap();
        let input: Vec<i8> = vec![-128, -60, -10, 0, 3, 20, 21, 90, 127, -5];
        let out = softmax_i8(&input, input.len(), &q).unwrap();
        let total: i32 = out.iter().map(|&v| i32::from(v) + 128).sum();
        assert!((total - 256).abs() <= input.len() as i32, "total {total}");
        for (a, b) in input.iter().zip(&out) {
            for (c, d) in input.iter().zip(&out) {
                if a < c {
                    assert!(b <= d, "{a} → {b}, {c} → {d}");
                }
            }
        }
        // Against the real softmax, within one step of 1/256.
        let exps: Vec<f64> = input
            .iter()
            .map(|&v| (f64::from(v) * 0.05 - 127.0 * 0.05).exp())
            .collect();
        let sum: f64 = exps.iter().sum();
        for (e, &o) in exps.iter().zip(&out) {
            let want = e / sum * 256.0 - 128.0;
            assert!(
                (f64::from(o) - want.min(127.0)).abs() <= 1.0,
                "{o} vs {want}"
            );
        }
    }

    #[test]
    fn int8_far_below_the_max_is_zero_probability() {
        // Scale 1/16: diff_min −248, so −255 is dropped and gets −128 exactly.
        let q = SoftmaxQuant::new(1.0, 1.0 / 16.0).unwrap();
        let out = softmax_i8(&[127, -128], 2, &q).unwrap();
        assert_eq!(out, vec![127, -128]);
    }
}
