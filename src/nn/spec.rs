//! Model presets (`models/*.toml`): a name, a description, the labs it suits, the training
//! settings shown in the Train panel, and the body layers (the classifier head is appended by
//! [`crate::nn::Model::classifier`]).

use serde::{Deserialize, Serialize};

use crate::nn::{Layer, NnError};

/// A model preset as written in `models/<id>.toml`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Display name, e.g. "Motion DNN 63-20-10".
    pub name: String,
    /// One or two sentences on what it is and where it comes from.
    pub description: String,
    /// Lab ids the preset suits (e.g. `["motion"]`).
    #[serde(default)]
    pub labs: Vec<String>,
    /// Training settings (parsed by the trainer's `TrainConfig`; every field defaulted).
    #[serde(default)]
    pub training: toml::Table,
    /// The head appended to the body: `dense` (default) or `per_cell` (FOMO).
    #[serde(default)]
    pub head: crate::nn::model::Head,
    /// When set, every batch norm's momentum once the body is expanded (see
    /// [`crate::nn::Model::set_batch_norm_momentum`]).
    #[serde(default)]
    pub batch_norm_momentum: Option<f32>,
    /// The body layers, before the classifier head.
    pub layers: Vec<Layer>,
}

impl Preset {
    /// Parses a preset from TOML text (pure: the caller reads the file).
    pub fn parse(text: &str) -> Result<Preset, NnError> {
        toml::from_str(text).map_err(|e| NnError::Spec(e.to_string()))
    }
}
