//! A minimal HTTP/1.1 client on `std::net::TcpStream`, enough for cameras on the local network
//! (the ESP32 CameraWebServer and its kin): `GET` only, `http://` only, the status line and
//! headers parsed with limits, a body delimited by `Content-Length`, by `Transfer-Encoding:
//! chunked` (ESP-IDF's server sends its MJPEG stream chunked) or by the connection closing.
//!
//! Why not an HTTP crate: a camera speaks a tiny subset of HTTP, and the whole client is this
//! file; a full client would bring TLS, async runtimes or dozens of crates for nothing.
//!
//! Timeouts: the connect is bounded by the caller's timeout; reads use short socket timeouts
//! (`POLL`) so a reader can notice its stop flag, and fail after `silence` without a byte.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Longest status or header line accepted.
const MAX_LINE_BYTES: u64 = 8 * 1024;
/// Most header lines accepted.
const MAX_HEADERS: usize = 64;
/// Socket read timeout between checks of the stop flag.
const POLL: Duration = Duration::from_millis(200);

/// An `http://host[:port]/path` address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// Host name or IPv4 address.
    pub host: String,
    /// Port (80 when not given).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    /// Parses `http://host[:port][/path]`; a bare `host[:port][/path]` is taken as `http://`.
    pub fn parse(text: &str) -> Result<Self, HttpError> {
        let bad = || HttpError::BadUrl(text.to_owned());
        let trimmed = text.trim();
        let rest = match trimmed.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some(_) => return Err(bad()),
            None => trimmed,
        };
        let (authority, path) = match rest.find('/') {
            Some(at) => (
                rest.get(..at).ok_or_else(bad)?,
                rest.get(at..).ok_or_else(bad)?,
            ),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse::<u16>().map_err(|_| bad())?),
            None => (authority, 80),
        };
        if host.is_empty() || host.contains(['@', ' ', '[', ']']) {
            return Err(bad());
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    /// The same host on another port and path.
    pub fn with(&self, port: u16, path: &str) -> Self {
        Self {
            host: self.host.clone(),
            port,
            path: path.to_owned(),
        }
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.port == 80 {
            write!(f, "http://{}{}", self.host, self.path)
        } else {
            write!(f, "http://{}:{}{}", self.host, self.port, self.path)
        }
    }
}

/// What can go wrong talking to a camera, in words for the student.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Not an `http://` address.
    #[error(
        "{0:?} is not a camera address: give http://HOST/capture (snapshots) or \
         http://HOST:81/stream (the ESP32 CameraWebServer's stream)"
    )]
    BadUrl(String),
    /// No connection could be made.
    #[error(
        "cannot reach {addr}: {why}; check that the camera is powered and on the same network, \
         and that the address is the one it printed"
    )]
    Unreachable {
        /// `host:port`.
        addr: String,
        /// The system's reason.
        why: String,
    },
    /// The connection failed after it was made (dropped, timed out, reset).
    #[error("the connection to {addr} was lost: {why}")]
    Lost {
        /// `host:port`.
        addr: String,
        /// The system's reason.
        why: String,
    },
    /// The server answered with an error status.
    #[error("{url} answered {status} {reason}")]
    Status {
        /// The address asked.
        url: String,
        /// The status code.
        status: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// The server sent something that is not HTTP as expected.
    #[error("{addr} sent a malformed answer: {why}")]
    Protocol {
        /// `host:port`.
        addr: String,
        /// What was wrong.
        why: String,
    },
    /// The reader was asked to stop.
    #[error("stopped")]
    Stopped,
}

/// A response whose status line and headers are read; the body follows in `body`.
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers as sent (names compared without case by [`Response::header`]).
    pub headers: Vec<(String, String)>,
    /// The body, with chunked transfer encoding already undone.
    pub body: Box<dyn BufRead + Send>,
    /// `host:port`, for errors.
    pub addr: String,
}

impl Response {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Reads the whole body, refusing more than `limit` bytes.
    pub fn read_body(mut self, limit: usize) -> Result<Vec<u8>, HttpError> {
        let addr = self.addr.clone();
        let mut bytes = Vec::new();
        let taken = (&mut self.body)
            .take(limit as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(&addr, &e))?;
        if taken > limit {
            return Err(HttpError::Protocol {
                addr,
                why: format!("the body is over {limit} bytes"),
            });
        }
        if let Some(expected) = content_length(&self.headers).filter(|&n| n != bytes.len()) {
            return Err(HttpError::Lost {
                addr,
                why: format!("the body ended after {} of {expected} bytes", bytes.len()),
            });
        }
        Ok(bytes)
    }
}

/// The first header called `name` (any case) in `headers`.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// `Content-Length`, when present and a number.
pub fn content_length(headers: &[(String, String)]) -> Option<usize> {
    header(headers, "content-length").and_then(|v| v.trim().parse().ok())
}

