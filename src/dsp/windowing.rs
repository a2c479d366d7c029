//! Cutting a long time-series sample into the fixed-length windows a model sees, as Edge
//! Impulse's time-series input block does ("Window size", "Window increase", "Zero-pad data").
//!
//! With `W` readings per window (`window_ms` at the sample's rate), a step of `S` readings
//! (`window_increase_ms`) and a sample of `N` readings:
//!
//! - windows start at reading 0 and then every `S` readings: `k·S .. k·S + W`;
//! - a window must lie wholly inside the sample, so there are `⌊(N − W) / S⌋ + 1` of them when
//!   `N ≥ W` (no partial window is made from the tail);
//! - a sample shorter than one window (`N < W`) gives a single window `0 .. N` when `zero_pad`
//!   is on, which [`window_values`] pads with zeros to `W` readings, and no window otherwise.
//!
//! The book's numbers: the motion lab's 10 s samples at 50 Hz (`N = 500`) with 2000 ms windows
//! (`W = 100`) every 200 ms (`S = 10`) give `(500 − 100) / 10 + 1 = 41` windows each, so the 40
//! training samples make the 1,640 windows its anomaly explorer shows; the KWS lab's 1 s clips
//! at 16 kHz with 1000 ms windows every 500 ms give exactly one window each.
//!
//! Durations convert to readings by rounding `ms · rate_hz / 1000` to the nearest integer; a
//! step rounds up to at least one reading so the cut always advances. Edge Impulse documents
//! the rules above in words only ("the window increase is the difference in starting time of
//! consecutive windows"; "zero-pad adds zero values when there is not enough raw data to fit the
//! window size"); the rounding is our choice.

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// The time-series input block's settings, with Edge Impulse's defaults for audio (1000 ms
/// windows every 500 ms, zero-padded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowSettings {
    /// Length of one window in milliseconds ("Window size").
    pub window_ms: u32,
    /// Time between the starts of consecutive windows in milliseconds ("Window increase").
    pub window_increase_ms: u32,
    /// Whether a sample shorter than one window still gives one window, padded with zeros.
    pub zero_pad: bool,
}

impl Default for WindowSettings {
    fn default() -> Self {
        Self {
            window_ms: 1000,
            window_increase_ms: 500,
            zero_pad: true,
        }
    }
}

/// Readings in `duration_ms` at `rate_hz`, rounded to the nearest whole reading; 0 for a rate
/// that is not a positive finite number.
pub fn readings_in(duration_ms: u32, rate_hz: f64) -> usize {
    if !(rate_hz.is_finite() && rate_hz > 0.0) {
        return 0;
    }
    let readings = (f64::from(duration_ms) * rate_hz / 1000.0).round();
    // Saturating float-to-int conversion: absurd products clamp instead of wrapping.
    readings as usize
}

/// The windows Edge Impulse cuts from a sample of `readings` readings at `rate_hz`, as ranges of
/// readings (see the module doc for the rules). A range shorter than the window (only possible
/// for a sample shorter than one window, with `zero_pad`) is padded by [`window_values`].
/// A window of 0 readings or a bad rate gives no windows.
pub fn windows(readings: usize, rate_hz: f64, settings: &WindowSettings) -> Vec<Range<usize>> {
    let WindowSettings {
        window_ms,
        window_increase_ms,
        zero_pad,
    } = settings;
    let window_readings = readings_in(*window_ms, rate_hz);
    if window_readings == 0 || readings == 0 {
        return Vec::new();
    }
    if readings < window_readings {
        return if *zero_pad {
            std::iter::once(0..readings).collect()
        } else {
            Vec::new()
        };
    }
    let step = readings_in(*window_increase_ms, rate_hz).max(1);
    let count = (readings - window_readings) / step + 1;
    (0..count)
        .map(|k| {
            let start = k * step;
            start..start + window_readings
        })
        .collect()
}

/// The interleaved values (`axes` per reading) of the readings in `range`, cut from
/// `signal_values` and padded with zeros at the end to exactly `window_readings` readings.
/// Readings past the end of `signal_values` count as missing and are zeros too; a range longer
/// than `window_readings` is cut to its first `window_readings` readings.
pub fn window_values(
    signal_values: &[f32],
    axes: usize,
    range: Range<usize>,
    window_readings: usize,
) -> Vec<f32> {
    let wanted = window_readings.saturating_mul(axes);
    let taken = range.len().min(window_readings).saturating_mul(axes);
    let mut values: Vec<f32> = signal_values
        .iter()
        .skip(range.start.saturating_mul(axes))
        .take(taken)
        .copied()
        .collect();
    values.resize(wanted, 0.0);
    values
}

#[cfg(test)]
// A one-window list written `vec![0..30]` is exactly what these tests mean.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    fn settings(window_ms: u32, window_increase_ms: u32, zero_pad: bool) -> WindowSettings {
        WindowSettings {
            window_ms,
            window_increase_ms,
            zero_pad,
        }
    }

    #[test]
    fn motion_lab_gives_41_windows_per_10_s_sample() {
        let cut = windows(500, 50.0, &settings(2000, 200, true));
        assert_eq!(cut.len(), 41);
        assert_eq!(cut.first(), Some(&(0..100)));
        assert_eq!(cut.last(), Some(&(400..500)));
    }

    #[test]
    fn short_samples_pad_or_vanish() {
        assert_eq!(windows(30, 50.0, &settings(1000, 500, true)), vec![0..30]);
        assert!(windows(30, 50.0, &settings(1000, 500, false)).is_empty());
        assert!(windows(30, 0.0, &settings(1000, 500, true)).is_empty());
        assert!(windows(30, 50.0, &settings(0, 500, true)).is_empty());
        // A zero increase still advances by one reading.
        assert_eq!(windows(52, 50.0, &settings(1000, 0, true)).len(), 3);
    }

    #[test]
    fn window_values_pads_with_zeros() {
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(
            window_values(&values, 2, 1..3, 4),
            [3.0, 4.0, 5.0, 6.0, 0.0, 0.0, 0.0, 0.0]
        );
        assert_eq!(window_values(&values, 2, 0..3, 2), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(window_values(&values, 2, 2..9, 2), [5.0, 6.0, 0.0, 0.0]);
    }
}
