//! Small pure helpers on audio buffers: mono mixdown of interleaved frames, the loudness
//! figures a level meter shows (peak, RMS, clipped samples), in fractions of full scale, and the
//! columns of a scrolling spectrogram computed as audio streams in.

/// A sample at or above this fraction of full scale counts as clipped (the converter's limit).
pub const CLIP_LEVEL: f32 = 0.999;

/// Appends the mono mix (mean of the channels) of interleaved `frames` to `out`; a trailing
/// incomplete frame is ignored.
pub fn mix_to_mono(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    let channels = channels.max(1);
    if channels == 1 {
        out.extend_from_slice(interleaved);
        return;
    }
    let scale = 1.0 / channels as f32;
    out.extend(
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() * scale),
    );
}

/// Loudness of a stretch of audio, in fractions of full scale (1.0 = 0 dBFS).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Level {
    /// Largest absolute sample.
    pub peak: f32,
    /// Root mean square.
    pub rms: f32,
    /// Samples at or above [`CLIP_LEVEL`].
    pub clipped: u64,
    /// Samples measured.
    pub samples: u64,
}

impl Level {
    /// The level of `samples` (full scale ±1).
    pub fn of(samples: &[f32]) -> Self {
        let mut level = Self::default();
        level.add(samples);
        level
    }

    /// Adds `samples` to the figures.
    pub fn add(&mut self, samples: &[f32]) {
        let mut sum_sq = f64::from(self.rms) * f64::from(self.rms) * self.samples as f64;
        for &s in samples {
            let a = s.abs();
            self.peak = self.peak.max(a);
            if a >= CLIP_LEVEL {
                self.clipped += 1;
            }
            sum_sq += f64::from(s) * f64::from(s);
        }
        self.samples += samples.len() as u64;
        self.rms = if self.samples == 0 {
            0.0
        } else {
            (sum_sq / self.samples as f64).sqrt() as f32
        };
    }

    /// Merges another stretch's figures into these.
    pub fn merge(&mut self, other: &Self) {
        let total = self.samples + other.samples;
        if total == 0 {
            return;
        }
        let sum_sq = f64::from(self.rms).powi(2) * self.samples as f64
            + f64::from(other.rms).powi(2) * other.samples as f64;
        self.rms = (sum_sq / total as f64).sqrt() as f32;
        self.peak = self.peak.max(other.peak);
        self.clipped += other.clipped;
        self.samples = total;
    }

    /// A fraction of full scale in decibels (dBFS), floored at −100.
    pub fn dbfs(fraction: f32) -> f32 {
        if fraction <= 1e-5 {
            -100.0
        } else {
            20.0 * fraction.log10()
        }
    }
}

/// A spectrogram computed as audio arrives: Hann-windowed frames of `frame` samples every
/// `stride` samples, each giving a column of `n_fft / 2 + 1` powers in decibels.
#[derive(Clone, Debug)]
pub struct LiveSpectrogram {
    frame: usize,
    stride: usize,
    n_fft: usize,
    window: Vec<f64>,
    pending: Vec<f32>,
}

impl LiveSpectrogram {
    /// The Capture panel's: 25 ms frames every 20 ms (the KWS lab's MFCC framing), FFT 512.
    pub fn for_rate(rate_hz: f64) -> Self {
        let frame = ((rate_hz * 0.025).round() as usize).max(16);
        let stride = ((rate_hz * 0.020).round() as usize).max(1);
        let n_fft = frame.next_power_of_two();
        let window = (0..frame)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / frame as f64).cos())
            .collect();
        Self {
            frame,
            stride,
            n_fft,
            window,
            pending: Vec::new(),
        }
    }

    /// Frequency bins per column.
    pub fn bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Takes `samples` (any scale) and returns the columns completed, oldest first.
    pub fn push(&mut self, samples: &[f32]) -> Vec<Vec<f32>> {
        self.pending.extend_from_slice(samples);
        let mut columns = Vec::new();
        let mut start = 0;
        while let Some(frame) = self.pending.get(start..start + self.frame) {
            let windowed: Vec<f64> = frame
                .iter()
                .zip(&self.window)
                .map(|(&s, w)| f64::from(s) * w)
                .collect();
            let power = super::fft::rfft_power(&windowed, self.n_fft);
            columns.push(
                power
                    .iter()
                    .map(|p| (10.0 * (p + 1e-10).log10()) as f32)
                    .collect(),
            );
            start += self.stride;
        }
        self.pending.drain(..start.min(self.pending.len()));
        columns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_peaks_in_its_bin_of_the_live_spectrogram() {
        let mut spectrogram = LiveSpectrogram::for_rate(16_000.0);
        let tone: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 1_000.0 * i as f32 / 16_000.0).sin())
            .collect();
        // Fed in odd pieces, one second gives a column every 20 ms.
        let columns: Vec<Vec<f32>> = tone.chunks(333).flat_map(|c| spectrogram.push(c)).collect();
        assert_eq!(columns.len(), (16_000 - 400) / 320 + 1);
        for column in &columns {
            let peak = column
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(bin, _)| bin)
                .unwrap();
            // 1 kHz at 16 kHz with a 512-point FFT: bin 32.
            assert_eq!(peak, 32);
        }
    }

    #[test]
    fn mixdown_averages_channels() {
        let mut out = Vec::new();
        mix_to_mono(&[1.0, 0.0, 0.5, 0.5, -1.0], 2, &mut out);
        assert_eq!(out, vec![0.5, 0.5]);
    }

    #[test]
    fn level_of_a_full_scale_sine() {
        let sine: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin())
            .collect();
        let level = Level::of(&sine);
        assert!((level.rms - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-3);
        assert!(level.peak > 0.999 && level.clipped > 0);
        let mut halves = Level::of(&sine[..8000]);
        halves.merge(&Level::of(&sine[8000..]));
        assert!((halves.rms - level.rms).abs() < 1e-5);
        assert_eq!(halves.clipped, level.clipped);
        assert!((Level::dbfs(0.5) + 6.0206).abs() < 1e-3);
    }
}
