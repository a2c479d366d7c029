/* Test fixture with the contract's model interface (tinylab_model.h): an int8 dense layer
 * 9 -> 4 with TFLite-style requantization and a float softmax. Never shipped. */
#ifndef TINYLAB_MODEL_H
#define TINYLAB_MODEL_H
#include <stddef.h>
#include <stdint.h>
#define TINYLAB_LABEL_COUNT 4
#define TINYLAB_ARENA_BYTES 16
#define TINYLAB_HAS_ANOMALY 1
extern const char *const tinylab_labels[TINYLAB_LABEL_COUNT];
int tinylab_invoke_int8(const int8_t *input, int8_t *output);
int tinylab_infer(const float *features, float *scores);
int tinylab_classify(const float *raw, size_t len, float *scores);
float tinylab_anomaly_score(void);
#endif
