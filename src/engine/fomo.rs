//! The object-detection (FOMO) side of the jobs: whether a project trains FOMO (its preset's
//! head is per-cell), the labels (`background` first, then the box labels sorted, as Edge
//! Impulse and SenseCraft number them), each image's boxes brought from file pixels into the
//! model's input through the image block's resize geometry ([`crate::dsp::image::input_mapping`]),
//! and the model's output grid. Training, evaluation, quantization and the live camera all go
//! through here, so they agree on what a cell's class is.

use crate::dsp::block::DspSettings;
use crate::dsp::image::{ImageSettings, InputMapping, input_mapping};
use crate::models::{self, ModelSettings};
use crate::nn::detection::{Grid, InputBox};
use crate::nn::model::Head;
use crate::nn::{Model, NnError};
use crate::project::sample::{SampleMeta, Split};

/// Class 0 of every FOMO model.
pub const BACKGROUND: &str = "background";

/// True when the model settings build a per-cell (FOMO) model.
pub fn is_per_cell(settings: &ModelSettings) -> Result<bool, NnError> {
    Ok(models::preset(&settings.preset)?.head == Head::PerCell)
}

/// The preset's batch norm momentum, when it sets one (FOMO trains from scratch at 0.9).
pub fn batch_norm_momentum(settings: &ModelSettings) -> Result<Option<f32>, NnError> {
    Ok(models::preset(&settings.preset)?.batch_norm_momentum)
}

/// `background` and the sorted labels of the boxes on training images.
pub fn detection_labels<'a>(
    samples: impl IntoIterator<Item = &'a SampleMeta>,
) -> Result<Vec<String>, String> {
    let mut labels: Vec<String> = samples
        .into_iter()
        .filter(|m| m.split == Split::Train)
        .flat_map(|m| m.boxes.iter().map(|b| b.label.clone()))
        .filter(|l| l != BACKGROUND)
        .collect();
    labels.sort();
    labels.dedup();
    if labels.is_empty() {
        return Err(
            "no training image has a bounding box: draw boxes around the objects in the \
                    Dataset panel, or import images with a bounding_boxes.labels file"
                .into(),
        );
    }
    labels.insert(0, BACKGROUND.to_owned());
    Ok(labels)
}

/// The image block's settings; FOMO reads images.
pub fn image_settings(dsp: &DspSettings) -> Result<&ImageSettings, String> {
    match dsp {
        DspSettings::Image(image) => Ok(image),
        _ => Err(
            "object detection needs the image processing block: set [dsp] block = \"image\"".into(),
        ),
    }
}

/// One image's boxes in the model's input pixels, class = index in `labels` (boxes of labels
/// the run does not know are left out), and the mapping that placed them. A box whose centre
/// the resize cuts away (fit-short crops the long side) is left out too: the model cannot see
/// that object's centre, so no cell can be asked to find it.
pub fn input_boxes(
    meta: &SampleMeta,
    image: &ImageSettings,
    labels: &[String],
) -> Result<(Vec<InputBox>, Option<InputMapping>), String> {
    let Some(size) = meta.image else {
        return Ok((Vec::new(), None));
    };
    let mapping = input_mapping(
        size.width,
        size.height,
        image.width,
        image.height,
        &image.resize_mode,
    )
    .map_err(|e| e.to_string())?;
    let (max_x, max_y) = (f64::from(image.width), f64::from(image.height));
    let boxes = meta
        .boxes
        .iter()
        .filter_map(|b| {
            let class = labels.iter().position(|l| *l == b.label)?;
            let (x0, y0) = mapping.to_input(f64::from(b.x), f64::from(b.y));
            let (x1, y1) = mapping.to_input(
                f64::from(b.x) + f64::from(b.width),
                f64::from(b.y) + f64::from(b.height),
            );
            let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
            if class == 0 || !mapping.inside_input(cx, cy) {
                return None;
            }
            let (x0, y0) = (x0.clamp(0.0, max_x), y0.clamp(0.0, max_y));
            let (x1, y1) = (x1.clamp(0.0, max_x), y1.clamp(0.0, max_y));
            Some(InputBox {
                class,
                x: x0 as f32,
                y: y0 as f32,
                width: (x1 - x0) as f32,
                height: (y1 - y0) as f32,
            })
        })
        .collect();
    Ok((boxes, Some(mapping)))
}

/// The output grid of a per-cell model: `[H, W, classes]` cells over its `[H, W, C]` input.
pub fn grid_of(model: &Model) -> Result<Grid, NnError> {
    let output = model.output_shape()?;
    match (output.as_slice(), model.input_shape.as_slice()) {
        ([height, width, _], [input_height, input_width, _]) => Ok(Grid {
            width: *width,
            height: *height,
            input_width: *input_width,
            input_height: *input_height,
        }),
        _ => Err(NnError::Spec(format!(
            "a per-cell model maps an image [H, W, C] to [H, W, classes], but this one maps {:?} \
             to {output:?}",
            model.input_shape
        ))),
    }
}
