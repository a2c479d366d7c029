//! The example sketches of the Arduino library: one per kit and lab the project's sensor fits,
//! each sampling the kit's own sensor the way the book's capture sketch did (so the numbers are
//! in the units the project was trained on), filling one `TINYLAB_RAW_LEN` window, timing
//! `tinylab_dsp` and `tinylab_infer` with `micros()`, and printing Edge Impulse's lines:
//!
//! ```text
//! Predictions (DSP: 11 ms., Classification: 0 ms., Anomaly: 0 ms.):
//!     idle: 0.93359
//!     anomaly score: -0.135
//! ```
//!
//! Pins, ranges and libraries are the book's (`reference/book-labs.md` §1.1, §2, §3):
//! Nicla Vision LSM6DSOX (`Arduino_LSM6DSOX`, ±4 g), MP34DT05 (`PDM`), GC2145 (`camera.h`);
//! XIAOML Kit LSM6DS3TR-C at I2C 0x6A (Seeed `LSM6DS3`, clipped to ±2 g as the lab does), PDM
//! microphone on I2S (CLK GPIO42, DATA GPIO41, esp32 core 2.0.x `I2S.h`), OV2640 (`esp_camera`,
//! the Sense pin map); Nano 33 BLE Sense LSM9DS1 (`Arduino_LSM9DS1`) or BMI270 on Rev2
//! (`Arduino_BMI270_BMM150`), PDM microphone. Templates hold `@NAME@` placeholders that
//! [`fill`] replaces, so the C++ braces need no escaping.

/// The modality of a project, which decides the sketches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modality {
    /// A time series from the kit's IMU: accelerometer (3 axes) or accelerometer + gyroscope (6).
    Motion {
        /// Axes per reading, 3 or 6.
        axes: usize,
        /// The project's accelerometer values are m/s² (else g).
        accel_ms2: bool,
    },
    /// Audio from the kit's PDM microphone, int16 units.
    Audio,
    /// Frames from the kit's camera.
    Image,
}

/// A kit the examples target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kit {
    /// Arduino Nicla Vision (STM32H747, Cortex-M7 @ 480 MHz).
    NiclaVision,
    /// Seeed XIAO ESP32S3 Sense, alone or in the XIAOML Kit (its IMU is on the kit's board).
    XiaoEsp32s3,
    /// Arduino Nano 33 BLE Sense, Rev1 or Rev2 (nRF52840, Cortex-M4F @ 64 MHz).
    Nano33BleSense,
}

impl Kit {
    /// Folder-name prefix of its examples.
    pub fn id(self, modality: Modality) -> &'static str {
        match (self, modality) {
            (Self::NiclaVision, _) => "nicla_vision",
            (Self::XiaoEsp32s3, Modality::Motion { .. }) => "xiaoml_kit",
            (Self::XiaoEsp32s3, _) => "xiao_esp32s3",
            (Self::Nano33BleSense, _) => "nano33_ble_sense",
        }
    }

    /// The board's fully qualified name for `arduino-cli compile --fqbn`.
    pub fn fqbn(self) -> &'static str {
        match self {
            Self::NiclaVision => "arduino:mbed_nicla:nicla_vision",
            Self::XiaoEsp32s3 => "esp32:esp32:XIAO_ESP32S3",
            Self::Nano33BleSense => "arduino:mbed_nano:nano33ble",
        }
    }

    /// The kits with a sensor for `modality`.
    pub fn for_modality(modality: Modality) -> &'static [Kit] {
        match modality {
            Modality::Motion { .. } | Modality::Audio => {
                &[Self::NiclaVision, Self::XiaoEsp32s3, Self::Nano33BleSense]
            }
            Modality::Image => &[Self::NiclaVision, Self::XiaoEsp32s3],
        }
    }
}

/// One example sketch: `examples/<folder>/<folder>.ino`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleSketch {
    /// Folder and sketch name, e.g. `nicla_vision_motion`.
    pub folder: String,
    /// The kit it is for.
    pub kit: Kit,
    /// The Arduino libraries it needs besides this one (Library Manager names).
    pub libraries: Vec<&'static str>,
    /// The sketch's text.
    pub source: String,
}

