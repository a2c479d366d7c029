//! Cameras: a [`FrameSource`] gives encoded images (an HTTP camera, a folder of images), and one
//! named reader thread per open camera ([`Camera`]) decodes each one off the UI and engine
//! threads into a [`CameraFrame`]: the bytes as received (what a capture saves), a preview
//! scaled to at most [`PREVIEW_MAX_PX`], and what the model sees — the project's image block
//! resize (squash / fit-short / fit-long) and the source rectangle it reads.
//!
//! Frames go out on a bounded channel with `try_send`; a frame that does not fit is dropped and
//! counted ([`Camera::dropped_frames`]). A source that worked and then fails (the server dropped
//! the connection, a timeout) is retried with backoff (0.25 s doubling to 2 s) until a frame
//! comes back or [`GIVE_UP_AFTER`] passes without one; a source that fails before its first
//! frame (host unreachable, not a camera) ends the camera at once with the error in words.

use super::http_camera::HttpCamera;
use super::image_folder::ImageFolder;
use crate::dsp::image::{ImageInput, ImageSettings};
use crate::project::formats::image::{EncodedImage, decode_bytes};
use crossbeam_channel::Sender;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest side of the preview sent to the UI.
pub const PREVIEW_MAX_PX: u32 = 320;
/// A camera that gives no frame this long after losing its connection is closed.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(20);
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Which camera to open.
#[derive(Clone, Debug, PartialEq)]
pub enum CameraSpec {
    /// An HTTP camera: `http://HOST/capture` (snapshots) or `http://HOST:81/stream` (MJPEG).
    Http {
        /// The address.
        url: String,
    },
    /// The images of a folder played in name order, over and over, like a camera.
    Folder {
        /// The folder.
        dir: PathBuf,
        /// Images per second.
        fps: f64,
    },
    /// A USB webcam (or a built-in camera) by the system's index: `webcam:0` (see
    /// [`super::webcam::list_webcams`]).
    Webcam {
        /// The system's index.
        index: u32,
    },
}

impl CameraSpec {
    /// `webcam` or `webcam:N` is a webcam, `http://…` (or `host:port/…`) an HTTP camera, an
    /// existing folder a folder source.
    pub fn parse(text: &str) -> Self {
        if let Some(index) = text
            .strip_prefix("webcam")
            .map(|rest| rest.trim_start_matches(':'))
            .and_then(|n| {
                if n.is_empty() {
                    Some(0)
                } else {
                    n.parse().ok()
                }
            })
        {
            return Self::Webcam { index };
        }
        let path = Path::new(text);
        if !text.contains("://") && path.is_dir() {
            return Self::Folder {
                dir: path.to_owned(),
                fps: 5.0,
            };
        }
        Self::Http {
            url: text.to_owned(),
        }
    }

    /// Written into captured samples' `source`, e.g. `camera:http://192.168.4.1/capture`.
    pub fn source(&self) -> String {
        match self {
            Self::Http { url } => format!("camera:{url}"),
            Self::Folder { dir, .. } => format!("camera-folder:{}", dir.display()),
            Self::Webcam { index } => format!("camera:webcam:{index}"),
        }
    }
}

/// Why a source gave no image.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceError {
    /// The camera cannot be reached (no route, refused, name unknown).
    Unreachable(String),
    /// A connection failed after it was made, or the answer was wrong: worth retrying.
    Dropped(String),
    /// Retrying will not help (a bad address, an empty folder).
    Fatal(String),
    /// The reader was asked to stop.
    Stopped,
}

/// Something that gives encoded images (JPEG, PNG, BMP), one per call, blocking until then.
pub trait FrameSource: Send {
    /// The next image's bytes. After an error the next call starts again (reconnects).
    fn next_image(&mut self) -> Result<Vec<u8>, SourceError>;
}

