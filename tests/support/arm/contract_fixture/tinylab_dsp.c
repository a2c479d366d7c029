/* Test fixture: see tinylab_dsp.h. */
#include "tinylab_dsp.h"
#include <math.h>

int tinylab_dsp(const float *raw, size_t len, float *features) {
    if (len != TINYLAB_RAW_LEN) {
        return TINYLAB_ERR_LEN;
    }
    const size_t axes = 3, readings = TINYLAB_RAW_LEN / 3;
    for (size_t a = 0; a < axes; ++a) {
        float sum = 0.0f, energy = 0.0f;
        for (size_t r = 0; r < readings; ++r) {
            float v = raw[r * axes + a];
            sum += v;
            energy += v * v;
        }
        float mean = sum / (float)readings;
        float var = energy / (float)readings - mean * mean;
        features[a * 3] = mean;
        features[a * 3 + 1] = sqrtf(var > 0.0f ? var : 0.0f);
        features[a * 3 + 2] = logf(1.0f + energy);
    }
    return 0;
}
