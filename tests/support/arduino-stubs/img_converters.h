/* Stub of esp32-camera's img_converters.h. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "esp_camera.h"

#ifdef __cplusplus
extern "C" {
#endif
bool fmt2rgb888(const uint8_t *src_buf, size_t src_len, pixformat_t format, uint8_t *rgb_buf);
bool fmt2jpg(uint8_t *src, size_t src_len, uint16_t width, uint16_t height, pixformat_t format,
             uint8_t quality, uint8_t **out, size_t *out_len);
#ifdef __cplusplus
}
#endif
