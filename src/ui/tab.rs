//! The fixed set of panels, in workflow order. An enum (not trait objects) so every `match`
//! says what each panel does, and a new panel cannot be forgotten.

use serde::{Deserialize, Serialize};

/// One panel of the workflow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tab {
    /// The lab guide.
    Lab,
    /// Devices, live signal, recording.
    #[default]
    Capture,
    /// Samples: label, split, delete, plot.
    Dataset,
    /// Processing blocks and the feature explorer.
    Features,
    /// Model and live training curves.
    Train,
    /// Confusion matrix and metrics.
    Evaluate,
    /// float32 vs int8.
    Optimize,
    /// Export and flash.
    Deploy,
}

impl Tab {
    /// Every tab in workflow order.
    pub const ALL: [Self; 8] = [
        Self::Lab,
        Self::Capture,
        Self::Dataset,
        Self::Features,
        Self::Train,
        Self::Evaluate,
        Self::Optimize,
        Self::Deploy,
    ];

    /// The label on the tab bar (also what UI tests click).
    pub fn title(self) -> &'static str {
        match self {
            Self::Lab => "Lab",
            Self::Capture => "Capture",
            Self::Dataset => "Dataset",
            Self::Features => "Features",
            Self::Train => "Train",
            Self::Evaluate => "Evaluate",
            Self::Optimize => "Optimize",
            Self::Deploy => "Deploy",
        }
    }

    /// The tab where a lab step's panel is.
    pub fn of_panel(panel: crate::lab_guide::Panel) -> Self {
        use crate::lab_guide::Panel;
        match panel {
            Panel::Lab => Self::Lab,
            Panel::Capture => Self::Capture,
            Panel::Dataset => Self::Dataset,
            Panel::Features => Self::Features,
            Panel::Train => Self::Train,
            Panel::Evaluate => Self::Evaluate,
            Panel::Optimize => Self::Optimize,
            Panel::Deploy => Self::Deploy,
        }
    }

    /// The keyboard shortcut's digit (Ctrl+1 … Ctrl+8).
    pub fn shortcut_digit(self) -> usize {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(0) + 1
    }
}
