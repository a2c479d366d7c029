//! The command line, as a student types it: `tinylab sim-board` in one terminal, `tinylab new`,
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking
//! `capture`, `dataset`, `import` and `export` in another.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

mod common;

use common::{ok, tinylab};

/// Starts `tinylab sim-board` and returns it with the device path it printed.
fn sim_board(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tinylab"))
        .arg("sim-board")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_owned())
}

fn dataset_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(&["dataset", dir.to_str().unwrap(), "--json"])).unwrap()
}

#[test]
fn sim_board_and_capture_record_a_50_hz_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("motion");
    let dir_s = dir.to_str().unwrap();
    ok(&["new", dir_s, "--lab", "motion"]);
    let (mut board, port) = sim_board(&["--rate-hz", "50", "--motion", "terrestrial"]);
    assert!(port.starts_with("/dev/"), "sim-board printed {port:?}");

    let out = ok(&[
        "capture",
        dir_s,
        "--port",
        &port,
        "--label",
        "terrestrial",
        "--seconds",
        "4",
    ]);
    assert!(
        out.contains("200 readings") && out.contains("50 Hz"),
        "{out}"
    );
    let out = ok(&[
        "capture",
        dir_s,
        "--port",
        &port,
        "--label",
        "terrestrial",
        "--seconds",
        "2",
        "--split",
        "test",
    ]);
    assert!(out.contains("100 readings"), "{out}");
    board.kill().unwrap();
    board.wait().unwrap();

    let summary = dataset_json(&dir);
    let counts = &summary["by_label"]["terrestrial"];
    assert_eq!(counts["train_samples"], 1);
    assert_eq!(counts["test_samples"], 1);
    assert!(
        (summary["total_seconds"].as_f64().unwrap() - 6.0).abs() < 1e-9,
        "{summary}"
    );
    let text = ok(&["dataset", dir_s]);
    assert!(
        text.contains("terrestrial") && text.contains("2 samples"),
        "{text}"
    );
}

#[test]
fn capture_from_a_vanished_board_says_what_happened() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    let dir_s = dir.to_str().unwrap();
    ok(&["new", dir_s]);
    let (mut board, port) = sim_board(&["--seconds", "3", "--no-banner"]);
    let out = tinylab(&[
        "capture",
        dir_s,
        "--port",
        &port,
        "--label",
        "idle",
        "--seconds",
        "20",
    ]);
    board.wait().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("--keep-partial"), "{stderr}");
    assert_eq!(
        dataset_json(&dir)["samples"],
        0,
        "nothing kept without --keep-partial"
    );

    let (mut board, port) = sim_board(&["--seconds", "3", "--no-banner"]);
    let out = ok(&[
        "capture",
        dir_s,
        "--port",
        &port,
        "--label",
        "idle",
        "--seconds",
        "20",
        "--keep-partial",
    ]);
    board.wait().unwrap();
    assert!(out.contains("saved"), "{out}");
    assert_eq!(dataset_json(&dir)["samples"], 1);
}

#[test]
fn import_export_round_trip_and_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    let dir_s = dir.to_str().unwrap();
    ok(&["new", dir_s]);
    let files = tmp.path().join("in");
    std::fs::create_dir(&files).unwrap();
    for (i, label) in ["idle", "idle", "lift", "lift", "lift", "lift", "lift"]
        .iter()
        .enumerate()
    {
        std::fs::write(
            files.join(format!("{label}.{i}.csv")),
            "timestamp,accX,accY,accZ\n0,0,0,9.8\n20,0,0,9.8\n40,0,0,9.8\n",
        )
        .unwrap();
    }
    let out = ok(&["import", dir_s, files.to_str().unwrap()]);
    assert!(
        out.contains("imported 7 samples (6 train, 1 test)"),
        "{out}"
    );

    let exported = tmp.path().join("out");
    ok(&[
        "export",
        dir_s,
        "--out",
        exported.to_str().unwrap(),
        "--format",
        "ei-json",
    ]);
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(exported.join("info.labels")).unwrap())
            .unwrap();
    assert_eq!(info["files"].as_array().unwrap().len(), 7);

    let again = tmp.path().join("q");
    ok(&["new", again.to_str().unwrap()]);
    let out = ok(&[
        "import",
        again.to_str().unwrap(),
        exported.join("training").to_str().unwrap(),
        "--split",
        "train",
    ]);
    assert!(out.contains("imported 6 samples"), "{out}");
    let lift_s = dataset_json(&again)["by_label"]["lift"]["train_seconds"]
        .as_f64()
        .unwrap();
    assert!(
        (lift_s - 0.24).abs() < 1e-9,
        "4 lift samples of 3 readings at 50 Hz: {lift_s}"
    );

    let out = tinylab(&["import", dir_s, "/nonexistent/idle.csv"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/idle.csv"));
    let out = tinylab(&["dataset", tmp.path().to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("tinylab new"),
        "not-a-project error says what to do"
    );
}
