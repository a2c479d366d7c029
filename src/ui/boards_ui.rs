//! The Deploy panel's "Boards" section: the kits TinyLab sees (serial boards recognised by USB
//! IDs, mounted OpenMV drives, Raspberry Pis the user added by host name, the virtual board),
//! the targets each takes, a Deploy button per target with the job's progress bar and log, and
//! "Board output": what the board itself predicts (per-class bars, prediction, anomaly score,
//! boxes, its measured latency) beside the app's own last live window and the Optimize panel's
//! latency estimate for that kit.
//!
//! Everything here is drawn from [`BoardsView`], built from events; buttons send
//! `Command::Deploy`, `Command::MonitorBoard`, `Command::FindOpenMvDrives`,
//! `Command::RefreshPorts` and `Command::CancelJob`.

use super::app::TinyLabApp;
use crate::deploy::DeployTarget;
use crate::deploy::run::{ArduinoSource, DeployRequest, MONITOR_BAUD, VIRTUAL_INFERENCE_PORT};
use crate::deploy::ssh::SshTarget;
use crate::devices::board_output::BoardResult;
use crate::protocol::{Command, Event, JobId, JobOutcome};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

/// Log lines kept for the active job.
const LOG_LINES: usize = 200;

/// What the section knows, from events.
#[derive(Debug, Default)]
pub struct BoardsView {
    /// OpenMV drives last found.
    pub drives: Vec<PathBuf>,
    /// The deploy or monitor job being shown, while it runs.
    pub job: Option<JobId>,
    /// Its name.
    pub job_name: String,
    /// Its progress, 0–1.
    pub fraction: f32,
    /// Its log, oldest first (kept after it ends).
    pub log: VecDeque<String>,
    /// The board's latest result.
    pub latest: Option<Arc<BoardResult>>,
    /// Results received since the job started.
    pub results: u64,
}

impl BoardsView {
    /// Takes what concerns the section from `event` (the view applies the rest).
    pub fn observe(&mut self, event: &Event) {
        match event {
            Event::OpenMvDrives(drives) => self.drives.clone_from(drives),
            Event::JobStarted { id, name } if is_board_job(name) => {
                self.job = Some(*id);
                self.job_name.clone_from(name);
                self.fraction = 0.0;
                self.log.clear();
                self.latest = None;
                self.results = 0;
            }
            Event::JobProgress {
                id,
                fraction,
                message,
            } if Some(*id) == self.job => {
                self.fraction = *fraction;
                self.push_log(message.clone());
            }
            Event::JobFinished { id, outcome, .. } if Some(*id) == self.job => {
                self.job = None;
                self.push_log(match outcome {
                    JobOutcome::Done(text) => text.clone(),
                    JobOutcome::Cancelled => "stopped".to_owned(),
                    JobOutcome::Failed(why) => format!("failed: {why}"),
                });
            }
            Event::BoardOutput { job, result } if Some(*job) == self.job => {
                self.latest = Some(Arc::clone(result));
                self.results += 1;
            }
            _ => {}
        }
    }

    fn push_log(&mut self, line: String) {
        if line.is_empty() || self.log.back() == Some(&line) {
            return;
        }
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }
}

/// Jobs the section shows.
fn is_board_job(name: &str) -> bool {
    name.starts_with("deploy of ") || name.starts_with("board output on ")
}

/// The section's form fields.
#[derive(Debug, Clone, Default)]
pub struct BoardsForms {
    /// The SSH host being typed, `user@host:dir`.
    pub new_host: String,
    /// Hosts the user added.
    pub hosts: Vec<String>,
    /// Start the runner after an SSH deploy and show its predictions.
    pub start_runner: bool,
    /// The exported Arduino sketch folder.
    pub sketch: String,
    /// The exported Arduino library folder.
    pub library: String,
    /// Why the last host typed was refused.
    pub host_error: Option<String>,
}

/// The kit ids of the Optimize panel's estimates for a board name.
fn estimate_id(board: &str) -> Option<&'static str> {
    let board = board.to_lowercase();
    if board.contains("nicla") || board.contains("openmv") {
        Some("nicla")
    } else if board.contains("xiao") || board.contains("esp32") || board.contains("virtual") {
        Some("xiao")
    } else if board.contains("nano 33") {
        Some("nano33")
    } else if board.contains("raspberry") || board.contains("ssh") {
        Some("pi4")
    } else {
        None
    }
}

