//! The C text of the generated model: TFLite's fixed-point helpers and one kernel function per
//! operator kind, each a line-for-line port of the Rust kernel in `quant::kernels` (which is
//! itself TFLite Micro's reference kernel), so the C computes the same bits.
//!
//! C99 only (`<stdint.h>`, `<stddef.h>`): no compiler builtins, no implementation-defined
//! behaviour. Rust's wrapping `i32` arithmetic becomes `uint32_t` arithmetic converted back by
//! `tl_i32` (exact, no implementation-defined conversion); Rust's arithmetic `>>` on negative
//! numbers becomes `tl_asr`; integer constants that may exceed 16 bits are `int32_t`-typed, so
//! the code is right where `int` has 16 bits (AVR). A piece is emitted only when a kernel the
//! graph uses needs it (an unused `static` function would trip `-Wall -Werror`).

use std::collections::BTreeSet;

/// One emitted block of C. The declaration order is the emission order: every piece's
/// dependencies come before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Piece {
    I32,
    Wadd,
    Wsub,
    Asr,
    Srdhm,
    Rdbpot,
    Mbqm,
    SoftmaxMath,
    Window,
    Requant,
    Conv,
    Depthwise,
    FullyConnected,
    MaxPool,
    AvgPool,
    Mean,
    Add,
    Relu,
    Relu6,
    Pad,
    Requantize,
    Softmax,
}

impl Piece {
    fn dependencies(self) -> &'static [Piece] {
        use Piece::*;
        match self {
            I32 | Asr | Srdhm | Window | Relu6 | Pad | MaxPool | AvgPool => &[],
            Wadd | Wsub => &[I32],
            Rdbpot => &[Asr],
            Mbqm => &[I32, Srdhm, Rdbpot],
            SoftmaxMath => &[I32, Wadd, Wsub, Srdhm, Rdbpot],
            Requant => &[Wadd, Mbqm],
            Conv | Depthwise => &[Window, Requant, I32],
            FullyConnected => &[Requant, I32],
            Mean | Relu | Requantize => &[Wadd, Mbqm],
            Add => &[I32, Wadd, Srdhm, Rdbpot],
            Softmax => &[Wadd, Wsub, Srdhm, Rdbpot, SoftmaxMath],
        }
    }

    fn text(self) -> &'static str {
        use Piece::*;
        match self {
            I32 => I32_TEXT,
            Wadd => WADD_TEXT,
            Wsub => WSUB_TEXT,
            Asr => ASR_TEXT,
            Srdhm => SRDHM_TEXT,
            Rdbpot => RDBPOT_TEXT,
            Mbqm => MBQM_TEXT,
            SoftmaxMath => SOFTMAX_MATH_TEXT,
            Window => WINDOW_TEXT,
            Requant => REQUANT_TEXT,
            Conv => CONV_TEXT,
            Depthwise => DEPTHWISE_TEXT,
            FullyConnected => FULLY_CONNECTED_TEXT,
            MaxPool => MAX_POOL_TEXT,
            AvgPool => AVG_POOL_TEXT,
            Mean => MEAN_TEXT,
            Add => ADD_TEXT,
            Relu => RELU_TEXT,
            Relu6 => RELU6_TEXT,
            Pad => PAD_TEXT,
            Requantize => REQUANTIZE_TEXT,
            Softmax => SOFTMAX_TEXT,
        }
    }
}

/// The C text of `used` and everything they depend on, in dependency order.
pub(super) fn pieces_text(used: &BTreeSet<Piece>) -> String {
    let mut all = BTreeSet::new();
    let mut todo: Vec<Piece> = used.iter().copied().collect();
    while let Some(piece) = todo.pop() {
        if all.insert(piece) {
            todo.extend_from_slice(piece.dependencies());
        }
    }
    all.iter().map(|p| p.text()).collect::<Vec<_>>().join("\n")
}

const I32_TEXT: &str = r#"/* x modulo 2^32 as int32 (Rust's wrapping arithmetic), with no implementation-defined
   conversion. */
