//! Background-noise mixing, the audio augmentation the KWS lab relies on: every training sample
//! of a keyword gets `copies` new versions with a stretch of a background-noise recording (a
//! training sample of the noise label, e.g. `noise`) added at a chosen signal-to-noise ratio.
//! The copies are ordinary samples (source `augment:noise …`), so they are trained on, listed,
//! played and deleted like any other, and one Undo removes them all.
//!
//! SNR is measured on RMS: `gain = rms(sample) / (rms(noise stretch) · 10^(snr_db / 20))`. The
//! noise stretch starts at a seeded random offset and wraps around a shorter recording. Sums are
//! clipped to the int16 range the WAV files store. Samples made by an earlier mix are never mixed
//! again, so pressing the button twice does not compound noise.

use super::dataset_jobs::JobOutput;
use super::jobs::{JobContext, JobError, failed};
use crate::project::NewSample;
use crate::project::formats::read_stored;
use crate::project::sample::{SampleMeta, Series, Split};
use crate::rng::Rng;
use std::path::PathBuf;

/// Source prefix of the samples a mix makes.
pub const SOURCE_PREFIX: &str = "augment:noise";

/// What a mix needs, copied from the project.
pub struct NoiseMixPlan {
    /// Every sample with its data file.
    pub samples: Vec<(SampleMeta, PathBuf)>,
    /// Label of the background-noise recordings.
    pub noise_label: String,
    /// Signal-to-noise ratio of the copies, in dB.
    pub snr_db: f32,
    /// New versions per sample.
    pub copies: usize,
    /// Seeds the choice of noise recording and offset.
    pub seed: u64,
}

/// Makes the noisy copies (added to the project by the engine, as one undoable step).
pub fn mix_noise(plan: NoiseMixPlan, ctx: &JobContext<JobOutput>) -> Result<JobOutput, JobError> {
    let NoiseMixPlan {
        samples,
        noise_label,
        snr_db,
        copies,
        seed,
    } = plan;
    let is_train = |meta: &SampleMeta| meta.split == Split::Train;
    let is_mix = |meta: &SampleMeta| meta.source.starts_with(SOURCE_PREFIX);
    let mut noises = Vec::new();
    for (meta, path) in samples
        .iter()
        .filter(|(m, _)| is_train(m) && m.label == noise_label)
    {
        let series = read_stored(path, meta.rate_hz).map_err(failed)?;
        if rms(&series.values) > 0.0 {
            noises.push((meta.id, series.values));
        }
    }
    if noises.is_empty() {
        return Err(failed(format!(
            "no training sample labelled \"{noise_label}\" with sound in it: record or import \
             background noise under that label first"
        )));
    }
    let targets: Vec<&(SampleMeta, PathBuf)> = samples
        .iter()
        .filter(|(m, _)| is_train(m) && m.label != noise_label && !is_mix(m))
        .collect();
    if targets.is_empty() {
        return Err(failed(
            "no training samples of other labels to mix the noise into",
        ));
    }
    let noise_scale = 10f32.powf(snr_db / 20.0);
    let mut rng = Rng::new(seed);
    let mut made = Vec::with_capacity(targets.len() * copies);
    for (index, (meta, path)) in targets.iter().enumerate() {
        ctx.check_cancelled()?;
        let series = read_stored(path, meta.rate_hz).map_err(failed)?;
        let signal_rms = rms(&series.values);
        for _ in 0..copies {
            let Some((noise_id, noise)) = noises.get(rng.below(noises.len())) else {
                continue;
            };
            let offset = rng.below(noise.len());
            let stretch: Vec<f32> = noise
                .iter()
                .cycle()
                .skip(offset)
                .take(series.values.len())
                .copied()
                .collect();
            let gain = signal_rms / (rms(&stretch) * noise_scale).max(f32::MIN_POSITIVE);
            let values = series
                .values
                .iter()
                .zip(&stretch)
                .map(|(s, n)| (s + gain * n).clamp(f32::from(i16::MIN), f32::from(i16::MAX)))
                .collect();
            made.push(NewSample {
                series: Series {
                    axes: series.axes.clone(),
                    rate_hz: series.rate_hz,
                    values,
                },
                label: meta.label.clone(),
                split: Split::Train,
                source: format!(
                    "{SOURCE_PREFIX} {snr_db} dB from {noise_id} into {}",
                    meta.id
                ),
                image: None,
                boxes: Vec::new(),
            });
        }
        ctx.progress(
            (index + 1) as f32 / targets.len() as f32,
            format!("{} of {} samples", index + 1, targets.len()),
        );
    }
    Ok(JobOutput::Augmented(made))
}

/// Root mean square of `values`.
fn rms(values: &[f32]) -> f32 {
    let sum: f64 = values.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    (sum / values.len().max(1) as f64).sqrt() as f32
}
