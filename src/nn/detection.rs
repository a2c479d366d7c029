//! FOMO object detection (Edge Impulse's "Faster Objects, More Objects"): the per-cell training
//! target from labelled boxes, the decoding of a per-cell heat map into centroids, and the
//! centroid-matching metrics.
//!
//! The model sees a `W × H` input and outputs a `gw × gh` grid of cells (`W / 8`, the backbone's
//! stride), each a softmax over `C` classes with class 0 the background.
//! - **Target**: every cell is background except the one holding a box's centre, which gets the
//!   box's class (a later box in the same cell wins, as in Edge Impulse's FOMO).
//! - **Decoding**: a cell is an object cell when its largest non-background probability is at
//!   least the threshold (default 0.8, the book's); object cells of the same class that touch
//!   (4-neighbours) merge into one detection, at the mean of their cell centres, scored by their
//!   mean probability.
//! - **Matching** (Edge Impulse's FOMO F1): a detected centroid is a true positive when it lies
//!   inside a labelled box of its class that no other detection has matched; each box is matched
//!   at most once; other detections are false positives and unmatched boxes false negatives.
//!   Precision, recall and F1 per class, and over all object classes (micro-averaged).

use serde::{Deserialize, Serialize};

/// A box in the model's input pixels (the image's box scaled to the input size).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputBox {
    /// Class index, ≥ 1 (0 is the background).
    pub class: usize,
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

impl InputBox {
    /// Whether `(x, y)` is inside (edges included).
    pub fn contains(&self, x: f32, y: f32) -> bool {
        x >= self.x && y >= self.y && x <= self.x + self.width && y <= self.y + self.height
    }
}

/// The output grid: cells across and down, and the input size they cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grid {
    /// Cells across.
    pub width: usize,
    /// Cells down.
    pub height: usize,
    /// Input width in pixels.
    pub input_width: usize,
    /// Input height in pixels.
    pub input_height: usize,
}

impl Grid {
    /// Number of cells.
    pub fn cells(&self) -> usize {
        self.width * self.height
    }

    fn cell_size(&self) -> (f32, f32) {
        (
            self.input_width as f32 / self.width.max(1) as f32,
            self.input_height as f32 / self.height.max(1) as f32,
        )
    }
}

/// The per-cell class (row-major, `grid.cells()` entries) for one image's boxes.
pub fn cell_targets(grid: Grid, boxes: &[InputBox]) -> Vec<usize> {
    let mut cells = vec![0; grid.cells()];
    let (cw, ch) = grid.cell_size();
    for b in boxes {
        let cx = b.x + b.width / 2.0;
        let cy = b.y + b.height / 2.0;
        let col = ((cx / cw).floor().max(0.0) as usize).min(grid.width.saturating_sub(1));
        let row = ((cy / ch).floor().max(0.0) as usize).min(grid.height.saturating_sub(1));
        if let Some(cell) = cells.get_mut(row * grid.width + col) {
            *cell = b.class;
        }
    }
    cells
}

/// One detected object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Centroid {
    /// Class index, ≥ 1.
    pub class: usize,
    /// Centre in input pixels.
    pub x: f32,
    /// Centre in input pixels.
    pub y: f32,
    /// Mean probability of its cells.
    pub score: f32,
    /// How many cells merged into it.
    pub cells: usize,
}

/// Decodes one image's heat map (`grid.cells() × classes` probabilities, row-major cells, class
/// fastest) into centroids (see the module doc). Ordered by first cell, row-major.
pub fn decode(probs: &[f32], grid: Grid, classes: usize, threshold: f32) -> Vec<Centroid> {
    // The object class of each cell, or 0.
    let cell_class: Vec<(usize, f32)> = probs
        .chunks(classes.max(1))
        .take(grid.cells())
        .map(|cell| {
            let mut best = (0, 0.0f32);
            for (class, &p) in cell.iter().enumerate().skip(1) {
                if p > best.1 {
                    best = (class, p);
                }
            }
            if best.1 >= threshold { best } else { (0, 0.0) }
        })
        .collect();
    let (cw, ch) = grid.cell_size();
    let mut seen = vec![false; cell_class.len()];
    let mut found = Vec::new();
    for start in 0..cell_class.len() {
        let Some(&(class, _)) = cell_class.get(start) else {
            continue;
        };
        if class == 0 || seen.get(start).copied().unwrap_or(true) {
            continue;
        }
        // Flood fill over 4-neighbours of the same class.
        let mut stack = vec![start];
        if let Some(s) = seen.get_mut(start) {
            *s = true;
        }
        let (mut sx, mut sy, mut sp, mut n) = (0.0f32, 0.0f32, 0.0f32, 0usize);
        while let Some(cell) = stack.pop() {
            let (row, col) = (cell / grid.width, cell % grid.width);
            sx += (col as f32 + 0.5) * cw;
            sy += (row as f32 + 0.5) * ch;
            sp += cell_class.get(cell).map_or(0.0, |c| c.1);
            n += 1;
            let mut neighbours = Vec::with_capacity(4);
            if col > 0 {
                neighbours.push(cell - 1);
            }
            if col + 1 < grid.width {
                neighbours.push(cell + 1);
            }
            if row > 0 {
                neighbours.push(cell - grid.width);
            }
            if row + 1 < grid.height {
                neighbours.push(cell + grid.width);
            }
            for next in neighbours {
                let same = cell_class.get(next).is_some_and(|c| c.0 == class);
                if let Some(s) = seen.get_mut(next)
                    && same
                    && !*s
                {
                    *s = true;
                    stack.push(next);
                }
            }
        }
        let n_f = n as f32;
        found.push(Centroid {
            class,
            x: sx / n_f,
            y: sy / n_f,
            score: sp / n_f,
            cells: n,
        });
    }
    found
}

