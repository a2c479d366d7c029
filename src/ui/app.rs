//! The eframe application: drains engine events into the [`View`], draws the menu, tab bar,
//! status bar and the current panel, and turns clicks and keys into [`Command`]s. It never
//! computes and never waits: everything slow happens in the engine or on dialog threads.

use super::dialogs::{DialogPurpose, Dialogs};
use super::state::{STORAGE_KEY, Theme, UiState};
use super::tab::Tab;
use super::view::View;
use super::{
    capture_panel, dataset_panel, deploy_panel, evaluate_panel, features_panel, lab_panel,
    optimize_panel, status_bar, train_panel,
};
use crate::engine::Engine;
use crate::project::formats::SampleFormat;
use crate::project::sample::SampleId;
use crate::protocol::{Command, DeviceSpec, Event, Level, SplitChoice};
use crate::sim::motion::Motion;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Zoom used by instructor mode: fonts, plots and buttons 1.6× larger for a projector.
const INSTRUCTOR_ZOOM: f32 = 1.6;
/// At most this long per frame is spent taking events, so a flood cannot stall drawing.
const DRAIN_BUDGET: Duration = Duration::from_millis(4);

/// What the window opens on.
#[derive(Clone, Debug, PartialEq)]
pub enum Startup {
    /// This project.
    Project(PathBuf),
    /// The demo project in this folder (created if missing), fed by the virtual board.
    Demo(PathBuf),
}

/// Form fields and selections: transient, not persisted.
#[derive(Debug)]
pub struct Forms {
    /// Selected samples in the Dataset panel.
    pub selected: BTreeSet<SampleId>,
    /// The sample last clicked (anchor for the plot).
    pub focused: Option<SampleId>,
    /// New label typed in the Dataset panel.
    pub relabel: String,
    /// Dataset filter: label (`None`: all).
    pub filter_label: Option<String>,
    /// Dataset filter: text in id or source.
    pub filter_text: String,
    /// Chosen serial port path.
    pub port: Option<String>,
    /// Virtual board rate.
    pub virtual_rate_hz: f64,
    /// Virtual board motion.
    pub virtual_motion: Motion,
    /// Set axes and rate by hand instead of detecting them.
    pub manual_format: bool,
    /// Axis names typed for the manual format.
    pub manual_axes: String,
    /// Rate typed for the manual format.
    pub manual_rate_hz: f64,
    /// Folder typed for a new project.
    pub new_project_dir: String,
    /// Lab chosen for a new project.
    pub new_project_lab: String,
    /// Kit whose labs the new-project picker lists (empty: every lab).
    pub new_project_kit: String,
    /// Fill the new project with the lab's demo data.
    pub new_project_demo: bool,
    /// Folder typed for opening a project.
    pub open_project_dir: String,
    /// Split for imports.
    pub import_split: SplitChoice,
    /// Format for exports.
    pub export_format: SampleFormat,
    /// Window of the focused sample shown in the Features panel.
    pub preview_window: usize,
    /// The preview last asked of the engine: (sample, window, settings revision).
    pub preview_requested: Option<(SampleId, usize, u64)>,
    /// MFCC step shown.
    pub mfcc_step: super::features_panel::MfccStep,
    /// Background-noise mixing settings in the Dataset panel.
    pub noise_mix: NoiseMixForm,
    /// Run whose curves are overlaid in the Train panel.
    pub compare_run: Option<String>,
    /// Data the Evaluate panel shows.
    pub eval_set: crate::project::runs::DataSet,
    /// Confusion matrix as row percentages (else counts).
    pub eval_percent: bool,
    /// The Evaluate panel's live classification section.
    pub live: super::live_panel::LiveForm,
    /// The split review window.
    pub split: super::split_review::SplitForm,
    /// Microphone choice and recording countdown.
    pub audio: super::audio_ui::AudioForms,
    /// The camera address typed in the Capture panel.
    pub camera: super::camera_ui::CameraForms,
    /// The Deploy panel's format and path.
    pub deploy: super::deploy_panel::DeployForms,
    /// The Deploy panel's Boards section.
    pub boards: super::boards_ui::BoardsForms,
    /// The Optimize panel's settings (filled from the project when it opens).
    pub quantize: Option<crate::quant::report::QuantizeSettings>,
}

