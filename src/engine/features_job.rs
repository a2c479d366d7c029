//! Feature generation over the whole dataset, as a job: every sample is cut into windows (the
//! impulse's window size and increase), each window goes through the project's processing block,
//! and the result is cached per sample under `.cache/features/<settings hash>/`, so a second run
//! with the same settings reads instead of computing. Samples are split between worker threads
//! (one per core); a 2-D PCA of all windows feeds the feature explorer. An image sample is one
//! window: its file is decoded to RGB8 and goes through the image block whole (the impulse's
//! window settings do not apply to images).
//!
//! Invalidation: the cache folder is named by a hash of the block settings, the window settings
//! and the format version, and each file by the sample id; sample data files are never rewritten
//! (relabelling changes only the index), so a cached file is valid exactly while its folder name
//! matches. Folders of other settings are removed after a successful run.

use super::jobs::{JobContext, JobError, failed};
use crate::dsp::block::{BlockInput, DspSettings};
use crate::dsp::image::ImageInput;
use crate::dsp::pca::{Projection, pca_2d};
use crate::dsp::windowing::{WindowSettings, readings_in, window_values, windows};
use crate::dsp::{Features, Signal};
use crate::project::formats;
use crate::project::sample::{SampleId, SampleMeta, Split};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Bumped when the cache file layout or the meaning of cached values changes.
const CACHE_VERSION: u32 = 1;
const CACHE_MAGIC: &[u8; 4] = b"TLF1";

/// What the job needs, copied from the project so the job never touches it.
pub struct FeaturePlan {
    /// The processing block.
    pub dsp: DspSettings,
    /// How samples are cut into windows.
    pub window: WindowSettings,
    /// Every sample with its data file.
    pub samples: Vec<(SampleMeta, PathBuf)>,
    /// The project's `.cache/features` folder.
    pub cache_root: PathBuf,
}

/// One row of the feature matrix: a window of a sample.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureRow {
    /// The sample.
    pub sample: SampleId,
    /// Its label.
    pub label: String,
    /// Its split.
    pub split: Split,
    /// Index of the window in the sample.
    pub window: usize,
}

/// Features of the whole dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureSet {
    /// The block settings they were made with.
    pub dsp: DspSettings,
    /// The window settings they were made with.
    pub window: WindowSettings,
    /// Names of the values of one window (may be empty for grids).
    pub names: Vec<String>,
    /// Shape of one window's features.
    pub shape: Vec<usize>,
    /// One row per window.
    pub rows: Vec<FeatureRow>,
    /// Row-major values, `rows.len() × shape.product()`.
    pub values: Vec<f32>,
    /// 2-D PCA of the rows (empty with fewer than two rows).
    pub projection: Option<Projection>,
    /// Samples read from the cache.
    pub from_cache: usize,
    /// Wall time of the job.
    pub elapsed_s: f64,
}

/// One sample's windows.
struct SampleFeatures {
    names: Vec<String>,
    shape: Vec<usize>,
    windows: Vec<Vec<f32>>,
    cached: bool,
}

