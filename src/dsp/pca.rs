//! Principal component analysis to two dimensions, for the Features panel's explorer: each
//! window's feature vector becomes a point coloured by its class.
//!
//! Shapes and maths: `n` rows of `d` features, `X (n × d)`.
//! 1. Standardise each feature: `Z = (X − mean) / std`, with the population standard deviation
//!    (`ddof = 0`, as scikit-learn's `StandardScaler`), so features in m/s² and in dB weigh the
//!    same. A constant feature (all values equal) has no spread to scale and is left at 0.
//! 2. The principal axes are the eigenvectors `v₁, v₂` of `ZᵀZ` (the covariance up to the factor
//!    `1/(n−1)`) with the two largest eigenvalues `λ₁ ≥ λ₂`; a point is `(z·v₁, z·v₂)` and a
//!    component explains `λₖ / trace(ZᵀZ) = λₖ / ‖Z‖²_F` of the variance.
//! 3. When `d > n` the same nonzero eigenvalues come from the rows' Gram matrix `ZZᵀ (n × n)`: with
//!    its eigenvectors `uₖ`, the points are `uₖ·√λₖ` and the axes `vₖ = Zᵀuₖ / √λₖ`.
//!
//! Neither matrix is formed: the eigen-solver only needs products `ZᵀZ·v = Zᵀ(Z·v)` (or
//! `Z(Zᵀ·u)`), `2·n·d` multiply-adds each. It is Lanczos with full re-orthogonalisation, started
//! from a seeded random vector, on the smaller side (`min(n, d)` dimensions), and reads the Ritz
//! pairs off the small tridiagonal matrix with a cyclic Jacobi eigen-solver; it stops when the
//! top two residuals `‖Ax − θx‖` are below `1e-11·θ₁`, after at most 160 steps, or when the whole
//! space is spanned (then the answer is exact up to rounding). 2,000 rows of 637 noisy features
//! take 64 steps, about 0.15 s in a release build. A top eigenvalue repeated exactly in a space
//! larger than 160 dimensions is the one case a single-vector Lanczos can miss; real feature
//! data does not do that.
//!
//! Signs are normalised so that each axis's loading of largest magnitude is positive: the same
//! data always gives the same picture. An axis along which there is no variance gives zeros and
//! a ratio of 0 (the second axis does when all rows lie on one line, as 2 rows always do).

use super::DspError;
use crate::rng::Rng;

/// Rows projected on the first two principal axes.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// One `[pc1, pc2]` point per input row, in row order.
    pub points: Vec<[f32; 2]>,
    /// Share of the total (standardised) variance each axis explains, in 0..1, summing to ≤ 1.
    pub explained_variance_ratio: [f64; 2],
}

/// The largest Krylov space the solver builds.
const MAX_STEPS: usize = 160;
/// Krylov sizes at which convergence is tested (each test costs a Jacobi solve of that size).
const CHECKS: [usize; 9] = [8, 16, 24, 32, 48, 64, 96, 128, 160];
/// Residual tolerance relative to the largest Ritz value.
const TOLERANCE: f64 = 1e-11;
/// Seed of the start vector, fixed so results are reproducible.
const SEED: u64 = 0x5043_415f_3264; // "PCA_2d"

fn wrong(expected: String) -> DspError {
    DspError::WrongInput {
        block: "PCA feature explorer".to_owned(),
        expected,
    }
}

