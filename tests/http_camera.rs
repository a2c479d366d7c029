//! Camera sources against a camera server written here, on 127.0.0.1: JPEG snapshots at
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking
//! `/capture` and an MJPEG stream at `/stream` (ESP-IDF style: chunked transfer encoding, parts
//! with `Content-Length`; or parts delimited by the boundary alone). Each frame is a solid
//! colour with its number drawn as eight black/white blocks along the top, so a test can read
//! which frame TinyLab decoded. Also: the server dropping the connection mid-frame (TinyLab
//! reconnects and goes on in order), an unreachable host (a clear error), `tinylab capture
//! --camera`, and the Capture panel on a folder of images.

mod common;
#[path = "common/ui.rs"]
mod ui_common;

use crossbeam_channel::bounded;
use egui_kittest::kittest::Queryable;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tinylab::devices::camera::{Camera, CameraMsg, CameraSpec};
use tinylab::dsp::image::ImageSettings;

const BOUNDARY: &str = "123456789000000000000987654321";
const W: u32 = 64;
const H: u32 = 48;

/// Frame `n` as a JPEG: a colour from `n`, its 8 low bits as 8×8 blocks on the top row.
fn frame_jpeg(n: u64) -> Vec<u8> {
    let colour = [(n * 40 % 200) as u8 + 30, 90, 160];
    let img = image::RgbImage::from_fn(W, H, |x, y| {
        if y < 8 {
            let bit = (n >> (x / 8)) & 1;
            if bit == 1 {
                image::Rgb([255, 255, 255])
            } else {
                image::Rgb([0, 0, 0])
            }
        } else {
            image::Rgb(colour)
        }
    });
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95);
    img.write_with_encoder(encoder).unwrap();
    bytes
}

/// The frame number drawn in an RGB8 `W × H` image.
fn frame_number(width: u32, rgb: &[u8]) -> u64 {
    assert_eq!(width, W);
    (0..8u64)
        .map(|bit| {
            let x = (bit * 8 + 4) as usize;
            let v = rgb[(4 * W as usize + x) * 3];
            u64::from(v > 128) << bit
        })
        .sum()
}

/// How the stream is sent.
#[derive(Clone, Copy)]
struct Style {
    /// ESP-IDF: chunked transfer encoding, `Content-Length` per part.
    esp_idf: bool,
    /// On the first stream connection, cut the connection halfway through this frame.
    drop_at: Option<u64>,
}

/// A camera server on 127.0.0.1; `next` is the next frame to send (a frame cut short is sent
/// again on the next connection, so a client that reconnects sees every number in order).
struct Server {
    port: u16,
    stream_connections: Arc<AtomicUsize>,
}

fn serve(style: Style) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let next = Arc::new(AtomicU64::new(0));
    let stream_connections = Arc::new(AtomicUsize::new(0));
    let connections = stream_connections.clone();
    std::thread::Builder::new()
        .name("test camera server".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let next = next.clone();
                let connections = connections.clone();
                std::thread::Builder::new()
                    .name("test camera connection".into())
                    .spawn(move || {
                        let _ = handle(stream, style, &next, &connections);
                    })
                    .unwrap();
            }
        })
        .unwrap();
    Server {
        port,
        stream_connections,
    }
}

