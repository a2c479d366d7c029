//! TFLite's integer arithmetic: `QuantizeMultiplier` (`quantization_util.cc`), the
//! double-rounding `MultiplyByQuantizedMultiplier` (`common.cc`, TFLM's default build without
//! `TFLITE_SINGLE_ROUNDING`), and the gemmlowp `fixedpoint.h` pieces the int8 softmax uses
//! (`exp_on_negative_values`, `one_over_one_plus_x_for_x_in_0_1`).
//!
//! A real multiplier `m` becomes `(quantized, shift)` with `m ≈ quantized · 2^(shift − 31)`,
//! `quantized` in `[2^30, 2^31)`. Fixed-point numbers are `i32` raw values with `31 − integer_bits`
//! fractional bits (gemmlowp's `FixedPoint<int32_t, integer_bits>`); products are
//! [`saturating_rounding_doubling_high_mul`]. Overflowing `int32` arithmetic that C++ leaves
//! to the hardware wraps here, so no input can panic.

/// `std::frexp`: `x = fraction · 2^exponent` with `|fraction|` in `[0.5, 1)` (0, infinities and
/// NaN come back unchanged with exponent 0).
fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let (x, bias) = if x.abs() < f64::MIN_POSITIVE {
        // Subnormal: scale into the normal range first.
        (x * f64::from_bits(0x4350_0000_0000_0000), 54) // 2^54
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (fraction, biased - 1022 - bias)
}

/// `QuantizeMultiplier`: `(quantized_multiplier, shift)` for a real multiplier, exactly as TFLite
/// (round half away from zero, `2^31` folded into `2^30` with one more shift, multipliers below
/// about `2^-31` flushed to `(0, 0)`).
pub fn quantize_multiplier(real_multiplier: f64) -> (i32, i32) {
    if real_multiplier == 0.0 {
        return (0, 0);
    }
    let (fraction, mut shift) = frexp(real_multiplier);
    let mut q_fixed = (fraction * (1i64 << 31) as f64).round() as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        shift = 0;
        q_fixed = 0;
    }
    (
        q_fixed.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
        shift,
    )
}

/// gemmlowp `SaturatingRoundingDoublingHighMul` (ARM `VQRDMULH`): `round(a · b / 2^31)` with
/// ties nudged as gemmlowp does, and `MIN · MIN` saturated to `MAX`.
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = i64::from(a) * i64::from(b);
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // Integer division truncates toward zero, as in C++.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from zero
/// (`exponent` in `0..=31`).
pub fn rounding_divide_by_pot(x: i32, exponent: u32) -> i32 {
    let exponent = exponent.min(31);
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// gemmlowp `SaturatingRoundingMultiplyByPOT<exponent>`: a saturating left shift for positive
/// exponents, [`rounding_divide_by_pot`] for negative ones.
pub fn saturating_rounding_multiply_by_pot(x: i32, exponent: i32) -> i32 {
    match exponent {
        0 => x,
        e if e > 0 => {
            let threshold = (1i32 << (31 - e.min(31))).wrapping_sub(1);
            if x > threshold {
                i32::MAX
            } else if x < -threshold {
                i32::MIN
            } else {
                x.wrapping_shl(e as u32)
            }
        }
        e => rounding_divide_by_pot(x, e.unsigned_abs()),
    }
}

/// TFLite `MultiplyByQuantizedMultiplier(int32_t x, multiplier, shift)`, double rounding: a
/// left shift for positive `shift`, the doubling high multiply, then a rounding right shift.
pub fn multiply_by_quantized_multiplier(x: i32, quantized_multiplier: i32, shift: i32) -> i32 {
    let left_shift = shift.max(0) as u32;
    let right_shift = (-shift).max(0) as u32;
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(
            x.wrapping_mul(1i32.wrapping_shl(left_shift)),
            quantized_multiplier,
        ),
        right_shift,
    )
}

/// TFLite `MultiplyByQuantizedMultiplierSmallerThanOneExp` (double rounding): `shift ≤ 0`.
pub fn multiply_by_quantized_multiplier_smaller_than_one(
    x: i32,
    quantized_multiplier: i32,
    shift: i32,
) -> i32 {
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(x, quantized_multiplier),
        (-shift).max(0) as u32,
    )
}

/// TFLite `MultiplyByQuantizedMultiplierGreaterThanOne` (double rounding): `left_shift ≥ 0`.
pub fn multiply_by_quantized_multiplier_greater_than_one(
    x: i32,
    quantized_multiplier: i32,
    left_shift: i32,
) -> i32 {
    saturating_rounding_doubling_high_mul(
        x.wrapping_mul(1i32.wrapping_shl(left_shift.max(0) as u32)),
        quantized_multiplier,
    )
}

