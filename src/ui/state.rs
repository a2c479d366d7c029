//! What the window remembers between runs (saved by eframe's storage): the open tab, theme,
//! instructor mode, recent projects and the recording form. Device handles and channels live
//! elsewhere and are never persisted.

use super::tab::Tab;
use crate::project::sample::Split;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Key under which eframe stores [`UiState`].
pub const STORAGE_KEY: &str = "tinylab-ui-state";
/// How many recent projects the File menu lists.
pub const RECENT_LIMIT: usize = 8;

/// Light or dark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Theme {
    /// Dark background (default: easier on a projector in a dim room).
    #[default]
    Dark,
    /// Light background.
    Light,
}

/// The persisted UI state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UiState {
    /// The panel shown.
    pub tab: Tab,
    /// Light or dark.
    pub theme: Theme,
    /// Larger fonts and plots for a projector.
    pub instructor_mode: bool,
    /// Recently opened project folders, newest first.
    pub recent_projects: Vec<PathBuf>,
    /// Label typed in the record form.
    pub record_label: String,
    /// Seconds per recorded sample.
    pub record_seconds: f64,
    /// Split for recordings.
    pub record_split: Split,
    /// Baud rate for serial boards.
    pub baud: u32,
    /// Seconds shown in the live plot.
    pub live_window_s: f64,
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            tab: Tab::Capture,
            theme: Theme::Dark,
            instructor_mode: false,
            recent_projects: Vec::new(),
            record_label: "idle".into(),
            record_seconds: 10.0,
            record_split: Split::Train,
            baud: 115_200,
            live_window_s: 5.0,
        }
    }
}

impl UiState {
    /// Puts `dir` first in the recent list.
    pub fn remember_project(&mut self, dir: PathBuf) {
        self.recent_projects.retain(|d| d != &dir);
        self.recent_projects.insert(0, dir);
        self.recent_projects.truncate(RECENT_LIMIT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_old_files_get_defaults() {
        let mut state = UiState {
            instructor_mode: true,
            tab: Tab::Dataset,
            ..UiState::default()
        };
        state.remember_project(PathBuf::from("/a"));
        state.remember_project(PathBuf::from("/b"));
        state.remember_project(PathBuf::from("/a"));
        assert_eq!(
            state.recent_projects,
            [PathBuf::from("/a"), PathBuf::from("/b")]
        );
        let text = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<UiState>(&text).unwrap(), state);
        // A state saved by an older TinyLab, with fields missing, still loads.
        let old: UiState = serde_json::from_str(r#"{"tab":"Train"}"#).unwrap();
        assert_eq!((old.tab, old.baud), (Tab::Train, 115_200));
    }
}
