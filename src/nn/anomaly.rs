//! K-means anomaly detection with Edge Impulse's score, as the book's motion labs use it
//! (32 clusters on a few selected spectral features).
//!
//! Fitting: every feature is standardised (`(x − mean) / std`, population std, a constant
//! feature gets scale 1, like scikit-learn's `StandardScaler`); `k` centres are seeded by
//! k-means++ (first centre a uniformly random row, each next one a row drawn with probability
//! proportional to its squared distance to the nearest centre so far; scikit-learn's "greedy"
//! variant tries several candidates, this is the original one-draw rule) and refined by Lloyd
//! iterations until no row changes cluster. A cluster left empty is moved onto the row farthest
//! from its centre. Each cluster's radius is the largest distance of its own training rows.
//!
//! Scoring (Edge Impulse's `get_min_distance_to_cluster`): scale `x` the same way, then
//! ```text
//! score(x) = min over clusters c of ( ‖x_scaled − centre_c‖ − radius_c )
//! ```
//! so every training row scores ≤ 0, data like the training data scores around or below 0, and
//! rows far from everything seen score well above 0 (Edge Impulse's default threshold is 0.3).
//!
//! Degenerate inputs are handled, not refused: with fewer distinct rows than `k` the model has
//! as many clusters as distinct rows; a cluster that ends with no rows is dropped.
//! Centres, radii and scores are float32 like Edge Impulse's C++ SDK, and the radii are
//! computed with the very function that scores, so a training row can never score above 0
//! through rounding.

use serde::{Deserialize, Serialize};

use super::NnError;
use crate::rng::Rng;

/// A fitted K-means anomaly detector.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct KMeans {
    dims: usize,
    mean: Vec<f32>,
    scale: Vec<f32>,
    /// Cluster centres in the standardised space, `clusters × dims`.
    centroids: Vec<Vec<f32>>,
    radii: Vec<f32>,
    iterations: usize,
}

impl KMeans {
    /// The book's motion labs' cluster count (Edge Impulse's suggestion).
    pub const DEFAULT_CLUSTERS: usize = 32;
    /// Lloyd iterations at most (scikit-learn's default `max_iter`).
    pub const MAX_ITERATIONS: usize = 300;

    /// Fits `k` clusters to `rows` (row-major, `dims` values a row), seeded by k-means++ with
    /// `seed`.
    pub fn fit(rows: &[f32], dims: usize, k: usize, seed: u64) -> Result<Self, NnError> {
        let data = Scaled::new(rows, dims)?;
        if k == 0 {
            return Err(NnError::Data("k-means needs at least one cluster".into()));
        }
        let initial = kmeans_plus_plus(&data, k, &mut Rng::new(seed));
        Ok(data.lloyd(&initial))
    }

    /// Fits with the given rows (indices into `rows`) as the initial centres instead of
    /// k-means++, e.g. to compare with another implementation started the same way.
    pub fn fit_from(rows: &[f32], dims: usize, initial: &[usize]) -> Result<Self, NnError> {
        let data = Scaled::new(rows, dims)?;
        if initial.is_empty() {
            return Err(NnError::Data("k-means needs at least one cluster".into()));
        }
        if let Some(bad) = initial.iter().find(|&&i| i >= data.rows) {
            return Err(NnError::Data(format!(
                "initial centre row {bad} is out of range for {} rows",
                data.rows
            )));
        }
        Ok(data.lloyd(initial))
    }

    /// The anomaly score of one row of `dims` raw (unscaled) features: ≤ 0 inside a cluster's
    /// radius, growing with the distance outside. NaN when `x` does not have `dims` values.
    pub fn score(&self, x: &[f32]) -> f32 {
        if x.len() != self.dims {
            return f32::NAN;
        }
        let scaled = self.scale_row(x);
        self.centroids
            .iter()
            .zip(&self.radii)
            .map(|(centre, radius)| distance(&scaled, centre) - radius)
            .fold(f32::INFINITY, f32::min)
    }

    /// Scores of every row of `rows` (row-major, `dims` values a row; a partial last row is
    /// ignored).
    pub fn scores(&self, rows: &[f32]) -> Vec<f32> {
        rows.chunks_exact(self.dims.max(1))
            .map(|row| self.score(row))
            .collect()
    }