/// Runs the plan on all cores.
pub fn generate<T: Send>(plan: FeaturePlan, ctx: &JobContext<T>) -> Result<FeatureSet, JobError> {
    let started = Instant::now();
    let FeaturePlan {
        dsp,
        window,
        samples,
        cache_root,
    } = plan;
    if samples.is_empty() {
        return Err(failed(
            "the dataset has no samples: record or import some first",
        ));
    }
    let cache_dir = cache_root.join(format!("{:016x}", settings_hash(&dsp, &window)));
    std::fs::create_dir_all(&cache_dir)
        .map_err(|e| failed(format!("{}: {e}", cache_dir.display())))?;

    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, samples.len());
    let done = AtomicUsize::new(0);
    let total = samples.len();
    let results: Vec<Result<(usize, SampleFeatures), JobError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let (samples, dsp, window, cache_dir, done) =
                    (&samples, &dsp, &window, &cache_dir, &done);
                std::thread::Builder::new()
                    .name(format!("features {worker}"))
                    .spawn_scoped(scope, move || {
                        let mut out = Vec::new();
                        for (index, (meta, path)) in
                            samples.iter().enumerate().skip(worker).step_by(workers)
                        {
                            if ctx.is_cancelled() {
                                out.push(Err(JobError::Cancelled));
                                break;
                            }
                            out.push(
                                sample_features(dsp, window, meta, path, cache_dir)
                                    .map(|f| (index, f)),
                            );
                            let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                            ctx.progress(
                                finished as f32 / total as f32,
                                format!("{} of {total} samples", finished),
                            );
                        }
                        out
                    })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|_| vec![Err(failed("a feature worker crashed"))]),
                Err(e) => vec![Err(failed(format!(
                    "could not start a feature worker: {e}"
                )))],
            })
            .collect()
    });

    let mut per_sample: Vec<Option<SampleFeatures>> = (0..total).map(|_| None).collect();
    for result in results {
        let (index, features) = result?;
        if let Some(slot) = per_sample.get_mut(index) {
            *slot = Some(features);
        }
    }
    let mut set = FeatureSet {
        dsp,
        window,
        names: Vec::new(),
        shape: Vec::new(),
        rows: Vec::new(),
        values: Vec::new(),
        projection: None,
        from_cache: 0,
        elapsed_s: 0.0,
    };
    for ((meta, _), features) in samples.iter().zip(per_sample) {
        let Some(features) = features else { continue };
        if set.shape.is_empty() {
            set.names = features.names;
            set.shape = features.shape;
        } else if features.shape != set.shape {
            return Err(failed(format!(
                "sample {} gives features of shape {:?}, the others {:?}: its rate or length differs",
                meta.id, features.shape, set.shape
            )));
        }
        set.from_cache += usize::from(features.cached);
        for (window, values) in features.windows.into_iter().enumerate() {
            set.rows.push(FeatureRow {
                sample: meta.id,
                label: meta.label.clone(),
                split: meta.split,
                window,
            });
            set.values.extend(values);
        }
    }
    ctx.check_cancelled()?;
    let width = set.shape.iter().product::<usize>().max(1);
    let rows: Vec<Vec<f32>> = set.values.chunks(width).map(<[f32]>::to_vec).collect();
    set.projection = pca_2d(&rows).ok();
    remove_other_caches(&cache_root, &cache_dir);
    set.elapsed_s = started.elapsed().as_secs_f64();
    Ok(set)
}

/// One sample's features, from the cache when it has them.
fn sample_features(
    dsp: &DspSettings,
    window: &WindowSettings,
    meta: &SampleMeta,
    path: &Path,
    cache_dir: &Path,
) -> Result<SampleFeatures, JobError> {
    let cache_file = cache_file(cache_dir, meta.id);
    if meta.image.is_some() || dsp.reads_images() {
        return image_features(dsp, meta, path, &cache_file);
    }
    let series = formats::read_stored(path, meta.rate_hz).map_err(failed)?;
    let axes = series.axes.len();
    let ranges = windows(series.readings(), meta.rate_hz, window);
    if ranges.is_empty() {
        return Err(failed(format!(
            "sample {} ({:.2} s) is shorter than one {} ms window; turn on zero padding or shorten the window",
            meta.id,
            meta.duration_s(),
            window.window_ms
        )));
    }
    let window_readings = readings_in(window.window_ms, meta.rate_hz);
    let first = ranges.first().cloned().unwrap_or_default();
    let input = window_values(&series.values, axes, first, window_readings);
    let compute = |values: &[f32]| -> Result<Features, JobError> {
        let signal = Signal {
            axes,
            rate_hz: meta.rate_hz,
            values,
        };
        dsp.features(&BlockInput::Signal {
            signal,
            axis_names: &series.axes,
        })
        .map_err(|e| failed(format!("sample {}: {e}", meta.id)))
    };
    // The first window gives names and shape; the cache holds only values.
    let first_features = compute(&input)?;
    let width = first_features.values.len();
    if let Some(windows) = read_cache(&cache_file, ranges.len(), width) {
        return Ok(SampleFeatures {
            names: first_features.names,
            shape: first_features.shape,
            windows,
            cached: true,
        });
    }
    let mut all = vec![first_features.values];
    for range in ranges.into_iter().skip(1) {
        all.push(compute(&window_values(&series.values, axes, range, window_readings))?.values);
    }
    // A cache that cannot be written only costs time on the next run.
    let _ = write_cache(&cache_file, &all, width);
    Ok(SampleFeatures {
        names: first_features.names,
        shape: first_features.shape,
        windows: all,
        cached: false,
    })
}