/// Sends `GET url` and reads the status line and headers. `connect_timeout` bounds the connect;
/// reads fail after `silence` without a byte, or at once when `stop` is set.
pub fn get(
    url: &Url,
    connect_timeout: Duration,
    silence: Duration,
    stop: Arc<AtomicBool>,
) -> Result<Response, HttpError> {
    let addr = format!("{}:{}", url.host, url.port);
    let unreachable = |why: String| HttpError::Unreachable {
        addr: addr.clone(),
        why,
    };
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("the name does not resolve ({e})")))?
        .collect();
    let mut last_error = "the name resolves to no address".to_owned();
    let mut stream = None;
    for socket_addr in addrs {
        match TcpStream::connect_timeout(&socket_addr, connect_timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    let mut stream = stream.ok_or_else(|| unreachable(last_error))?;
    let lost = |e: io::Error| io_error(&addr, &e);
    stream.set_read_timeout(Some(POLL)).map_err(lost)?;
    stream.set_write_timeout(Some(silence)).map_err(lost)?;
    let _ = stream.set_nodelay(true);
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: TinyLab\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.path, addr
    );
    stream.write_all(request.as_bytes()).map_err(lost)?;
    let mut reader = BufReader::with_capacity(
        64 * 1024,
        PatientStream {
            stream,
            stop,
            silence,
        },
    );
    let status_line = read_line(&mut reader, &addr)?;
    let status = parse_status(&status_line).ok_or_else(|| HttpError::Protocol {
        addr: addr.clone(),
        why: format!("not an HTTP status line: {status_line:?}"),
    })?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(&mut reader, &addr)?;
        if line.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(HttpError::Protocol {
                addr,
                why: format!("more than {MAX_HEADERS} headers"),
            });
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let chunked = header(&headers, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body: Box<dyn BufRead + Send> = if chunked {
        Box::new(BufReader::with_capacity(
            64 * 1024,
            ChunkedReader {
                inner: reader,
                left_in_chunk: 0,
                done: false,
            },
        ))
    } else {
        Box::new(reader)
    };
    let (code, reason) = status;
    if !(200..300).contains(&code) {
        return Err(HttpError::Status {
            url: url.to_string(),
            status: code,
            reason,
        });
    }
    Ok(Response {
        status: code,
        headers,
        body,
        addr,
    })
}

/// The error for a failed read or write on `addr`.
pub fn io_error(addr: &str, error: &io::Error) -> HttpError {
    if error
        .get_ref()
        .is_some_and(|inner| inner.is::<StopSignal>())
    {
        return HttpError::Stopped;
    }
    HttpError::Lost {
        addr: addr.to_owned(),
        why: match error.kind() {
            io::ErrorKind::UnexpectedEof => "the server closed the connection".to_owned(),
            _ => error.to_string(),
        },
    }
}

/// `HTTP/1.1 200 OK` → `(200, "OK")`.
fn parse_status(line: &str) -> Option<(u16, String)> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?.parse().ok()?;
    Some((code, parts.next().unwrap_or("").to_owned()))
}

/// One CRLF- (or LF-) terminated line without its terminator; an error at end of stream.
pub fn read_line(reader: &mut impl BufRead, addr: &str) -> Result<String, HttpError> {
    let mut bytes = Vec::new();
    let read = reader
        .take(MAX_LINE_BYTES)
        .read_until(b'\n', &mut bytes)
        .map_err(|e| io_error(addr, &e))?;
    if read == 0 {
        return Err(HttpError::Lost {
            addr: addr.to_owned(),
            why: "the server closed the connection".to_owned(),
        });
    }
    if bytes.last() != Some(&b'\n') {
        return Err(HttpError::Protocol {
            addr: addr.to_owned(),
            why: format!("a line longer than {MAX_LINE_BYTES} bytes, or cut short"),
        });
    }
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The error a [`PatientStream`] read ends with when its stop flag is set.
#[derive(Debug, thiserror::Error)]
#[error("stopped")]
struct StopSignal;

/// A socket whose reads wait through short timeouts, checking a stop flag, and fail only after
/// `silence` without a byte.
struct PatientStream {
    stream: TcpStream,
    stop: Arc<AtomicBool>,
    silence: Duration,
}

impl Read for PatientStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let started = Instant::now();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                // Not `Interrupted`: `read_exact` and `read_until` retry those.
                return Err(io::Error::other(StopSignal));
            }
            match self.stream.read(buf) {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if started.elapsed() >= self.silence {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no data for {:.1} s", self.silence.as_secs_f64()),
                        ));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }
}

/// Undoes `Transfer-Encoding: chunked`: hex size line, data, CRLF, …, a zero-size chunk.
struct ChunkedReader<R: BufRead> {
    inner: R,
    left_in_chunk: u64,
    done: bool,
}

impl<R: BufRead> Read for ChunkedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_owned());
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left_in_chunk == 0 {
            let mut line = Vec::new();
            (&mut self.inner)
                .take(MAX_LINE_BYTES)
                .read_until(b'\n', &mut line)?;
            if line.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let text = String::from_utf8_lossy(&line);
            let size_text = text.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size_text, 16)
                .map_err(|_| bad("a chunk size that is not hexadecimal"))?;
            if size == 0 {
                self.done = true;
                return Ok(0);
            }
            self.left_in_chunk = size;
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left_in_chunk).unwrap_or(usize::MAX));
        let Some(target) = buf.get_mut(..want) else {
            return Ok(0);
        };
        let read = self.inner.read(target)?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.left_in_chunk -= read as u64;
        if self.left_in_chunk == 0 {
            let mut crlf = Vec::new();
            (&mut self.inner).take(2).read_until(b'\n', &mut crlf)?;
        }
        Ok(read)
    }
}
