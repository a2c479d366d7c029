/* Test fixture: see tinylab_dsp.h. It calls no libm transcendental: newlib's float logf/expf
 * on a Cortex-M4F (single-precision FPU) are the old fdlibm routines, which differ from glibc's
 * in 1-10 % of inputs (tests/cortex_m.rs measures it), so a bit-identical library computes them
 * itself from IEEE operations (+ - * / sqrt), which every FPU rounds the same way. */
#include "tinylab_dsp.h"
#include <math.h>
#include <string.h>

/* ln(x) for x > 0 normal: x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then 2*atanh((m-1)/(m+1))
 * as an odd series. */
static float fixture_logf(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)((bits >> 23) & 0xFF) - 127;
    bits = (bits & 0x007FFFFFu) | 0x3F800000u;
    float m;
    memcpy(&m, &bits, sizeof m);
    if (m > 1.41421356f) {
        m *= 0.5f;
        e += 1;
    }
    float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    float series = s * (2.0f + s2 * (0.666666667f + s2 * (0.4f + s2 * (0.285714286f + s2 * 0.222222222f))));
    return series + (float)e * 0.693147181f;
}

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
        features[a * 3 + 2] = fixture_logf(1.0f + energy);
    }
    return 0;
}