/// Draws the section.
pub fn boards_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    ui.add_space(10.0);
    ui.separator();
    ui.heading("Boards");
    let run = app
        .view
        .quantized
        .as_ref()
        .filter(|q| app.view.run.as_ref().is_some_and(|r| r.id == q.run))
        .map(|q| q.run.clone());
    ui.horizontal(|ui| {
        if ui.button("Find boards").clicked() {
            app.send(Command::RefreshPorts);
            app.send(Command::FindOpenMvDrives);
        }
        match &run {
            Some(run) => ui.label(format!(
                "Deploy sends {run}'s int8 model, as the Optimize panel measured it."
            )),
            None => ui.weak(
                "Deploying needs a quantized run (Optimize panel); watching a board does not.",
            ),
        };
    });
    let busy = app.view.boards.job.is_some();
    let nicla_port = app
        .view
        .ports
        .iter()
        .find(|p| p.board.is_some_and(|b| b.name.contains("Nicla")))
        .map(|p| p.path.clone());

    egui::Grid::new("boards-grid")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            // Serial boards.
            let ports: Vec<_> = app
                .view
                .ports
                .iter()
                .filter(|p| p.is_likely_board())
                .cloned()
                .collect();
            for port in ports {
                ui.label(port.describe());
                let arduino = port
                    .board
                    .and_then(|b| crate::deploy::arduino::board_for(b.name));
                ui.horizontal(|ui| {
                    if let Some(board) = arduino {
                        let ready = run.is_some();
                        if ui
                            .add_enabled(ready && !busy, egui::Button::new("Deploy (arduino-cli)"))
                            .on_hover_text(format!(
                                "compile the sketch for {} and upload it, then show what the board prints",
                                board.fqbn
                            ))
                            .clicked()
                            && let Some(run) = &run
                        {
                            app.send(Command::Deploy(Box::new(DeployRequest {
                                run: run.clone(),
                                target: DeployTarget::Arduino {
                                    port: port.path.clone(),
                                },
                                arduino: Some(ArduinoSource {
                                    sketch: optional_path(&app.forms.boards.sketch),
                                    library: optional_path(&app.forms.boards.library),
                                    fqbn: Some(board.fqbn.to_owned()),
                                    program: None,
                                }),
                                monitor_port: Some(port.path.clone()),
                                runner_args: None,
                            })));
                        }
                    }
                    if ui
                        .add_enabled(!busy, egui::Button::new("Watch output"))
                        .on_hover_text("read what the board prints and show its predictions")
                        .clicked()
                    {
                        app.send(Command::MonitorBoard {
                            port: port.path.clone(),
                            baud: MONITOR_BAUD,
                        });
                    }
                });
                ui.end_row();
            }
            // OpenMV drives.
            for drive in app.view.boards.drives.clone() {
                ui.label(format!("{} — OpenMV drive", drive.display()));
                if ui
                    .add_enabled(run.is_some() && !busy, egui::Button::new("Deploy to OpenMV"))
                    .on_hover_text("write trained.tflite, labels.txt and main.py (old files kept as .bak)")
                    .clicked()
                    && let Some(run) = &run
                {
                    app.send(Command::Deploy(Box::new(DeployRequest {
                        run: run.clone(),
                        target: DeployTarget::OpenMv { drive },
                        arduino: None,
                        monitor_port: nicla_port.clone(),
                        runner_args: None,
                    })));
                }
                ui.end_row();
            }
            // SSH hosts.
            for host in app.forms.boards.hosts.clone() {
                ui.label(format!("{host} — over SSH"));
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(run.is_some() && !busy, egui::Button::new("Deploy over SSH"))
                        .on_hover_text("copy the model, labels and a Python runner (keys from your SSH agent)")
                        .clicked()
                        && let (Some(run), Some(target)) = (&run, SshTarget::parse(&host))
                    {
                        app.send(Command::Deploy(Box::new(DeployRequest {
                            run: run.clone(),
                            target: DeployTarget::Ssh(target),
                            arduino: None,
                            monitor_port: None,
                            runner_args: app.forms.boards.start_runner.then(Vec::new),
                        })));
                    }
                    if ui.small_button("Remove").clicked() {
                        app.forms.boards.hosts.retain(|h| h != &host);
                    }
                });
                ui.end_row();
            }
            // The virtual board.
            ui.label("TinyLab virtual board — prints motion inferences");
            if ui
                .add_enabled(!busy, egui::Button::new("Watch the virtual board"))
                .clicked()
            {
                app.send(Command::MonitorBoard {
                    port: VIRTUAL_INFERENCE_PORT.to_owned(),
                    baud: MONITOR_BAUD,
                });
            }
            ui.end_row();
        });

    ui.horizontal(|ui| {
        ui.label("Raspberry Pi (user@host:folder):");
        ui.add(
            egui::TextEdit::singleline(&mut app.forms.boards.new_host)
                .hint_text("pi@raspberrypi.local:~/tinylab")
                .desired_width(260.0),
        );
        if ui.button("Add").clicked() {
            let host = app.forms.boards.new_host.trim().to_owned();
            if SshTarget::parse(&host).is_some() {
                if !app.forms.boards.hosts.contains(&host) {
                    app.forms.boards.hosts.push(host);
                }
                app.forms.boards.new_host.clear();
                app.forms.boards.host_error = None;
            } else {
                app.forms.boards.host_error = Some(format!(
                    "`{host}` is not user@host:folder (e.g. pi@raspberrypi.local:~/tinylab)"
                ));
            }
        }
        ui.checkbox(
            &mut app.forms.boards.start_runner,
            "start it and show its predictions",
        );
    });
    if let Some(error) = &app.forms.boards.host_error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    ui.horizontal(|ui| {
        ui.label("Arduino: your own sketch folder");
        ui.add(
            egui::TextEdit::singleline(&mut app.forms.boards.sketch)
                .hint_text("generated")
                .desired_width(180.0),
        );
        ui.label("and library folder");
        ui.add(
            egui::TextEdit::singleline(&mut app.forms.boards.library)
                .hint_text("generated")
                .desired_width(180.0),
        );
    })
    .response
    .on_hover_text(
        "Leave both empty: TinyLab generates the Arduino library from the run and compiles the \
         example sketch for the board's kit.",
    );

    job_ui(app, ui);
    board_output_ui(app, ui);
}