    /// Features per row.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// How many clusters the model has (at most the `k` asked for).
    pub fn clusters(&self) -> usize {
        self.centroids.len()
    }

    /// Cluster centres in the standardised feature space.
    pub fn centroids(&self) -> &[Vec<f32>] {
        &self.centroids
    }

    /// Each cluster's radius: the largest distance of its training rows to its centre.
    pub fn radii(&self) -> &[f32] {
        &self.radii
    }

    /// Per-feature mean used for standardising.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// Per-feature scale (population standard deviation, 1 for a constant feature).
    pub fn scale(&self) -> &[f32] {
        &self.scale
    }

    /// Lloyd iterations the fit took.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// `(x − mean) / scale` in float32, as Edge Impulse's `standard_scaler`.
    fn scale_row(&self, x: &[f32]) -> Vec<f32> {
        x.iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .map(|((&v, &m), &s)| (v - m) / s)
            .collect()
    }
}

/// Euclidean distance in float32, the one function both the radii and the scores use.
fn distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

/// Squared Euclidean distance in float64, for fitting.
fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| (x - y) * (x - y)).sum()
}

/// The training rows, standardised, in float64.
struct Scaled<'a> {
    raw: &'a [f32],
    dims: usize,
    rows: usize,
    mean: Vec<f32>,
    scale: Vec<f32>,
    values: Vec<f64>,
}