/// What a sketch needs to know about the project.
#[derive(Debug, Clone, Copy)]
pub struct SketchProject<'a> {
    /// The project's name, for the banner.
    pub project_name: &'a str,
    /// The library's header, e.g. `motion_tinylab.h`.
    pub header: &'a str,
    /// Sampling rate of the project (readings or samples per second).
    pub rate_hz: f64,
}

/// Replaces every `@KEY@` in `template`.
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut text = template.to_owned();
    for (key, value) in values {
        text = text.replace(&format!("@{key}@"), value);
    }
    text
}

/// The sketch for `kit` and `modality`.
pub fn sketch(kit: Kit, modality: Modality, project: &SketchProject) -> ExampleSketch {
    let lab = match modality {
        Modality::Motion { .. } => "motion",
        Modality::Audio => "kws",
        Modality::Image => "image",
    };
    let folder = format!("{}_{lab}", kit.id(modality));
    let (body, libraries) = match modality {
        Modality::Motion { axes, accel_ms2 } => motion_body(kit, axes, accel_ms2),
        Modality::Audio => audio_body(kit),
        Modality::Image => image_body(kit),
    };
    let interval_us = (1.0e6 / project.rate_hz).round().max(1.0) as u64;
    let values = [
        ("FOLDER", folder.clone()),
        ("PROJECT", project.project_name.replace("*/", "* /")),
        ("HEADER", project.header.to_owned()),
        ("INTERVAL_US", interval_us.to_string()),
        ("RATE_HZ", format!("{}", project.rate_hz.round() as u64)),
        ("FQBN", kit.fqbn().to_owned()),
    ];
    let source = fill(&format!("{COMMON_HEAD}{body}"), &values);
    ExampleSketch {
        folder,
        kit,
        libraries,
        source,
    }
}

/// Top of every sketch: banner, the library, the buffers and the Edge Impulse printout.
const COMMON_HEAD: &str = r#"/* @FOLDER@: runs the TinyLab project "@PROJECT@" on the board and prints each window's
 * predictions in Edge Impulse's format, which TinyLab's serial monitor reads:
 *   Predictions (DSP: x ms., Classification: y ms., Anomaly: z ms.):
 *       label: 0.99219
 * The anomaly score (when the project has one) is computed inside tinylab_infer, so its time is
 * part of "Classification" and "Anomaly" prints 0.
 * Board: @FQBN@ (arduino-cli compile --fqbn @FQBN@). Made by TinyLab. */
#include <Arduino.h>
#include <@HEADER@>

static float features[TINYLAB_FEATURES_LEN];
static float scores[TINYLAB_LABEL_COUNT + 1];

static void print_predictions(unsigned long dsp_us, unsigned long classification_us) {
  Serial.print("Predictions (DSP: ");
  Serial.print(dsp_us / 1000UL);
  Serial.print(" ms., Classification: ");
  Serial.print(classification_us / 1000UL);
  Serial.println(" ms., Anomaly: 0 ms.):");
  for (size_t i = 0; i < TINYLAB_LABEL_COUNT; ++i) {
    Serial.print("    ");
    Serial.print(tinylab_labels[i]);
    Serial.print(": ");
    Serial.println(scores[i], 5);
  }
#if TINYLAB_HAS_ANOMALY
  Serial.print("    anomaly score: ");
  Serial.println(tinylab_anomaly_score(), 3);
#endif
}

/* Features, then scores, each timed; a library error is printed with its code. */
static void infer_and_print(int dsp_status, unsigned long dsp_us) {
  if (dsp_status != 0) {
    Serial.print("tinylab_dsp failed with code ");
    Serial.println(dsp_status);
    return;
  }
  unsigned long start_us = micros();
  int status = tinylab_infer(features, scores);
  unsigned long classification_us = micros() - start_us;
  if (status != 0) {
    Serial.print("tinylab_infer failed with code ");
    Serial.println(status);
    return;
  }
  print_predictions(dsp_us, classification_us);
}

static void stop_with(const char *message) {
  for (;;) {
    Serial.println(message);
    delay(2000);
  }
}
"#;