/// An image sample's features: one window, cached like the others.
fn image_features(
    dsp: &DspSettings,
    meta: &SampleMeta,
    path: &Path,
    cache_file: &Path,
) -> Result<SampleFeatures, JobError> {
    if meta.image.is_none() {
        return Err(failed(format!(
            "sample {} is a time series, but the {} block reads images; choose a block for \
             {} data in the project's [dsp] settings",
            meta.id,
            dsp.name(),
            meta.sensor
        )));
    }
    if !dsp.reads_images() {
        return Err(failed(format!(
            "sample {} is an image, but the {} block reads time series; set `block = \"image\"` \
             in the project's [dsp] settings",
            meta.id,
            dsp.name()
        )));
    }
    let shape = match dsp {
        DspSettings::Image(settings) => crate::dsp::image::output_shape(settings)
            .map_err(|e| failed(format!("sample {}: {e}", meta.id)))?,
        _ => Vec::new(),
    };
    if let Some(windows) = read_cache(cache_file, 1, shape.iter().product()) {
        return Ok(SampleFeatures {
            names: Vec::new(),
            shape,
            windows,
            cached: true,
        });
    }
    let (width, height, rgb) = formats::image::load_rgb(path).map_err(failed)?;
    let features = dsp
        .features(&BlockInput::Image(ImageInput {
            width,
            height,
            rgb: &rgb,
        }))
        .map_err(|e| failed(format!("sample {}: {e}", meta.id)))?;
    let width = features.values.len();
    let windows = vec![features.values];
    // A cache that cannot be written only costs time on the next run.
    let _ = write_cache(cache_file, &windows, width);
    Ok(SampleFeatures {
        names: features.names,
        shape: features.shape,
        windows,
        cached: false,
    })
}

/// True when every sample has cached features for these settings (what "features generated with
/// the current settings" means for `tinylab check`), false for an empty dataset.
pub fn is_cached(
    cache_root: &Path,
    dsp: &DspSettings,
    window: &WindowSettings,
    samples: &[SampleMeta],
) -> bool {
    let dir = cache_root.join(format!("{:016x}", settings_hash(dsp, window)));
    !samples.is_empty()
        && samples
            .iter()
            .all(|meta| cache_file(&dir, meta.id).is_file())
}

/// The cache file of one sample's features.
fn cache_file(cache_dir: &Path, id: SampleId) -> PathBuf {
    cache_dir.join(format!("{id}.f32"))
}

/// FNV-1a of the settings as JSON: stable across runs and platforms.
fn settings_hash(dsp: &DspSettings, window: &WindowSettings) -> u64 {
    let text = format!(
        "{CACHE_VERSION}|{}|{}",
        serde_json::to_string(dsp).unwrap_or_default(),
        serde_json::to_string(window).unwrap_or_default()
    );
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn read_cache(path: &Path, windows: usize, width: usize) -> Option<Vec<Vec<f32>>> {
    let bytes = std::fs::read(path).ok()?;
    let (header, body) = bytes.split_at_checked(12)?;
    let (magic, counts) = header.split_at(4);
    let count = |i: usize| {
        counts
            .get(i..i + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    };
    if magic != CACHE_MAGIC || count(0)? as usize != windows || count(4)? as usize != width {
        return None;
    }
    if body.len() != windows * width * 4 {
        return None;
    }
    let values: Vec<f32> = body
        .chunks_exact(4)
        .filter_map(|b| b.try_into().ok())
        .map(f32::from_le_bytes)
        .collect();
    Some(values.chunks(width.max(1)).map(<[f32]>::to_vec).collect())
}

fn write_cache(path: &Path, windows: &[Vec<f32>], width: usize) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(12 + windows.len() * width * 4);
    bytes.extend_from_slice(CACHE_MAGIC);
    bytes.extend_from_slice(&(windows.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&(width as u32).to_le_bytes());
    for value in windows.iter().flatten() {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    crate::project::atomic::write_bytes_atomic(path, &bytes)
}

fn remove_other_caches(root: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && path != keep {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}
