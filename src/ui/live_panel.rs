//! The "Live classification" section of the Evaluate panel: the shown run classifies the open
//! device's stream (microphone, serial board, virtual board) or a file played as a stream, one
//! window every window increase. It shows a moving bar per class, each class's probability over
//! time, the detected label (the moving average above the confidence threshold), the DSP and NN
//! time of the last window and, for runs with a detector, the anomaly score.

use super::app::TinyLabApp;
use crate::engine::live::LiveWindow;
use crate::protocol::Command;
use egui_plot::{Legend, Line, Plot, PlotPoints};
use std::collections::VecDeque;
use std::sync::Arc;

/// Windows kept for the probability plot (a minute at a 500 ms stride).
const HISTORY: usize = 120;

/// The run classifying the stream.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveRun {
    /// Run id.
    pub run: String,
    /// Labels in output order.
    pub labels: Vec<String>,
    /// True when the run has an anomaly detector.
    pub has_anomaly: bool,
    /// Windows in the moving average.
    pub averaging: usize,
}

/// What the UI knows of live classification, built from events.
#[derive(Clone, Debug, Default)]
pub struct LiveView {
    /// The run, once the stream's format is known.
    pub running: Option<LiveRun>,
    /// The last windows, oldest first.
    pub windows: VecDeque<Arc<LiveWindow>>,
    /// Times live classification stopped (the form's Start/Stop follows it).
    pub stops: u64,
}

impl LiveView {
    /// Live classification started with `run`.
    pub fn started(&mut self, run: LiveRun) {
        self.running = Some(run);
        self.windows.clear();
    }

    /// One more window.
    pub fn window(&mut self, window: Arc<LiveWindow>) {
        if self.windows.len() == HISTORY {
            self.windows.pop_front();
        }
        self.windows.push_back(window);
    }

    /// Live classification stopped.
    pub fn stopped(&mut self) {
        self.running = None;
        self.stops += 1;
    }
}

/// The section's form fields.
#[derive(Clone, Debug, Default)]
pub struct LiveForm {
    /// File typed for "Stream file".
    pub stream_path: String,
    /// Start was pressed and Stop not yet.
    pub requested: bool,
    /// `LiveView::stops` when Start was pressed.
    pub stops_seen: u64,
}

/// Draws the live classification section.
pub fn live_classification_ui(app: &mut TinyLabApp, ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        let source = app
            .view
            .device
            .name
            .clone()
            .unwrap_or_else(|| "no device".into());
        ui.label(format!("Stream: {source}"));
        let label = ui.label("file");
        ui.add(
            egui::TextEdit::singleline(&mut app.forms.live.stream_path)
                .hint_text("a .wav or .csv to play as a stream")
                .desired_width(260.0),
        )
        .labelled_by(label.id);
        if ui
            .button("Stream file")
            .on_hover_text("Play the file at real-time pace, as if a device sent it")
            .clicked()
            && !app.forms.live.stream_path.trim().is_empty()
        {
            let path = app.forms.live.stream_path.trim().into();
            app.send(Command::StreamFile { path });
        }
        if app.forms.live.requested {
            if ui.button("Stop live classification").clicked() {
                // The button turns back into Start when the engine confirms (LiveStopped).
                app.send(Command::StopLive);
            }
        } else if ui
            .button("Start live classification")
            .on_hover_text("Classify the stream with this run, a window every window increase")
            .clicked()
        {
            app.forms.live.requested = true;
            app.forms.live.stops_seen = app.view.live_classification.stops;
            app.send(Command::StartLive);
        }
    });
    if app.view.live_classification.stops != app.forms.live.stops_seen {
        // The engine stopped it (or confirmed a Stop).
        app.forms.live.requested = false;
        app.forms.live.stops_seen = app.view.live_classification.stops;
    }
    let Some(run) = app.view.live_classification.running.clone() else {
        if app.forms.live.requested {
            ui.label("Waiting for readings from the stream...");
        }
        return;
    };
    let windows = &app.view.live_classification.windows;
    let Some(last) = windows.back() else {
        ui.label(format!(
            "{} is listening: the first window comes after one window length.",
            run.run
        ));
        return;
    };
    ui.horizontal(|ui| {
        let detected = match last.detected {
            Some((label, p)) => format!(
                "Detected: {} ({:.0} %)",
                run.labels.get(label).map_or("?", String::as_str),
                p * 100.0
            ),
            None => "Detected: uncertain".into(),
        };
        ui.heading(detected);
        ui.label(format!(
            "DSP {:.1} ms, NN {:.1} ms per window; mean of {} windows",
            last.dsp_ms, last.nn_ms, run.averaging
        ));
        if let Some(score) = last.anomaly {
            ui.label(format!("anomaly score {score:.3}"));
        }
    });
    egui::Grid::new("live_bars").num_columns(2).show(ui, |ui| {
        for (label, p) in run.labels.iter().zip(&last.probabilities) {
            ui.label(label);
            ui.add(
                egui::ProgressBar::new(*p)
                    .desired_width(240.0)
                    .text(format!("{p:.2}")),
            );
            ui.end_row();
        }
    });
    Plot::new("live_probabilities")
        .height(160.0)
        .include_y(0.0)
        .include_y(1.0)
        .x_axis_label("stream time (s)")
        .legend(Legend::default())
        .show(ui, |plot| {
            for (class, label) in run.labels.iter().enumerate() {
                let points: PlotPoints = windows
                    .iter()
                    .filter_map(|w| Some([w.end_s, f64::from(*w.probabilities.get(class)?)]))
                    .collect();
                plot.line(Line::new(label.clone(), points));
            }
        });
}