fn motion_body(kit: Kit, axes: usize, accel_ms2: bool) -> (String, Vec<&'static str>) {
    // The book's capture sketches: Nicla ×9.80665, XIAOML Kit ×9.81.
    let (g_to_ms2, range_g, includes, globals, init, read, libraries) = match kit {
        Kit::NiclaVision => (
            "9.80665f",
            "4.0f",
            "#include <Arduino_LSM6DSOX.h>\n",
            "",
            "  if (!IMU.begin()) {\n    stop_with(\"Failed to initialize the LSM6DSOX IMU\");\n  }\n",
            NICLA_NANO_READ,
            vec!["Arduino_LSM6DSOX"],
        ),
        Kit::XiaoEsp32s3 => (
            "9.81f",
            "2.0f",
            "#include <Wire.h>\n#include <LSM6DS3.h>\n",
            "/* The XIAOML Kit's LSM6DS3TR-C on I2C address 0x6A. */\nstatic LSM6DS3 imu(I2C_MODE, 0x6A);\n",
            "  if (imu.begin() != 0) {\n    stop_with(\"Failed to initialize the LSM6DS3TR-C at I2C 0x6A\");\n  }\n",
            XIAO_READ,
            vec!["Seeed Arduino LSM6DS3"],
        ),
        Kit::Nano33BleSense => (
            "9.80665f",
            "4.0f",
            "/* Rev2 boards have a BMI270 + BMM150: set TINYLAB_NANO_REV2 to 1 for them. */\n\
             #ifndef TINYLAB_NANO_REV2\n#define TINYLAB_NANO_REV2 0\n#endif\n\
             #if TINYLAB_NANO_REV2\n#include <Arduino_BMI270_BMM150.h>\n#else\n#include <Arduino_LSM9DS1.h>\n#endif\n",
            "",
            "  if (!IMU.begin()) {\n    stop_with(\"Failed to initialize the IMU (Rev2 boards: set TINYLAB_NANO_REV2 to 1)\");\n  }\n",
            NICLA_NANO_READ,
            vec!["Arduino_LSM9DS1", "Arduino_BMI270_BMM150"],
        ),
    };
    let scale = if accel_ms2 { g_to_ms2 } else { "1.0f" };
    let body = fill(
        MOTION_BODY,
        &[
            ("INCLUDES", includes.to_owned()),
            ("GLOBALS", globals.to_owned()),
            ("INIT", init.to_owned()),
            ("READ", read.to_owned()),
            ("AXES", axes.to_string()),
            ("ACCEL_SCALE", scale.to_owned()),
            ("RANGE_G", range_g.to_owned()),
            ("UNITS", if accel_ms2 { "m/s²" } else { "g" }.to_owned()),
        ],
    );
    (body, libraries)
}

/// Reads one reading with the Arduino IMU libraries' `IMU` object (g and °/s).
const NICLA_NANO_READ: &str = r#"static void read_imu(float *accel_g, float *gyro_dps) {
  while (!IMU.accelerationAvailable()) {
  }
  IMU.readAcceleration(accel_g[0], accel_g[1], accel_g[2]);
#if TINYLAB_AXES == 6
  while (!IMU.gyroscopeAvailable()) {
  }
  IMU.readGyroscope(gyro_dps[0], gyro_dps[1], gyro_dps[2]);
#else
  (void)gyro_dps;
#endif
}
"#;

/// Reads one reading with Seeed's LSM6DS3 library (g and °/s).
const XIAO_READ: &str = r#"static void read_imu(float *accel_g, float *gyro_dps) {
  accel_g[0] = imu.readFloatAccelX();
  accel_g[1] = imu.readFloatAccelY();
  accel_g[2] = imu.readFloatAccelZ();
#if TINYLAB_AXES == 6
  gyro_dps[0] = imu.readFloatGyroX();
  gyro_dps[1] = imu.readFloatGyroY();
  gyro_dps[2] = imu.readFloatGyroZ();
#else
  (void)gyro_dps;
#endif
}
"#;

const MOTION_BODY: &str = r#"@INCLUDES@
/* The project's readings: @AXES@ axes (accelerometer in @UNITS@, then the gyroscope in °/s
 * when there are 6), interleaved, at @RATE_HZ@ Hz. */
#define TINYLAB_AXES @AXES@
#define ACCEL_SCALE @ACCEL_SCALE@
/* The accelerometer range the lab uses; larger readings are clipped to it. */
#define MAX_ACCEPTED_G @RANGE_G@
#define INTERVAL_US @INTERVAL_US@UL
#if TINYLAB_RAW_LEN % TINYLAB_AXES != 0
#error "this library's window is not a whole number of readings of TINYLAB_AXES axes"
#endif

