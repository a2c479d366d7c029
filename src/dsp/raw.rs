//! Edge Impulse's "Raw data" block: the window itself is the feature vector, each value
//! multiplied by `scale_axes` (`features = raw · scale_axes`, skipped when the scale is 1).
//!
//! Shapes: a window of `R` readings × `A` axes, interleaved (`x0 y0 z0 x1 …`), gives `R·A`
//! features in the same order and the flat shape `[R·A]` Edge Impulse reports
//! (`output_config: flat, width = R·A`). Used where the model learns its own features from the
//! samples (1-D convolutions over the readings).
//!
//! Edge Impulse's block returns no feature names; ours names each value `"{axis} {reading}"`
//! (`accX 0`, `accY 0`, …, `accZ 99`) so the feature importance and explorer views can say which
//! value they mean. Its only parameter is `scale-axes` (averaging and other statistics belong to
//! the "Flatten" block, not this one).

use super::{DspError, Features, Signal};
use serde::{Deserialize, Serialize};

/// The block's name, as in project files and `--set`.
pub const BLOCK: &str = "raw";

/// The implementation versions of Edge Impulse's raw block this build reproduces.
pub const SUPPORTED_VERSIONS: std::ops::RangeInclusive<u32> = 1..=1;

/// The raw block's settings, named as Edge Impulse's `parameters.json` (`scale-axes` →
/// `scale_axes`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSettings {
    /// Edge Impulse's implementation version of the block (only 1 exists).
    pub implementation_version: u32,
    /// Every value is multiplied by this number (e.g. to bring readings near 0..1).
    pub scale_axes: f64,
}

impl Default for RawSettings {
    fn default() -> Self {
        Self {
            implementation_version: 1,
            scale_axes: 1.0,
        }
    }
}

/// The raw block on one window: the values times `scale_axes`, named by `axis_names` (one name
/// per axis of `signal`).
pub fn features(
    settings: &RawSettings,
    signal: &Signal,
    axis_names: &[impl AsRef<str>],
) -> Result<Features, DspError> {
    let RawSettings {
        implementation_version,
        scale_axes,
    } = settings;
    if !SUPPORTED_VERSIONS.contains(implementation_version) {
        return Err(DspError::UnsupportedVersion {
            block: BLOCK.to_owned(),
            version: *implementation_version,
            supported: "1".to_owned(),
        });
    }
    if !scale_axes.is_finite() {
        return Err(DspError::BadSetting {
            name: "scale_axes".to_owned(),
            value: scale_axes.to_string(),
            why: "must be a finite number".to_owned(),
        });
    }
    signal.check()?;
    if axis_names.len() != signal.axes {
        return Err(DspError::WrongInput {
            block: BLOCK.to_owned(),
            expected: format!(
                "one name per axis: the window has {} axes but {} names were given",
                signal.axes,
                axis_names.len()
            ),
        });
    }
    let values: Vec<f32> = if *scale_axes == 1.0 {
        signal.values.to_vec()
    } else {
        // Edge Impulse multiplies in float64; so do we, then store as f32.
        signal
            .values
            .iter()
            .map(|&v| (f64::from(v) * scale_axes) as f32)
            .collect()
    };
    let names = (0..signal.readings())
        .flat_map(|reading| {
            axis_names
                .iter()
                .map(move |axis| format!("{} {reading}", axis.as_ref()))
        })
        .collect();
    Ok(Features {
        names,
        shape: vec![values.len()],
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_names_each_value() {
        let signal = Signal {
            axes: 2,
            rate_hz: 50.0,
            values: &[1.0, -2.0, 3.5, 4.0],
        };
        let settings = RawSettings {
            scale_axes: 0.5,
            ..RawSettings::default()
        };
        let out = features(&settings, &signal, &["accX", "accY"]).unwrap();
        assert_eq!(out.values, [0.5, -1.0, 1.75, 2.0]);
        assert_eq!(out.names, ["accX 0", "accY 0", "accX 1", "accY 1"]);
        assert_eq!(out.shape, [4]);
        let err = features(&settings, &signal, &["accX"]).unwrap_err();
        assert!(matches!(err, DspError::WrongInput { .. }), "{err}");
    }
}
