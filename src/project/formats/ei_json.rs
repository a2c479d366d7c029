//! Edge Impulse's data acquisition format (JSON flavour): a `payload` with `interval_ms`, a list
//! of `sensors` (name and units) and `values` (one row per reading, or a flat list for one axis),
//! wrapped in `protected` (version, algorithm) and `signature`. TinyLab writes unsigned files
//! (`"alg": "none"`), which Edge Impulse's uploader accepts; on import the signature is not checked
//! (it needs the device's HMAC key, which only the uploader has).

use super::{FormatError, read_text};
use crate::project::atomic::write_atomic;
use crate::project::sample::Series;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Serialize, Deserialize)]
struct Envelope {
    protected: Protected,
    signature: String,
    payload: Payload,
}

#[derive(Serialize, Deserialize)]
struct Protected {
    ver: String,
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(default)]
    device_name: Option<String>,
    #[serde(default)]
    device_type: Option<String>,
    interval_ms: f64,
    sensors: Vec<Sensor>,
    values: Vec<Row>,
}

#[derive(Serialize, Deserialize)]
struct Sensor {
    name: String,
    units: String,
}

/// A row is an array of axis values, or a bare number for single-axis data.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Row {
    Many(Vec<f64>),
    One(f64),
}

/// Reads an Edge Impulse data acquisition JSON file.
pub fn read_series(path: &Path) -> Result<Series, FormatError> {
    let text = read_text(path)?;
    parse_series(&text).map_err(|problem| FormatError::new(path, problem))
}

/// Parses the JSON text; errors are plain sentences.
pub fn parse_series(text: &str) -> Result<Series, String> {
    let envelope: Envelope = serde_json::from_str(text).map_err(|e| {
        format!(
            "not Edge Impulse data acquisition JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    let Payload {
        interval_ms,
        sensors,
        values,
        ..
    } = envelope.payload;
    if !(interval_ms.is_finite() && interval_ms > 0.0) {
        return Err(format!(
            "payload.interval_ms is {interval_ms}; it must be a positive number of milliseconds"
        ));
    }
    if sensors.is_empty() {
        return Err("payload.sensors is empty".into());
    }
    let width = sensors.len();
    let mut flat = Vec::with_capacity(values.len() * width);
    for (index, row) in values.iter().enumerate() {
        let row: &[f64] = match row {
            Row::Many(v) => v,
            Row::One(v) => std::slice::from_ref(v),
        };
        if row.len() != width {
            return Err(format!(
                "payload.values[{index}] has {} values but there are {width} sensors",
                row.len()
            ));
        }
        if let Some(bad) = row.iter().find(|v| !v.is_finite()) {
            return Err(format!(
                "payload.values[{index}] holds {bad}, which is not finite"
            ));
        }
        flat.extend(row.iter().map(|&v| v as f32));
    }
    if flat.is_empty() {
        return Err("payload.values is empty".into());
    }
    Ok(Series {
        axes: sensors.into_iter().map(|s| s.name).collect(),
        rate_hz: 1000.0 / interval_ms,
        values: flat,
    })
}

/// Writes a series as unsigned Edge Impulse JSON, atomically.
pub fn write_series(path: &Path, series: &Series, units: &str) -> std::io::Result<()> {
    let text = to_json(series, units)?;
    write_atomic(path, |w| w.write_all(text.as_bytes()))
}

fn to_json(series: &Series, units: &str) -> std::io::Result<String> {
    let width = series.axes.len().max(1);
    let envelope = Envelope {
        protected: Protected {
            ver: "v1".into(),
            alg: "none".into(),
            iat: None,
        },
        signature: "0".repeat(64),
        payload: Payload {
            device_name: Some("tinylab".into()),
            device_type: Some("TINYLAB".into()),
            interval_ms: if series.rate_hz > 0.0 {
                1000.0 / series.rate_hz
            } else {
                0.0
            },
            sensors: series
                .axes
                .iter()
                .map(|name| Sensor {
                    name: name.clone(),
                    units: units.into(),
                })
                .collect(),
            values: series
                .values
                .chunks(width)
                .map(|r| Row::Many(r.iter().map(|&v| f64::from(v)).collect()))
                .collect(),
        },
    };
    serde_json::to_string(&envelope).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_example() {
        let text = r#"{"protected":{"ver":"v1","alg":"HS256","iat":1564128599},
            "signature":"b0ee0572","payload":{"device_name":"ac:87:a3:0a:2d:1b",
            "device_type":"DISCO-L475VG-IOT01A","interval_ms":10,
            "sensors":[{"name":"accX","units":"m/s2"},{"name":"accY","units":"m/s2"},{"name":"accZ","units":"m/s2"}],
            "values":[[-9.81,0.03,1.21],[-9.83,0.04,1.27]]}}"#;
        let s = parse_series(text).unwrap();
        assert_eq!(s.rate_hz, 100.0);
        assert_eq!(s.readings(), 2);
        assert_eq!(s.axes, ["accX", "accY", "accZ"]);
    }

    #[test]
    fn round_trip_keeps_values() {
        let series = Series {
            axes: vec!["accX".into(), "accY".into()],
            rate_hz: 50.0,
            values: vec![1.5, -2.25, 0.0, 9.81],
        };
        let back = parse_series(&to_json(&series, "m/s2").unwrap()).unwrap();
        assert_eq!(back, series);
    }

    #[test]
    fn wrong_width_and_truncation_are_errors() {
        let bad = r#"{"protected":{"ver":"v1","alg":"none"},"signature":"0","payload":{"interval_ms":20,"sensors":[{"name":"a","units":"g"},{"name":"b","units":"g"}],"values":[[1,2],[3]]}}"#;
        assert!(
            parse_series(bad)
                .unwrap_err()
                .contains("values[1] has 1 values")
        );
        assert!(
            parse_series(&bad[..bad.len() / 2])
                .unwrap_err()
                .contains("line 1")
        );
    }
}