/// gemmlowp `RoundingHalfSum` for `int32`: `(a + b) / 2` rounded away from zero.
fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = i64::from(a) + i64::from(b);
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// gemmlowp `exp_on_interval_between_negative_one_quarter_and_0_excl`: `exp(a)` for a Q0.31 `a`
/// in `[-1/4, 0)`, a Taylor expansion around −1/8, result in Q0.31.
fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const EXP_MINUS_ONE_EIGHTH: i32 = 1_895_147_668;
    const ONE_THIRD: i32 = 715_827_883;
    let mul = saturating_rounding_doubling_high_mul;
    // x = a + 1/8; 1/8 in Q0.31 is 2^28.
    let x = a.wrapping_add(1 << 28);
    let x2 = mul(x, x);
    let x3 = mul(x2, x);
    let x4 = mul(x2, x2);
    let x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2);
    let x4_over_24_plus_x3_over_6_plus_x2_over_2 = saturating_rounding_multiply_by_pot(
        mul(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2),
        -1,
    );
    EXP_MINUS_ONE_EIGHTH.wrapping_add(mul(
        EXP_MINUS_ONE_EIGHTH,
        x.wrapping_add(x4_over_24_plus_x3_over_6_plus_x2_over_2),
    ))
}

/// gemmlowp `exp_on_negative_values`: `exp(a)` for `a ≤ 0` given with `integer_bits` integer
/// bits (softmax uses 5, i.e. Q5.26), result in Q0.31 (`0` gives `i32::MAX`, i.e. 1).
pub fn exp_on_negative_values(a: i32, integer_bits: u32) -> i32 {
    let integer_bits = integer_bits.min(30);
    let fractional_bits = 31 - integer_bits;
    let one_quarter: i32 = 1 << (fractional_bits - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(one_quarter);
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_rounding_multiply_by_pot(a_mod_quarter_minus_one_quarter, integer_bits as i32),
    );
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    // exp(−2^k) in Q0.31 for k = −2..=4, applied for each bit of the remainder.
    const BARREL: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    for (exponent, multiplier) in BARREL {
        if integer_bits as i32 > exponent {
            let shift = (fractional_bits as i32 + exponent) as u32;
            if remainder & 1i32.wrapping_shl(shift) != 0 {
                result = saturating_rounding_doubling_high_mul(result, multiplier);
            }
        }
    }
    if integer_bits > 5 {
        let clamp = -(1i32 << (36 - integer_bits));
        if a < clamp {
            result = 0;
        }
    }
    if a == 0 { i32::MAX } else { result }
}

/// gemmlowp `one_over_one_plus_x_for_x_in_0_1`: `1 / (1 + a)` for a Q0.31 `a` in `[0, 1)`, by
/// three Newton–Raphson steps in Q2.29, result in Q0.31.
pub fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    const FORTY_EIGHT_OVER_SEVENTEEN: i32 = 1_515_870_810;
    const MINUS_THIRTY_TWO_OVER_SEVENTEEN: i32 = -1_010_580_540;
    const ONE_Q2_29: i32 = 1 << 29;
    let mul = saturating_rounding_doubling_high_mul;
    let half_denominator = rounding_half_sum(a, i32::MAX);
    let mut x = FORTY_EIGHT_OVER_SEVENTEEN
        .wrapping_add(mul(half_denominator, MINUS_THIRTY_TWO_OVER_SEVENTEEN));
    for _ in 0..3 {
        let half_denominator_times_x = mul(half_denominator, x);
        let one_minus_half_denominator_times_x = ONE_Q2_29.wrapping_sub(half_denominator_times_x);
        // Q2.29 · Q2.29 is Q4.27; rescale to Q2.29.
        x = x.wrapping_add(saturating_rounding_multiply_by_pot(
            mul(x, one_minus_half_denominator_times_x),
            2,
        ));
    }
    // ExactMulByPot<-1> turns Q2.29 into Q1.30 with the same raw value; rescale to Q0.31.
    saturating_rounding_multiply_by_pot(x, 1)
}

