/* The smallest firmware that uses the library the way a sketch does: one raw window in, the
 * scores out, no C runtime (TINYLAB_NO_NEWLIB in startup.c) and no stdio. Linked with
 * --gc-sections, its ELF's text + rodata is the flash the library costs on the board (code,
 * weights, tables, the libm and libgcc routines it calls, plus ~100 bytes of vector table and
 * reset), and data + bss its static RAM (the library's buffers and arena, plus the raw window and
 * the scores a sketch needs anyway). The test only measures this ELF; it is not run. */
#include <stddef.h>

#include "tinylab_dsp.h"
#include "tinylab_model.h"

static float raw[TINYLAB_RAW_LEN];
static float scores[TINYLAB_LABEL_COUNT + 1];
volatile int footprint_result;

int main(void) {
    footprint_result = tinylab_classify(raw, TINYLAB_RAW_LEN, scores);
    return 0;
}
