//! The status bar: the open project, the device and its stream, running jobs with progress and
//! a cancel button, and the latest notice (errors in red, with what to do).

use super::app::TinyLabApp;
use crate::protocol::{Command, Level};
use std::time::Duration;

/// Notices older than this fade from the status bar (they stay in the log tooltip).
const NOTICE_SHOWN_FOR: Duration = Duration::from_secs(12);

/// Draws the status bar.
pub fn status_bar_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        match &app.view.project {
            Some(project) => ui
                .label(format!("Project: {}", project.settings.name))
                .on_hover_text(project.dir.display().to_string()),
            None => ui.label("Project: none"),
        };
        ui.separator();
        match (&app.view.device.name, &app.view.device.format) {
            (Some(name), Some(format)) => ui.label(format!(
                "Device: {name} · {} axes · {} Hz",
                format.axes.len(),
                format.rate_hz
            )),
            (Some(name), None) if app.view.camera.frame.is_some() => ui.label(format!(
                "Camera: {name} · {:.1} frames/s",
                app.view.camera.fps
            )),
            (Some(name), None) => ui.label(format!("Device: {name} · detecting…")),
            (None, _) => ui.label("Device: none"),
        };
        let mut cancel = None;
        for (id, job) in &app.view.jobs {
            ui.separator();
            ui.add(
                egui::ProgressBar::new(job.fraction)
                    .desired_width(160.0)
                    .text(job.name.clone()),
            )
            .on_hover_text(&job.message);
            if ui.small_button("Cancel").on_hover_text("Cancel").clicked() {
                cancel = Some(*id);
            }
        }
        if let Some(id) = cancel {
            app.send(Command::CancelJob(id));
        }
        if let Some(notice) = app.view.notices.back()
            && (notice.at.elapsed() < NOTICE_SHOWN_FOR || notice.level == Level::Error)
        {
            {
                ui.separator();
                let log: Vec<String> = app
                    .view
                    .notices
                    .iter()
                    .rev()
                    .take(10)
                    .map(|n| n.text.clone())
                    .collect();
                let text = match notice.level {
                    Level::Info => egui::RichText::new(&notice.text),
                    Level::Error => {
                        egui::RichText::new(notice.text.clone()).color(ui.visuals().error_fg_color)
                    }
                };
                ui.label(text).on_hover_text(log.join("\n"));
            }
        }
    });
}