impl Default for Forms {
    fn default() -> Self {
        Self {
            selected: BTreeSet::new(),
            focused: None,
            relabel: String::new(),
            filter_label: None,
            filter_text: String::new(),
            port: None,
            virtual_rate_hz: 50.0,
            virtual_motion: Motion::Idle,
            manual_format: false,
            manual_axes: "accX, accY, accZ".into(),
            manual_rate_hz: 50.0,
            new_project_dir: String::new(),
            new_project_lab: "motion".into(),
            new_project_kit: String::new(),
            new_project_demo: false,
            open_project_dir: String::new(),
            import_split: SplitChoice::Auto,
            export_format: SampleFormat::Csv,
            preview_window: 0,
            preview_requested: None,
            mfcc_step: super::features_panel::MfccStep::default(),
            noise_mix: NoiseMixForm::default(),
            compare_run: None,
            eval_set: crate::project::runs::DataSet::Test,
            eval_percent: true,
            live: Default::default(),
            split: Default::default(),
            audio: super::audio_ui::AudioForms::default(),
            camera: super::camera_ui::CameraForms::default(),
            deploy: Default::default(),
            boards: Default::default(),
            quantize: None,
        }
    }
}

/// The Dataset panel's background-noise mixing form.
#[derive(Debug)]
pub struct NoiseMixForm {
    /// Label of the noise recordings (the KWS lab's is `noise`).
    pub label: String,
    /// Signal-to-noise ratio, dB.
    pub snr_db: f32,
    /// Copies per sample.
    pub copies: usize,
}

impl Default for NoiseMixForm {
    fn default() -> Self {
        Self {
            label: "noise".into(),
            snr_db: 10.0,
            copies: 1,
        }
    }
}

/// The TinyLab window.
pub struct TinyLabApp {
    /// Persisted UI state.
    pub state: UiState,
    /// Everything learned from the engine.
    pub view: View,
    /// Form fields and selections.
    pub forms: Forms,
    engine: Engine,
    dialogs: Dialogs,
    ctx: egui::Context,
    applied_theme: Option<Theme>,
    applied_instructor: Option<bool>,
}

impl TinyLabApp {
    /// Starts the engine and opens `startup`.
    pub fn new(ctx: &egui::Context, state: UiState, startup: Startup) -> std::io::Result<Self> {
        let repaint = ctx.clone();
        let engine = Engine::start(move || repaint.request_repaint())?;
        let mut app = Self {
            state,
            view: View::default(),
            forms: Forms::default(),
            engine,
            dialogs: Dialogs::default(),
            ctx: ctx.clone(),
            applied_theme: None,
            applied_instructor: None,
        };
        match startup {
            Startup::Project(dir) => app.send(Command::OpenProject { dir }),
            Startup::Demo(dir) => {
                app.send(Command::OpenDemoProject { dir });
                app.send(Command::Connect(DeviceSpec::VirtualBoard {
                    rate_hz: 50.0,
                    motion: Motion::Idle,
                }));
            }
        }
        app.send(Command::RefreshPorts);
        Ok(app)
    }

    /// Sends a command; if the engine cannot take it, says so in the status bar.
    pub fn send(&mut self, command: Command) {
        if let Err(e) = self.engine.send(command) {
            self.view.notify(Level::Error, e.to_string());
        }
    }

    /// Takes waiting engine events (within a small time budget) and dialog answers.
    pub fn drain_events(&mut self) {
        let started = Instant::now();
        while let Some(event) = self.engine.try_recv() {
            self.on_event(&event);
            self.view.apply(event);
            if started.elapsed() > DRAIN_BUDGET {
                self.ctx.request_repaint();
                break;
            }
        }
        while let Some((purpose, paths)) = self.dialogs.poll() {
            self.on_dialog(purpose, paths);
        }
    }