/// Projects `rows` (one feature vector each, all the same length) onto their first two
/// principal axes after standardising each feature. Errors for fewer than 2 rows, rows without
/// features, rows of different lengths and non-finite values.
pub fn pca_2d(rows: &[Vec<f32>]) -> Result<Projection, DspError> {
    let n = rows.len();
    let d = rows.first().map_or(0, Vec::len);
    if n < 2 {
        return Err(wrong(format!(
            "at least 2 feature rows to project, but got {n}: generate features for more windows"
        )));
    }
    if d == 0 {
        return Err(wrong(
            "rows with at least one feature, but they are empty".to_owned(),
        ));
    }
    for (i, row) in rows.iter().enumerate() {
        if row.len() != d {
            return Err(wrong(format!(
                "rows of equal length, but row 0 has {d} features and row {i} has {}",
                row.len()
            )));
        }
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(wrong(format!(
                "finite feature values, but row {i} feature {j} is {}",
                row.get(j).copied().unwrap_or(f32::NAN)
            )));
        }
    }

    let z = standardise(rows, d);
    let total: f64 = z.iter().map(|v| v * v).sum();
    if total <= 0.0 {
        // Every feature is constant: all points coincide at the origin.
        return Ok(Projection {
            points: vec![[0.0, 0.0]; n],
            explained_variance_ratio: [0.0, 0.0],
        });
    }

    let gram_side = d > n;
    let dim = if gram_side { n } else { d };
    let pairs = top_eigenpairs(dim, 2, |x, y| {
        if gram_side {
            gram_product(&z, d, x, y);
        } else {
            covariance_product(&z, d, x, y);
        }
    });

    let mut scores = [vec![0.0f64; n], vec![0.0f64; n]];
    let mut ratio = [0.0f64; 2];
    for ((score, share), (lambda, vector)) in scores.iter_mut().zip(&mut ratio).zip(pairs) {
        if lambda <= 1e-12 * total {
            continue; // No variance along this axis: leave its coordinates at 0.
        }
        let (loading, mut projected) = if gram_side {
            let mut loading = vec![0.0; d];
            transpose_product(&z, d, &vector, &mut loading);
            let root = lambda.sqrt();
            (loading, vector.iter().map(|u| u * root).collect::<Vec<_>>())
        } else {
            let mut projected = vec![0.0; n];
            matrix_product(&z, d, &vector, &mut projected);
            (vector, projected)
        };
        if largest_is_negative(&loading) {
            projected.iter_mut().for_each(|p| *p = -*p);
        }
        *score = projected;
        *share = (lambda / total).clamp(0.0, 1.0);
    }
    let [first, second] = scores;
    Ok(Projection {
        points: first
            .iter()
            .zip(&second)
            .map(|(&a, &b)| [a as f32, b as f32])
            .collect(),
        explained_variance_ratio: ratio,
    })
}

