//! Time-series plots shared by the Capture panel (live, scrolling) and the Dataset panel (one
//! recorded sample): one plot per axis, stacked, each autoscaled on y so a small signal is not
//! flattened by gravity on another axis, with x (seconds) and the cursor linked between them.

use egui_plot::{Line, Plot, PlotPoints};

/// Smallest height of one axis plot, in points (instructor mode scales it with the zoom).
const MIN_AXIS_HEIGHT: f32 = 70.0;
/// Width reserved for y tick labels, so stacked plots line up.
const Y_AXIS_WIDTH: f32 = 44.0;

/// One named trace of `[t_s, value]` points.
pub struct Trace {
    /// Axis name, shown as the plot's label.
    pub name: String,
    /// Points as `[t_s, value]`.
    pub points: Vec<[f64; 2]>,
}

impl Trace {
    /// A trace from `(reading index, value)` pairs of a series sampled at `rate_hz`.
    pub fn new(name: &str, readings: impl Iterator<Item = (u64, f32)>, rate_hz: f64) -> Self {
        let points = readings
            .map(|(i, v)| [i as f64 / rate_hz, f64::from(v)])
            .collect();
        Self {
            name: name.to_owned(),
            points,
        }
    }
}

/// Draws one plot per trace in the height given, `x_label` under the last; `x_range_s` pins x
/// (for scrolling plots).
pub fn stacked_plots_ui(
    ui: &mut egui::Ui,
    id: &str,
    traces: Vec<Trace>,
    x_range_s: Option<(f64, f64)>,
    x_label: &str,
    unit: &str,
    height: f32,
) {
    let count = traces.len().max(1);
    let spacing = ui.spacing().item_spacing.y;
    let axis_height = ((height - spacing * count as f32) / count as f32).max(MIN_AXIS_HEIGHT);
    let group = egui::Id::unique(id);
    let colors = [
        egui::Color32::from_rgb(230, 100, 90),
        egui::Color32::from_rgb(90, 150, 235),
        egui::Color32::from_rgb(170, 210, 80),
    ];
    for (index, Trace { name, points }) in traces.into_iter().enumerate() {
        let last = index + 1 == count;
        let mut plot = Plot::new((id, index))
            .height(axis_height)
            .link_axis(group, [true, false])
            .link_cursor(group, [true, false])
            .y_axis_min_width(Y_AXIS_WIDTH)
            .y_axis_label(if unit.is_empty() {
                name.clone()
            } else {
                format!("{name} ({unit})")
            })
            .show_axes([last, true])
            .allow_scroll(false);
        if last {
            plot = plot.x_axis_label(x_label.to_owned());
        }
        if x_range_s.is_some() {
            // Scrolling: x follows the newest reading, y keeps fitting the data.
            plot = plot.auto_bounds([false, true]);
        }
        let color = colors
            .get(index % colors.len())
            .copied()
            .unwrap_or(egui::Color32::GRAY);
        plot.show(ui, |plot_ui| {
            if let Some((min, max)) = x_range_s {
                plot_ui.set_plot_bounds_x(min..=max);
            }
            plot_ui.line(Line::new(name, PlotPoints::new(points)).color(color));
        });
    }
}

/// A matrix as a heat map: `rows` is time-major (`rows[t][k]`), drawn with time on x and `k`
/// on y, lowest `k` at the bottom, so MFCC frames, mel energies and spectrograms read as in the
/// book's figures.
pub fn heatmap_ui(ui: &mut egui::Ui, id: &str, rows: &[Vec<f64>], y_label: &str, height: f32) {
    let frames = rows.len();
    let bins = rows.first().map_or(0, Vec::len);
    if frames == 0 || bins == 0 {
        ui.weak("nothing to show");
        return;
    }
    // egui_plot puts the heat map's first row at the bottom: row k is coefficient/bin k.
    let mut values = Vec::with_capacity(frames * bins);
    for k in 0..bins {
        values.extend(
            rows.iter()
                .map(|frame| frame.get(k).copied().unwrap_or(0.0)),
        );
    }
    Plot::new(id)
        .height(height)
        .x_axis_label("frame")
        .y_axis_label(y_label.to_owned())
        .show_grid(false)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            plot_ui.add(
                egui_plot::Heatmap::new(values, frames)
                    .show_labels(false)
                    .at(egui_plot::PlotPoint::new(0.0, 0.0)),
            );
        });
}
