//! The parts of a `multipart/x-mixed-replace` body (an MJPEG stream), one image at a time.
//!
//! The ESP32 CameraWebServer sends, for every frame, `\r\n--BOUNDARY\r\n`, the part headers
//! `Content-Type: image/jpeg`, `Content-Length: N` (and `X-Timestamp`), a blank line and the N
//! bytes of the JPEG. Other servers leave out `Content-Length`; the part then ends where the
//! next boundary starts (`\r\n--BOUNDARY`). Parts that are not images are skipped, and a closing
//! `--BOUNDARY--` ends the stream.

use super::http::{self, HttpError};
use std::io::BufRead;

/// Most lines skipped while looking for a boundary before the stream is declared malformed.
const MAX_PREAMBLE_LINES: usize = 64;

/// The boundary parameter of a `multipart/...; boundary=...` content type, quotes removed.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    params.split(';').find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

/// Reads image parts from a multipart body.
pub struct Multipart {
    body: Box<dyn BufRead + Send>,
    /// `--` + boundary.
    delimiter: Vec<u8>,
    /// The previous part ended at a delimiter already consumed (no `Content-Length`).
    at_delimiter: bool,
    addr: String,
}

impl Multipart {
    /// Parts of `body`, separated by `boundary` (as in the content type, without `--`).
    pub fn new(body: Box<dyn BufRead + Send>, boundary: &str, addr: &str) -> Self {
        Self {
            body,
            delimiter: format!("--{boundary}").into_bytes(),
            at_delimiter: false,
            addr: addr.to_owned(),
        }
    }

    /// The next image part's bytes (at most `limit`); [`HttpError::Lost`] when the stream ends.
    pub fn next_image(&mut self, limit: usize) -> Result<Vec<u8>, HttpError> {
        loop {
            self.skip_to_part()?;
            let mut headers = Vec::new();
            loop {
                let line = http::read_line(&mut self.body, &self.addr)?;
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    headers.push((name.trim().to_owned(), value.trim().to_owned()));
                }
                if headers.len() > 32 {
                    return Err(self.malformed("a part with more than 32 headers"));
                }
            }
            let bytes = match http::content_length(&headers) {
                Some(length) if length > limit => {
                    return Err(self.malformed(&format!("a {length}-byte part (over {limit})")));
                }
                Some(length) => self.read_exact(length)?,
                None => self.read_to_delimiter(limit)?,
            };
            let is_image = http::header(&headers, "content-type")
                .is_none_or(|t| t.trim().to_ascii_lowercase().starts_with("image/"));
            if is_image {
                return Ok(bytes);
            }
        }
    }

    fn malformed(&self, why: &str) -> HttpError {
        HttpError::Protocol {
            addr: self.addr.clone(),
            why: format!("MJPEG stream: {why}"),
        }
    }

    fn ended(&self) -> HttpError {
        HttpError::Lost {
            addr: self.addr.clone(),
            why: "the stream ended".to_owned(),
        }
    }

    /// Consumes lines up to and including the next delimiter line.
    fn skip_to_part(&mut self) -> Result<(), HttpError> {
        if self.at_delimiter {
            self.at_delimiter = false;
            // The rest of the delimiter line: empty, or `--` for the closing delimiter.
            let rest = http::read_line(&mut self.body, &self.addr)?;
            if rest.trim_start().starts_with("--") {
                return Err(self.ended());
            }
            return Ok(());
        }
        for _ in 0..MAX_PREAMBLE_LINES {
            let line = http::read_line(&mut self.body, &self.addr)?;
            let line = line.trim_end().as_bytes();
            if let Some(rest) = line.strip_prefix(self.delimiter.as_slice()) {
                if rest.starts_with(b"--") {
                    return Err(self.ended());
                }
                return Ok(());
            }
        }
        Err(self.malformed("no boundary line where a part should start"))
    }

    fn read_exact(&mut self, length: usize) -> Result<Vec<u8>, HttpError> {
        let mut bytes = vec![0; length];
        self.body
            .read_exact(&mut bytes)
            .map_err(|e| http::io_error(&self.addr, &e))?;
        Ok(bytes)
    }

    /// The bytes before the next `\r\n--boundary` (consumed too), at most `limit`.
    fn read_to_delimiter(&mut self, limit: usize) -> Result<Vec<u8>, HttpError> {
        let mut marker = b"\r\n".to_vec();
        marker.extend_from_slice(&self.delimiter);
        let mut bytes: Vec<u8> = Vec::new();
        loop {
            let available = self
                .body
                .fill_buf()
                .map_err(|e| http::io_error(&self.addr, &e))?;
            if available.is_empty() {
                return Err(self.ended());
            }
            let searched_from = bytes.len().saturating_sub(marker.len());
            let taken = available.len();
            bytes.extend_from_slice(available);
            if let Some(found) = find(bytes.get(searched_from..).unwrap_or(&[]), &marker) {
                let end = searched_from + found;
                // Give back what followed the marker: consume only up to its end.
                let overshoot = bytes.len() - (end + marker.len());
                self.body.consume(taken - overshoot);
                bytes.truncate(end);
                self.at_delimiter = true;
                return Ok(bytes);
            }
            self.body.consume(taken);
            if bytes.len() > limit {
                return Err(self.malformed(&format!("a part over {limit} bytes")));
            }
        }
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
