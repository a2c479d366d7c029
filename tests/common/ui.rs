//! Helpers the window tests share: a harness on the real app, and stepping until a condition.
#![allow(clippy::unwrap_used, dead_code)] // tests fail by panicking

use egui_kittest::Harness;
use std::time::{Duration, Instant};
use tinylab::ui::state::UiState;
use tinylab::ui::{Startup, TinyLabApp};

/// The window on `startup`, 1280 × 800, driven through AccessKit.
pub fn harness(startup: Startup) -> Harness<'static, TinyLabApp> {
    let ctx = egui::Context::default();
    let app = TinyLabApp::new(&ctx, UiState::default(), startup).unwrap();
    Harness::builder()
        .with_size([1280.0, 800.0])
        .build_ui_state(|ui, app: &mut TinyLabApp| app.ui_frame(ui), app)
}

/// Steps the UI (the engine runs in real time) until `done` holds.
pub fn step_until(
    harness: &mut Harness<'static, TinyLabApp>,
    what: &str,
    done: impl Fn(&TinyLabApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(harness.state()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    harness.step();
}
