/* Host test harness of TinyLab's C library export (tests/c_library.rs builds and runs it).
 *
 *   harness int8  IN OUT   IN: windows of TINYLAB_INPUT_LEN int8; OUT: TINYLAB_OUTPUT_LEN int8
 *                          each, from tinylab_invoke_int8.
 *   harness float IN OUT   IN: windows of TINYLAB_INPUT_LEN float32 features; OUT: per window
 *                          TINYLAB_OUTPUT_LEN float32 scores from tinylab_infer, then the
 *                          anomaly score (or 0) as one more float32.
 *   harness raw   IN OUT   (built with -DTL_HARNESS_RAW) IN: windows of TINYLAB_RAW_LEN float32
 *                          raw values; OUT: per window TINYLAB_FEATURES_LEN float32 features
 *                          from tinylab_dsp, then the tinylab_classify scores and anomaly
 *                          score as in float mode.
 *   harness image IN OUT   (built with -DTL_HARNESS_IMAGE, image projects) IN: per image its
 *                          width and height as two uint32 then width * height * 3 bytes of
 *                          RGB888; OUT: per image the TINYLAB_FEATURES_LEN float32 features
 *                          from tinylab_dsp_image (the resize done in C), then the
 *                          tinylab_infer scores and anomaly score as in float mode.
 *
 * Files are little-endian host-order arrays; the exit status is 0, or 1 with a message.
 */
#include <stdio.h>
#include <string.h>

#include "tinylab_model.h"
#if defined(TL_HARNESS_RAW) || defined(TL_HARNESS_IMAGE)
#include "tinylab_dsp.h"
#endif

/* The largest frame the image mode reads (VGA). */
#define TL_HARNESS_MAX_PIXELS (640u * 480u)

static float anomaly_or_zero(void) {
#if TINYLAB_HAS_ANOMALY
    return tinylab_anomaly_score();
#else
    return 0.0f;
#endif
}

static int fail(const char *what) {
    fprintf(stderr, "harness: %s\n", what);
    return 1;
}

int main(int argc, char **argv) {
    FILE *in;
    FILE *out;
    int status = 0;
    if (argc != 4) {
        return fail("usage: harness int8|float|raw|image IN OUT");
    }
    in = fopen(argv[2], "rb");
    out = fopen(argv[3], "wb");
    if (in == NULL || out == NULL) {
        return fail("cannot open the files");
    }
    if (strcmp(argv[1], "int8") == 0) {
        static int8_t input[TINYLAB_INPUT_LEN];
        static int8_t output[TINYLAB_OUTPUT_LEN];
        while (fread(input, 1, sizeof input, in) == sizeof input) {
            status = tinylab_invoke_int8(input, output);
            if (status != 0) {
                return fail("tinylab_invoke_int8 failed");
            }
            fwrite(output, 1, sizeof output, out);
        }
    } else if (strcmp(argv[1], "float") == 0) {
        static float features[TINYLAB_INPUT_LEN];
        static float scores[TINYLAB_OUTPUT_LEN + 1];
        while (fread(features, sizeof(float), TINYLAB_INPUT_LEN, in) == TINYLAB_INPUT_LEN) {
            status = tinylab_infer(features, scores);
            if (status != 0) {
                return fail("tinylab_infer failed");
            }
            scores[TINYLAB_OUTPUT_LEN] = anomaly_or_zero();
            fwrite(scores, sizeof(float), TINYLAB_OUTPUT_LEN + 1, out);
        }
#ifdef TL_HARNESS_RAW
    } else if (strcmp(argv[1], "raw") == 0) {
        static float raw[TINYLAB_RAW_LEN];
        static float features[TINYLAB_FEATURES_LEN];
        static float scores[TINYLAB_OUTPUT_LEN + 1];
        while (fread(raw, sizeof(float), TINYLAB_RAW_LEN, in) == TINYLAB_RAW_LEN) {
            if (tinylab_dsp(raw, TINYLAB_RAW_LEN, features) != 0) {
                return fail("tinylab_dsp failed");
            }
            if (tinylab_classify(raw, TINYLAB_RAW_LEN, scores) != 0) {
                return fail("tinylab_classify failed");
            }
            scores[TINYLAB_OUTPUT_LEN] = anomaly_or_zero();
            fwrite(features, sizeof(float), TINYLAB_FEATURES_LEN, out);
            fwrite(scores, sizeof(float), TINYLAB_OUTPUT_LEN + 1, out);
        }
#endif
#ifdef TL_HARNESS_IMAGE
    } else if (strcmp(argv[1], "image") == 0) {
        static uint8_t rgb[TL_HARNESS_MAX_PIXELS * 3u];
        static float features[TINYLAB_FEATURES_LEN];
        static float scores[TINYLAB_OUTPUT_LEN + 1];
        uint32_t size[2];
        while (fread(size, sizeof(uint32_t), 2, in) == 2) {
            size_t bytes = (size_t)size[0] * (size_t)size[1] * 3u;
            if (bytes > sizeof rgb || fread(rgb, 1, bytes, in) != bytes) {
                return fail("an image record is too large or cut short");
            }
            if (tinylab_dsp_image(rgb, size[0], size[1], features) != 0) {
                return fail("tinylab_dsp_image failed");
            }
            if (tinylab_infer(features, scores) != 0) {
                return fail("tinylab_infer failed");
            }
            scores[TINYLAB_OUTPUT_LEN] = anomaly_or_zero();
            fwrite(features, sizeof(float), TINYLAB_FEATURES_LEN, out);
            fwrite(scores, sizeof(float), TINYLAB_OUTPUT_LEN + 1, out);
        }
#endif
    } else {
        return fail("the mode is int8, float, raw or image");
    }
    fclose(in);
    if (fclose(out) != 0) {
        return fail("cannot write the output");
    }
    return 0;
}