fn handle(
    mut stream: TcpStream,
    style: Style,
    next: &AtomicU64,
    connections: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line.trim().is_empty() {
            break;
        }
    }
    let path = request.split(' ').nth(1).unwrap_or("/").to_owned();
    if path == "/capture" {
        let jpeg = frame_jpeg(next.fetch_add(1, Ordering::SeqCst));
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\
             Content-Disposition: inline; filename=capture.jpg\r\n\r\n",
            jpeg.len()
        )?;
        return stream.write_all(&jpeg);
    }
    if path != "/stream" {
        return stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    }
    let connection = connections.fetch_add(1, Ordering::SeqCst);
    let encoding = if style.esp_idf {
        "Transfer-Encoding: chunked\r\n"
    } else {
        ""
    };
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary={BOUNDARY}\r\n\
         {encoding}Access-Control-Allow-Origin: *\r\n\r\n"
    )?;
    let send = |stream: &mut TcpStream, bytes: &[u8]| -> std::io::Result<()> {
        if style.esp_idf {
            write!(stream, "{:X}\r\n", bytes.len())?;
            stream.write_all(bytes)?;
            stream.write_all(b"\r\n")
        } else {
            stream.write_all(bytes)
        }
    };
    loop {
        let n = next.load(Ordering::SeqCst);
        let jpeg = frame_jpeg(n);
        let head = if style.esp_idf {
            format!(
                "\r\n--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\
                 X-Timestamp: {n}.000000\r\n\r\n",
                jpeg.len()
            )
        } else {
            format!("\r\n--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n\r\n")
        };
        send(&mut stream, head.as_bytes())?;
        if connection == 0 && style.drop_at == Some(n) {
            send(&mut stream, &jpeg[..jpeg.len() / 2])?;
            return stream.shutdown(std::net::Shutdown::Both);
        }
        send(&mut stream, &jpeg)?;
        next.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Opens `url` and returns the numbers of the first `count` frames decoded.
fn read_frames(url: &str, count: usize) -> Vec<u64> {
    let (tx, rx) = bounded(64);
    let spec = CameraSpec::Http { url: url.into() };
    let camera = Camera::open(&spec, Some(ImageSettings::default()), tx).unwrap();
    let mut numbers = Vec::new();
    while numbers.len() < count {
        match rx.recv_timeout(common::WAIT).expect("a camera message") {
            CameraMsg::Frame(frame) => {
                assert_eq!((frame.encoded.width, frame.encoded.height), (W, H));
                let model = frame.model.as_ref().expect("the model's view");
                assert_eq!((model.input.width, model.input.height), (96, 96));
                assert_eq!(
                    model.crop,
                    [0.0, 0.0, 1.0, 1.0],
                    "squash reads the whole frame"
                );
                numbers.push(frame_number(frame.preview.width, &frame.preview.rgb));
            }
            CameraMsg::Reconnecting { .. } | CameraMsg::BadFrame(_) => {}
            CameraMsg::Lost { reason } => panic!("camera lost: {reason}"),
        }
    }
    drop(camera);
    numbers
}

#[test]
fn snapshots_come_in_order() {
    let server = serve(Style {
        esp_idf: true,
        drop_at: None,
    });
    let url = format!("http://127.0.0.1:{}/capture", server.port);
    assert_eq!(read_frames(&url, 6), (0..6).collect::<Vec<_>>());
}

#[test]
fn esp_idf_stream_survives_a_dropped_connection() {
    let server = serve(Style {
        esp_idf: true,
        drop_at: Some(4),
    });
    let url = format!("http://127.0.0.1:{}/stream", server.port);
    assert_eq!(read_frames(&url, 10), (0..10).collect::<Vec<_>>());
    assert!(server.stream_connections.load(Ordering::SeqCst) >= 2);
}

#[test]
fn boundary_delimited_stream_survives_a_dropped_connection() {
    let server = serve(Style {
        esp_idf: false,
        drop_at: Some(3),
    });
    let url = format!("http://127.0.0.1:{}/stream", server.port);
    assert_eq!(read_frames(&url, 8), (0..8).collect::<Vec<_>>());
    assert!(server.stream_connections.load(Ordering::SeqCst) >= 2);
}

#[test]
fn an_unreachable_host_gives_a_clear_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (tx, rx) = bounded(8);
    let spec = CameraSpec::Http {
        url: format!("http://127.0.0.1:{port}/capture"),
    };
    let _camera = Camera::open(&spec, None, tx).unwrap();
    match rx.recv_timeout(common::WAIT).unwrap() {
        CameraMsg::Lost { reason } => {
            assert!(
                reason.contains(&format!("cannot reach 127.0.0.1:{port}")),
                "{reason}"
            );
            assert!(reason.contains("same network"), "{reason}");
        }
        other => panic!("expected the camera to be lost, got {other:?}"),
    }
}

#[test]
fn a_web_page_is_not_a_camera() {
    let server = serve(Style {
        esp_idf: true,
        drop_at: None,
    });
    let (tx, rx) = bounded(8);
    let spec = CameraSpec::Http {
        url: format!("http://127.0.0.1:{}/index.html", server.port),
    };
    let _camera = Camera::open(&spec, None, tx).unwrap();
    match rx.recv_timeout(common::WAIT).unwrap() {
        CameraMsg::Lost { reason } => assert!(reason.contains("404"), "{reason}"),
        other => panic!("expected the camera to be lost, got {other:?}"),
    }
}

#[test]
fn cli_capture_saves_labelled_images() {
    let server = serve(Style {
        esp_idf: true,
        drop_at: None,
    });
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("img");
    let dir_s = dir.to_str().unwrap();
    common::ok(&["new", dir_s, "--lab", "image"]);
    let url = format!("http://127.0.0.1:{}/stream", server.port);
    let out = common::ok(&[
        "capture", dir_s, "--camera", &url, "--label", "robot", "--count", "3",
    ]);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("saved")).count(),
        3,
        "{out}"
    );
    let dataset: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("dataset.json")).unwrap()).unwrap();
    let samples = dataset["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 3);
    for sample in samples {
        assert_eq!(sample["label"], "robot");
        assert_eq!(sample["image"]["width"], W);
        let file = dir.join("samples").join(sample["file"].as_str().unwrap());
        let bytes = std::fs::read(file).unwrap();
        assert_eq!(&bytes[..2], &[0xFF, 0xD8], "saved as the JPEG received");
    }
}

#[test]
fn capture_panel_plays_a_folder_and_captures() {
    let tmp = tempfile::tempdir().unwrap();
    let frames = tmp.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    for n in 0..3 {
        std::fs::write(frames.join(format!("f{n}.jpg")), frame_jpeg(n)).unwrap();
    }
    let dir = tmp.path().join("img");
    common::ok(&["new", dir.to_str().unwrap(), "--lab", "image"]);
    let mut harness = ui_common::harness(tinylab::ui::Startup::Project(dir));
    ui_common::step_until(&mut harness, "the project", |app| {
        app.view.project.is_some()
    });
    harness.get_by_label("Capture").click();
    harness.step();
    harness.get_by_label("Address").click();
    harness.step();
    harness
        .get_by_label("Address")
        .type_text(frames.to_str().unwrap());
    harness.step();
    assert_eq!(
        harness.state().forms.camera.address,
        frames.to_str().unwrap()
    );
    harness.get_by_label("Connect").click();
    ui_common::step_until(&mut harness, "a frame", |app| {
        app.view.camera.frame.is_some()
    });
    assert!(
        harness
            .query_by_label_contains("The model sees 96 × 96")
            .is_some()
    );
    harness.state_mut().state.record_label = "periquito".into();
    harness.get_by_label("Capture image").click();
    ui_common::step_until(&mut harness, "the captured sample", |app| {
        app.view.samples.len() == 1
    });
    assert_eq!(harness.state().view.samples[0].label, "periquito");
    assert!(harness.state().view.samples[0].image.is_some());
}