/// An RGB8 picture.
#[derive(Clone, Debug, PartialEq)]
pub struct RgbImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width · height · 3` bytes, row-major.
    pub rgb: Arc<Vec<u8>>,
}

/// What the model sees of a frame.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelView {
    /// The source rectangle the image block reads, as shares of the frame `[x0, y0, x1, y1]`.
    pub crop: [f32; 4],
    /// The image block's resize of the frame, at the model's input size.
    pub input: RgbImage,
    /// The resize mode used (`squash`, `fit-short`, `fit-long`).
    pub resize_mode: String,
}

/// One decoded frame.
#[derive(Clone, Debug, PartialEq)]
pub struct CameraFrame {
    /// Frames decoded since the camera opened, this one excluded (0 for the first).
    pub index: u64,
    /// The image as received, checked: what a capture saves.
    pub encoded: Arc<EncodedImage>,
    /// The frame scaled down to fit [`PREVIEW_MAX_PX`] (aspect kept).
    pub preview: RgbImage,
    /// The model's crop and input, when the project's block is the image block.
    pub model: Option<ModelView>,
}

/// What the camera thread reports.
#[derive(Clone, Debug)]
pub enum CameraMsg {
    /// A decoded frame.
    Frame(Arc<CameraFrame>),
    /// An image that did not decode (skipped).
    BadFrame(String),
    /// The connection failed; trying again.
    Reconnecting {
        /// Attempts so far.
        attempt: u32,
        /// The last error.
        why: String,
    },
    /// The camera is closed for good (never reached, or gave up).
    Lost {
        /// Why, in words for the student.
        reason: String,
    },
}

/// An open camera: its reader thread. Dropping it stops and joins the thread.
pub struct Camera {
    /// Shown in the status bar.
    pub name: String,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    settings: Arc<Mutex<Option<ImageSettings>>>,
    thread: Option<JoinHandle<()>>,
}

impl Camera {
    /// Opens `spec` and starts its reader thread; `settings` is the project's image block (if
    /// it has one). Errors that need no network (a bad address, an empty folder) come back here;
    /// the rest come as [`CameraMsg::Lost`].
    pub fn open(
        spec: &CameraSpec,
        settings: Option<ImageSettings>,
        tx: Sender<CameraMsg>,
    ) -> Result<Self, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let (source, name): (Box<dyn FrameSource>, String) = match spec {
            CameraSpec::Http { url } => {
                let camera = HttpCamera::new(url, stop.clone()).map_err(|e| e.to_string())?;
                let name = camera.url().to_string();
                (Box::new(camera), name)
            }
            CameraSpec::Folder { dir, fps } => {
                let folder = ImageFolder::open(dir, *fps, stop.clone())?;
                let name = format!("{} ({} images)", dir.display(), folder.len());
                (Box::new(folder), name)
            }
            CameraSpec::Webcam { index } => {
                let webcam = super::webcam::Webcam::open(*index, stop.clone())?;
                (Box::new(webcam), format!("webcam:{index}"))
            }
        };
        let dropped = Arc::new(AtomicU64::new(0));
        let settings = Arc::new(Mutex::new(settings));
        let reader = Reader {
            source,
            tx,
            stop: stop.clone(),
            dropped: dropped.clone(),
            settings: settings.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("camera {name}"))
            .spawn(move || reader.run())
            .map_err(|e| format!("cannot start the camera thread: {e}"))?;
        Ok(Self {
            name,
            stop,
            dropped,
            settings,
            thread: Some(thread),
        })
    }

    /// Frames dropped because the channel was full (the engine or UI behind).
    pub fn dropped_frames(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Uses the project's new image block settings from the next frame on.
    pub fn set_settings(&self, settings: Option<ImageSettings>) {
        let mut guard = self
            .settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = settings;
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // The thread checks the flag at least every 200 ms, a connect takes at most 2 s.
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Reader {
    source: Box<dyn FrameSource>,
    tx: Sender<CameraMsg>,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    settings: Arc<Mutex<Option<ImageSettings>>>,
}

impl Reader {
    fn run(mut self) {
        let mut index = 0u64;
        let mut attempt = 0u32;
        let mut ever_connected = false;
        let mut last_frame = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            let why = match self.source.next_image() {
                Ok(bytes) => {
                    ever_connected = true;
                    attempt = 0;
                    last_frame = Instant::now();
                    let settings = self
                        .settings
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .clone();
                    match frame_from_bytes(index, bytes, settings.as_ref()) {
                        Ok(frame) => {
                            index += 1;
                            if self.tx.try_send(CameraMsg::Frame(Arc::new(frame))).is_err() {
                                self.dropped.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(why) => self.report(CameraMsg::BadFrame(why)),
                    }
                    continue;
                }
                Err(SourceError::Stopped) => return,
                Err(SourceError::Fatal(why)) => {
                    return self.report(CameraMsg::Lost { reason: why });
                }
                Err(SourceError::Unreachable(why) | SourceError::Dropped(why)) => why,
            };
            if !ever_connected {
                return self.report(CameraMsg::Lost { reason: why });
            }
            if last_frame.elapsed() >= GIVE_UP_AFTER {
                let reason = format!(
                    "{why}; no frame for {} s, so the camera was closed: connect again when it \
                     is back",
                    GIVE_UP_AFTER.as_secs()
                );
                return self.report(CameraMsg::Lost { reason });
            }
            attempt += 1;
            self.report(CameraMsg::Reconnecting { attempt, why });
            let backoff = Duration::from_millis(250)
                .saturating_mul(1 << attempt.min(4).saturating_sub(1))
                .min(MAX_BACKOFF);
            self.sleep(backoff);
        }
    }

    /// Sends a status message, waiting a little if the channel is full (these are rare).
    fn report(&self, msg: CameraMsg) {
        let _ = self.tx.send_timeout(msg, Duration::from_secs(2));
    }

    fn sleep(&self, duration: Duration) {
        let until = Instant::now() + duration;
        while !self.stop.load(Ordering::Relaxed) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }
}

/// Decodes and checks one image, and makes its preview and model view.
pub fn frame_from_bytes(
    index: u64,
    bytes: Vec<u8>,
    settings: Option<&ImageSettings>,
) -> Result<CameraFrame, String> {
    let name = PathBuf::from(format!("frame {index}"));
    let (encoded, rgb) = decode_bytes(&name, bytes).map_err(|e| e.to_string())?;
    let input = ImageInput {
        width: encoded.width,
        height: encoded.height,
        rgb: &rgb,
    };
    let model = settings.and_then(|s| model_view(&input, s));
    let scale = (f64::from(PREVIEW_MAX_PX) / f64::from(encoded.width.max(encoded.height))).min(1.0);
    let preview = if scale < 1.0 {
        let width = ((f64::from(encoded.width) * scale).round() as u32).max(1);
        let height = ((f64::from(encoded.height) * scale).round() as u32).max(1);
        let small = crate::dsp::image::resize(&input, width, height, "squash")
            .map_err(|e| format!("{}: {e}", name.display()))?;
        RgbImage {
            width,
            height,
            rgb: Arc::new(small),
        }
    } else {
        RgbImage {
            width: encoded.width,
            height: encoded.height,
            rgb: Arc::new(rgb.clone()),
        }
    };
    Ok(CameraFrame {
        index,
        encoded: Arc::new(encoded),
        preview,
        model,
    })
}

/// The image block's resize and crop of `input`; `None` when the settings are invalid.
fn model_view(input: &ImageInput, settings: &ImageSettings) -> Option<ModelView> {
    let (w, h) = (settings.width, settings.height);
    let resized = crate::dsp::image::resize(input, w, h, &settings.resize_mode).ok()?;
    let rect = crate::dsp::image::crop_rect(input.width, input.height, w, h, &settings.resize_mode)
        .ok()?;
    let (fw, fh) = (f64::from(input.width), f64::from(input.height));
    let [x0, y0, x1, y1] = rect;
    Some(ModelView {
        crop: [
            (x0 / fw) as f32,
            (y0 / fh) as f32,
            (x1 / fw) as f32,
            (y1 / fh) as f32,
        ],
        input: RgbImage {
            width: w,
            height: h,
            rgb: Arc::new(resized),
        },
        resize_mode: settings.resize_mode.clone(),
    })
}
