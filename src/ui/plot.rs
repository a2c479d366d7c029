//! Time-series plots shared by the Capture panel (live, scrolling) and the Dataset panel (one
//! recorded sample): one line per axis, seconds on x, autoscaled y, legend with axis names.

use egui_plot::{Legend, Line, Plot, PlotPoints};

/// Plot height in points (instructor mode scales it with the zoom factor).
const PLOT_HEIGHT: f32 = 260.0;

/// One named line of (seconds, value) points.
pub struct Trace {
    /// Axis name, shown in the legend.
    pub name: String,
    /// Points as `[t_s, value]`.
    pub points: Vec<[f64; 2]>,
}

/// Draws `traces` in a plot with id `id`; `x_range_s` pins the x-axis (for scrolling plots).
pub fn series_plot_ui(
    ui: &mut egui::Ui,
    id: &str,
    traces: Vec<Trace>,
    x_range_s: Option<(f64, f64)>,
    y_unit: &str,
) {
    let height = PLOT_HEIGHT.min(ui.available_height().max(120.0));
    let mut plot = Plot::new(id)
        .height(height)
        .legend(Legend::default())
        .x_axis_label("time (s)")
        .y_axis_label(y_unit.to_owned())
        .allow_scroll(false);
    if x_range_s.is_some() {
        // Scrolling: x follows the newest reading, y keeps fitting the data.
        plot = plot.auto_bounds([false, true]);
    }
    plot.show(ui, |plot_ui| {
        if let Some((min, max)) = x_range_s {
            plot_ui.set_plot_bounds_x(min..=max);
        }
        for Trace { name, points } in traces {
            plot_ui.line(Line::new(name, PlotPoints::new(points)));
        }
    });
}
