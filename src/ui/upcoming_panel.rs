//! Panels whose features are not built yet say plainly what they will do, and show nothing fake.

use super::tab::Tab;

/// Draws the explanation for a panel that later work fills in.
pub fn upcoming_panel_ui(tab: Tab, ui: &mut egui::Ui) {
    let (title, text) = match tab {
        Tab::Optimize => (
            "Optimization",
            "Here you will compare float32 with int8: accuracy, confusion matrices, model size, RAM, operations and \
             estimated latency on each kit.",
        ),
        Tab::Deploy => (
            "Deployment",
            "Here you will export the model (.tflite, C array, C library, Arduino library) and send it to a \
             connected board with one click, then see what the board itself predicts.",
        ),
        Tab::Lab | Tab::Capture | Tab::Dataset | Tab::Features | Tab::Train | Tab::Evaluate => {
            ("", "")
        }
    };
    ui.heading(title);
    ui.add_space(6.0);
    ui.label(text);
    ui.add_space(6.0);
    ui.weak("Not available yet in this version of TinyLab.");
}
