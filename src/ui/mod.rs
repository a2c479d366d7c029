//! The egui window: an app shell with one panel per workflow step (see [`tab::Tab`]). Panels draw
//! the [`view::View`] and send [`Command`](crate::protocol::Command)s; they never compute or wait.

pub mod app;
pub mod audio_ui;
pub mod boards_ui;
pub mod box_editor;
pub mod camera_ui;
mod capture_panel;
mod dataset_panel;
mod deploy_panel;
pub mod detection_view;
pub mod dialogs;
mod evaluate_panel;
pub mod features_panel;
mod lab_panel;
pub mod live_panel;
mod optimize_panel;
mod plot;
mod settings_form;
pub mod split_review;
pub mod state;
mod status_bar;
pub mod tab;
mod train_panel;
pub mod view;

pub use app::{Startup, TinyLabApp, run};
