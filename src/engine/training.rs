//! The engine's side of training and evaluation: model settings, the train and evaluate jobs,
//! the saved runs, and the evaluation shown at the current thresholds. The work itself is in
//! [`super::train_job`] (jobs) and [`super::evaluation`] (metrics at a threshold).

use super::EngineLoop;
use super::dataset_jobs::JobOutput;
use super::evaluation::evaluate;
use super::features_job::FeaturePlan;
use super::train_job::{self, TrainPlan};
use crate::models::ModelSettings;
use crate::nn::Model;
use crate::project::runs::{self, DataSet, RunRecord, StoredRun};
use crate::protocol::{Event, JobOutcome, Level, ModelDescription, RunSummary, percent};
use std::sync::Arc;

impl EngineLoop {
    /// Saves new model settings; re-evaluates the shown run if a threshold moved.
    pub(super) fn set_model(&mut self, settings: ModelSettings) {
        let Some(project) = &self.project else {
            return self.notice(Level::Error, "no project is open");
        };
        let old = &project.settings().model;
        let layers_changed = old.preset != settings.preset || old.layers != settings.layers;
        let thresholds_changed = old.confidence_threshold != settings.confidence_threshold
            || old.anomaly.threshold != settings.anomaly.threshold;
        self.update_settings(|file| file.model = settings);
        if thresholds_changed {
            self.emit_evaluation();
            self.refresh_live_threshold();
        }
        if layers_changed {
            self.describe_model();
        }
    }

    /// Starts a training job with the project's settings (epochs and seed overridable).
    pub(super) fn start_training(&mut self, epochs: Option<usize>, seed: Option<u64>) {
        let Some(project) = &self.project else {
            return self.notice(Level::Error, "open a project before training");
        };
        let settings = project.settings();
        let mut model = settings.model.clone();
        model.training.epochs = epochs.unwrap_or(model.training.epochs);
        model.training.seed = seed.unwrap_or(model.training.seed);
        let plan = TrainPlan {
            features: self.feature_plan(settings.dsp.clone(), settings.impulse.clone()),
            model,
            project_dir: project.dir().to_owned(),
        };
        let name = format!("training ({})", plan.model.preset);
        self.spawn_job(name, move |ctx| train_job::train_run(plan, ctx));
    }

    /// Starts re-predicting the dataset with a saved run.
    pub(super) fn start_evaluation(&mut self, run: Option<String>) {
        let Some(project) = &self.project else {
            return self.notice(Level::Error, "open a project before evaluating");
        };
        let dir = project.dir().to_owned();
        let samples = project
            .samples()
            .iter()
            .map(|m| (m.clone(), project.sample_path(m)))
            .collect();
        let name = format!(
            "evaluation of {}",
            run.as_deref().unwrap_or("the latest run")
        );
        self.spawn_job(name, move |ctx| {
            train_job::evaluate_run(dir, run, samples, ctx)
        });
    }

    /// What a features job for these settings needs.
    pub(super) fn feature_plan(
        &self,
        dsp: crate::dsp::block::DspSettings,
        window: crate::dsp::windowing::WindowSettings,
    ) -> FeaturePlan {
        let (samples, cache_root) = match &self.project {
            Some(project) => (
                project
                    .samples()
                    .iter()
                    .map(|m| (m.clone(), project.sample_path(m)))
                    .collect(),
                project
                    .dir()
                    .join(crate::project::CACHE_DIR)
                    .join("features"),
            ),
            None => (Vec::new(), Default::default()),
        };
        FeaturePlan {
            dsp,
            window,
            samples,
            cache_root,
        }
    }

    /// Loads and shows run `id` evaluated on `set`.
    pub(super) fn show_run(&mut self, id: Option<&str>, set: DataSet) {
        let Some(project) = &self.project else { return };
        self.eval_set = set;
        match runs::load(project.dir(), id) {
            Ok(run) => self.run_ready(run),
            Err(runs::RunError::Missing(_)) if id.is_none() => {}
            Err(e) => self.notice(Level::Error, e.to_string()),
        }
    }

    /// After a project opens: the run list, the latest run, the model's layers.
    pub(super) fn announce_runs(&mut self) {
        self.run = None;
        self.emit_runs();
        self.show_run(None, DataSet::Test);
        self.describe_model();
    }

    /// Makes `run` the shown one.
    fn run_ready(&mut self, run: StoredRun) {
        self.emit(Event::RunLoaded(Arc::new(run.record.clone())));
        self.run = Some(run);
        self.emit_evaluation();
        self.emit_saved_quantization();
    }

