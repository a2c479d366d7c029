//! Splitting a long recording into fixed-length clips, one per spoken word: what the book's KWS
//! lab does by hand in Audacity, and Edge Impulse's "Split sample" does from the signal's energy.
//!
//! The maths, on a mono signal `x` at `rate_hz`:
//!
//! 1. Frame level: the RMS of frames of [`SplitSettings::frame_ms`] every `frame_ms / 2`, in dB
//!    (`20·log10(rms + 1e-9)`).
//! 2. Noise floor: the 10th percentile of the frame levels (a recording is mostly pauses between
//!    words, so a low percentile is the background whatever its loudness).
//! 3. A frame is *active* when its level is at least [`SplitSettings::threshold_db`] above the
//!    floor. Runs of active frames closer than [`SplitSettings::min_gap_ms`] merge into one word
//!    (the stop consonant inside "yes" or the pause inside "seven" does not cut a word in two);
//!    words shorter than [`SplitSettings::min_word_ms`] are clicks and are dropped.
//! 4. Each word gives a clip of [`SplitSettings::clip_ms`] centred on the word's middle, moved
//!    inside the recording when the word is near an edge (a recording shorter than one clip gives
//!    the whole recording).
//!
//! Pure computation: no IO. The threshold is what the review UI's slider moves.

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// How words are found and how long the clips are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitSettings {
    /// Length of each clip in milliseconds (the impulse's window: 1000 ms for the KWS lab).
    pub clip_ms: u32,
    /// Level above the noise floor, in dB, that counts as speech.
    pub threshold_db: f32,
    /// Active stretches closer than this are one word.
    pub min_gap_ms: u32,
    /// Shorter active stretches are dropped as clicks.
    pub min_word_ms: u32,
    /// Length of the frames the level is measured on.
    pub frame_ms: u32,
}

impl Default for SplitSettings {
    fn default() -> Self {
        Self {
            clip_ms: 1000,
            threshold_db: 15.0,
            min_gap_ms: 250,
            min_word_ms: 60,
            frame_ms: 20,
        }
    }
}

/// One word found in a recording and the clip around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitClip {
    /// The readings of the clip (`clip_ms` long unless the recording is shorter).
    pub clip: Range<usize>,
    /// The readings where the word's energy is above the threshold.
    pub word: Range<usize>,
}

impl SplitClip {
    /// The word's middle reading.
    pub fn centre(&self) -> usize {
        (self.word.start + self.word.end) / 2
    }
}

/// The words of a mono recording and a clip around each, in time order.
pub fn split_words(values: &[f32], rate_hz: f64, settings: &SplitSettings) -> Vec<SplitClip> {
    let to_readings = |ms: u32| crate::dsp::windowing::readings_in(ms, rate_hz);
    let frame = to_readings(settings.frame_ms).max(2);
    let hop = (frame / 2).max(1);
    let clip_len = to_readings(settings.clip_ms).max(1);
    if values.len() < frame {
        return Vec::new();
    }
    let levels = frame_levels_db(values, frame, hop);
    let Some(floor) = percentile(&levels, 0.10) else {
        return Vec::new();
    };
    let threshold = floor + settings.threshold_db;
    let min_gap = to_readings(settings.min_gap_ms);
    let min_word = to_readings(settings.min_word_ms);
    let mut words: Vec<Range<usize>> = Vec::new();
    for (index, level) in levels.iter().enumerate() {
        if *level < threshold {
            continue;
        }
        let start = index * hop;
        let end = (start + frame).min(values.len());
        match words.last_mut() {
            Some(last) if start <= last.end + min_gap => last.end = last.end.max(end),
            _ => words.push(start..end),
        }
    }
    words
        .into_iter()
        .filter(|w| w.len() >= min_word)
        .map(|word| {
            let clip = clip_around((word.start + word.end) / 2, clip_len, values.len());
            SplitClip { clip, word }
        })
        .collect()
}

/// A `len`-reading range centred on `centre`, moved inside `0..total`.
fn clip_around(centre: usize, len: usize, total: usize) -> Range<usize> {
    if len >= total {
        return 0..total;
    }
    let start = centre.saturating_sub(len / 2).min(total - len);
    start..start + len
}