@GLOBALS@static float raw[TINYLAB_RAW_LEN];

@READ@
void setup() {
  Serial.begin(115200);
  while (!Serial) {
  }
@INIT@  Serial.println("Starting inferencing in 2 seconds...");
  delay(2000);
}

void loop() {
  Serial.println("Sampling...");
  unsigned long next_us = micros();
  for (size_t i = 0; i < TINYLAB_RAW_LEN; i += TINYLAB_AXES) {
    while ((long)(micros() - next_us) < 0) {
    }
    next_us += INTERVAL_US;
    float accel_g[3];
    float gyro_dps[3];
    read_imu(accel_g, gyro_dps);
    for (size_t a = 0; a < 3; ++a) {
      float g = accel_g[a];
      if (fabsf(g) > MAX_ACCEPTED_G) {
        g = copysignf(MAX_ACCEPTED_G, g);
      }
      raw[i + a] = g * ACCEL_SCALE;
    }
#if TINYLAB_AXES == 6
    for (size_t a = 0; a < 3; ++a) {
      raw[i + 3 + a] = gyro_dps[a];
    }
#endif
  }
  unsigned long start_us = micros();
  int status = tinylab_dsp(raw, TINYLAB_RAW_LEN, features);
  infer_and_print(status, micros() - start_us);
}
"#;

fn audio_body(kit: Kit) -> (String, Vec<&'static str>) {
    match kit {
        Kit::NiclaVision | Kit::Nano33BleSense => (PDM_BODY.to_owned(), vec![]),
        Kit::XiaoEsp32s3 => (XIAO_I2S_BODY.to_owned(), vec![]),
    }
}

/// The mbed cores' `PDM` library (Nicla's MP34DT05, the Nano 33 BLE Sense's MP34DT05/MP34DT06).
const PDM_BODY: &str = r#"#include <PDM.h>

/* One window of int16 samples at @RATE_HZ@ Hz, filled by the PDM callback. */
#define SAMPLE_RATE_HZ @RATE_HZ@
static int16_t samples[TINYLAB_RAW_LEN];
static volatile size_t samples_filled = TINYLAB_RAW_LEN;
static int16_t pdm_chunk[512];
static float raw[TINYLAB_RAW_LEN];

static void on_pdm_data() {
  int bytes = PDM.available();
  if (bytes > (int)sizeof(pdm_chunk)) {
    bytes = (int)sizeof(pdm_chunk);
  }
  int got = PDM.read(pdm_chunk, bytes);
  size_t count = (size_t)(got > 0 ? got : 0) / sizeof(int16_t);
  for (size_t i = 0; i < count && samples_filled < TINYLAB_RAW_LEN; ++i) {
    samples[samples_filled++] = pdm_chunk[i];
  }
}

void setup() {
  Serial.begin(115200);
  while (!Serial) {
  }
  PDM.onReceive(on_pdm_data);
  if (!PDM.begin(1, SAMPLE_RATE_HZ)) {
    stop_with("Failed to start the PDM microphone");
  }
  Serial.println("Starting inferencing in 2 seconds...");
  delay(2000);
}

void loop() {
  Serial.println("Recording...");
  samples_filled = 0;
  while (samples_filled < TINYLAB_RAW_LEN) {
    delay(1);
  }
  for (size_t i = 0; i < TINYLAB_RAW_LEN; ++i) {
    raw[i] = (float)samples[i];
  }
  unsigned long start_us = micros();
  int status = tinylab_dsp(raw, TINYLAB_RAW_LEN, features);
  infer_and_print(status, micros() - start_us);
}
"#;

/// The XIAO ESP32S3 Sense's PDM microphone through the esp32 core 2.0.x `I2S` library (the
/// book's core, 2.0.17): CLK on GPIO42, DATA on GPIO41, mono.
const XIAO_I2S_BODY: &str = r#"#include <I2S.h>
#include <esp32-hal-psram.h>

/* One window of int16 samples at @RATE_HZ@ Hz; esp32 core 2.0.17 (3.x renamed this API). */
#define SAMPLE_RATE_HZ @RATE_HZ@
#define PDM_CLOCK_PIN 42
#define PDM_DATA_PIN 41
static int16_t *samples;
static float *raw;

