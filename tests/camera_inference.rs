//! Live inference on a camera stream: a classifier trained (from the command line) on red and
//! blue pictures, then a folder of alternating red and blue frames played as a camera
//! (`CameraSpec::Folder`, the path an HTTP camera's frames take too) with `Command::StartLive`.
//! The same through an HTTP snapshot camera on 127.0.0.1. Every result names a frame the camera sent, carries the run's labels and the right colour,
//! and there are never more results than frames (the worker takes the newest frame, never a
//! queue).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout
)] // tests fail by panicking

mod common;

use common::ok;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use tinylab::devices::camera::CameraSpec;
use tinylab::engine::Engine;
use tinylab::protocol::{Command, DeviceSpec, Event};

fn solid_png(path: &std::path::Path, rgb: [u8; 3], shade: u8) {
    let [r, g, b] = rgb;
    let image = image::RgbImage::from_fn(64, 48, |x, y| {
        let wobble = ((x + y) % 7) as u8 * shade;
        image::Rgb([
            r.saturating_sub(wobble),
            g.saturating_add(wobble / 2),
            b.saturating_sub(wobble),
        ])
    });
    image.save(path).unwrap();
}

/// A project in `tmp` trained on red and blue pictures (labels blue, red).
fn trained_colours(tmp: &std::path::Path) -> std::path::PathBuf {
    let dir = tmp.join("colours");
    let d = dir.to_str().unwrap();
    ok(&["new", d, "--lab", "image"]);
    for (label, rgb) in [("red", [220u8, 30, 30]), ("blue", [30u8, 40, 220])] {
        let folder = tmp.join("data").join(label);
        std::fs::create_dir_all(&folder).unwrap();
        for i in 0..12u8 {
            solid_png(&folder.join(format!("{label}{i:02}.png")), rgb, i % 4);
        }
    }
    ok(&[
        "import",
        d,
        tmp.join("data").to_str().unwrap(),
        "--split",
        "train",
    ]);
    ok(&["train", d, "--epochs", "4", "--seed", "1"]);
    dir
}

/// The engine on `dir`'s project with live inference started on `camera`.
fn live_on(dir: &std::path::Path, camera: CameraSpec) -> Engine {
    let engine = Engine::start(|| {}).unwrap();
    engine
        .send(Command::OpenProject {
            dir: dir.to_owned(),
        })
        .unwrap();
    common::expect(&engine, "the run", |e| {
        matches!(e, Event::RunLoaded(_)).then_some(())
    });
    engine
        .send(Command::Connect(DeviceSpec::Camera(camera)))
        .unwrap();
    engine.send(Command::StartLive).unwrap();
    let labels = common::expect(&engine, "live inference to start", |e| match e {
        Event::LiveStarted { labels, .. } => Some(labels),
        _ => None,
    });
    assert_eq!(labels, vec!["blue".to_owned(), "red".to_owned()]);
    engine
}

