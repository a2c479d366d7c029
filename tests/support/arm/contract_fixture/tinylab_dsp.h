/* A small library with the C library contract's interface (tinylab_dsp.h), for testing the
 * cross-compile / QEMU / Arduino path on its own: per-axis mean, standard deviation and log
 * energy of a 3-axis window of 100 readings. The exported library replaces it in the tests once
 * the real generator is available; this file is a test fixture, never shipped. */
#ifndef TINYLAB_DSP_H
#define TINYLAB_DSP_H
#include <stddef.h>
#include <stdint.h>
#define TINYLAB_RAW_LEN 300
#define TINYLAB_FEATURES_LEN 9
#define TINYLAB_DSP_IMAGE 0
#define TINYLAB_ERR_LEN (-1)
int tinylab_dsp(const float *raw, size_t len, float *features);
#endif
