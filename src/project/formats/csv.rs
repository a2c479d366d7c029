//! Edge Impulse-style CSV: a header row, an optional first `timestamp` column in milliseconds,
//! then one column per axis (`timestamp,accX,accY,accZ`). Files without a header are accepted
//! (axes get default names); files without timestamps use the caller's rate.

use super::{FormatError, MAX_LINE_BYTES, read_text};
use crate::devices::forwarder::default_axis_names;
use crate::project::atomic::write_atomic;
use crate::project::sample::Series;
use std::io::Write;
use std::path::Path;

/// Names accepted for the optional time column (case-insensitive).
const TIME_COLUMNS: &[&str] = &["timestamp", "time", "t", "timestamp_ms", "time_ms"];

/// Reads a CSV series. `fallback_rate_hz` applies when there is no timestamp column.
pub fn read_series(path: &Path, fallback_rate_hz: Option<f64>) -> Result<Series, FormatError> {
    let text = read_text(path)?;
    parse_series(&text, fallback_rate_hz).map_err(|problem| FormatError::new(path, problem))
}

/// Parses CSV text; errors are plain sentences naming the line.
pub fn parse_series(text: &str, fallback_rate_hz: Option<f64>) -> Result<Series, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((first_no, first)) = lines.next() else {
        return Err("file has no rows".into());
    };
    check_line_length(first_no, first)?;
    let first_cells = split_cells(first);
    let header_given = first_cells.iter().any(|c| c.parse::<f64>().is_err());
    let (names, mut pending) = if header_given {
        (
            first_cells
                .iter()
                .map(|c| c.trim_matches('"').to_owned())
                .collect::<Vec<_>>(),
            None,
        )
    } else {
        (Vec::new(), Some((first_no, first)))
    };
    let has_time = names
        .first()
        .is_some_and(|n| TIME_COLUMNS.iter().any(|t| t.eq_ignore_ascii_case(n)));
    let width = if header_given {
        names.len()
    } else {
        first_cells.len()
    };
    let axis_count = width - usize::from(has_time);
    if axis_count == 0 {
        return Err("the header names no sensor axes".into());
    }
    let axes = if header_given {
        names.into_iter().skip(usize::from(has_time)).collect()
    } else {
        default_axis_names(axis_count)
    };

    let mut values = Vec::new();
    let mut times_ms = Vec::new();
    let mut row = Vec::with_capacity(width);
    while let Some((line_no, line)) = pending.take().or_else(|| lines.next()) {
        check_line_length(line_no, line)?;
        row.clear();
        for (column, cell) in split_cells(line).iter().enumerate() {
            let value: f64 = cell.parse().map_err(|_| {
                format!(
                    "line {}, column {}: {cell:?} is not a number",
                    line_no + 1,
                    column + 1
                )
            })?;
            if !value.is_finite() {
                return Err(format!(
                    "line {}, column {}: {cell} is not finite",
                    line_no + 1,
                    column + 1
                ));
            }
            row.push(value);
        }
        if row.len() != width {
            return Err(format!(
                "line {} has {} values but the file has {width} columns",
                line_no + 1,
                row.len()
            ));
        }
        let (time, readings) = row.split_at(usize::from(has_time));
        times_ms.extend(time.first().copied());
        values.extend(readings.iter().map(|&v| v as f32));
    }
    if values.is_empty() {
        return Err("file has a header but no readings".into());
    }
    let rate_hz = if has_time {
        rate_from_timestamps(&times_ms)?
    } else {
        fallback_rate_hz.ok_or("file has no timestamp column; give the sampling rate")?
    };
    Ok(Series {
        axes,
        rate_hz,
        values,
    })
}

/// Writes a series with a `timestamp` column in milliseconds, atomically.
pub fn write_series(path: &Path, series: &Series) -> std::io::Result<()> {
    write_atomic(path, |w| write_series_to(w, series))
}

fn write_series_to(w: &mut dyn Write, series: &Series) -> std::io::Result<()> {
    write!(w, "timestamp")?;
    for axis in &series.axes {
        write!(w, ",{axis}")?;
    }
    writeln!(w)?;
    let interval_ms = if series.rate_hz > 0.0 {
        1000.0 / series.rate_hz
    } else {
        0.0
    };
    for (row, reading) in series.values.chunks(series.axes.len().max(1)).enumerate() {
        write!(w, "{}", round_ms(row as f64 * interval_ms))?;
        for value in reading {
            write!(w, ",{value}")?;
        }
        writeln!(w)?;
    }
    Ok(())
}

/// Timestamps keep three decimals: microsecond resolution is far below any sensor's jitter.
fn round_ms(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// The sampling rate from a timestamp column: the median interval, which ignores a stray gap.
fn rate_from_timestamps(times_ms: &[f64]) -> Result<f64, String> {
    let mut intervals: Vec<f64> = times_ms
        .windows(2)
        .filter_map(|w| Some(w.get(1)? - w.first()?))
        .collect();
    if intervals.is_empty() {
        return Err("one reading is not enough to know the sampling rate".into());
    }
    if intervals.iter().any(|&d| d <= 0.0) {
        return Err("timestamps must increase from row to row (milliseconds)".into());
    }
    intervals.sort_by(f64::total_cmp);
    let median_ms = intervals.get(intervals.len() / 2).copied().unwrap_or(0.0);
    Ok(1000.0 / median_ms)
}

fn split_cells(line: &str) -> Vec<&str> {
    line.split([',', '\t', ';']).map(str::trim).collect()
}

fn check_line_length(line_no: usize, line: &str) -> Result<(), String> {
    if line.len() > MAX_LINE_BYTES {
        return Err(format!(
            "line {} is {} bytes long; a row of sensor readings is far shorter (limit {MAX_LINE_BYTES})",
            line_no + 1,
            line.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Series {
        parse_series(text, Some(50.0)).unwrap()
    }

    #[test]
    fn timestamp_column_gives_rate_and_axes() {
        let s = check("timestamp,accX,accY,accZ\n0,1,2,3\n20,4,5,6\n40,7,8,9\n");
        assert_eq!(s.axes, ["accX", "accY", "accZ"]);
        assert!((s.rate_hz - 50.0).abs() < 1e-9);
        assert_eq!(s.values, [1., 2., 3., 4., 5., 6., 7., 8., 9.]);
    }

    #[test]
    fn headerless_file_uses_fallback_rate_and_default_names() {
        let s = check("1\t2\t3\n4\t5\t6\n");
        assert_eq!(s.readings(), 2);
        assert_eq!(s.rate_hz, 50.0);
        assert_eq!(s.axes.len(), 3);
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse_series("a,b\n1,2\n3,x\n", None).unwrap_err();
        assert!(err.contains("line 3, column 2"), "{err}");
        let err = parse_series("a,b\n1,2\n3\n", None).unwrap_err();
        assert!(err.contains("line 3 has 1 values"), "{err}");
        let err = parse_series("timestamp,a\n0,1\n0,2\n", None).unwrap_err();
        assert!(err.contains("increase"), "{err}");
    }

    #[test]
    fn written_series_reads_back_equal() {
        let series = Series {
            axes: vec!["x".into(), "y".into()],
            rate_hz: 62.5,
            values: vec![0.5, -1.25, 3.0, 1e-3],
        };
        let mut out = Vec::new();
        write_series_to(&mut out, &series).unwrap();
        let back = parse_series(std::str::from_utf8(&out).unwrap(), None).unwrap();
        assert_eq!(back, series);
    }
}