#[test]
fn camera_frames_in_class_probabilities_out() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = trained_colours(tmp.path());
    let labels = vec!["blue".to_owned(), "red".to_owned()];

    // The camera: red, blue, red, blue, … (file name order).
    let frames_dir = tmp.path().join("frames");
    std::fs::create_dir(&frames_dir).unwrap();
    for i in 0..4 {
        let rgb = if i % 2 == 0 {
            [220, 30, 30]
        } else {
            [30, 40, 220]
        };
        solid_png(&frames_dir.join(format!("f{i}.png")), rgb, 1);
    }
    let engine = live_on(
        &dir,
        CameraSpec::Folder {
            dir: frames_dir,
            fps: 20.0,
        },
    );

    let mut frames: BTreeSet<u64> = BTreeSet::new();
    let mut results = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while results.len() < 12 && Instant::now() < deadline {
        match engine.recv_timeout(Duration::from_millis(200)) {
            Some(Event::CameraFrame { frame, .. }) => {
                frames.insert(frame.index);
            }
            Some(Event::CameraInference(result)) => {
                results.push(result);
                assert!(results.len() <= frames.len(), "more results than frames");
            }
            Some(Event::LiveStopped { reason }) => panic!("live inference stopped: {reason:?}"),
            _ => {}
        }
    }
    // The confidence slider reaches the running inference.
    let mut model = tinylab::project::Project::open(&dir)
        .unwrap()
        .settings()
        .model
        .clone();
    model.confidence_threshold = 0.42;
    engine.send(Command::SetModel(Box::new(model))).unwrap();
    let retuned = common::expect(&engine, "a result at the new threshold", |e| match e {
        Event::CameraInference(r) if r.threshold == 0.42 => Some(r),
        _ => None,
    });
    let top = retuned.probabilities.iter().copied().fold(0.0, f32::max);
    assert_eq!(retuned.detected.is_some(), top >= 0.42);
    engine.send(Command::StopLive).unwrap();
    assert!(
        results.len() >= 12,
        "only {} results in 2 minutes",
        results.len()
    );
    let mut last = None;
    for r in &results {
        assert!(
            frames.contains(&r.frame_index),
            "result for unseen frame {}",
            r.frame_index
        );
        assert!(
            last.is_none_or(|l| r.frame_index > l),
            "results out of order"
        );
        last = Some(r.frame_index);
        assert_eq!(r.labels, labels);
        assert!(!r.is_detection && r.centroids.is_empty());
        let sum: f32 = r.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4, "probabilities sum to {sum}");
        // Frame i is file i mod 4: even red (index 1), odd blue (index 0).
        let want = if r.frame_index % 2 == 0 { 1 } else { 0 };
        let (best, _) = tinylab::nn::metrics::argmax(r.probabilities.iter().copied());
        assert_eq!(best, want, "frame {}: {:?}", r.frame_index, r.probabilities);
        assert!(r.nn_ms >= 0.0 && r.dsp_ms >= 0.0);
    }
    println!(
        "{} frames, {} results; last: {:.1} results/s, DSP {:.2} ms, NN {:.2} ms",
        frames.len(),
        results.len(),
        results.last().unwrap().fps,
        results.last().unwrap().dsp_ms,
        results.last().unwrap().nn_ms
    );
}

/// An HTTP snapshot camera on 127.0.0.1 (as the ESP32 CameraWebServer's `/capture`): every
/// request gets the next picture, red and blue in turn, as PNG.
fn serve_alternating_snapshots() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/capture", listener.local_addr().unwrap());
    let pictures: Vec<Vec<u8>> = [[220u8, 30, 30], [30u8, 40, 220]]
        .into_iter()
        .map(|rgb| {
            let tmp = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
            solid_png(tmp.path(), rgb, 1);
            std::fs::read(tmp.path()).unwrap()
        })
        .collect();
    std::thread::Builder::new()
        .name("test-http-camera".into())
        .spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { return };
                let mut request = [0u8; 2048];
                let _ = stream.read(&mut request);
                let body = &pictures[n % 2];
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body);
            }
        })
        .unwrap();
    url
}

#[test]
fn an_http_camera_streams_into_live_inference() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = trained_colours(tmp.path());
    let url = serve_alternating_snapshots();
    let engine = live_on(&dir, CameraSpec::Http { url });
    let mut results = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while results.len() < 6 && Instant::now() < deadline {
        match engine.recv_timeout(Duration::from_millis(200)) {
            Some(Event::CameraInference(result)) => results.push(result),
            Some(Event::LiveStopped { reason }) => panic!("live inference stopped: {reason:?}"),
            _ => {}
        }
    }
    engine.send(Command::StopLive).unwrap();
    assert!(results.len() >= 6, "only {} results", results.len());
    for r in &results {
        // Snapshot i is red for even i (index 1 of blue, red), blue for odd.
        let want = if r.frame_index % 2 == 0 { 1 } else { 0 };
        let (best, _) = tinylab::nn::metrics::argmax(r.probabilities.iter().copied());
        assert_eq!(best, want, "frame {}: {:?}", r.frame_index, r.probabilities);
    }
}
