//! Lab presets: one `labs/<id>/lab.toml` per book lab, compiled into the binary so a fresh install
//! can create any lab's project offline. A preset fills a new project's sensor, capture, impulse,
//! DSP and model settings with the book's numbers.

use crate::dsp::block::DspSettings;
use crate::dsp::windowing::WindowSettings;
use crate::lab_guide::Step;
use serde::{Deserialize, Serialize};

/// The sensor a lab records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorPreset {
    /// Sensor kind, e.g. `accelerometer`.
    pub kind: String,
    /// Axis names in the order the board prints them.
    pub axes: Vec<String>,
    /// Unit of the values, e.g. `m/s²`.
    pub units: String,
    /// Sampling rate the board is programmed for.
    pub rate_hz: f64,
    /// Serial baud rate the lab's capture sketch uses.
    pub baud: u32,
}

/// How samples are collected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CapturePreset {
    /// The lab's classes, in Edge Impulse's (alphabetical) order.
    pub labels: Vec<String>,
    /// Length of one recorded sample.
    pub sample_seconds: f64,
    /// How much data per class the book collects.
    pub target_seconds_per_class: f64,
}

/// A lab preset as stored in `labs/<id>/lab.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabPreset {
    /// Format of this file.
    pub format_version: u32,
    /// Short id used on the command line (`--lab motion`).
    pub id: String,
    /// Title shown in the Lab panel.
    pub title: String,
    /// Kits the book runs this lab on.
    pub kits: Vec<String>,
    /// One paragraph on what the student builds.
    pub summary: String,
    /// Sensor settings.
    pub sensor: SensorPreset,
    /// Capture settings.
    pub capture: CapturePreset,
    /// How samples are cut into windows (Edge Impulse's "impulse").
    pub impulse: WindowSettings,
    /// Processing block and its parameters.
    pub dsp: DspSettings,
    /// Model preset, training settings and anomaly detection.
    pub model: crate::models::ModelSettings,
    /// The book's reported results, for comparison.
    pub book: toml::Table,
    /// The guided steps, in order, with their checks.
    pub steps: Vec<Step>,
}

impl LabPreset {
    /// Checks what the parser cannot: at least one step, and every check's thresholds.
    pub fn validate(&self) -> Result<(), String> {
        if self.steps.is_empty() {
            return Err("the lab has no [[steps]]".into());
        }
        for (index, step) in self.steps.iter().enumerate() {
            if let Some(check) = &step.check {
                check
                    .validate()
                    .map_err(|why| format!("step {} ({:?}): {why}", index + 1, step.title))?;
            }
        }
        Ok(())
    }
}

/// The lab files shipped with TinyLab, as `(id, text)`.
const SHIPPED: &[(&str, &str)] = &[
    ("motion", include_str!("../labs/motion/lab.toml")),
    ("kws", include_str!("../labs/kws/lab.toml")),
    ("image", include_str!("../labs/image/lab.toml")),
    ("fomo", include_str!("../labs/fomo/lab.toml")),
];

/// Errors reading a lab preset.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// No shipped lab has this id.
    #[error("no lab called {id:?}; available labs: {available}")]
    Unknown {
        /// The id asked for.
        id: String,
        /// Comma-separated ids that exist.
        available: String,
    },
    /// A lab file does not parse.
    #[error("lab file labs/{id}/lab.toml is invalid: {source}")]
    Invalid {
        /// Lab id.
        id: String,
        /// Parser error with line and column.
        source: toml::de::Error,
    },
    /// A lab file parses but a step's check makes no sense.
    #[error("lab file labs/{id}/lab.toml: {why}")]
    Check {
        /// Lab id.
        id: String,
        /// Which step and what is wrong.
        why: String,
    },
}

/// Ids of every shipped lab.
pub fn lab_ids() -> Vec<&'static str> {
    SHIPPED.iter().map(|(id, _)| *id).collect()
}

/// Loads the shipped lab preset `id`.
pub fn lab(id: &str) -> Result<LabPreset, LabError> {
    let Some((_, text)) = SHIPPED.iter().find(|(known, _)| *known == id) else {
        return Err(LabError::Unknown {
            id: id.to_owned(),
            available: lab_ids().join(", "),
        });
    };
    parse(id, text)
}

/// Parses and validates the text of a lab file (`id` names it in errors).
pub fn parse(id: &str, text: &str) -> Result<LabPreset, LabError> {
    let preset: LabPreset = toml::from_str(text).map_err(|source| LabError::Invalid {
        id: id.to_owned(),
        source,
    })?;
    preset.validate().map_err(|why| LabError::Check {
        id: id.to_owned(),
        why,
    })?;
    Ok(preset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_lab_loads_with_its_own_id() {
        for id in lab_ids() {
            let preset = lab(id).unwrap();
            assert_eq!(preset.id, id);
            assert!(!preset.capture.labels.is_empty());
            assert!(preset.sensor.rate_hz > 0.0);
        }
    }

    #[test]
    fn a_broken_lab_file_names_the_line() {
        let (_, text) = SHIPPED[0];
        let broken = text.replacen("panel = \"capture\"", "panel = \"kitchen\"", 1);
        let err = parse("motion", &broken).unwrap_err().to_string();
        assert!(err.contains("line"), "{err}");
        assert!(err.contains("kitchen"), "{err}");
        let wrong = text.replacen("at_least = 0.9", "at_least = 90", 1);
        let err = parse("motion", &wrong).unwrap_err().to_string();
        assert!(err.contains("between 0 and 1"), "{err}");
    }

    #[test]
    fn unknown_lab_lists_the_known_ones() {
        let err = lab("juggling").unwrap_err().to_string();
        assert!(err.contains("motion"), "{err}");
    }
}
