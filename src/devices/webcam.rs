//! USB webcams (and laptops' built-in cameras) through `nokhwa`: V4L2 on Linux, Media
//! Foundation on Windows, AVFoundation on macOS. A webcam is a [`FrameSource`] like the HTTP
//! camera: frames come out as encoded images — a webcam's MJPEG frames exactly as it sends them,
//! other formats (YUYV, NV12, raw RGB) decoded to RGB and stored losslessly as BMP — so the
//! camera reader decodes, previews and captures them as it does every other source.
//!
//! `nokhwa::Camera` may not leave the thread that opened it, so each webcam has its own named
//! thread that opens it, reads frames and hands the newest one over through a one-slot channel
//! (a frame the reader has not taken yet is replaced, never queued). The thread ends when the
//! source is dropped or stopped.

use super::camera::{FrameSource, SourceError};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError, bounded};
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{ApiBackend, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A webcam the system lists.
#[derive(Clone, Debug, PartialEq)]
pub struct WebcamInfo {
    /// The index `webcam:N` opens.
    pub index: u32,
    /// Its name, e.g. "HD Pro Webcam C920".
    pub name: String,
    /// The driver's description (on Linux, the device path and bus).
    pub description: String,
}

/// The webcams the system has now (none on a machine without any: not an error).
pub fn list_webcams() -> Result<Vec<WebcamInfo>, String> {
    initialize();
    let found = nokhwa::query(ApiBackend::Auto)
        .map_err(|e| format!("the system's camera list cannot be read: {e}"))?;
    Ok(found
        .iter()
        .enumerate()
        .map(|(position, info)| WebcamInfo {
            index: match info.index() {
                CameraIndex::Index(i) => *i,
                CameraIndex::String(_) => position as u32,
            },
            name: info.human_name(),
            description: info.description().to_owned(),
        })
        .collect())
}

/// macOS asks the user for camera access once; elsewhere there is nothing to do.
fn initialize() {
    #[cfg(target_os = "macos")]
    nokhwa::nokhwa_initialize(|_| {});
}

/// How long one wait for a frame lasts before the stop flag is looked at again.
const POLL: Duration = Duration::from_millis(200);

/// An open webcam, read on its own thread.
pub struct Webcam {
    frames: Receiver<Result<Vec<u8>, SourceError>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Webcam {
    /// Opens webcam `index` at its highest frame rate; `stop` ends it. A webcam that does not
    /// exist or cannot be opened is an error here, in words, with the webcams there are.
    pub fn open(index: u32, stop: Arc<AtomicBool>) -> Result<Self, String> {
        let (frames_tx, frames) = bounded(1);
        let (opened_tx, opened) = bounded(1);
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("webcam {index}"))
            .spawn(move || run(index, &thread_stop, &frames_tx, &opened_tx))
            .map_err(|e| format!("cannot start the webcam thread: {e}"))?;
        match opened.recv() {
            Ok(Ok(())) => Ok(Self {
                frames,
                stop,
                thread: Some(thread),
            }),
            Ok(Err(why)) => {
                let _ = thread.join();
                Err(why)
            }
            Err(_) => Err(format!("webcam {index}: its thread ended while opening it")),
        }
    }
}

impl FrameSource for Webcam {
    fn next_image(&mut self) -> Result<Vec<u8>, SourceError> {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Err(SourceError::Stopped);
            }
            match self.frames.recv_timeout(POLL) {
                Ok(frame) => return frame,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(SourceError::Fatal(
                        "the webcam stopped sending frames (unplugged?)".into(),
                    ));
                }
            }
        }
    }
}

impl Drop for Webcam {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The webcam thread: open, then read frames until stopped or the channel is gone.
fn run(
    index: u32,
    stop: &AtomicBool,
    frames: &Sender<Result<Vec<u8>, SourceError>>,
    opened: &Sender<Result<(), String>>,
) {
    initialize();
    let format = RequestedFormat::new::<RgbFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
    let camera = nokhwa::Camera::new(CameraIndex::Index(index), format).and_then(|mut camera| {
        camera.open_stream()?;
        Ok(camera)
    });
    let mut camera = match camera {
        Ok(camera) => {
            let _ = opened.send(Ok(()));
            camera
        }
        Err(e) => {
            let known = match list_webcams() {
                Ok(list) if list.is_empty() => "this computer lists no webcam".to_owned(),
                Ok(list) => format!(
                    "the webcams are {}",
                    list.iter()
                        .map(|w| format!("webcam:{} ({})", w.index, w.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Err(why) => why,
            };
            let _ = opened.send(Err(format!(
                "webcam {index} cannot be opened: {e}; {known}"
            )));
            return;
        }
    };
    while !stop.load(Ordering::Relaxed) {
        let frame = camera
            .frame()
            .map_err(|e| e.to_string())
            .and_then(|buffer| {
                let resolution = buffer.resolution();
                match buffer.source_frame_format() {
                    FrameFormat::MJPEG => Ok(buffer.buffer().to_vec()),
                    _ => {
                        let rgb = buffer
                            .decode_image::<RgbFormat>()
                            .map_err(|e| e.to_string())?;
                        encode_bmp(resolution.width(), resolution.height(), rgb.as_raw())
                    }
                }
            })
            .map_err(|why| SourceError::Dropped(format!("webcam {index}: {why}")));
        match frames.try_send(frame) {
            // The reader has the previous frame still: this one replaces nothing and is dropped,
            // so the reader always gets a recent frame and the webcam is never held up.
            Ok(()) | Err(TrySendError::Full(_)) => {}
            Err(TrySendError::Disconnected(_)) => break,
        }
    }
    let _ = camera.stop_stream();
}

/// An RGB8 frame as an uncompressed BMP, the lossless format the image decoder reads fastest.
pub fn encode_bmp(width: u32, height: u32, rgb: &[u8]) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::with_capacity(rgb.len() + 64);
    image::codecs::bmp::BmpEncoder::new(&mut bytes)
        .encode(rgb, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|e| format!("cannot encode the {width}×{height} frame: {e}"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_frame_goes_through_the_camera_pipeline_pixel_for_pixel() {
        let (width, height) = (7u32, 5u32);
        let rgb: Vec<u8> = (0..width * height * 3)
            .map(|i| (i * 37 % 251) as u8)
            .collect();
        let bmp = encode_bmp(width, height, &rgb).unwrap();
        let frame = super::super::camera::frame_from_bytes(0, bmp, None).unwrap();
        assert_eq!((frame.encoded.width, frame.encoded.height), (width, height));
        assert_eq!(frame.preview.rgb.as_slice(), rgb.as_slice());
    }

    #[test]
    fn a_missing_webcam_is_an_error_that_lists_the_webcams() {
        let listed = list_webcams().unwrap();
        let missing = listed.iter().map(|w| w.index).max().map_or(0, |i| i + 1);
        let err = Webcam::open(missing, Arc::new(AtomicBool::new(false)))
            .err()
            .expect("no such webcam");
        assert!(
            err.contains(&format!("webcam {missing} cannot be opened")),
            "{err}"
        );
        assert!(err.contains("webcam"), "{err}");
    }
}