/// True positives, false positives and false negatives of one class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Detections inside a box of their class.
    pub true_positives: usize,
    /// Detections matching no box.
    pub false_positives: usize,
    /// Boxes no detection matched.
    pub false_negatives: usize,
}

impl Counts {
    /// TP / (TP + FP); 0 with no detections.
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// TP / (TP + FN); 0 with no boxes.
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    /// 2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall; 0 when all are 0.
    pub fn f1(&self) -> f64 {
        ratio(
            2 * self.true_positives,
            2 * self.true_positives + self.false_positives + self.false_negatives,
        )
    }

    fn add(&mut self, other: Counts) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.false_negatives += other.false_negatives;
    }
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Matches one image's centroids against its boxes; adds to `per_class` (indexed by class,
/// background's entry unused). Detections are taken in order of falling score, each matched to
/// the first unmatched box of its class that contains it.
pub fn match_image(centroids: &[Centroid], boxes: &[InputBox], per_class: &mut [Counts]) {
    let mut order: Vec<&Centroid> = centroids.iter().collect();
    order.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut matched = vec![false; boxes.len()];
    for c in order {
        let hit = boxes
            .iter()
            .zip(matched.iter_mut())
            .find(|(b, m)| !**m && b.class == c.class && b.contains(c.x, c.y));
        let Some(counts) = per_class.get_mut(c.class) else {
            continue;
        };
        match hit {
            Some((_, m)) => {
                *m = true;
                counts.true_positives += 1;
            }
            None => counts.false_positives += 1,
        }
    }
    for (b, m) in boxes.iter().zip(&matched) {
        if !m && let Some(counts) = per_class.get_mut(b.class) {
            counts.false_negatives += 1;
        }
    }
}

/// One class's row of [`DetectionMetrics`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassDetection {
    /// The class's label.
    pub label: String,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
}

/// Detection metrics over a set of images (see the module doc).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetectionMetrics {
    /// Images evaluated.
    pub images: usize,
    /// The confidence threshold used.
    pub threshold: f32,
    /// Per object class (background excluded), in class order.
    pub per_class: Vec<ClassDetection>,
    /// Over all object classes.
    pub precision: f64,
    /// Over all object classes.
    pub recall: f64,
    /// Over all object classes: the figure Edge Impulse reports as the FOMO F1 score.
    pub f1: f64,
}

impl DetectionMetrics {
    /// Metrics from per-class counts (`labels[0]` is the background and is skipped).
    pub fn from_counts(
        labels: &[String],
        per_class: &[Counts],
        images: usize,
        threshold: f32,
    ) -> Self {
        let mut total = Counts::default();
        let rows = labels
            .iter()
            .zip(per_class)
            .skip(1)
            .map(|(label, &counts)| {
                total.add(counts);
                ClassDetection {
                    label: label.clone(),
                    counts,
                    precision: counts.precision(),
                    recall: counts.recall(),
                    f1: counts.f1(),
                }
            })
            .collect();
        Self {
            images,
            threshold,
            per_class: rows,
            precision: total.precision(),
            recall: total.recall(),
            f1: total.f1(),
        }
    }

    /// Evaluates images: `probs` is each image's heat map (see [`decode`]), `boxes` its boxes.
    pub fn evaluate<'a>(
        images: impl IntoIterator<Item = (&'a [f32], &'a [InputBox])>,
        grid: Grid,
        labels: &[String],
        threshold: f32,
    ) -> Self {
        let classes = labels.len();
        let mut per_class = vec![Counts::default(); classes];
        let mut count = 0;
        for (probs, boxes) in images {
            let found = decode(probs, grid, classes, threshold);
            match_image(&found, boxes, &mut per_class);
            count += 1;
        }
        Self::from_counts(labels, &per_class, count, threshold)
    }
}
