//! An HTTP camera compatible with the ESP32 CameraWebServer (the XIAO ESP32S3 sketch): JPEG
//! snapshots from `http://HOST/capture`, or the multipart MJPEG stream from
//! `http://HOST:81/stream`.
//!
//! The kind of answer decides the mode, not the path: a `multipart/x-mixed-replace` answer is read
//! as a stream (one connection, part after part), anything else is one snapshot per request. A
//! bare `http://HOST` (path `/`) means the CameraWebServer's stream, `http://HOST:81/stream`.
//! Connection errors end [`FrameSource::next_image`] with [`SourceError::Dropped`]; the camera
//! thread ([`super::camera`]) reconnects with backoff.

use super::camera::{FrameSource, SourceError};
use super::http::{self, HttpError, Url};
use super::mjpeg::{self, Multipart};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// Largest image accepted from a camera (a UXGA JPEG is about 200 KB).
pub const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;
/// Time to make a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A connection silent this long is dropped.
const SILENCE: Duration = Duration::from_secs(5);
/// Shortest time between two snapshots (at most 20 per second).
const SNAPSHOT_INTERVAL: Duration = Duration::from_millis(50);
/// The CameraWebServer's stream port and path.
pub const STREAM_PORT: u16 = 81;

/// An HTTP camera.
pub struct HttpCamera {
    url: Url,
    stop: Arc<AtomicBool>,
    stream: Option<Multipart>,
    last_snapshot: Option<Instant>,
}

impl HttpCamera {
    /// A camera at `url` (see the module doc); nothing is connected until the first frame.
    pub fn new(url: &str, stop: Arc<AtomicBool>) -> Result<Self, HttpError> {
        let mut url = Url::parse(url)?;
        if url.path == "/" {
            url = url.with(STREAM_PORT, "/stream");
        }
        Ok(Self {
            url,
            stop,
            stream: None,
            last_snapshot: None,
        })
    }

    /// The address frames are read from.
    pub fn url(&self) -> &Url {
        &self.url
    }

    fn request(&mut self) -> Result<Vec<u8>, HttpError> {
        if let Some(last) = self.last_snapshot {
            let wait = SNAPSHOT_INTERVAL.saturating_sub(last.elapsed());
            std::thread::sleep(wait);
        }
        let response = http::get(&self.url, CONNECT_TIMEOUT, SILENCE, self.stop.clone())?;
        let content_type = response.header("content-type").unwrap_or("").to_owned();
        if let Some(boundary) = mjpeg::boundary(&content_type) {
            let addr = response.addr.clone();
            let mut stream = Multipart::new(response.body, &boundary, &addr);
            let first = stream.next_image(MAX_IMAGE_BYTES)?;
            self.stream = Some(stream);
            return Ok(first);
        }
        if content_type.to_ascii_lowercase().starts_with("text/") {
            return Err(HttpError::Protocol {
                addr: response.addr,
                why: format!(
                    "{} is a web page ({content_type}), not a camera image: use \
                     http://HOST/capture or http://HOST:81/stream",
                    self.url
                ),
            });
        }
        self.last_snapshot = Some(Instant::now());
        response.read_body(MAX_IMAGE_BYTES)
    }
}

impl FrameSource for HttpCamera {
    fn next_image(&mut self) -> Result<Vec<u8>, SourceError> {
        let result = match &mut self.stream {
            Some(stream) => stream.next_image(MAX_IMAGE_BYTES),
            None => self.request(),
        };
        result.map_err(|e| {
            self.stream = None;
            match e {
                HttpError::Stopped => SourceError::Stopped,
                HttpError::Unreachable { .. } => SourceError::Unreachable(e.to_string()),
                HttpError::BadUrl(_) => SourceError::Fatal(e.to_string()),
                HttpError::Lost { .. } | HttpError::Status { .. } | HttpError::Protocol { .. } => {
                    SourceError::Dropped(e.to_string())
                }
            }
        })
    }
}