    /// Reactions that belong to the app rather than the view.
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::ProjectOpened { dir, settings } => {
                self.state.remember_project(dir.clone());
                self.forms.selected.clear();
                self.forms.focused = None;
                if !settings.capture.labels.contains(&self.state.record_label)
                    && let Some(first) = settings.capture.labels.first()
                {
                    self.state.record_label = first.clone();
                }
                self.state.record_seconds = settings.capture.sample_seconds;
            }
            Event::DatasetChanged { samples, .. } => {
                self.forms
                    .selected
                    .retain(|id| samples.iter().any(|s| s.id == *id));
            }
            _ => {}
        }
    }

    /// Selects sample `id` (in the Dataset panel and the Features preview at `window`) and
    /// loads it for plotting.
    pub fn focus_sample(&mut self, id: SampleId, window: usize) {
        self.forms.focused = Some(id);
        self.forms.selected = [id].into();
        self.forms.preview_window = window;
        if let Some(meta) = self.view.samples.iter().find(|m| m.id == id) {
            self.forms.relabel.clone_from(&meta.label);
        }
        self.send(Command::LoadSample(id));
    }

    /// Opens a file dialog off the UI thread.
    pub fn open_dialog(&mut self, purpose: DialogPurpose) {
        let ctx = self.ctx.clone();
        if let Err(e) = self.dialogs.open(purpose, move || ctx.request_repaint()) {
            self.view
                .notify(Level::Error, format!("could not open a file dialog: {e}"));
        }
    }

    fn on_dialog(&mut self, purpose: DialogPurpose, paths: Vec<PathBuf>) {
        let Some(first) = paths.first().cloned() else {
            return;
        };
        match purpose {
            DialogPurpose::NewProjectFolder => {
                self.forms.new_project_dir = first.display().to_string()
            }
            DialogPurpose::OpenProject => self.send(Command::OpenProject { dir: first }),
            DialogPurpose::ImportFiles | DialogPurpose::ImportFolder => {
                self.send(Command::Import {
                    files: paths,
                    label: None,
                    split: self.forms.import_split,
                });
            }
            DialogPurpose::ExportFolder => {
                self.send(Command::Export {
                    out_dir: first,
                    format: self.forms.export_format,
                });
            }
            DialogPurpose::ExportModelFile | DialogPurpose::ExportModelFolder => {
                self.forms.deploy.path = first.display().to_string();
            }
        }
    }

    /// Draws one frame: menu and tabs on top, status bar below, the current panel in between.
    pub fn ui_frame(&mut self, ui: &mut egui::Ui) {
        self.drain_events();
        self.apply_look(ui.ctx());
        self.shortcuts(ui.ctx());
        egui::Panel::top("top_bar").show(ui, |ui| self.top_bar_ui(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| status_bar::status_bar_ui(self, ui));
        egui::CentralPanel::default().show(ui, |ui| match self.state.tab {
            Tab::Lab => lab_panel::lab_panel_ui(self, ui),
            Tab::Capture => capture_panel::capture_panel_ui(self, ui),
            Tab::Dataset => dataset_panel::dataset_panel_ui(self, ui),
            Tab::Features => features_panel::features_panel_ui(self, ui),
            Tab::Train => train_panel::train_panel_ui(self, ui),
            Tab::Evaluate => evaluate_panel::evaluate_panel_ui(self, ui),
            Tab::Optimize => optimize_panel::optimize_panel_ui(self, ui),
            Tab::Deploy => deploy_panel::deploy_panel_ui(self, ui),
        });
        capture_panel::interrupted_modal_ui(self, ui.ctx());
        super::split_review::split_review_ui(self, ui.ctx());
    }

    fn apply_look(&mut self, ctx: &egui::Context) {
        if self.applied_theme != Some(self.state.theme) {
            ctx.set_theme(match self.state.theme {
                Theme::Dark => egui::Theme::Dark,
                Theme::Light => egui::Theme::Light,
            });
            self.applied_theme = Some(self.state.theme);
        }
        if self.applied_instructor != Some(self.state.instructor_mode) {
            ctx.set_zoom_factor(if self.state.instructor_mode {
                INSTRUCTOR_ZOOM
            } else {
                1.0
            });
            self.applied_instructor = Some(self.state.instructor_mode);
        }
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let digits = [
            Key::Num1,
            Key::Num2,
            Key::Num3,
            Key::Num4,
            Key::Num5,
            Key::Num6,
            Key::Num7,
            Key::Num8,
        ];
        for (tab, key) in Tab::ALL.into_iter().zip(digits) {
            if ctx
                .input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, key)))
            {
                self.state.tab = tab;
            }
        }
        if ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::I)))
        {
            self.state.instructor_mode = !self.state.instructor_mode;
        }
        if ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::Z)))
        {
            self.send(Command::Undo);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::O)))
        {
            self.open_dialog(DialogPurpose::OpenProject);
        }
    }

    fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| self.file_menu_ui(ui));
            ui.menu_button("View", |ui| {
                let dark = self.state.theme == Theme::Dark;
                if ui.selectable_label(dark, "Dark theme").clicked() {
                    self.state.theme = Theme::Dark;
                }
                if ui.selectable_label(!dark, "Light theme").clicked() {
                    self.state.theme = Theme::Light;
                }
                ui.separator();
                let shortcut = ui.ctx().format_shortcut(&egui::KeyboardShortcut::new(
                    egui::Modifiers::COMMAND,
                    egui::Key::I,
                ));
                ui.checkbox(
                    &mut self.state.instructor_mode,
                    format!("Instructor mode ({shortcut})"),
                );
            });
            ui.separator();
            for tab in Tab::ALL {
                let shortcut = format!("Ctrl+{}", tab.shortcut_digit());
                if ui
                    .selectable_label(self.state.tab == tab, tab.title())
                    .on_hover_text(shortcut)
                    .clicked()
                {
                    self.state.tab = tab;
                }
            }
        });
    }

    fn file_menu_ui(&mut self, ui: &mut egui::Ui) {
        if ui.button("New project…").clicked() {
            self.state.tab = Tab::Lab;
            ui.close();
        }
        if ui.button("Open project…").clicked() {
            self.open_dialog(DialogPurpose::OpenProject);
            ui.close();
        }
        if ui.button("Open demo project").clicked() {
            self.send(Command::OpenDemoProject {
                dir: demo_project_dir(),
            });
            ui.close();
        }
        ui.menu_button("Recent projects", |ui| {
            if self.state.recent_projects.is_empty() {
                ui.label("none yet");
            }
            for dir in self.state.recent_projects.clone() {
                if ui.button(dir.display().to_string()).clicked() {
                    self.send(Command::OpenProject { dir });
                    ui.close();
                }
            }
        });
        ui.separator();
        let has_project = self.view.project.is_some();
        if ui
            .add_enabled(has_project, egui::Button::new("Import samples…"))
            .clicked()
        {
            self.open_dialog(DialogPurpose::ImportFiles);
            ui.close();
        }
        if ui
            .add_enabled(has_project, egui::Button::new("Export dataset…"))
            .clicked()
        {
            self.open_dialog(DialogPurpose::ExportFolder);
            ui.close();
        }
        ui.separator();
        if ui.button("Quit").clicked() {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }
}

