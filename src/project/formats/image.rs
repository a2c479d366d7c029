//! Image files (PNG, JPEG, BMP): checked reading for import and decoding to RGB8 for the image
//! block. The format comes from the content, not the extension; alpha is dropped and grayscale
//! is replicated to three channels, so the image block always sees RGB8 and its `channels`
//! setting alone decides what the model gets (grayscale sources work in RGB projects and RGB
//! sources in grayscale ones). IO lives here so `dsp` stays pure.
//!
//! Checks, in order, each error naming the file: at most [`super::MAX_FILE_BYTES`] on disk; the
//! content is PNG, JPEG or BMP (a text file named `.png` is refused); the header's dimensions,
//! read before any pixel is decoded, are not 0 and at most [`MAX_SIDE_PX`] on each side; the
//! whole image decodes (a truncated PNG or BMP is refused), with the decoder held to the same
//! limits; a JPEG must also end with its end-of-image marker, because the JPEG decoder fills a
//! truncated scan with grey instead of failing (trailing zero padding, which some cameras add,
//! is allowed).

use super::FormatError;
use std::io::Cursor;
use std::path::Path;

/// Largest width or height accepted, in pixels: far above a kit camera's QVGA 320×240, small
/// enough that a hostile or mistaken file cannot ask for gigabytes.
pub const MAX_SIDE_PX: u32 = 4096;

/// The image file extensions import looks for in folders (the content still decides the format).
pub const EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "bmp"];

/// An encoded image format TinyLab accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// Windows bitmap.
    Bmp,
}

impl ImageKind {
    /// The file extension TinyLab stores it under, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Bmp => "bmp",
        }
    }
}

/// A checked image file: its original bytes and what its header and a full decode said.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedImage {
    /// The file's bytes, unchanged.
    pub bytes: Vec<u8>,
    /// Its format, from the content.
    pub kind: ImageKind,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Colour channels of the source: 1 (grayscale) or 3 (colour; alpha is not counted).
    pub channels: u8,
}

/// True when `path` has an image extension (`.png`, `.jpg`, `.jpeg`, `.bmp`, any case).
pub fn is_image_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|known| e.eq_ignore_ascii_case(known)))
}

/// Reads and checks an image file for import (see the module doc), keeping its bytes.
pub fn read_image(path: &Path) -> Result<EncodedImage, FormatError> {
    let bytes = read_bytes(path)?;
    let (kind, image) = decode(path, &bytes)?;
    Ok(EncodedImage {
        kind,
        width: image.width(),
        height: image.height(),
        channels: if image.color().has_color() { 3 } else { 1 },
        bytes,
    })
}

/// Decodes an image file to `(width, height, rgb)`, row-major RGB8, with the checks of
/// [`read_image`]. Errors name the file.
pub fn load_rgb(path: &Path) -> Result<(u32, u32, Vec<u8>), FormatError> {
    let bytes = read_bytes(path)?;
    let (_, image) = decode(path, &bytes)?;
    let rgb = image.to_rgb8();
    Ok((rgb.width(), rgb.height(), rgb.into_raw()))
}

/// Checks and decodes an image held in memory (a camera frame) as [`read_image`] and [`load_rgb`]
/// do a file: the checked image with its bytes, and its pixels as RGB8. `name` names it in errors.
pub fn decode_bytes(name: &Path, bytes: Vec<u8>) -> Result<(EncodedImage, Vec<u8>), FormatError> {
    if bytes.is_empty() {
        return Err(FormatError::new(name, "the image is empty"));
    }
    let (kind, image) = decode(name, &bytes)?;
    let channels = if image.color().has_color() { 3 } else { 1 };
    let rgb = image.to_rgb8();
    let encoded = EncodedImage {
        kind,
        width: rgb.width(),
        height: rgb.height(),
        channels,
        bytes,
    };
    Ok((encoded, rgb.into_raw()))
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, FormatError> {
    let named = |why: String| FormatError::new(path, format!("cannot read the image: {why}"));
    let size = std::fs::metadata(path)
        .map_err(|e| named(e.to_string()))?
        .len();
    if size > super::MAX_FILE_BYTES {
        return Err(FormatError::new(
            path,
            format!(
                "file is {size} bytes; images over {} bytes are refused",
                super::MAX_FILE_BYTES
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| named(e.to_string()))?;
    if bytes.is_empty() {
        return Err(FormatError::new(path, "file is empty"));
    }
    Ok(bytes)
}

/// Format from the content, dimensions from the header, then a full decode under limits.
fn decode(path: &Path, bytes: &[u8]) -> Result<(ImageKind, image::DynamicImage), FormatError> {
    let reader = || {
        image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| FormatError::new(path, format!("cannot read the image: {e}")))
    };
    let kind = match reader()?.format() {
        Some(image::ImageFormat::Png) => ImageKind::Png,
        Some(image::ImageFormat::Jpeg) => ImageKind::Jpeg,
        Some(image::ImageFormat::Bmp) => ImageKind::Bmp,
        Some(other) => {
            return Err(FormatError::new(
                path,
                format!(
                    "is a {other:?} image; TinyLab imports PNG, JPEG and BMP: convert it first"
                ),
            ));
        }
        None => {
            return Err(FormatError::new(
                path,
                "is not a PNG, JPEG or BMP image (its content is not an image, whatever its \
                 name says)",
            ));
        }
    };
    let damaged = |e: image::ImageError| {
        FormatError::new(
            path,
            format!("damaged or truncated image: {e}; export it again from the camera or editor"),
        )
    };
    let (width, height) = reader()?.into_dimensions().map_err(|e| {
        FormatError::new(
            path,
            format!(
                "damaged or truncated image header: {e}; export it again from the camera or \
                 editor"
            ),
        )
    })?;
    if width == 0 || height == 0 {
        return Err(FormatError::new(
            path,
            format!("invalid image dimensions {width} × {height}: the image has no pixels"),
        ));
    }
    if width > MAX_SIDE_PX || height > MAX_SIDE_PX {
        return Err(FormatError::new(
            path,
            format!(
                "the image is {width} × {height} pixels; at most {MAX_SIDE_PX} × {MAX_SIDE_PX} is \
                 accepted: scale it down first (the models take 96 × 96)"
            ),
        ));
    }
    if kind == ImageKind::Jpeg && !jpeg_is_complete(bytes) {
        return Err(FormatError::new(
            path,
            "damaged or truncated image: the JPEG data ends without its end-of-image marker; \
             copy or export the file again",
        ));
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    // Four bytes a pixel at the largest size, plus room for the decoder's own buffers.
    limits.max_alloc = Some(4 * u64::from(MAX_SIDE_PX) * u64::from(MAX_SIDE_PX) * 2);
    let mut full = reader()?;
    full.limits(limits);
    let image = full.decode().map_err(damaged)?;
    Ok((kind, image))
}

/// True when a JPEG ends with its end-of-image marker `FF D9`, trailing zero bytes aside. Inside
/// the entropy-coded data every `FF` is followed by `00` (byte stuffing), so a file cut short
/// cannot end with the marker by chance.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let end = bytes
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |last| last + 1);
    bytes
        .get(..end)
        .is_some_and(|data| data.ends_with(&[0xFF, 0xD9]))
}
