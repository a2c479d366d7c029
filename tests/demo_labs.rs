//! Demo mode, headless, as an instructor would run it: `tinylab new DIR --lab LAB --demo`, then
//! train, quantize and `tinylab check`; every step of the lab that has an automatic check must
//! pass on the demo data (enough samples, a test split, current features, the lab's accuracy bars,
//! int8 within 2 points of float32).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

mod common;

use common::ok;

/// Creates `lab`'s demo project, trains it (with `epochs` if given), quantizes it, and returns
/// `tinylab check --json`.
fn demo_checks(lab: &str, epochs: Option<&str>) -> serde_json::Value {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(lab);
    let dir = dir.to_str().unwrap();
    let created = ok(&["new", dir, "--lab", lab, "--demo"]);
    assert!(created.contains("demo samples"), "{created}");
    let mut train = vec!["train", dir];
    if let Some(epochs) = epochs {
        train.extend(["--epochs", epochs]);
    }
    ok(&train);
    ok(&["quantize", dir]);
    let check: serde_json::Value = serde_json::from_str(&ok(&["check", dir, "--json"])).unwrap();
    assert_eq!(check["lab"], lab);
    check
}

/// Every step with a check passed but deploying (no board here); prints the steps so CI's log
/// shows the figures.
fn assert_checks_pass(check: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(check).unwrap());
    let steps = check["steps"].as_array().unwrap();
    let deploys = steps.iter().filter(|s| s["panel"] == "deploy").count();
    for step in steps.iter().filter(|s| s["panel"] != "deploy") {
        assert_ne!(
            step["passed"],
            serde_json::Value::Bool(false),
            "step {} did not pass: {}",
            step["title"],
            step["detail"]
        );
    }
    let (done, total) = (
        check["done"].as_u64().unwrap(),
        check["total"].as_u64().unwrap(),
    );
    assert_eq!(done + deploys as u64, total);
}

#[test]
fn motion_demo_passes_its_checks() {
    assert_checks_pass(&demo_checks("motion", None));
}

#[test]
fn xiao_motion_demo_passes_its_checks() {
    assert_checks_pass(&demo_checks("xiao-motion", None));
}

#[test]
fn kws_demo_passes_its_checks() {
    assert_checks_pass(&demo_checks("kws", Some("60")));
}

#[test]
fn image_demo_passes_its_checks() {
    assert_checks_pass(&demo_checks("image", None));
}

#[test]
fn a_demo_into_a_used_folder_is_refused_and_adds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    let out = common::tinylab(&["new", dir, "--lab", "kws", "--demo"]);
    assert!(!out.status.success());
    let entries: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "only notes.txt stays");
}