impl eframe::App for TinyLabApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        // Runs even when the window is hidden, so the engine's queue never fills up.
        self.drain_events();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.ui_frame(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.state);
    }
}

/// Where the demo project lives: `$XDG_DATA_HOME/tinylab/demo-motion` (or the platform's
/// equivalent), falling back to the temp folder.
pub fn demo_project_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("tinylab").join("demo-motion")
}

/// Opens the window and runs until it is closed.
pub fn run(project: Option<PathBuf>) -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("TinyLab")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 500.0]),
        persist_window: true,
        ..Default::default()
    };
    eframe::run_native(
        "TinyLab",
        options,
        Box::new(move |cc| {
            let state: UiState = cc
                .storage
                .and_then(|s| eframe::get_value(s, STORAGE_KEY))
                .unwrap_or_default();
            let startup = match project {
                Some(dir) => Startup::Project(dir),
                None => match state.recent_projects.first() {
                    // The demo always comes with its virtual board streaming.
                    Some(dir)
                        if *dir != demo_project_dir()
                            && dir.join(crate::project::PROJECT_FILE).is_file() =>
                    {
                        Startup::Project(dir.clone())
                    }
                    _ => Startup::Demo(demo_project_dir()),
                },
            };
            Ok(Box::new(TinyLabApp::new(&cc.egui_ctx, state, startup)?))
        }),
    )
}
