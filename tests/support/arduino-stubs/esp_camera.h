/* Stub of esp32-camera's esp_camera.h (as bundled with the esp32 core 2.0.x): the config the
 * XIAO ESP32S3 Sense sketch fills, frame buffers. */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef int esp_err_t;
#define ESP_OK 0

typedef enum { LEDC_TIMER_0, LEDC_TIMER_1, LEDC_TIMER_2, LEDC_TIMER_3 } ledc_timer_t;
typedef enum {
  LEDC_CHANNEL_0,
  LEDC_CHANNEL_1,
  LEDC_CHANNEL_2,
  LEDC_CHANNEL_3,
  LEDC_CHANNEL_4,
  LEDC_CHANNEL_5,
  LEDC_CHANNEL_6,
  LEDC_CHANNEL_7
} ledc_channel_t;

typedef enum {
  PIXFORMAT_RGB565,
  PIXFORMAT_YUV422,
  PIXFORMAT_YUV420,
  PIXFORMAT_GRAYSCALE,
  PIXFORMAT_JPEG,
  PIXFORMAT_RGB888,
  PIXFORMAT_RAW,
  PIXFORMAT_RGB444,
  PIXFORMAT_RGB555,
} pixformat_t;

typedef enum {
  FRAMESIZE_96X96,
  FRAMESIZE_QQVGA,
  FRAMESIZE_QCIF,
  FRAMESIZE_HQVGA,
  FRAMESIZE_240X240,
  FRAMESIZE_QVGA,
  FRAMESIZE_CIF,
  FRAMESIZE_HVGA,
  FRAMESIZE_VGA,
  FRAMESIZE_SVGA,
  FRAMESIZE_XGA,
  FRAMESIZE_HD,
  FRAMESIZE_SXGA,
  FRAMESIZE_UXGA,
} framesize_t;

typedef enum { CAMERA_GRAB_WHEN_EMPTY, CAMERA_GRAB_LATEST } camera_grab_mode_t;
typedef enum { CAMERA_FB_IN_PSRAM, CAMERA_FB_IN_DRAM } camera_fb_location_t;

typedef struct {
  int pin_pwdn;
  int pin_reset;
  int pin_xclk;
  union {
    int pin_sccb_sda;
    int pin_sscb_sda;
  };
  union {
    int pin_sccb_scl;
    int pin_sscb_scl;
  };
  int pin_d7;
  int pin_d6;
  int pin_d5;
  int pin_d4;
  int pin_d3;
  int pin_d2;
  int pin_d1;
  int pin_d0;
  int pin_vsync;
  int pin_href;
  int pin_pclk;
  int xclk_freq_hz;
  ledc_timer_t ledc_timer;
  ledc_channel_t ledc_channel;
  pixformat_t pixel_format;
  framesize_t frame_size;
  int jpeg_quality;
  size_t fb_count;
  camera_fb_location_t fb_location;
  camera_grab_mode_t grab_mode;
  int sccb_i2c_port;
} camera_config_t;

typedef struct {
  long tv_sec;
  long tv_usec;
} camera_timestamp_t;

typedef struct {
  uint8_t *buf;
  size_t len;
  size_t width;
  size_t height;
  pixformat_t format;
  camera_timestamp_t timestamp;
} camera_fb_t;

#ifdef __cplusplus
extern "C" {
#endif
esp_err_t esp_camera_init(const camera_config_t *config);
esp_err_t esp_camera_deinit(void);
camera_fb_t *esp_camera_fb_get(void);
void esp_camera_fb_return(camera_fb_t *fb);
#ifdef __cplusplus
}
#endif
