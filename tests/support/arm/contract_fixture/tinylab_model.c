/* Test fixture: see tinylab_model.h. */
#include "tinylab_model.h"
#include "tinylab_dsp.h"
#include <math.h>
#include <string.h>

/* e^x for |x| < 80 from IEEE operations only (see tinylab_dsp.c): x = k ln2 + r, a degree-6
 * polynomial in r, and 2^k put into the exponent bits. */
static float fixture_expf(float x) {
    float k = roundf(x * 1.44269504f);
    float r = x - k * 0.693147181f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666667f + r * (0.0416666667f + r * (0.00833333333f + r * 0.00138888889f)))));
    uint32_t bits = (uint32_t)((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

const char *const tinylab_labels[TINYLAB_LABEL_COUNT] = {"idle", "lift", "maritime", "terrestrial"};
static const int8_t weights[TINYLAB_LABEL_COUNT][9] = {
    {12, -7, 33, 5, -90, 4, 21, 8, -3},   {-45, 60, 2, 17, 9, -28, 3, 77, 1},
    {5, 5, -19, 88, -2, 40, -66, 13, 9},  {70, -12, 8, -31, 24, 6, 15, -4, 52},
};
static const int32_t biases[TINYLAB_LABEL_COUNT] = {120, -340, 55, 910};
static int8_t arena[TINYLAB_ARENA_BYTES];
static float last_anomaly;

int tinylab_invoke_int8(const int8_t *input, int8_t *output) {
    for (int o = 0; o < TINYLAB_LABEL_COUNT; ++o) {
        int32_t acc = biases[o];
        for (int i = 0; i < 9; ++i) {
            acc += (int32_t)weights[o][i] * ((int32_t)input[i] + 3);
        }
        /* Multiplier 0.0123 as Q31 with a rounding right shift. */
        int64_t scaled = ((int64_t)acc * 26414364LL + (1LL << 30)) >> 31;
        int32_t q = (int32_t)scaled - 5;
        output[o] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
    }
    return 0;
}

int tinylab_infer(const float *features, float *scores) {
    int8_t *input = arena, *output = arena + 9;
    float distance = 0.0f;
    for (int i = 0; i < 9; ++i) {
        float q = roundf(features[i] / 0.05f) - 3.0f;
        input[i] = (int8_t)(q < -128.0f ? -128.0f : q > 127.0f ? 127.0f : q);
        distance += (features[i] - 1.0f) * (features[i] - 1.0f);
    }
    tinylab_invoke_int8(input, output);
    float max = -INFINITY, sum = 0.0f;
    for (int o = 0; o < TINYLAB_LABEL_COUNT; ++o) {
        scores[o] = 0.1f * (float)(output[o] + 5);
        max = scores[o] > max ? scores[o] : max;
    }
    for (int o = 0; o < TINYLAB_LABEL_COUNT; ++o) {
        scores[o] = fixture_expf(scores[o] - max);
        sum += scores[o];
    }
    for (int o = 0; o < TINYLAB_LABEL_COUNT; ++o) {
        scores[o] /= sum;
    }
    last_anomaly = sqrtf(distance) - 2.5f;
    scores[TINYLAB_LABEL_COUNT] = last_anomaly;
    return 0;
}

int tinylab_classify(const float *raw, size_t len, float *scores) {
    static float features[TINYLAB_FEATURES_LEN];
    int rc = tinylab_dsp(raw, len, features);
    return rc != 0 ? rc : tinylab_infer(features, scores);
}

float tinylab_anomaly_score(void) { return last_anomaly; }
