//! The time-domain C helpers of spectral analysis, as `dsp::spectral` and `dsp::filter` compute
//! them: scipy's `sosfilt` (in `double` or `float`), Edge Impulse's decimation with its Chebyshev
//! table and steady state, RMS, SciPy's skewness and kurtosis, mean removal.

use super::CExportError;
use super::emit::CSource;
use crate::dsp::filter::{self, Sos};

/// The Chebyshev decimation filter Edge Impulse uses (`cheby1(8, 0.05, 0.8 / ratio)`).
const DECIMATION_ORDER: u32 = 8;
const DECIMATION_RIPPLE_DB: f64 = 0.05;

/// Adds `tl_cheby{ratio}_sos` / `_zi` (Edge Impulse's decimation filter and its steady state,
/// from `dsp::filter`) once per ratio.
pub(super) fn chebyshev_table(
    source: &mut CSource,
    ratio: usize,
    done: &mut Vec<usize>,
) -> Result<(), CExportError> {
    if done.contains(&ratio) {
        return Ok(());
    }
    done.push(ratio);
    let sos: Sos =
        filter::chebyshev1_low(DECIMATION_ORDER, DECIMATION_RIPPLE_DB, 0.8 / ratio as f64)?;
    let flat: Vec<f64> = sos.sections.iter().flatten().copied().collect();
    let zi: Vec<f64> = sos.steady_state().into_iter().flatten().collect();
    source.doubles(&format!("tl_cheby{ratio}_sos"), &flat)?;
    source.doubles(&format!("tl_cheby{ratio}_zi"), &zi)?;
    Ok(())
}

/// scipy's `sosfilt` in C for `ty` (`double`, or `float` for `float32` data, which SciPy filters
/// in single precision), named `tl_sosfilt{suffix}`.
pub(super) fn sosfilt_c(ty: &str, suffix: &str) -> String {
    format!(
        r#"
/* scipy's sosfilt (transposed direct form II) in {ty} over x[0..n) from state z, in place;
 * output i is kept at x[i / keep] when i % keep == 0. Returns the outputs kept. */
static size_t tl_sosfilt{suffix}(const {ty} *sos, size_t sections, {ty} *z, {ty} *x, size_t n,
                         size_t keep)
{{
    size_t i;
    for (i = 0; i < n; i++) {{
        {ty} current = x[i];
        size_t s;
        for (s = 0; s < sections; s++) {{
            const {ty} *c = sos + s * 6;
            {ty} out = c[0] * current + z[s * 2];
            z[s * 2] = c[1] * current - c[4] * out + z[s * 2 + 1];
            z[s * 2 + 1] = c[2] * current - c[5] * out;
            current = out;
        }}
        if (i % keep == 0) {{
            x[i / keep] = current;
        }}
    }}
    return (n + keep - 1) / keep;
}}
"#
    )
}

/// Edge Impulse's decimation (after the `double` [`sosfilt_c`]).
pub(super) const DECIMATE_C: &str = r#"
/* Edge Impulse's decimate_simple: the Chebyshev filter from its steady state at x[0], every
 * ratio-th output kept, in place. */
static size_t tl_decimate(const double *sos, const double *zi, double *x, size_t n, size_t ratio)
{
    double z[8];
    size_t j;
    if (n == 0) {
        return 0;
    }
    for (j = 0; j < 8; j++) {
        z[j] = zi[j] * x[0];
    }
    return tl_sosfilt(sos, 4, z, x, n, ratio);
}
"#;

/// RMS in `double`, as `dsp::spectral`.
pub(super) const RMS_C: &str = r#"
static double tl_rms(const double *x, size_t n)
{
    double sum = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        sum += x[i] * x[i];
    }
    return sqrt(sum / (double)(n > 0 ? n : 1));
}
"#;

/// Skewness and kurtosis in `double`, as `dsp::spectral`.
pub(super) const MOMENTS_C: &str = r#"
/* scipy.stats skew and kurtosis (biased; 0 and -3 for numerically constant input). */
static void tl_moments(const double *x, size_t n, double *skew, double *kurt)
{
    double mean = 0.0, m2 = 0.0, m3 = 0.0, m4 = 0.0, floor;
    size_t i;
    if (n == 0) {
        *skew = 0.0;
        *kurt = -3.0;
        return;
    }
    for (i = 0; i < n; i++) {
        mean += x[i];
    }
    mean /= (double)n;
    for (i = 0; i < n; i++) {
        double d = x[i] - mean;
        double d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    m2 /= (double)n;
    m3 /= (double)n;
    m4 /= (double)n;
    floor = 1e-15 * mean;
    if (m2 <= floor * floor) {
        *skew = 0.0;
        *kurt = -3.0;
    } else {
        *skew = m3 / pow(m2, 1.5);
        *kurt = m4 / pow(m2, 2.0) - 3.0;
    }
}
"#;

/// Mean removal in `double`.
pub(super) const REMOVE_MEAN_C: &str = r#"
static void tl_remove_mean(double *x, size_t n)
{
    double mean = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        mean += x[i];
    }
    mean /= (double)(n > 0 ? n : 1);
    for (i = 0; i < n; i++) {
        x[i] -= mean;
    }
}
"#;
