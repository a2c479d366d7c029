//! The affine map that dense layers and convolutions share, as matrix products on flat
//! row-major slices (ndarray's `general_mat_mul`, i.e. matrixmultiply's packed f32 GEMM).
//!
//! With `x: [rows, k]` (a dense layer's batch, or a convolution's patch matrix), weights
//! `W: [f, k]` (TFLite's `[units, in]` and OHWI flattened) and bias `b: [f]`:
//!
//! ```text
//! forward    y  = x · Wᵀ + b           [rows, f]
//! backward   dx = dy · W               [rows, k]
//!            dW = dyᵀ · x              [f, k]
//!            db = Σ_rows dy            [f]
//! ```

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder};

use crate::nn::NnError;

/// A row-major `[rows, cols]` view of `data`.
fn view(data: &[f32], rows: usize, cols: usize) -> Result<ArrayView2<'_, f32>, NnError> {
    ArrayView2::from_shape((rows, cols), data).map_err(|_| mismatch(rows, cols, data.len()))
}

/// A column-major `[rows, cols]` view of `data`, i.e. the transpose of row-major `[cols, rows]`.
fn view_transposed(data: &[f32], rows: usize, cols: usize) -> Result<ArrayView2<'_, f32>, NnError> {
    ArrayView2::from_shape((rows, cols).f(), data).map_err(|_| mismatch(rows, cols, data.len()))
}

fn mismatch(rows: usize, cols: usize, len: usize) -> NnError {
    NnError::Shape {
        layer: "matrix product".into(),
        expected: format!("{rows}×{cols} values"),
        got: vec![len],
    }
}

/// `c += a · b` for row-major `c: [m, n]`.
fn accumulate(
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    c: &mut [f32],
) -> Result<(), NnError> {
    let (m, n) = (a.nrows(), b.ncols());
    let len = c.len();
    let mut c = ArrayViewMut2::from_shape((m, n), c).map_err(|_| mismatch(m, n, len))?;
    if a.ncols() != b.nrows() {
        return Err(mismatch(a.ncols(), b.nrows(), a.ncols()));
    }
    general_mat_mul(1.0, &a, &b, 1.0, &mut c);
    Ok(())
}

/// `y = x · Wᵀ + b` for `x: [rows, k]`, `W: [f, k]`, `b: [f]`.
pub(crate) fn affine_forward(
    x: &[f32],
    rows: usize,
    weights: &[f32],
    bias: &[f32],
) -> Result<Vec<f32>, NnError> {
    let f = bias.len();
    let k = weights.len().checked_div(f).unwrap_or(0);
    let mut y: Vec<f32> = Vec::with_capacity(rows * f);
    for _ in 0..rows {
        y.extend_from_slice(bias);
    }
    accumulate(view(x, rows, k)?, view_transposed(weights, k, f)?, &mut y)?;
    Ok(y)
}

/// Gradients of an affine map: `(dx, dW, db)`, `dx` only when asked for.
pub(crate) type AffineGrads = (Option<Vec<f32>>, Vec<f32>, Vec<f32>);

/// Gradients of [`affine_forward`]: `(dx, dW, db)`; `dx` only when `need_dx`.
pub(crate) fn affine_backward(
    x: &[f32],
    rows: usize,
    weights: &[f32],
    dy: &[f32],
    need_dx: bool,
) -> Result<AffineGrads, NnError> {
    let f = dy.len().checked_div(rows).unwrap_or(0);
    let k = weights.len().checked_div(f).unwrap_or(0);
    let mut d_weights = vec![0.0; f * k];
    accumulate(
        view_transposed(dy, f, rows)?,
        view(x, rows, k)?,
        &mut d_weights,
    )?;
    let mut d_bias = vec![0.0; f];
    for row in dy.chunks_exact(f.max(1)) {
        d_bias.iter_mut().zip(row).for_each(|(d, g)| *d += g);
    }
    let dx = if need_dx {
        let mut dx = vec![0.0; rows * k];
        accumulate(view(dy, rows, f)?, view(weights, f, k)?, &mut dx)?;
        Some(dx)
    } else {
        None
    };
    Ok((dx, d_weights, d_bias))
}