impl<'a> Scaled<'a> {
    fn new(raw: &'a [f32], dims: usize) -> Result<Self, NnError> {
        if dims == 0 || raw.is_empty() || !raw.len().is_multiple_of(dims) {
            return Err(NnError::Data(format!(
                "k-means needs at least one row of {dims} features; got {} values",
                raw.len()
            )));
        }
        if raw.iter().any(|v| !v.is_finite()) {
            return Err(NnError::Data(
                "k-means features contain a NaN or infinite value".into(),
            ));
        }
        let rows = raw.len() / dims;
        let mut mean = vec![0.0f64; dims];
        for row in raw.chunks_exact(dims) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= rows as f64);
        let mut variance = vec![0.0f64; dims];
        for row in raw.chunks_exact(dims) {
            for ((s, &v), &m) in variance.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(v) - m).powi(2);
            }
        }
        let scale: Vec<f32> = variance
            .iter()
            .zip(&mean)
            .map(|(&var, &m)| {
                let std = (var / rows as f64).sqrt();
                // A (numerically) constant feature is left unscaled, like StandardScaler.
                if std <= 10.0 * f64::EPSILON * m.abs().max(1.0) {
                    1.0
                } else {
                    std as f32
                }
            })
            .collect();
        let mean: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
        let values = raw
            .chunks_exact(dims)
            .flat_map(|row| {
                row.iter()
                    .zip(&mean)
                    .zip(&scale)
                    .map(|((&v, &m), &s)| (f64::from(v) - f64::from(m)) / f64::from(s))
            })
            .collect();
        Ok(Self {
            raw,
            dims,
            rows,
            mean,
            scale,
            values,
        })
    }

    fn row(&self, i: usize) -> &[f64] {
        self.values
            .get(i * self.dims..(i + 1) * self.dims)
            .unwrap_or(&[])
    }

    /// Index of the nearest centre (the first on ties) and the squared distance to it.
    fn nearest(&self, i: usize, centres: &[Vec<f64>]) -> (usize, f64) {
        let row = self.row(i);
        centres
            .iter()
            .map(|c| squared_distance(row, c))
            .enumerate()
            .fold((0, f64::INFINITY), |(best_i, best), (c, d)| {
                if d < best { (c, d) } else { (best_i, best) }
            })
    }

    /// Lloyd iterations from the given initial rows until no row changes cluster.
    fn lloyd(&self, initial: &[usize]) -> KMeans {
        let mut centres: Vec<Vec<f64>> = initial.iter().map(|&i| self.row(i).to_vec()).collect();
        let mut labels: Vec<usize> = (0..self.rows)
            .map(|i| self.nearest(i, &centres).0)
            .collect();
        let mut iterations = 0;
        while iterations < KMeans::MAX_ITERATIONS {
            iterations += 1;
            let relocated = self.update_centres(&mut centres, &labels);
            let next: Vec<usize> = (0..self.rows)
                .map(|i| self.nearest(i, &centres).0)
                .collect();
            let converged = next == labels && !relocated;
            labels = next;
            if converged {
                break;
            }
        }
        self.finish(&centres, &labels, iterations)
    }

    /// Moves every centre to the mean of its rows; an empty cluster's centre moves onto the
    /// row farthest from its own centre (each such row used once). Returns whether any did.
    fn update_centres(&self, centres: &mut [Vec<f64>], labels: &[usize]) -> bool {
        let mut sums = vec![vec![0.0f64; self.dims]; centres.len()];
        let mut counts = vec![0usize; centres.len()];
        for (i, &label) in labels.iter().enumerate() {
            if let (Some(sum), Some(count)) = (sums.get_mut(label), counts.get_mut(label)) {
                *count += 1;
                sum.iter_mut().zip(self.row(i)).for_each(|(s, &v)| *s += v);
            }
        }
        // Rows by distance to their own centre, farthest first, for empty clusters to take.
        let mut far: Vec<(usize, f64)> = labels
            .iter()
            .enumerate()
            .filter_map(|(i, &l)| Some((i, squared_distance(self.row(i), centres.get(l)?))))
            .filter(|&(_, d)| d > 0.0)
            .collect();
        far.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut far = far.into_iter();
        let mut relocated = false;
        for ((centre, sum), &count) in centres.iter_mut().zip(sums).zip(&counts) {
            if count > 0 {
                *centre = sum.into_iter().map(|s| s / count as f64).collect();
            } else if let Some((row, _)) = far.next() {
                *centre = self.row(row).to_vec();
                relocated = true;
            }
        }
        relocated
    }

    /// The fitted model: float32 centres of non-empty clusters and their radii.
    fn finish(&self, centres: &[Vec<f64>], labels: &[usize], iterations: usize) -> KMeans {
        let mut model = KMeans {
            dims: self.dims,
            mean: self.mean.clone(),
            scale: self.scale.clone(),
            centroids: Vec::new(),
            radii: Vec::new(),
            iterations,
        };
        let scaled: Vec<Vec<f32>> = self
            .raw
            .chunks_exact(self.dims)
            .map(|row| model.scale_row(row))
            .collect();
        for (c, centre) in centres.iter().enumerate() {
            let centre: Vec<f32> = centre.iter().map(|&v| v as f32).collect();
            let radius = labels
                .iter()
                .zip(&scaled)
                .filter(|&(&l, _)| l == c)
                .map(|(_, row)| distance(row, &centre))
                .fold(None, |acc: Option<f32>, d| {
                    Some(acc.map_or(d, |a| a.max(d)))
                });
            if let Some(radius) = radius {
                model.centroids.push(centre);
                model.radii.push(radius);
            }
        }
        model
    }
}

/// k-means++ seeding: indices of up to `k` distinct rows (fewer when the rows have fewer
/// distinct values).
fn kmeans_plus_plus(data: &Scaled, k: usize, rng: &mut Rng) -> Vec<usize> {
    let first = rng.below(data.rows);
    let mut chosen = vec![first];
    let mut nearest: Vec<f64> = (0..data.rows)
        .map(|i| squared_distance(data.row(i), data.row(first)))
        .collect();
    while chosen.len() < k.min(data.rows) {
        let total: f64 = nearest.iter().sum();
        if total <= 0.0 {
            break; // every row coincides with a centre already
        }
        let target = rng.next_f64() * total;
        let mut cumulative = 0.0;
        let mut pick = None;
        for (i, &d) in nearest.iter().enumerate() {
            cumulative += d;
            if d > 0.0 {
                pick = Some(i);
                if cumulative > target {
                    break;
                }
            }
        }
        let Some(pick) = pick else { break };
        chosen.push(pick);
        let centre = data.row(pick);
        for (i, d) in nearest.iter_mut().enumerate() {
            *d = d.min(squared_distance(data.row(i), centre));
        }
    }
    chosen
}
