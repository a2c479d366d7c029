//! Model presets shipped in `models/*.toml` (compiled in, like the labs) and a project's model
//! settings: which preset, the layers when the student edited them, the training settings, the
//! K-means anomaly detector and the thresholds the Evaluate panel applies.

use crate::nn::spec::Preset;
use crate::nn::train::TrainConfig;
use crate::nn::{Layer, NnError};
use serde::{Deserialize, Serialize};

/// The preset files shipped with TinyLab, as `(id, text)`.
const SHIPPED: &[(&str, &str)] = &[
    ("motion-dnn", include_str!("../models/motion-dnn.toml")),
    ("kws-conv1d", include_str!("../models/kws-conv1d.toml")),
    ("image-cnn", include_str!("../models/image-cnn.toml")),
    (
        "mobilenetv2-0.1",
        include_str!("../models/mobilenetv2-0.1.toml"),
    ),
    (
        "mobilenetv2-0.35",
        include_str!("../models/mobilenetv2-0.35.toml"),
    ),
    (
        "fomo-mobilenetv2-0.35",
        include_str!("../models/fomo-mobilenetv2-0.35.toml"),
    ),
];

/// Ids of the shipped presets, in menu order.
pub fn preset_ids() -> impl Iterator<Item = &'static str> {
    SHIPPED.iter().map(|(id, _)| *id)
}

/// The shipped preset `id`.
pub fn preset(id: &str) -> Result<Preset, NnError> {
    let Some((_, text)) = SHIPPED.iter().find(|(known, _)| *known == id) else {
        let known: Vec<&str> = preset_ids().collect();
        return Err(NnError::Spec(format!(
            "no model preset called {id:?}; available: {}",
            known.join(", ")
        )));
    };
    Preset::parse(text).map_err(|e| NnError::Spec(format!("models/{id}.toml: {e}")))
}

/// The K-means anomaly detector's settings (Edge Impulse's defaults for the motion labs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnomalySettings {
    /// Train the detector beside the classifier.
    pub enabled: bool,
    /// Number of clusters (the book uses 32).
    pub clusters: usize,
    /// Names of the features it looks at; empty: every feature whose name ends in "RMS" (one per
    /// axis, as the book selects), or all features when none does.
    pub features: Vec<String>,
    /// Scores above this are anomalies (Edge Impulse Studio's default 0.3).
    pub threshold: f32,
}

impl Default for AnomalySettings {
    fn default() -> Self {
        Self {
            enabled: false,
            clusters: 32,
            features: Vec::new(),
            threshold: 0.3,
        }
    }
}

impl AnomalySettings {
    /// Indices of the features the detector uses, given one window's feature names.
    pub fn feature_indices(&self, names: &[String]) -> Vec<usize> {
        let chosen: Vec<usize> = if self.features.is_empty() {
            names
                .iter()
                .enumerate()
                .filter(|(_, name)| name.to_lowercase().ends_with("rms"))
                .map(|(i, _)| i)
                .collect()
        } else {
            names
                .iter()
                .enumerate()
                .filter(|(_, name)| self.features.contains(name))
                .map(|(i, _)| i)
                .collect()
        };
        if chosen.is_empty() {
            (0..names.len()).collect()
        } else {
            chosen
        }
    }
}

/// A project's `[model]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSettings {
    /// Id of the preset the layers come from (`models/<id>.toml`).
    pub preset: String,
    /// The layers when the student edited them; empty: the preset's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<Layer>,
    /// Epochs, learning rate, batch size, validation share, augmentation, seed.
    pub training: TrainConfig,
    /// The anomaly detector.
    pub anomaly: AnomalySettings,
    /// Predictions less confident than this count as "uncertain" (Edge Impulse's default 0.6).
    pub confidence_threshold: f32,
    /// How the Optimize panel quantizes (per-channel, percentile, calibration windows).
    pub quantization: crate::quant::report::QuantizeSettings,
}

impl Default for ModelSettings {
    fn default() -> Self {
        Self {
            preset: "motion-dnn".into(),
            layers: Vec::new(),
            training: TrainConfig::default(),
            anomaly: AnomalySettings::default(),
            confidence_threshold: 0.6,
            quantization: Default::default(),
        }
    }
}

impl ModelSettings {
    /// The layers to build: the edited ones, or the preset's.
    pub fn body(&self) -> Result<Vec<Layer>, NnError> {
        if self.layers.is_empty() {
            Ok(preset(&self.preset)?.layers)
        } else {
            Ok(self.layers.clone())
        }
    }

    /// One line for the Lab panel: "motion-dnn; 30 epochs, learning rate 0.005, batch 32;
    /// K-means anomaly detection with 32 clusters".
    pub fn describe(&self) -> String {
        let TrainConfig {
            epochs,
            learning_rate,
            batch_size,
            ..
        } = &self.training;
        let mut text = format!(
            "{}{}; {epochs} epochs, learning rate {learning_rate}, batch {batch_size}",
            self.preset,
            if self.layers.is_empty() {
                ""
            } else {
                " (layers edited)"
            }
        );
        if self.anomaly.enabled {
            text += &format!(
                "; K-means anomaly detection with {} clusters",
                self.anomaly.clusters
            );
        }
        text
    }

    /// Switches to preset `id`, taking its layers and training defaults (keeping the seed).
    pub fn use_preset(&mut self, id: &str) -> Result<(), NnError> {
        let preset = preset(id)?;
        let seed = self.training.seed;
        self.training = toml::Value::Table(preset.training)
            .try_into()
            .map_err(|e| NnError::Spec(format!("models/{id}.toml [training]: {e}")))?;
        self.training.seed = seed;
        self.preset = id.to_owned();
        self.layers.clear();
        Ok(())
    }
}