/// RMS level in dB of frames of `frame` readings every `hop` readings.
fn frame_levels_db(values: &[f32], frame: usize, hop: usize) -> Vec<f32> {
    let count = (values.len() - frame) / hop + 1;
    (0..count)
        .filter_map(|k| values.get(k * hop..k * hop + frame))
        .map(|window| {
            let energy: f64 = window.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
            let rms = (energy / window.len() as f64).sqrt();
            (20.0 * (rms + 1e-9).log10()) as f32
        })
        .collect()
}

/// The `q` quantile (0–1) of `values` by the nearest rank; `None` when empty.
fn percentile(values: &[f32], q: f32) -> Option<f32> {
    let mut sorted: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f32::total_cmp);
    let last = sorted.len().checked_sub(1)?;
    let rank = ((last as f32) * q.clamp(0.0, 1.0)).round() as usize;
    sorted.get(rank.min(last)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    const RATE: f64 = 16_000.0;

    /// Noise at amplitude `noise` with 300 ms tone bursts (two syllables with a 60 ms stop
    /// between them) centred at `centres_s`.
    fn recording(seconds: f64, centres_s: &[f64], noise: f32, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        let n = (seconds * RATE) as usize;
        let mut x: Vec<f32> = (0..n)
            .map(|_| noise * (rng.next_f64() as f32 - 0.5))
            .collect();
        for &c in centres_s {
            let start = ((c - 0.15) * RATE) as usize;
            for i in 0..(0.3 * RATE) as usize {
                let in_stop = (0.12 * RATE) as usize..(0.18 * RATE) as usize;
                if in_stop.contains(&i) {
                    continue;
                }
                let t = i as f32 / RATE as f32;
                if let Some(v) = x.get_mut(start + i) {
                    *v += 8000.0 * (2.0 * std::f32::consts::PI * 440.0 * t).sin();
                }
            }
        }
        x
    }

    #[test]
    fn finds_each_word_and_centres_the_clips() {
        let centres = [1.0, 2.5, 4.2, 6.0];
        let x = recording(7.0, &centres, 200.0, 7);
        let clips = split_words(&x, RATE, &SplitSettings::default());
        assert_eq!(clips.len(), centres.len(), "{clips:?}");
        for (clip, c) in clips.iter().zip(centres) {
            let centre_s = clip.centre() as f64 / RATE;
            assert!((centre_s - c).abs() < 0.03, "{centre_s} vs {c}");
            assert_eq!(clip.clip.len(), 16_000);
            assert!(clip.clip.contains(&clip.word.start) && clip.word.end <= clip.clip.end);
        }
    }

    #[test]
    fn clips_near_the_edges_stay_inside() {
        let x = recording(2.0, &[0.2, 1.85], 100.0, 3);
        let clips = split_words(&x, RATE, &SplitSettings::default());
        assert_eq!(clips.len(), 2);
        assert_eq!(clips.first().map(|c| c.clip.clone()), Some(0..16_000));
        assert_eq!(clips.last().map(|c| c.clip.clone()), Some(16_000..32_000));
    }

    #[test]
    fn a_higher_threshold_finds_fewer_words_and_silence_none() {
        let mut x = recording(4.0, &[1.0, 3.0], 200.0, 9);
        // A quiet word: 1/50 of the others' amplitude (34 dB lower), at 2 s.
        for i in 0..4000 {
            let t = i as f32 / RATE as f32;
            if let Some(v) = x.get_mut(30_000 + i) {
                *v += 160.0 * (2.0 * std::f32::consts::PI * 300.0 * t).sin();
            }
        }
        let low = SplitSettings {
            threshold_db: 6.0,
            ..SplitSettings::default()
        };
        let high = SplitSettings {
            threshold_db: 30.0,
            ..SplitSettings::default()
        };
        assert_eq!(split_words(&x, RATE, &low).len(), 3);
        assert_eq!(split_words(&x, RATE, &high).len(), 2);
        assert!(split_words(&[0.0; 32_000], RATE, &low).is_empty());
        assert!(split_words(&[], RATE, &low).is_empty());
    }

    #[test]
    fn words_closer_than_the_gap_merge() {
        let x = recording(3.0, &[1.0, 1.45], 100.0, 4);
        let merged = split_words(
            &x,
            RATE,
            &SplitSettings {
                min_gap_ms: 300,
                ..SplitSettings::default()
            },
        );
        let apart = split_words(
            &x,
            RATE,
            &SplitSettings {
                min_gap_ms: 100,
                ..SplitSettings::default()
            },
        );
        assert_eq!((merged.len(), apart.len()), (1, 2));
    }
}
