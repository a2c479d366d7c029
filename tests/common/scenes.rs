//! Generated object-detection scenes for the FOMO tests: a noisy grey background with one to
//! three bright filled squares (class 1, "box") and bright rings (class 2, "wheel") at random
//! positions, far enough apart not to share a cell, with their boxes. Objects are placed on a
//! 96 × 96 plan and drawn at `scale_x × scale_y` file pixels per plan pixel, so a 192 × 144 file
//! squashed to 96 × 96 shows the model the same scene as a 96 × 96 file.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, dead_code)]

use tinylab::nn::detection::InputBox;
use tinylab::rng::Rng;

/// The plan's side in pixels (the FOMO lab's input).
pub const PLAN: usize = 96;

/// One scene: luma in 0..1 at `width × height` file pixels (`PLAN · scale`) and the objects'
/// boxes in file pixels (class 1 box, 2 wheel).
pub fn scene(rng: &mut Rng, scale_x: usize, scale_y: usize) -> (Vec<f32>, Vec<InputBox>) {
    let (width, height) = (PLAN * scale_x, PLAN * scale_y);
    let mut pixels: Vec<f32> = (0..width * height)
        .map(|_| 0.25 + 0.1 * ((rng.next_f64() as f32) - 0.5))
        .collect();
    let objects = 1 + rng.below(3);
    let mut boxes: Vec<InputBox> = Vec::new();
    let mut tries = 0;
    while boxes.len() < objects && tries < 100 {
        tries += 1;
        let class = 1 + rng.below(2);
        let half = 8.0 + 2.0 * (rng.next_f64() as f32);
        let cx = half + (rng.next_f64() as f32) * (PLAN as f32 - 2.0 * half);
        let cy = half + (rng.next_f64() as f32) * (PLAN as f32 - 2.0 * half);
        let clear = boxes.iter().all(|b| {
            let (bx, by) = (b.x + b.width / 2.0, b.y + b.height / 2.0);
            (bx / scale_x as f32 - cx).abs() > 24.0 || (by / scale_y as f32 - cy).abs() > 24.0
        });
        if !clear {
            continue;
        }
        for y in 0..height {
            for x in 0..width {
                let px = (x as f32 + 0.5) / scale_x as f32;
                let py = (y as f32 + 0.5) / scale_y as f32;
                let (dx, dy) = (px - cx, py - cy);
                let inside = if class == 1 {
                    dx.abs() <= half && dy.abs() <= half
                } else {
                    let r = (dx * dx + dy * dy).sqrt();
                    r <= half && r >= half * 0.5
                };
                if inside {
                    pixels[y * width + x] = 0.9;
                }
            }
        }
        let (sx, sy) = (scale_x as f32, scale_y as f32);
        boxes.push(InputBox {
            class,
            x: (cx - half) * sx,
            y: (cy - half) * sy,
            width: 2.0 * half * sx,
            height: 2.0 * half * sy,
        });
    }
    (pixels, boxes)
}

/// `n` scenes from `seed` at 96 × 96: pixels back to back and each scene's boxes.
pub fn scenes(n: usize, seed: u64) -> (Vec<f32>, Vec<Vec<InputBox>>) {
    let mut rng = Rng::new(seed);
    let mut pixels = Vec::with_capacity(n * PLAN * PLAN);
    let mut all = Vec::with_capacity(n);
    for _ in 0..n {
        let (p, b) = scene(&mut rng, 1, 1);
        pixels.extend(p);
        all.push(b);
    }
    (pixels, all)
}

/// Writes `n` scenes from `seed` as `scene-NNN.png` (grey, `PLAN · scale` pixels) into `folder`
/// with Edge Impulse's `bounding_boxes.labels` (boxes rounded out to whole pixels).
pub fn write_scenes(folder: &std::path::Path, n: usize, seed: u64, scale: (usize, usize)) {
    std::fs::create_dir_all(folder).unwrap();
    let mut rng = Rng::new(seed);
    let (width, height) = (PLAN * scale.0, PLAN * scale.1);
    let mut entries = serde_json::Map::new();
    for i in 0..n {
        let (pixels, boxes) = scene(&mut rng, scale.0, scale.1);
        let bytes: Vec<u8> = pixels.iter().map(|&v| (v * 255.0).round() as u8).collect();
        let name = format!("scene-{i:03}.png");
        image::GrayImage::from_raw(width as u32, height as u32, bytes)
            .unwrap()
            .save(folder.join(&name))
            .unwrap();
        let labelled: Vec<serde_json::Value> = boxes
            .iter()
            .map(|b| {
                let (x0, y0) = (b.x.floor(), b.y.floor());
                let (x1, y1) = ((b.x + b.width).ceil(), (b.y + b.height).ceil());
                serde_json::json!({
                    "label": if b.class == 1 { "box" } else { "wheel" },
                    "x": x0 as u32, "y": y0 as u32,
                    "width": (x1 - x0) as u32, "height": (y1 - y0) as u32,
                })
            })
            .collect();
        entries.insert(name, labelled.into());
    }
    let labels =
        serde_json::json!({"version": 1, "type": "bounding-box-labels", "boundingBoxes": entries});
    std::fs::write(folder.join("bounding_boxes.labels"), labels.to_string()).unwrap();
}