void setup() {
  Serial.begin(115200);
  while (!Serial) {
  }
  /* In PSRAM (Tools > PSRAM: "OPI PSRAM"): a second of audio does not fit beside the DSP. */
  samples = (int16_t *)ps_malloc(TINYLAB_RAW_LEN * sizeof(int16_t));
  raw = (float *)ps_malloc(TINYLAB_RAW_LEN * sizeof(float));
  if (samples == NULL || raw == NULL) {
    stop_with("No PSRAM for the audio window: enable Tools > PSRAM > OPI PSRAM");
  }
  I2S.setAllPins(-1, PDM_CLOCK_PIN, PDM_DATA_PIN, -1, -1);
  if (!I2S.begin(PDM_MONO_MODE, SAMPLE_RATE_HZ, 16)) {
    stop_with("Failed to start the PDM microphone on I2S");
  }
  Serial.println("Starting inferencing in 2 seconds...");
  delay(2000);
}

void loop() {
  Serial.println("Recording...");
  size_t filled = 0;
  while (filled < TINYLAB_RAW_LEN) {
    int bytes = I2S.read(samples + filled, (TINYLAB_RAW_LEN - filled) * sizeof(int16_t));
    if (bytes > 0) {
      filled += (size_t)bytes / sizeof(int16_t);
    }
  }
  for (size_t i = 0; i < TINYLAB_RAW_LEN; ++i) {
    raw[i] = (float)samples[i];
  }
  unsigned long start_us = micros();
  int status = tinylab_dsp(raw, TINYLAB_RAW_LEN, features);
  infer_and_print(status, micros() - start_us);
}
"#;

fn image_body(kit: Kit) -> (String, Vec<&'static str>) {
    let template = match kit {
        Kit::XiaoEsp32s3 => XIAO_CAMERA_BODY,
        Kit::NiclaVision | Kit::Nano33BleSense => NICLA_CAMERA_BODY,
    };
    (
        fill(template, &[("IMAGE_CHECK", IMAGE_CHECK.to_owned())]),
        vec![],
    )
}

const IMAGE_CHECK: &str = r#"#if !TINYLAB_DSP_IMAGE
#error "this example needs the library of an image project (TINYLAB_DSP_IMAGE)"
#endif
"#;

/// The XIAO ESP32S3 Sense's OV2640 through `esp_camera`, with the Sense board's pin map.
const XIAO_CAMERA_BODY: &str = r#"#include <esp_camera.h>
#include <img_converters.h>
#include <esp32-hal-psram.h>
@IMAGE_CHECK@
/* XIAO ESP32S3 Sense camera pins (the book's map). */
#define PWDN_GPIO_NUM -1
#define RESET_GPIO_NUM -1
#define XCLK_GPIO_NUM 10
#define SIOD_GPIO_NUM 40
#define SIOC_GPIO_NUM 39
#define Y9_GPIO_NUM 48
#define Y8_GPIO_NUM 11
#define Y7_GPIO_NUM 12
#define Y6_GPIO_NUM 14
#define Y5_GPIO_NUM 16
#define Y4_GPIO_NUM 18
#define Y3_GPIO_NUM 17
#define Y2_GPIO_NUM 15
#define VSYNC_GPIO_NUM 38
#define HREF_GPIO_NUM 47
#define PCLK_GPIO_NUM 13
#define FRAME_WIDTH 320
#define FRAME_HEIGHT 240

static uint8_t *rgb888;