/// The active job: name, progress bar, Stop, log.
fn job_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    let boards = &app.view.boards;
    if boards.log.is_empty() && boards.job.is_none() {
        return;
    }
    ui.add_space(6.0);
    let mut cancel = None;
    ui.horizontal(|ui| {
        ui.strong(&boards.job_name);
        if let Some(id) = boards.job {
            // A deploy has a share done; watching a board does not end by itself.
            if boards.job_name.starts_with("deploy of ") && boards.fraction < 1.0 {
                ui.add(
                    egui::ProgressBar::new(boards.fraction)
                        .desired_width(240.0)
                        .show_percentage(),
                );
            } else {
                ui.spinner();
                ui.label(format!("watching the board: {} results", boards.results));
            }
            if ui.button("Stop").clicked() {
                cancel = Some(id);
            }
        }
    });
    egui::ScrollArea::vertical()
        .id_salt("board-log")
        .max_height(120.0)
        .stick_to_bottom(true)
        .show(ui, |ui| {
            for line in &boards.log {
                ui.monospace(line);
            }
        });
    if let Some(id) = cancel {
        app.send(Command::CancelJob(id));
    }
}

/// The board's latest result beside the app's own prediction and the estimate.
fn board_output_ui(app: &TinyLabApp, ui: &mut egui::Ui) {
    let Some(result) = app.view.boards.latest.clone() else {
        return;
    };
    ui.add_space(6.0);
    ui.strong(format!(
        "Board output ({} results)",
        app.view.boards.results
    ));
    ui.columns(2, |columns| {
        let [board, app_side] = columns else { return };
        board.label("The board says:");
        board_result_ui(board, &result);

        app_side.label("TinyLab says (last live window):");
        let live = &app.view.live_classification;
        match (live.windows.back(), &live.running) {
            (Some(window), Some(run)) => {
                for (label, p) in run.labels.iter().zip(&window.averaged) {
                    app_side.add(egui::ProgressBar::new(*p).text(format!("{label}: {p:.2}")));
                }
                app_side.label(format!(
                    "DSP {:.1} ms, classification {:.1} ms on this computer",
                    window.dsp_ms, window.nn_ms
                ));
                if let Some(score) = window.anomaly {
                    app_side.label(format!("anomaly score {score:.3}"));
                }
            }
            _ => {
                app_side.weak(
                    "start live classification (Evaluate panel) with the same input to compare",
                );
            }
        }
        let kit = estimate_id(&app.view.boards.job_name);
        if let (Some(report), Some(kit)) = (&app.view.quantized, kit)
            && let Some(estimate) = report.estimates.iter().find(|e| e.target == kit)
        {
            let measured = result
                .timing
                .classification_ms
                .map_or_else(|| "–".to_owned(), |ms| format!("{ms:.0} ms"));
            app_side.label(format!(
                "Latency on the {}: measured {measured}, Optimize estimate {:.1} ms (int8)",
                estimate.name, estimate.int8_ms
            ));
        }
    });
}

/// One board result: bars, prediction, anomaly, boxes, timing.
fn board_result_ui(ui: &mut egui::Ui, result: &BoardResult) {
    for class in &result.classes {
        ui.add(
            egui::ProgressBar::new(class.score.clamp(0.0, 1.0))
                .text(format!("{}: {:.2}", class.label, class.score)),
        );
    }
    if let Some(prediction) = &result.prediction {
        ui.label(format!("prediction: {prediction}"));
    }
    if let Some(score) = result.anomaly {
        ui.label(format!("anomaly score {score:.3}"));
    }
    if result.detection {
        if result.boxes.is_empty() {
            ui.label("no objects found");
        }
        for b in &result.boxes {
            ui.label(format!(
                "{} {:.2} at ({:.0}, {:.0}) {:.0}×{:.0}",
                b.label, b.score, b.x_px, b.y_px, b.width_px, b.height_px
            ));
        }
    }
    let t = &result.timing;
    let part = |name: &str, ms: Option<f64>| ms.map(|ms| format!("{name} {ms:.0} ms"));
    let parts: Vec<String> = [
        part("DSP", t.dsp_ms),
        part("classification", t.classification_ms),
        part("anomaly", t.anomaly_ms),
        part("post-processing", t.postprocess_ms),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !parts.is_empty() {
        ui.label(format!("on the board: {}", parts.join(", ")));
    }
}

/// A typed folder, or `None` when the field is empty (TinyLab generates it).
fn optional_path(text: &str) -> Option<std::path::PathBuf> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.into())
}