    /// Handles a finished train or evaluate job.
    pub(super) fn run_finished(&mut self, output: JobOutput) -> JobOutcome {
        let (run, set, verb) = match output {
            JobOutput::Trained(run, set) => (run, set, "trained"),
            JobOutput::Evaluated(run, set) => (run, set, "evaluated"),
            _ => return JobOutcome::Failed("unexpected job result".into()),
        };
        self.features_ready(*set);
        let summary = summarize(&run.record);
        self.run_ready(*run);
        self.emit_runs();
        JobOutcome::Done(format!(
            "{} {verb}: {}; validation accuracy {}, test accuracy {}",
            summary.id,
            summary.stopped,
            percent(summary.val_accuracy),
            percent(summary.test_accuracy)
        ))
    }

    pub(super) fn emit_runs(&self) {
        let Some(project) = &self.project else { return };
        let list = runs::records(project.dir())
            .into_iter()
            .filter_map(|record| match record {
                Ok(record) => {
                    let mut summary = summarize(&record);
                    summary.deployed_to = runs::deployments(project.dir(), &record.id)
                        .map(|list| list.into_iter().map(|d| d.target).collect())
                        .unwrap_or_default();
                    Some(summary)
                }
                Err(e) => {
                    self.notice(Level::Error, e.to_string());
                    None
                }
            })
            .collect();
        self.emit(Event::Runs(list));
    }

    /// Sends the shown run's evaluation at the project's thresholds.
    fn emit_evaluation(&self) {
        let (Some(project), Some(run)) = (&self.project, &self.run) else {
            return;
        };
        let model = &project.settings().model;
        match evaluate(
            &run.record,
            self.eval_set,
            model.confidence_threshold,
            model.anomaly.threshold,
        ) {
            Ok(evaluation) => self.emit(Event::Evaluated(Arc::new(evaluation))),
            Err(e) => self.notice(Level::Error, format!("{}: {e}", run.record.id)),
        }
    }

    /// Builds the model the settings describe (on the features' shape) and sends its layers.
    pub(super) fn describe_model(&self) {
        let Some(project) = &self.project else { return };
        let settings = project.settings();
        let input = match &self.features {
            Some(set) if set.dsp == settings.dsp && set.window == settings.impulse => {
                Ok((set.shape.clone(), set.names.clone()))
            }
            _ => self.first_window_input(),
        };
        let classes = self
            .run
            .as_ref()
            .map(|r| r.record.labels.len())
            .unwrap_or_else(|| {
                let mut labels: Vec<&str> =
                    project.samples().iter().map(|s| s.label.as_str()).collect();
                labels.sort_unstable();
                labels.dedup();
                labels.len()
            })
            .max(2);
        let result = input.and_then(|(input_shape, feature_names)| {
            let body = settings.model.body().map_err(|e| e.to_string())?;
            let model =
                Model::classifier(&input_shape, &body, classes, 0).map_err(|e| e.to_string())?;
            Ok(Arc::new(ModelDescription {
                input_shape,
                feature_names,
                classes,
                layers: model.summary().map_err(|e| e.to_string())?,
            }))
        });
        self.emit(Event::ModelDescribed(result));
    }

    /// Shape and names of the features of the first sample's first window.
    fn first_window_input(&self) -> Result<(Vec<usize>, Vec<String>), String> {
        let Some(project) = &self.project else {
            return Err("no project is open".into());
        };
        let first = project
            .samples()
            .first()
            .ok_or("record or import a sample to see the model's shapes")?;
        let (_, _, steps) = self.window_steps(first.id, 0)?;
        let features = steps.features();
        Ok((features.shape.clone(), features.names.clone()))
    }
}

/// One line of the run list.
pub fn summarize(record: &RunRecord) -> RunSummary {
    let test = evaluate(
        record,
        DataSet::Test,
        record.model.confidence_threshold,
        record.model.anomaly.threshold,
    )
    .ok()
    .filter(|t| !t.metrics.predictions.is_empty());
    RunSummary {
        id: record.id.clone(),
        preset: record.model.preset.clone(),
        epochs: record.history.len(),
        val_accuracy: record.final_val_accuracy(),
        test_accuracy: test.map(|t| t.metrics.accuracy as f32),
        stopped: record.stopped.clone(),
        history: record.history.clone(),
        deployed_to: Vec::new(),
    }
}
