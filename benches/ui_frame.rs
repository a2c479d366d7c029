//! UI frame time while a training job runs (README, "Speed"): the issue asks that frames stay
//! under 16 ms while the model trains.
//!
//! `cargo bench --bench ui_frame` opens the demo project (the motion lab, 16 samples) in the real
//! app, headless through egui_kittest, switches to the Train panel and times frames at a 60 Hz
//! pace, first idle for two seconds (after ten warm-up frames), then while a training run of `--epochs N` trains on the
//! engine's worker threads. The default, 5,000 epochs, makes the demo's small dataset train for
//! several seconds; its live curves then grow to 5,000 points each, far more than a real run's
//! 30 to 100, so the plotting cost is a worst case.
//! A frame is `harness.step()` (draining engine events, building the UI, the AccessKit update)
//! plus tessellating its shapes, i.e. the CPU work eframe does before handing the meshes to the
//! GPU; there is no renderer here, so GPU upload and present are not included.
//!
//! Run without `--bench`, it trains for 5 epochs, as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a bench may panic

#[path = "common/mod.rs"]
#[allow(dead_code)] // this bench uses `mode` only
mod common;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};
use tinylab::protocol::Command;
use tinylab::ui::state::UiState;
use tinylab::ui::{Startup, TinyLabApp};

/// 60 Hz.
const FRAME_BUDGET: Duration = Duration::from_micros(16_667);

/// Steps the UI until `done` holds (the engine runs in real time).
fn step_until(harness: &mut Harness<'static, TinyLabApp>, done: impl Fn(&TinyLabApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done(harness.state()) {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
}

/// One frame as eframe would do its CPU part: the app's frame, then tessellation.
fn timed_frame(harness: &mut Harness<'static, TinyLabApp>) -> Duration {
    let t = Instant::now();
    harness.step();
    let output = harness.output();
    let primitives = harness
        .ctx
        .tessellate(output.shapes.clone(), output.pixels_per_point);
    std::hint::black_box(primitives);
    t.elapsed()
}

/// Frames at a 60 Hz pace while `running` holds (at least `min` frames); their times.
fn frames_while(
    harness: &mut Harness<'static, TinyLabApp>,
    min: usize,
    running: impl Fn(&TinyLabApp) -> bool,
) -> Vec<Duration> {
    let mut times = Vec::new();
    while times.len() < min || running(harness.state()) {
        let time = timed_frame(harness);
        times.push(time);
        std::thread::sleep(FRAME_BUDGET.saturating_sub(time));
    }
    times
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    let over = times.iter().filter(|t| **t > FRAME_BUDGET).count();
    println!(
        "{what:<32} {:>5} frames  median {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms  \
         {over} over 16.7 ms",
        times.len(),
        at(0.5),
        at(0.99),
        at(1.0),
    );
}

fn main() {
    let (full, _) = common::mode();
    let args: Vec<String> = std::env::args().collect();
    let epochs = args
        .iter()
        .position(|a| a == "--epochs")
        .and_then(|i| args.get(i + 1))
        .map_or(if full { 5000 } else { 5 }, |n| n.parse().unwrap());

    let tmp = std::env::temp_dir().join(format!("tinylab-ui-frame-bench-{}", std::process::id()));
    let ctx = egui::Context::default();
    let app = TinyLabApp::new(&ctx, UiState::default(), Startup::Demo(tmp.join("demo"))).unwrap();
    let mut harness = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_ui_state(|ui, app: &mut TinyLabApp| app.ui_frame(ui), app);
    step_until(&mut harness, |app| app.view.samples.len() == 16);
    harness.get_by_label("Train").click();
    step_until(&mut harness, |app| matches!(app.view.model, Some(Ok(_))));

    // The panel's first frames lay out and rasterise text never drawn before (10–35 ms once).
    frames_while(&mut harness, 10, |_| false);
    let idle_frames = if full { 120 } else { 10 };
    let idle = frames_while(&mut harness, idle_frames, |_| false);

    let started = Instant::now();
    harness.state_mut().send(Command::Train {
        epochs: Some(epochs),
        seed: None,
    });
    // From the command until the run is saved: features (from the cache or computed), then the
    // epochs with live curves.
    let training = frames_while(&mut harness, 1, |app| app.view.runs.is_empty());
    let seconds = started.elapsed().as_secs_f64();
    let epochs_seen = harness
        .state()
        .view
        .run
        .as_ref()
        .map_or(0, |run| run.history.len());

    println!(
        "Train panel, 1280 × 800, frames paced at 60 Hz; a frame is step + tessellate (the CPU \
         work, no GPU), wall-clock time"
    );
    report("idle", idle);
    report(
        &format!("training {epochs} epochs ({seconds:.1} s)"),
        training,
    );
    if epochs_seen > 0 {
        println!("the saved run has {epochs_seen} epochs");
    }
    drop(harness);
    std::fs::remove_dir_all(&tmp).ok();
}