static int32_t tl_i32(uint32_t x) {
    if (x <= (uint32_t)INT32_MAX) {
        return (int32_t)x;
    }
    return (int32_t)(x - (uint32_t)INT32_MAX - (uint32_t)1) + INT32_MIN;
}
"#;

const WADD_TEXT: &str = r#"static int32_t tl_add(int32_t a, int32_t b) {
    return tl_i32((uint32_t)a + (uint32_t)b);
}
"#;

const WSUB_TEXT: &str = r#"static int32_t tl_sub(int32_t a, int32_t b) {
    return tl_i32((uint32_t)a - (uint32_t)b);
}
"#;

const ASR_TEXT: &str = r#"/* Arithmetic right shift (floor division by 2^n), n in 0..31. */
static int32_t tl_asr(int32_t x, int n) {
    return x < 0 ? ~(~x >> n) : x >> n;
}
"#;

const SRDHM_TEXT: &str = r#"/* gemmlowp SaturatingRoundingDoublingHighMul. */
static int32_t tl_srdhm(int32_t a, int32_t b) {
    int64_t ab;
    int64_t nudge;
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? ((int64_t)1 << 30) : ((int64_t)1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}
"#;

const RDBPOT_TEXT: &str = r#"/* gemmlowp RoundingDivideByPOT: x / 2^exponent, ties away from zero. */
static int32_t tl_rdbpot(int32_t x, int exponent) {
    int32_t mask;
    int32_t remainder;
    int32_t threshold;
    if (exponent > 31) {
        exponent = 31;
    }
    mask = (int32_t)(((int64_t)1 << exponent) - 1);
    remainder = x & mask;
    threshold = tl_asr(mask, 1) + (x < 0 ? 1 : 0);
    return tl_asr(x, exponent) + (remainder > threshold ? 1 : 0);
}
"#;

const MBQM_TEXT: &str = r#"/* TFLite MultiplyByQuantizedMultiplier (double rounding). */
static int32_t tl_mbqm(int32_t x, int32_t multiplier, int32_t shift) {
    int left = shift > 0 ? (int)shift : 0;
    int right = shift > 0 ? 0 : (int)-shift;
    uint32_t scaled = (uint32_t)x * ((uint32_t)1 << (left & 31));
    return tl_rdbpot(tl_srdhm(tl_i32(scaled), multiplier), right);
}
"#;

const SOFTMAX_MATH_TEXT: &str = r#"/* gemmlowp SaturatingRoundingMultiplyByPOT. */
static int32_t tl_srmbpot(int32_t x, int exponent) {
    int32_t threshold;
    int e;
    if (exponent == 0) {
        return x;
    }
    if (exponent < 0) {
        return tl_rdbpot(x, -exponent);
    }
    e = exponent > 31 ? 31 : exponent;
    threshold = tl_i32(((uint32_t)1 << (31 - e)) - (uint32_t)1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return tl_i32((uint32_t)x << (exponent & 31));
}

/* TFLite MultiplyByQuantizedMultiplierGreaterThanOne. */
static int32_t tl_mbqm_gt1(int32_t x, int32_t multiplier, int32_t left_shift) {
    int left = left_shift > 0 ? (int)left_shift : 0;
    return tl_srdhm(tl_i32((uint32_t)x * ((uint32_t)1 << (left & 31))), multiplier);
}

/* gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl (Q0.31). */
static int32_t tl_exp_quarter(int32_t a) {
    const int32_t exp_minus_one_eighth = INT32_C(1895147668);
    const int32_t one_third = INT32_C(715827883);
    int32_t x = tl_add(a, (int32_t)1 << 28);
    int32_t x2 = tl_srdhm(x, x);
    int32_t x3 = tl_srdhm(x2, x);
    int32_t x4 = tl_srdhm(x2, x2);
    int32_t x4_over_4 = tl_srmbpot(x4, -2);
    int32_t poly = tl_srmbpot(tl_add(tl_srdhm(tl_add(x4_over_4, x3), one_third), x2), -1);
    return tl_add(exp_minus_one_eighth, tl_srdhm(exp_minus_one_eighth, tl_add(x, poly)));
}

/* gemmlowp exp_on_negative_values for Q5.26 input, Q0.31 result. */
static int32_t tl_exp_neg(int32_t a) {
    static const int32_t barrel[7] = {
        INT32_C(1672461947), INT32_C(1302514674), INT32_C(790015084), INT32_C(290630308),
        INT32_C(39332535), INT32_C(720401), INT32_C(242)
    };
    const int32_t one_quarter = (int32_t)1 << 24;
    int32_t a_mod_quarter_minus_one_quarter = tl_sub(a & (one_quarter - 1), one_quarter);
    int32_t result = tl_exp_quarter(tl_srmbpot(a_mod_quarter_minus_one_quarter, 5));
    int32_t remainder = tl_sub(a_mod_quarter_minus_one_quarter, a);
    int k;
    for (k = 0; k < 7; ++k) {
        if ((remainder & ((int32_t)1 << (24 + k))) != 0) {
            result = tl_srdhm(result, barrel[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* gemmlowp RoundingHalfSum. */
static int32_t tl_half_sum(int32_t a, int32_t b) {
    int64_t sum = (int64_t)a + (int64_t)b;
    int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1 (Q0.31). */
static int32_t tl_one_over_one_plus_x(int32_t a) {
    const int32_t forty_eight_over_seventeen = INT32_C(1515870810);
    const int32_t minus_thirty_two_over_seventeen = -INT32_C(1010580540);
    const int32_t one_q2_29 = (int32_t)1 << 29;
    int32_t half_denominator = tl_half_sum(a, INT32_MAX);
    int32_t x = tl_add(forty_eight_over_seventeen,
                       tl_srdhm(half_denominator, minus_thirty_two_over_seventeen));
    int i;
    for (i = 0; i < 3; ++i) {
        int32_t half_denominator_times_x = tl_srdhm(half_denominator, x);
        int32_t one_minus = tl_sub(one_q2_29, half_denominator_times_x);
        x = tl_add(x, tl_srmbpot(tl_srdhm(x, one_minus), 2));
    }
    return tl_srmbpot(x, 1);
}

/* Leading zero bits of x (32 for 0). */
static int tl_clz(uint32_t x) {
    int n = 0;
    if (x == 0) {
        return 32;
    }
    while ((x & (uint32_t)0x80000000UL) == 0) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* TFLite GetReciprocal. */
static int32_t tl_reciprocal(int32_t x, int x_integer_digits, int *num_bits_over_unit) {
    uint32_t ux = (uint32_t)x;
    int headroom_plus_one = tl_clz(ux);
    uint32_t shifted = headroom_plus_one < 32 ? ux << headroom_plus_one : (uint32_t)0;
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    return tl_one_over_one_plus_x(tl_i32(shifted - ((uint32_t)1 << 31)));
}
"#;

const WINDOW_TEXT: &str = r#"/* The sliding-window geometry of one convolution or pooling (NHWC). */
typedef struct {
    int32_t batches, in_h, in_w, out_h, out_w;
    int32_t filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w;
} tl_window;
"#;

const REQUANT_TEXT: &str = r#"/* Requantization of an int32 accumulator to int8. */
typedef struct {
    int32_t input_offset, output_offset, act_min, act_max;
} tl_requant;

static int8_t tl_requantize(int32_t acc, int32_t multiplier, int32_t shift, const tl_requant *q) {
    int32_t v = tl_add(tl_mbqm(acc, multiplier, shift), q->output_offset);
    int32_t hi = q->act_max > q->act_min ? q->act_max : q->act_min;
    if (v < q->act_min) {
        v = q->act_min;
    } else if (v > hi) {
        v = hi;
    }
    return (int8_t)v;
}
"#;

const CONV_TEXT: &str = r#"/* CONV_2D, int8, per-channel multipliers (filter OHWI). */
static void tl_conv(const tl_window *w, int32_t in_c, int32_t out_c, const int8_t *in,
                    const int8_t *filter, const int32_t *bias, const tl_requant *q,
                    const int32_t *multiplier, const int32_t *shift, int8_t *out) {
    int32_t b, oy, ox, oc, ky, kx, ic;
    for (b = 0; b < w->batches; ++b) {
        for (oy = 0; oy < w->out_h; ++oy) {
            for (ox = 0; ox < w->out_w; ++ox) {
                for (oc = 0; oc < out_c; ++oc) {
                    uint32_t acc = 0;
                    for (ky = 0; ky < w->filter_h; ++ky) {
                        int32_t iy = oy * w->stride_h + ky * w->dilation_h - w->pad_h;
                        if (iy < 0 || iy >= w->in_h) {
                            continue;
                        }
                        for (kx = 0; kx < w->filter_w; ++kx) {
                            int32_t ix = ox * w->stride_w + kx * w->dilation_w - w->pad_w;
                            const int8_t *x;
                            const int8_t *f;
                            if (ix < 0 || ix >= w->in_w) {
                                continue;
                            }
                            x = in + ((b * w->in_h + iy) * w->in_w + ix) * in_c;
                            f = filter + ((oc * w->filter_h + ky) * w->filter_w + kx) * in_c;
                            for (ic = 0; ic < in_c; ++ic) {
                                acc += (uint32_t)((int32_t)f[ic] * ((int32_t)x[ic] + q->input_offset));
                            }
                        }
                    }
                    if (bias != 0) {
                        acc += (uint32_t)bias[oc];
                    }
                    *out++ = tl_requantize(tl_i32(acc), multiplier[oc], shift[oc], q);
                }
            }
        }
    }
}
"#;

const DEPTHWISE_TEXT: &str = r#"/* DEPTHWISE_CONV_2D, int8, per-channel multipliers (filter [1, kh, kw, in_c * m]). */
static void tl_depthwise(const tl_window *w, int32_t in_c, int32_t depth_multiplier,
                         const int8_t *in, const int8_t *filter, const int32_t *bias,
                         const tl_requant *q, const int32_t *multiplier, const int32_t *shift,
                         int8_t *out) {
    int32_t out_c = in_c * depth_multiplier;
    int32_t b, oy, ox, ic, m, ky, kx;
    for (b = 0; b < w->batches; ++b) {
        for (oy = 0; oy < w->out_h; ++oy) {
            for (ox = 0; ox < w->out_w; ++ox) {
                for (ic = 0; ic < in_c; ++ic) {
                    for (m = 0; m < depth_multiplier; ++m) {
                        int32_t oc = ic * depth_multiplier + m;
                        uint32_t acc = 0;
                        for (ky = 0; ky < w->filter_h; ++ky) {
                            int32_t iy = oy * w->stride_h + ky * w->dilation_h - w->pad_h;
                            if (iy < 0 || iy >= w->in_h) {
                                continue;
                            }
                            for (kx = 0; kx < w->filter_w; ++kx) {
                                int32_t ix = ox * w->stride_w + kx * w->dilation_w - w->pad_w;
                                int32_t x;
                                if (ix < 0 || ix >= w->in_w) {
                                    continue;
                                }
                                x = (int32_t)in[((b * w->in_h + iy) * w->in_w + ix) * in_c + ic];
                                acc += (uint32_t)((int32_t)filter[(ky * w->filter_w + kx) * out_c + oc] *
                                                  (x + q->input_offset));
                            }
                        }
                        if (bias != 0) {
                            acc += (uint32_t)bias[oc];
                        }
                        out[((b * w->out_h + oy) * w->out_w + ox) * out_c + oc] =
                            tl_requantize(tl_i32(acc), multiplier[oc], shift[oc], q);
                    }
                }
            }
        }
    }
}
"#;

const FULLY_CONNECTED_TEXT: &str = r#"/* FULLY_CONNECTED, int8 (weights [units, depth]; one multiplier per unit). */
static void tl_fully_connected(int32_t batches, int32_t depth, int32_t units, const int8_t *in,
                               const int8_t *weights, const int32_t *bias, int32_t weights_offset,
                               const tl_requant *q, const int32_t *multiplier,
                               const int32_t *shift, int8_t *out) {
    int32_t b, u, d;
    for (b = 0; b < batches; ++b) {
        const int8_t *x = in + b * depth;
        for (u = 0; u < units; ++u) {
            const int8_t *wrow = weights + u * depth;
            uint32_t acc = 0;
            for (d = 0; d < depth; ++d) {
                acc += (uint32_t)(((int32_t)wrow[d] + weights_offset) *
                                  ((int32_t)x[d] + q->input_offset));
            }
            if (bias != 0) {
                acc += (uint32_t)bias[u];
            }
            *out++ = tl_requantize(tl_i32(acc), multiplier[u], shift[u], q);
        }
    }
}
"#;

const MAX_POOL_TEXT: &str = r#"/* MAX_POOL_2D, int8 (windows skip the padding). */
static void tl_max_pool(const tl_window *w, int32_t channels, const int8_t *in, int32_t act_min,
                        int32_t act_max, int8_t *out) {
    int32_t b, oy, ox, c, ky, kx;
    for (b = 0; b < w->batches; ++b) {
        for (oy = 0; oy < w->out_h; ++oy) {
            for (ox = 0; ox < w->out_w; ++ox) {
                for (c = 0; c < channels; ++c) {
                    int32_t best = -128;
                    for (ky = 0; ky < w->filter_h; ++ky) {
                        int32_t iy = oy * w->stride_h + ky - w->pad_h;
                        if (iy < 0 || iy >= w->in_h) {
                            continue;
                        }
                        for (kx = 0; kx < w->filter_w; ++kx) {
                            int32_t ix = ox * w->stride_w + kx - w->pad_w;
                            int32_t v;
                            if (ix < 0 || ix >= w->in_w) {
                                continue;
                            }
                            v = in[((b * w->in_h + iy) * w->in_w + ix) * channels + c];
                            if (v > best) {
                                best = v;
                            }
                        }
                    }
                    if (best < act_min) {
                        best = act_min;
                    }
                    if (best > act_max) {
                        best = act_max;
                    }
                    *out++ = (int8_t)best;
                }
            }
        }
    }
}
"#;

const AVG_POOL_TEXT: &str = r#"/* AVERAGE_POOL_2D, int8: the mean of the in-bounds taps, rounded half away from zero. */
static int tl_avg_pool(const tl_window *w, int32_t channels, const int8_t *in, int32_t act_min,
                       int32_t act_max, int8_t *out) {
    int32_t b, oy, ox, c, ky, kx;
    for (b = 0; b < w->batches; ++b) {
        for (oy = 0; oy < w->out_h; ++oy) {
            for (ox = 0; ox < w->out_w; ++ox) {
                for (c = 0; c < channels; ++c) {
                    int32_t sum = 0;
                    int32_t count = 0;
                    int32_t v;
                    for (ky = 0; ky < w->filter_h; ++ky) {
                        int32_t iy = oy * w->stride_h + ky - w->pad_h;
                        if (iy < 0 || iy >= w->in_h) {
                            continue;
                        }
                        for (kx = 0; kx < w->filter_w; ++kx) {
                            int32_t ix = ox * w->stride_w + kx - w->pad_w;
                            if (ix < 0 || ix >= w->in_w) {
                                continue;
                            }
                            sum += in[((b * w->in_h + iy) * w->in_w + ix) * channels + c];
                            ++count;
                        }
                    }
                    if (count == 0) {
                        return TINYLAB_MODEL_ERR_KERNEL;
                    }
                    v = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    if (v < act_min) {
                        v = act_min;
                    }
                    if (v > act_max) {
                        v = act_max;
                    }
                    *out++ = (int8_t)v;
                }
            }
        }
    }
    return 0;
}
"#;

const MEAN_TEXT: &str = r#"/* MEAN, int8: each output sums the input over the reduced axes (4-D, reduced axes of `outer`
   have length 1, kept axes of `inner` too), then one multiplier with 1/count folded in. */
static void tl_mean(const int32_t outer[4], const int32_t inner[4], const int32_t in_strides[4],
                    const int32_t out_strides[4], const int8_t *in, int32_t zero_point_total,
                    int32_t multiplier, int32_t shift, int32_t output_zero_point, int8_t *out) {
    int32_t o0, o1, o2, o3, i0, i1, i2, i3;
    for (o0 = 0; o0 < outer[0]; ++o0) {
        for (o1 = 0; o1 < outer[1]; ++o1) {
            for (o2 = 0; o2 < outer[2]; ++o2) {
                for (o3 = 0; o3 < outer[3]; ++o3) {
                    uint32_t sum = 0;
                    int32_t v;
                    for (i0 = 0; i0 < inner[0]; ++i0) {
                        for (i1 = 0; i1 < inner[1]; ++i1) {
                            for (i2 = 0; i2 < inner[2]; ++i2) {
                                for (i3 = 0; i3 < inner[3]; ++i3) {
                                    sum += (uint32_t)(int32_t)in[(o0 + i0) * in_strides[0] +
                                                                 (o1 + i1) * in_strides[1] +
                                                                 (o2 + i2) * in_strides[2] +
                                                                 (o3 + i3) * in_strides[3]];
                                }
                            }
                        }
                    }
                    v = tl_add(tl_mbqm(tl_i32(sum - (uint32_t)zero_point_total), multiplier, shift),
                               output_zero_point);
                    if (v < -128) {
                        v = -128;
                    }
                    if (v > 127) {
                        v = 127;
                    }
                    out[o0 * out_strides[0] + o1 * out_strides[1] + o2 * out_strides[2] +
                        o3 * out_strides[3]] = (int8_t)v;
                }
            }
        }
    }
}
"#;

const ADD_TEXT: &str = r#"/* ADD, int8 (TFLM add.cc, left shift 20), with broadcasting by strides (0 = broadcast). */
typedef struct {
    int32_t input1_offset, input2_offset, output_offset, left_shift;
    int32_t input1_multiplier, input1_shift, input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift, act_min, act_max;
} tl_add_params;

static int32_t tl_mbqm_lt1(int32_t x, int32_t multiplier, int32_t shift) {
    return tl_rdbpot(tl_srdhm(x, multiplier), shift < 0 ? (int)-shift : 0);
}

static void tl_add_i8(const tl_add_params *p, const int32_t shape[4], const int32_t a_strides[4],
                      const int32_t b_strides[4], const int8_t *a, const int8_t *b, int8_t *out) {
    int32_t i0, i1, i2, i3;
    for (i0 = 0; i0 < shape[0]; ++i0) {
        for (i1 = 0; i1 < shape[1]; ++i1) {
            for (i2 = 0; i2 < shape[2]; ++i2) {
                for (i3 = 0; i3 < shape[3]; ++i3) {
                    int32_t x = a[i0 * a_strides[0] + i1 * a_strides[1] + i2 * a_strides[2] +
                                  i3 * a_strides[3]];
                    int32_t y = b[i0 * b_strides[0] + i1 * b_strides[1] + i2 * b_strides[2] +
                                  i3 * b_strides[3]];
                    uint32_t factor = (uint32_t)1 << (p->left_shift & 31);
                    int32_t sx = tl_mbqm_lt1(tl_i32((uint32_t)(p->input1_offset + x) * factor),
                                             p->input1_multiplier, p->input1_shift);
                    int32_t sy = tl_mbqm_lt1(tl_i32((uint32_t)(p->input2_offset + y) * factor),
                                             p->input2_multiplier, p->input2_shift);
                    int32_t v = tl_add(tl_mbqm_lt1(tl_add(sx, sy), p->output_multiplier,
                                                   p->output_shift),
                                       p->output_offset);
                    if (v < p->act_min) {
                        v = p->act_min;
                    }
                    if (v > p->act_max) {
                        v = p->act_max;
                    }
                    *out++ = (int8_t)v;
                }
            }
        }
    }
}
"#;

const RELU_TEXT: &str = r#"/* RELU, int8 (rescaled to the output's parameters). */
static void tl_relu(int32_t count, const int8_t *in, int32_t input_zero_point,
                    int32_t output_zero_point, int32_t multiplier, int32_t shift, int32_t act_min,
                    int8_t *out) {
    int32_t i;
    for (i = 0; i < count; ++i) {
        int32_t v = tl_add(output_zero_point,
                           tl_mbqm((int32_t)in[i] - input_zero_point, multiplier, shift));
        if (v < act_min) {
            v = act_min;
        }
        if (v > 127) {
            v = 127;
        }
        out[i] = (int8_t)v;
    }
}
"#;

const RELU6_TEXT: &str = r#"/* RELU6, int8 (TFLM: a clamp in the input's parameters). */
static void tl_relu6(int32_t count, const int8_t *in, int8_t lower, int8_t upper, int8_t *out) {
    int32_t i;
    for (i = 0; i < count; ++i) {
        int8_t v = in[i];
        out[i] = v > upper ? upper : (v < lower ? lower : v);
    }
}
"#;

const PAD_TEXT: &str = r#"/* PAD (4-D): the input placed at `before`, every other value `value`. */
static void tl_pad(const int32_t in_shape[4], const int32_t before[4], const int32_t out_shape[4],
                   const int8_t *in, int8_t value, int8_t *out) {
    int32_t i0, i1, i2, i3;
    for (i0 = 0; i0 < out_shape[0]; ++i0) {
        for (i1 = 0; i1 < out_shape[1]; ++i1) {
            for (i2 = 0; i2 < out_shape[2]; ++i2) {
                for (i3 = 0; i3 < out_shape[3]; ++i3) {
                    int32_t j0 = i0 - before[0], j1 = i1 - before[1];
                    int32_t j2 = i2 - before[2], j3 = i3 - before[3];
                    int inside = j0 >= 0 && j0 < in_shape[0] && j1 >= 0 && j1 < in_shape[1] &&
                                 j2 >= 0 && j2 < in_shape[2] && j3 >= 0 && j3 < in_shape[3];
                    *out++ = inside ? in[((j0 * in_shape[1] + j1) * in_shape[2] + j2) * in_shape[3] + j3]
                                    : value;
                }
            }
        }
    }
}
"#;

const REQUANTIZE_TEXT: &str = r#"/* QUANTIZE int8 -> int8 (another scale and zero point). */
static void tl_requantize_i8(int32_t count, const int8_t *in, int32_t input_zero_point,
                             int32_t output_zero_point, int32_t multiplier, int32_t shift,
                             int8_t *out) {
    int32_t i;
    for (i = 0; i < count; ++i) {
        int32_t v = tl_add(tl_mbqm((int32_t)in[i] - input_zero_point, multiplier, shift),
                           output_zero_point);
        out[i] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
    }
}
"#;

const SOFTMAX_TEXT: &str = r#"/* SOFTMAX over rows of `depth`, int8 -> int8 (scale 1/256, zero point -128). */
static int tl_softmax(int32_t rows, int32_t depth, const int8_t *in, int32_t input_multiplier,
                      int32_t input_left_shift, int32_t diff_min, int8_t *out) {
    int32_t r, i;
    for (r = 0; r < rows; ++r) {
        const int8_t *row = in + r * depth;
        int8_t *orow = out + r * depth;
        int32_t max = -128;
        int32_t sum_of_exps = 0;
        int32_t shifted_scale;
        int num_bits_over_unit;
        int exponent;
        for (i = 0; i < depth; ++i) {
            if (row[i] > max) {
                max = row[i];
            }
        }
        for (i = 0; i < depth; ++i) {
            int32_t diff = (int32_t)row[i] - max;
            if (diff >= diff_min) {
                int32_t e = tl_exp_neg(tl_mbqm_gt1(diff, input_multiplier, input_left_shift));
                sum_of_exps = tl_add(sum_of_exps, tl_rdbpot(e, 12));
            }
        }
        shifted_scale = tl_reciprocal(sum_of_exps, 12, &num_bits_over_unit);
        exponent = num_bits_over_unit + 31 - 8;
        if (exponent < 0 || exponent > 31) {
            return TINYLAB_MODEL_ERR_KERNEL;
        }
        for (i = 0; i < depth; ++i) {
            int32_t diff = (int32_t)row[i] - max;
            int32_t v = -128;
            if (diff >= diff_min) {
                int32_t e = tl_exp_neg(tl_mbqm_gt1(diff, input_multiplier, input_left_shift));
                v = tl_add(tl_rdbpot(tl_srdhm(shifted_scale, e), exponent), -128);
                v = v < -128 ? -128 : (v > 127 ? 127 : v);
            }
            orow[i] = (int8_t)v;
        }
    }
    return 0;
}
"#;
