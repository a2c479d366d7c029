//! Image files (PNG, JPEG, BMP) decoded to RGB8 for the image block; the format comes from the
//! content, not the extension, and alpha is dropped. IO lives here so `dsp` stays pure.

use super::FormatError;
use std::path::Path;

/// Decodes an image file to `(width, height, rgb)`, row-major RGB8. Errors name the file.
pub fn load_rgb(path: &Path) -> Result<(u32, u32, Vec<u8>), FormatError> {
    let named = |why: String| FormatError::new(path, format!("cannot read the image: {why}"));
    let reader = image::ImageReader::open(path)
        .map_err(|e| named(e.to_string()))?
        .with_guessed_format()
        .map_err(|e| named(e.to_string()))?;
    let decoded = reader.decode().map_err(|e| named(e.to_string()))?;
    let rgb = decoded.to_rgb8();
    Ok((rgb.width(), rgb.height(), rgb.into_raw()))
}
