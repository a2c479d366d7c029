//! The board monitor end to end over a pseudo-terminal: the virtual board in inference mode
//! prints Edge Impulse `Predictions` blocks for its current motion; the monitor (the same code
//! the Deploy panel's jobs and `tinylab monitor` run) reads them through the serial reader and
//! the parser. Also `tinylab sim-board --inference` + `tinylab monitor --port` as processes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use tinylab::devices::board_monitor::{MonitorEnd, monitor};
use tinylab::devices::board_output::{BoardOutputParser, BoardResult, OutputFormat};
use tinylab::rng::Rng;
use tinylab::sim::board::{BoardConfig, VirtualBoard, inference_lines};
use tinylab::sim::motion::Motion;

const LABELS: [&str; 4] = ["idle", "lift", "maritime", "terrestrial"];

fn top(result: &BoardResult) -> &str {
    &result.top_class().unwrap().label
}

#[test]
fn inference_lines_parse_and_favour_the_motion() {
    let mut rng = Rng::new(3);
    for motion in Motion::ALL {
        let mut parser = BoardOutputParser::default();
        let text = inference_lines(motion, &mut rng).join("\r\n") + "\r\n";
        let mut results = parser.push(text.as_bytes());
        results.extend(parser.flush());
        assert_eq!(results.len(), 1);
        let result = &results[0];
        assert_eq!(result.format, Some(OutputFormat::EdgeImpulse));
        assert_eq!(top(result), motion.label());
        let labels: Vec<&str> = result.classes.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, LABELS);
        let sum: f32 = result.classes.iter().map(|c| c.score).sum();
        assert!((sum - 1.0).abs() < 1e-4, "{sum}");
        assert!(result.anomaly.unwrap() < 0.0);
    }
}

#[test]
fn the_monitor_reads_the_virtual_boards_predictions_over_a_pty() {
    let board = VirtualBoard::start(BoardConfig {
        inference: true,
        banner: true,
        banner_delay_s: 0.1,
        motion: Motion::Maritime,
        ..BoardConfig::default()
    })
    .unwrap();
    let stop = AtomicBool::new(false);
    let mut results: Vec<BoardResult> = Vec::new();
    let mut lines = 0usize;
    let end = monitor(
        board.path(),
        115_200,
        Vec::new(),
        &|| stop.load(Ordering::Relaxed),
        &mut |_| lines += 1,
        &mut |result| {
            results.push(result);
            match results.len() {
                3 => board.set_motion(Motion::Lift),
                8 => stop.store(true, Ordering::Relaxed),
                _ => {}
            }
        },
    )
    .unwrap();
    assert_eq!(end, MonitorEnd::Stopped);
    assert!(results.len() >= 8, "{}", results.len());
    assert!(lines >= 8 * 6);
    // The first whole block may be cut by opening mid-line; the ones before the switch say
    // maritime, the last ones lift.
    assert_eq!(top(&results[1]), "maritime");
    assert_eq!(top(&results[2]), "maritime");
    assert_eq!(top(&results[7]), "lift");
    for result in &results[1..] {
        assert_eq!(result.classes.len(), 4);
        let dsp = result.timing.dsp_ms.unwrap();
        assert!((10.0..=12.0).contains(&dsp), "{dsp}");
    }
}

#[test]
fn tinylab_monitor_prints_json_lines_from_the_virtual_board() {
    let mut sim = Command::new(env!("CARGO_BIN_EXE_tinylab"))
        .args([
            "sim-board",
            "--inference",
            "--no-banner",
            "--motion",
            "terrestrial",
            "--seconds",
            "60",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut path = String::new();
    BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut path)
        .unwrap();
    let path = path.trim().to_owned();
    assert!(path.starts_with("/dev/"), "{path}");
    let out = common::ok(&[
        "monitor",
        "--port",
        &path,
        "--count",
        "3",
        "--seconds",
        "30",
    ]);
    let _ = sim.kill();
    let _ = sim.wait();
    let results: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 3, "{out}");
    for result in &results[1..] {
        assert_eq!(result["format"], "edge_impulse");
        let classes = result["classes"].as_array().unwrap();
        assert_eq!(classes.len(), 4);
        let best = classes
            .iter()
            .max_by(|a, b| {
                a["score"]
                    .as_f64()
                    .unwrap()
                    .total_cmp(&b["score"].as_f64().unwrap())
            })
            .unwrap();
        assert_eq!(best["label"], "terrestrial");
        assert!(result["timing"]["dsp_ms"].as_f64().is_some());
    }
}