/// TFLite `GetReciprocal(x, x_integer_digits)`: `(1 / x` scaled into Q0.31 `, num_bits_over_unit)`
/// for a positive fixed-point `x` with `x_integer_digits` integer bits.
pub fn reciprocal(x: i32, x_integer_digits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros();
    let num_bits_over_unit = x_integer_digits - headroom_plus_one as i32;
    let shifted_sum_minus_one = (x as u32)
        .checked_shl(headroom_plus_one)
        .unwrap_or(0)
        .wrapping_sub(1 << 31) as i32;
    (
        one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one),
        num_bits_over_unit,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_multiplier_matches_hand_derivations() {
        // 0.75 = 0.75 · 2^0: 0.75 · 2^31 = 1610612736.
        assert_eq!(quantize_multiplier(0.75), (1_610_612_736, 0));
        // 0.3 = 0.6 · 2^-1: 0.6 · 2^31 = 1288490188.8, rounded up.
        assert_eq!(quantize_multiplier(0.3), (1_288_490_189, -1));
        // 1.0 = 0.5 · 2^1.
        assert_eq!(quantize_multiplier(1.0), (1 << 30, 1));
        // 2^-10 = 0.5 · 2^-9.
        assert_eq!(quantize_multiplier(1.0 / 1024.0), (1 << 30, -9));
        assert_eq!(quantize_multiplier(0.0), (0, 0));
        // Just below 1: the fraction rounds to 2^31, folded into 2^30 and one more shift.
        assert_eq!(quantize_multiplier(1.0 - 2f64.powi(-40)), (1 << 30, 1));
        // Below 2^-31 everything is flushed to zero.
        assert_eq!(quantize_multiplier(2f64.powi(-40)), (0, 0));
    }

    #[test]
    fn frexp_splits_like_the_c_library() {
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(frexp(-3.0), (-0.75, 2));
        assert_eq!(frexp(f64::MIN_POSITIVE / 4.0), (0.5, -1023));
    }

    #[test]
    fn doubling_high_mul_edge_cases() {
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        // 100 · 0.75 = 75 exactly.
        assert_eq!(
            saturating_rounding_doubling_high_mul(100, 1_610_612_736),
            75
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(-100, 1_610_612_736),
            -75
        );
        // 1 · 0.5: (2^30 + 2^30) / 2^31 = 1; -1 · 0.5: (-2^30 + 1 - 2^30) / 2^31 truncates to 0.
        assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);
        assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MAX),
            -i32::MAX
        );
    }

    #[test]
    fn rounding_divide_by_pot_rounds_half_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3); // 2.5
        assert_eq!(rounding_divide_by_pot(-5, 1), -3); // -2.5
        assert_eq!(rounding_divide_by_pot(-6, 2), -2); // -1.5
        assert_eq!(rounding_divide_by_pot(-7, 2), -2); // -1.75
        assert_eq!(rounding_divide_by_pot(-5, 2), -1); // -1.25
        assert_eq!(rounding_divide_by_pot(7, 0), 7);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 12), 524_288); // 2^19 - 2^-12
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
    }

    #[test]
    fn multiply_by_quantized_multiplier_rounds_twice() {
        // 3 · 0.5 · 2^2 = 6.
        assert_eq!(multiply_by_quantized_multiplier(3, 1 << 30, 2), 6);
        // 3 · 0.5 · 2^-1 = 0.75: high mul gives 2, the shift gives 1.
        assert_eq!(multiply_by_quantized_multiplier(3, 1 << 30, -1), 1);
        // 5 · 0.5 · 2^-1 = 1.25: the high mul rounds 2.5 to 3, the shift 1.5 to 2.
        assert_eq!(multiply_by_quantized_multiplier(5, 1 << 30, -1), 2);
        assert_eq!(multiply_by_quantized_multiplier(-5, 1 << 30, -1), -1);
        assert_eq!(multiply_by_quantized_multiplier(0, 1_610_612_736, -5), 0);
        assert_eq!(multiply_by_quantized_multiplier(100, 0, 0), 0);
        assert_eq!(
            multiply_by_quantized_multiplier_smaller_than_one(5, 1 << 30, -1),
            2
        );
        assert_eq!(
            multiply_by_quantized_multiplier_greater_than_one(3, 1 << 30, 2),
            6
        );
    }

    #[test]
    fn saturating_pot_saturates_and_rounds() {
        assert_eq!(saturating_rounding_multiply_by_pot(1 << 29, 2), i32::MAX);
        assert_eq!(saturating_rounding_multiply_by_pot(-(1 << 29), 2), i32::MIN);
        assert_eq!(saturating_rounding_multiply_by_pot(3, 2), 12);
        assert_eq!(saturating_rounding_multiply_by_pot(6, -2), 2); // 1.5
    }

    #[test]
    fn exp_on_negative_values_exact_points() {
        assert_eq!(exp_on_negative_values(0, 5), i32::MAX);
        // -1/8 in Q5.26 is -2^23: the remainder is 0 and the polynomial is evaluated at x = 0,
        // leaving its constant term exp(-1/8).
        assert_eq!(exp_on_negative_values(-(1 << 23), 5), 1_895_147_668);
    }

    #[test]
    fn exp_on_negative_values_is_close_to_exp() {
        for &real in &[-0.01, -0.3, -1.0, -2.5, -7.0, -15.9] {
            let raw = (real * f64::from(1 << 26)) as i32;
            let got = f64::from(exp_on_negative_values(raw, 5)) / 2f64.powi(31);
            let want = (f64::from(raw) / f64::from(1 << 26)).exp();
            assert!(
                (got - want).abs() < 1e-6,
                "exp({real}) = {got}, expected {want}"
            );
        }
    }

    #[test]
    fn one_over_one_plus_x_is_close_to_the_quotient() {
        for &x in &[0.0, 0.1, 0.5, 0.9, 0.999] {
            let raw = (x * 2f64.powi(31)) as i32;
            let got = f64::from(one_over_one_plus_x_for_x_in_0_1(raw)) / 2f64.powi(31);
            assert!((got - 1.0 / (1.0 + x)).abs() < 1e-7, "1/(1+{x}) = {got}");
        }
    }

    #[test]
    fn reciprocal_of_two_in_q12() {
        // 2.0 in Q12.19 is 2^20: one bit over unit, and 1 / (1 + 0) as Q0.31 (about 1).
        let (scale, bits_over_unit) = reciprocal(1 << 20, 12);
        assert_eq!(bits_over_unit, 1);
        assert!(scale > i32::MAX - 16, "{scale}");
    }
}