void setup() {
  Serial.begin(115200);
  while (!Serial) {
  }
  camera_config_t config = {};
  config.pin_pwdn = PWDN_GPIO_NUM;
  config.pin_reset = RESET_GPIO_NUM;
  config.pin_xclk = XCLK_GPIO_NUM;
  config.pin_sscb_sda = SIOD_GPIO_NUM;
  config.pin_sscb_scl = SIOC_GPIO_NUM;
  config.pin_d7 = Y9_GPIO_NUM;
  config.pin_d6 = Y8_GPIO_NUM;
  config.pin_d5 = Y7_GPIO_NUM;
  config.pin_d4 = Y6_GPIO_NUM;
  config.pin_d3 = Y5_GPIO_NUM;
  config.pin_d2 = Y4_GPIO_NUM;
  config.pin_d1 = Y3_GPIO_NUM;
  config.pin_d0 = Y2_GPIO_NUM;
  config.pin_vsync = VSYNC_GPIO_NUM;
  config.pin_href = HREF_GPIO_NUM;
  config.pin_pclk = PCLK_GPIO_NUM;
  config.xclk_freq_hz = 20000000;
  config.ledc_timer = LEDC_TIMER_0;
  config.ledc_channel = LEDC_CHANNEL_0;
  config.pixel_format = PIXFORMAT_JPEG;
  config.frame_size = FRAMESIZE_QVGA;
  config.jpeg_quality = 12;
  config.fb_count = 1;
  config.fb_location = CAMERA_FB_IN_PSRAM;
  config.grab_mode = CAMERA_GRAB_WHEN_EMPTY;
  if (esp_camera_init(&config) != ESP_OK) {
    stop_with("Failed to initialize the camera (is it seated? PSRAM: OPI PSRAM?)");
  }
  rgb888 = (uint8_t *)ps_malloc(FRAME_WIDTH * FRAME_HEIGHT * 3);
  if (rgb888 == NULL) {
    stop_with("No PSRAM for the RGB frame: enable Tools > PSRAM > OPI PSRAM");
  }
  Serial.println("Starting inferencing in 2 seconds...");
  delay(2000);
}

void loop() {
  camera_fb_t *frame = esp_camera_fb_get();
  if (frame == NULL) {
    Serial.println("Camera capture failed");
    delay(1000);
    return;
  }
  size_t width = frame->width;
  size_t height = frame->height;
  bool converted = width == FRAME_WIDTH && height == FRAME_HEIGHT &&
                   fmt2rgb888(frame->buf, frame->len, frame->format, rgb888);
  esp_camera_fb_return(frame);
  if (!converted) {
    Serial.println("Could not convert the frame to RGB888");
    delay(1000);
    return;
  }
  /* fmt2rgb888 writes B, G, R: swap to R, G, B as the library expects. */
  for (size_t i = 0; i < width * height * 3; i += 3) {
    uint8_t blue = rgb888[i];
    rgb888[i] = rgb888[i + 2];
    rgb888[i + 2] = blue;
  }
  unsigned long start_us = micros();
  int status = tinylab_dsp_image(rgb888, width, height, features);
  infer_and_print(status, micros() - start_us);
}
"#;

/// The Nicla Vision's GC2145 through the mbed core's `camera.h`, QQVGA RGB565 (the frame and
/// its RGB888 copy fit the M7's RAM beside the model's arena).
const NICLA_CAMERA_BODY: &str = r#"#include <camera.h>
#include <gc2145.h>
@IMAGE_CHECK@
#define FRAME_WIDTH 160
#define FRAME_HEIGHT 120

static GC2145 galaxy_core;
static Camera cam(galaxy_core);
static FrameBuffer frame_buffer;
static uint8_t rgb888[FRAME_WIDTH * FRAME_HEIGHT * 3];

void setup() {
  Serial.begin(115200);
  while (!Serial) {
  }
  if (!cam.begin(CAMERA_R160x120, CAMERA_RGB565, 30)) {
    stop_with("Failed to initialize the GC2145 camera");
  }
  Serial.println("Starting inferencing in 2 seconds...");
  delay(2000);
}

void loop() {
  if (cam.grabFrame(frame_buffer, 3000) != 0) {
    Serial.println("Camera capture failed");
    delay(1000);
    return;
  }
  /* RGB565, high byte first, to RGB888 with the low bits filled from the high ones. */
  const uint8_t *pixels = frame_buffer.getBuffer();
  for (size_t i = 0; i < FRAME_WIDTH * FRAME_HEIGHT; ++i) {
    uint16_t p = (uint16_t)((pixels[2 * i] << 8) | pixels[2 * i + 1]);
    uint8_t r = (uint8_t)((p >> 11) & 0x1F);
    uint8_t g = (uint8_t)((p >> 5) & 0x3F);
    uint8_t b = (uint8_t)(p & 0x1F);
    rgb888[3 * i] = (uint8_t)((r << 3) | (r >> 2));
    rgb888[3 * i + 1] = (uint8_t)((g << 2) | (g >> 4));
    rgb888[3 * i + 2] = (uint8_t)((b << 3) | (b >> 2));
  }
  unsigned long start_us = micros();
  int status = tinylab_dsp_image(rgb888, FRAME_WIDTH, FRAME_HEIGHT, features);
  infer_and_print(status, micros() - start_us);
}
"#;
