//! `tinylab quantize`, the model exports and `tinylab infer --project` on the demo motion
//! project: int8 within 2 points of float32 on the test split (the bar), both `.tflite`
//! files and the C array written, and the exported int8 model classifying a recording through
//! the project's DSP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::ok;
use tinylab::engine::create_demo_project;

#[test]
fn motion_int8_stays_within_two_points_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    create_demo_project(dir.path()).unwrap();
    let p = dir.path().to_str().unwrap();
    ok(&["train", p, "--epochs", "30", "--seed", "3"]);
    let report: serde_json::Value = serde_json::from_str(&ok(&["quantize", p, "--json"])).unwrap();
    let (float, int8) = (
        report["float"]["accuracy"].as_f64().unwrap(),
        report["int8"]["accuracy"].as_f64().unwrap(),
    );
    println!(
        "motion: float32 {:.1} %, int8 {:.1} %, {} of {} changed",
        float * 100.0,
        int8 * 100.0,
        report["changed"],
        report["windows"]
    );
    assert!((float - int8).abs() <= 0.02, "{report}");
    let (f, q) = (
        report["float_footprint"]["file_bytes"].as_u64().unwrap(),
        report["int8_footprint"]["file_bytes"].as_u64().unwrap(),
    );
    assert!(q < f, "int8 file {q} B not smaller than float32 {f} B");
    assert_eq!(report["estimates"].as_array().unwrap().len(), 5);

    // The lab guide sees the quantization; steps without a check are the student's to tick.
    let check: serde_json::Value = serde_json::from_str(&ok(&["check", p, "--json"])).unwrap();
    let step = |title: &str| {
        check["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["title"] == title)
            .cloned()
            .unwrap_or_else(|| panic!("no step {title:?} in {check}"))
    };
    assert_eq!(step("Quantize to int8")["passed"], true, "{check}");
    assert!(step("Connect the kit")["passed"].is_null(), "{check}");
    assert_eq!(step("Deploy it to the kit")["passed"], false, "{check}");
    let checked = check["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["passed"].is_null())
        .count();
    assert_eq!(check["total"], checked);

    let text = ok(&["quantize", p, "--per-tensor", "--calibration", "50"]);
    assert!(
        text.contains("per-tensor") && text.contains("50 calibration"),
        "{text}"
    );
    assert!(text.contains("Arduino Nicla Vision"), "{text}");

    let out = dir.path().join("out");
    let int8_path = out.join("motion-int8.tflite");
    ok(&[
        "export",
        p,
        "--format",
        "tflite-int8",
        "--out",
        int8_path.to_str().unwrap(),
    ]);
    let labels = std::fs::read_to_string(out.join("labels.txt")).unwrap();
    assert_eq!(labels, "idle\nlift\nmaritime\nterrestrial\n");
    let bytes = std::fs::read(&int8_path).unwrap();
    assert_eq!(&bytes[4..8], b"TFL3");
    // The export is the model the last quantization (per tensor, above) kept in the run folder.
    let kept = dir.path().join("runs/run-001/model-int8.tflite");
    assert_eq!(bytes, std::fs::read(&kept).unwrap());
    let float_path = out.join("motion-f32.tflite");
    ok(&[
        "export",
        p,
        "--format",
        "tflite-f32",
        "--out",
        float_path.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::metadata(&float_path).unwrap().len(), f);
    assert!(
        bytes.len() as u64 <= q,
        "per-tensor scales take less room than per-channel"
    );
    let c_dir = out.join("c");
    ok(&[
        "export",
        p,
        "--format",
        "c-array",
        "--out",
        c_dir.to_str().unwrap(),
    ]);
    let cc = std::fs::read_to_string(c_dir.join("model.cc")).unwrap();
    assert!(
        cc.contains("alignas(16) const unsigned char g_model[]"),
        "{cc:.300}"
    );
    assert!(
        cc.contains(&format!("g_model_len = {};", bytes.len())),
        "{cc:.300}"
    );

    // The exported int8 model on a recording, through the project's spectral block.
    let sample = dir.path().join("samples").join("s00005.csv");
    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "infer",
        int8_path.to_str().unwrap(),
        sample.to_str().unwrap(),
        "--project",
        p,
        "--json",
    ]))
    .unwrap();
    let output = &json["outputs"][0];
    assert_eq!(output["dtype"], "int8");
    let probabilities: Vec<f64> = output["dequantized"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(probabilities.len(), 4);
    let sum: f64 = probabilities.iter().sum();
    assert!((sum - 1.0).abs() < 0.03, "int8 softmax sums to {sum}");

    let bench = ok(&["bench", int8_path.to_str().unwrap(), "--runs", "5"]);
    assert!(
        bench.contains("median") && bench.contains("XIAO"),
        "{bench}"
    );
}

#[test]
fn exporting_or_inferring_bad_input_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    create_demo_project(dir.path()).unwrap();
    let p = dir.path().to_str().unwrap();
    let out = common::tinylab(&["quantize", p]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("train one first"), "{err}");
    let garbage = dir.path().join("garbage.tflite");
    std::fs::write(&garbage, b"not a model at all").unwrap();
    let out = common::tinylab(&["bench", garbage.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("garbage.tflite"), "{err}");
}