/// `Z`, row-major `n × d`: each column centred and divided by its population standard deviation;
/// constant columns are 0.
fn standardise(rows: &[Vec<f32>], d: usize) -> Vec<f64> {
    let n = rows.len() as f64;
    let first = rows.first().map(Vec::as_slice).unwrap_or_default();
    let mut mean = vec![0.0f64; d];
    let mut constant = vec![true; d];
    for row in rows {
        for (((m, c), &v), &f) in mean.iter_mut().zip(&mut constant).zip(row).zip(first) {
            *m += f64::from(v);
            *c &= v == f;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut variance = vec![0.0f64; d];
    for row in rows {
        for ((s, &v), &m) in variance.iter_mut().zip(row).zip(&mean) {
            let centred = f64::from(v) - m;
            *s += centred * centred;
        }
    }
    // Multiplying by 1/std (0 for constant columns) centres and scales in one pass.
    let inverse_std: Vec<f64> = variance
        .iter()
        .zip(&constant)
        .map(|(&s, &c)| {
            let std = (s / n).sqrt();
            if c || std <= 0.0 { 0.0 } else { 1.0 / std }
        })
        .collect();
    let mut z = Vec::with_capacity(rows.len() * d);
    for row in rows {
        z.extend(
            row.iter()
                .zip(&mean)
                .zip(&inverse_std)
                .map(|((&v, &m), &k)| (f64::from(v) - m) * k),
        );
    }
    z
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `y += alpha · x`.
fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `out = Z · v` (`v` has `d` values, `out` has `n`).
fn matrix_product(z: &[f64], d: usize, v: &[f64], out: &mut [f64]) {
    for (o, row) in out.iter_mut().zip(z.chunks_exact(d)) {
        *o = dot(row, v);
    }
}

/// `out = Zᵀ · u` (`u` has `n` values, `out` has `d`).
fn transpose_product(z: &[f64], d: usize, u: &[f64], out: &mut [f64]) {
    out.iter_mut().for_each(|o| *o = 0.0);
    for (&ui, row) in u.iter().zip(z.chunks_exact(d)) {
        axpy(ui, row, out);
    }
}

/// `out = ZᵀZ · v`, in `d` dimensions.
fn covariance_product(z: &[f64], d: usize, v: &[f64], out: &mut [f64]) {
    let mut t = vec![0.0; z.len() / d.max(1)];
    matrix_product(z, d, v, &mut t);
    transpose_product(z, d, &t, out);
}

/// `out = ZZᵀ · u`, in `n` dimensions.
fn gram_product(z: &[f64], d: usize, u: &[f64], out: &mut [f64]) {
    let mut t = vec![0.0; d];
    transpose_product(z, d, u, &mut t);
    matrix_product(z, d, &t, out);
}

/// Whether the entry of largest magnitude (the first such) is negative.
fn largest_is_negative(v: &[f64]) -> bool {
    let mut best = 0.0f64;
    for &x in v {
        if x.abs() > best.abs() {
            best = x;
        }
    }
    best < 0.0
}

/// A random unit vector orthogonal to `basis`, or `None` when `basis` already spans the space.
fn fresh_direction(rng: &mut Rng, dim: usize, basis: &[Vec<f64>]) -> Option<Vec<f64>> {
    let mut v: Vec<f64> = (0..dim).map(|_| rng.next_gaussian()).collect();
    let length = norm(&v);
    v.iter_mut().for_each(|x| *x /= length);
    orthogonalise(&mut v, basis);
    let length = norm(&v);
    if length.is_nan() || length <= 1e-8 {
        return None;
    }
    v.iter_mut().for_each(|x| *x /= length);
    Some(v)
}

/// Removes from `w` its components along the orthonormal `basis` (classical Gram–Schmidt, twice,
/// which keeps the basis orthogonal to working precision).
fn orthogonalise(w: &mut [f64], basis: &[Vec<f64>]) {
    for _ in 0..2 {
        for b in basis {
            let c = dot(b, w);
            axpy(-c, b, w);
        }
    }
}

/// Ritz pairs of a Lanczos tridiagonal matrix: values in descending order and, for each, the
/// coefficients of its vector in the Lanczos basis.
struct Ritz {
    values: Vec<f64>,
    vectors: Vec<Vec<f64>>,
}

fn ritz(alphas: &[f64], betas: &[f64]) -> Ritz {
    let k = alphas.len();
    let mut t = Dense::zeros(k);
    for (i, &a) in alphas.iter().enumerate() {
        t.set(i, i, a);
    }
    for (i, &b) in betas.iter().take(k.saturating_sub(1)).enumerate() {
        t.set(i, i + 1, b);
        t.set(i + 1, i, b);
    }
    let (values, vectors) = jacobi_eigen(t);
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| {
        let va = values.get(a).copied().unwrap_or(f64::NEG_INFINITY);
        let vb = values.get(b).copied().unwrap_or(f64::NEG_INFINITY);
        vb.total_cmp(&va)
    });
    Ritz {
        values: order
            .iter()
            .map(|&i| values.get(i).copied().unwrap_or(0.0))
            .collect(),
        vectors: order.iter().map(|&i| vectors.column(i)).collect(),
    }
}

/// The `count` largest eigenvalues of the symmetric positive semi-definite operator `apply`
/// (`y = A·x` in `dim` dimensions) and their unit eigenvectors, largest first.
fn top_eigenpairs(
    dim: usize,
    count: usize,
    apply: impl Fn(&[f64], &mut [f64]),
) -> Vec<(f64, Vec<f64>)> {
    let mut rng = Rng::new(SEED);
    let max_steps = dim.min(MAX_STEPS);
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let mut alphas: Vec<f64> = Vec::new();
    let mut betas: Vec<f64> = Vec::new();
    let mut scale = 0.0f64;
    let mut last: Option<(usize, Ritz)> = None;
    let Some(mut q) = fresh_direction(&mut rng, dim, &basis) else {
        return Vec::new();
    };
    loop {
        let mut w = vec![0.0; dim];
        apply(&q, &mut w);
        scale = scale.max(norm(&w));
        alphas.push(dot(&q, &w));
        basis.push(q);
        orthogonalise(&mut w, &basis);
        let k = basis.len();
        let beta = norm(&w);
        if k >= max_steps {
            break;
        }
        let broke_down = beta.is_nan() || beta <= 1e-12 * scale;
        if !broke_down && CHECKS.contains(&k) {
            // Residual of a Ritz pair: |β_k · (last coefficient of its vector)|.
            let pairs = ritz(&alphas, &betas);
            let top = pairs.values.first().copied().unwrap_or(0.0).abs();
            let converged = pairs.vectors.iter().take(count).all(|s| {
                (beta * s.last().copied().unwrap_or(0.0)).abs()
                    <= TOLERANCE * top.max(f64::MIN_POSITIVE)
            });
            last = Some((k, pairs));
            if converged {
                break;
            }
        }
        if broke_down {
            // An invariant subspace is spanned: continue from a new direction orthogonal to it,
            // decoupled in the tridiagonal matrix.
            betas.push(0.0);
            match fresh_direction(&mut rng, dim, &basis) {
                Some(next) => q = next,
                None => break,
            }
        } else {
            betas.push(beta);
            q = w.iter().map(|x| x / beta).collect();
        }
    }
    let pairs = match last {
        Some((k, pairs)) if k == basis.len() => pairs,
        _ => ritz(&alphas, &betas),
    };
    pairs
        .values
        .iter()
        .zip(&pairs.vectors)
        .take(count)
        .map(|(&value, coefficients)| {
            let mut vector = vec![0.0; dim];
            for (&c, b) in coefficients.iter().zip(&basis) {
                axpy(c, b, &mut vector);
            }
            let length = norm(&vector);
            if length > 0.0 {
                vector.iter_mut().for_each(|x| *x /= length);
            }
            (value.max(0.0), vector)
        })
        .collect()
}

/// A small dense square matrix, row-major.
struct Dense {
    size: usize,
    values: Vec<f64>,
}

impl Dense {
    fn zeros(size: usize) -> Self {
        Self {
            size,
            values: vec![0.0; size * size],
        }
    }

    fn identity(size: usize) -> Self {
        let mut m = Self::zeros(size);
        for i in 0..size {
            m.set(i, i, 1.0);
        }
        m
    }

    fn at(&self, row: usize, col: usize) -> f64 {
        self.values
            .get(row * self.size + col)
            .copied()
            .unwrap_or(0.0)
    }

    fn set(&mut self, row: usize, col: usize, value: f64) {
        if let Some(slot) = self.values.get_mut(row * self.size + col) {
            *slot = value;
        }
    }

    fn column(&self, col: usize) -> Vec<f64> {
        (0..self.size).map(|row| self.at(row, col)).collect()
    }

    /// Columns `p` and `q` become `c·p − s·q` and `s·p + c·q`.
    fn rotate_columns(&mut self, p: usize, q: usize, c: f64, s: f64) {
        for row in self.values.chunks_exact_mut(self.size) {
            let (Some(&a), Some(&b)) = (row.get(p), row.get(q)) else {
                continue;
            };
            if let Some(x) = row.get_mut(p) {
                *x = c * a - s * b;
            }
            if let Some(x) = row.get_mut(q) {
                *x = s * a + c * b;
            }
        }
    }

    /// Rows `p` and `q` become `c·p − s·q` and `s·p + c·q`.
    fn rotate_rows(&mut self, p: usize, q: usize, c: f64, s: f64) {
        for col in 0..self.size {
            let (a, b) = (self.at(p, col), self.at(q, col));
            self.set(p, col, c * a - s * b);
            self.set(q, col, s * a + c * b);
        }
    }
}

/// Eigenvalues and eigenvectors (as the columns of the returned matrix) of a symmetric matrix by
/// cyclic Jacobi rotations: each rotation `JᵀAJ` zeroes one off-diagonal pair; sweeps repeat
/// until the off-diagonal mass is negligible. Quadratically convergent and unconditionally
/// stable, which matters more here than speed (the matrices are at most 160 × 160).
fn jacobi_eigen(mut a: Dense) -> (Vec<f64>, Dense) {
    let size = a.size;
    let mut v = Dense::identity(size);
    let total: f64 = a.values.iter().map(|x| x * x).sum();
    for _sweep in 0..100 {
        let mut off = 0.0;
        for p in 0..size {
            for q in p + 1..size {
                off += a.at(p, q) * a.at(p, q);
            }
        }
        if off.is_nan() || off <= 1e-32 * total {
            break;
        }
        for p in 0..size {
            for q in p + 1..size {
                let apq = a.at(p, q);
                if apq == 0.0 {
                    continue;
                }
                let theta = (a.at(q, q) - a.at(p, p)) / (2.0 * apq);
                // The smaller root of t² + 2θt − 1 = 0, safe for huge θ.
                let t = if theta.abs() > 1e150 {
                    0.5 / theta
                } else {
                    theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt())
                };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                a.rotate_columns(p, q, c, s);
                a.rotate_rows(p, q, c, s);
                v.rotate_columns(p, q, c, s);
            }
        }
    }
    ((0..size).map(|i| a.at(i, i)).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_diagonalises_a_known_matrix() {
        // [[2, 1], [1, 2]] has eigenvalues 3 and 1 with vectors (1, 1)/√2 and (1, −1)/√2.
        let mut m = Dense::zeros(2);
        m.values = vec![2.0, 1.0, 1.0, 2.0];
        let (values, vectors) = jacobi_eigen(m);
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        assert!((sorted[0] - 1.0).abs() < 1e-14 && (sorted[1] - 3.0).abs() < 1e-14);
        let big = if values[0] > values[1] { 0 } else { 1 };
        let v = vectors.column(big);
        assert!((v[0].abs() - 0.5f64.sqrt()).abs() < 1e-14);
        assert!((v[0] - v[1]).abs() < 1e-14);
    }

    #[test]
    fn lanczos_finds_the_top_of_a_diagonal_operator() {
        let diagonal: Vec<f64> = (0..300).map(|i| 1.0 / (1.0 + i as f64)).collect();
        let pairs = top_eigenpairs(300, 2, |x, y| {
            for ((yi, xi), di) in y.iter_mut().zip(x).zip(&diagonal) {
                *yi = xi * di;
            }
        });
        assert!((pairs[0].0 - 1.0).abs() < 1e-10, "{}", pairs[0].0);
        assert!((pairs[1].0 - 0.5).abs() < 1e-10, "{}", pairs[1].0);
        assert!((pairs[0].1[0].abs() - 1.0).abs() < 1e-8);
        assert!((pairs[1].1[1].abs() - 1.0).abs() < 1e-8);
    }

    #[test]
    fn repeated_eigenvalues_in_a_small_space_are_both_found() {
        let pairs = top_eigenpairs(3, 2, |x, y| {
            y.copy_from_slice(x);
            y[2] *= 0.5;
        });
        assert!((pairs[0].0 - 1.0).abs() < 1e-12 && (pairs[1].0 - 1.0).abs() < 1e-12);
    }
}
