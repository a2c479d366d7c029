//! The engine's side of the Optimize and Deploy panels: the quantize and model-export jobs for
//! the shown run, and the saved comparison sent whenever a run is shown. The work itself is in
//! [`super::quantize_job`].

use super::EngineLoop;
use super::dataset_jobs::JobOutput;
use super::quantize_job::{self, QuantizePlan};
use crate::project::runs;
use crate::protocol::{Event, JobOutcome, Level, ModelFormat};
use crate::quant::report::{QuantReport, QuantizeSettings};
use std::path::PathBuf;
use std::sync::Arc;

impl EngineLoop {
    /// Saves the settings and starts quantizing run `run` with them.
    pub(super) fn start_quantize(&mut self, run: String, settings: QuantizeSettings) {
        let Some(project) = &self.project else {
            return self.notice(Level::Error, "open a project before quantizing");
        };
        let dir = project.dir().to_owned();
        let stored = match runs::load(&dir, Some(&run)) {
            Ok(stored) => stored,
            Err(e) => return self.notice(Level::Error, e.to_string()),
        };
        if project.settings().model.quantization != settings {
            let saved = settings.clone();
            self.update_settings(|file| file.model.quantization = saved);
        }
        let plan = QuantizePlan {
            features: self.feature_plan(stored.record.dsp.clone(), stored.record.impulse.clone()),
            project_dir: dir,
            run: run.clone(),
            settings,
        };
        self.spawn_job(format!("quantization of {run}"), move |ctx| {
            quantize_job::quantize_run(plan, ctx)
        });
    }

    /// Starts writing run `run`'s model in `format` to `path`.
    pub(super) fn start_model_export(&mut self, run: String, format: ModelFormat, path: PathBuf) {
        let Some(project) = &self.project else {
            return self.notice(Level::Error, "open a project before exporting");
        };
        let dir = project.dir().to_owned();
        self.spawn_job(format!("export of {run} ({})", format.id()), move |_| {
            quantize_job::export_model(&dir, &run, format, &path).map(JobOutput::Done)
        });
    }

    /// Handles a finished quantization: shows it and says how int8 did.
    pub(super) fn quantized(&mut self, report: QuantReport) -> JobOutcome {
        let text = format!(
            "{} quantized: test accuracy {:.1} % float32, {:.1} % int8 ({:+.1} points), {} of {} \
             predictions changed; {} bytes float32, {} bytes int8",
            report.run,
            report.float.accuracy * 100.0,
            report.int8.accuracy * 100.0,
            report.accuracy_change_points(),
            report.changed,
            report.windows,
            report.float_footprint.file_bytes,
            report.int8_footprint.file_bytes,
        );
        self.emit(Event::Quantized(Some(Arc::new(report))));
        JobOutcome::Done(text)
    }

    /// Sends the shown run's saved quantization (or `None`), after a run is shown.
    pub(super) fn emit_saved_quantization(&self) {
        let (Some(project), Some(run)) = (&self.project, &self.run) else {
            return;
        };
        match runs::load_quantized(project.dir(), &run.record.id) {
            Ok(report) => self.emit(Event::Quantized(report.map(Arc::new))),
            Err(e) => {
                self.emit(Event::Quantized(None));
                self.notice(Level::Error, e.to_string());
            }
        }
    }
}
