/* Prints the bits of float libm results on a fixed pseudo-random set of inputs, so that a host
 * build and a Cortex-M build (newlib) can be compared function by function: which of them a
 * bit-identical C library may call. Lines: `NAME INDEX BITS`, then `done`. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define INPUTS 20000

static uint32_t bits_of(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

int main(void) {
    static const char *const names[] = {"logf", "expf", "sinf", "cosf", "powf", "log10f", "sqrtf", "tanhf"};
    for (int fn = 0; fn < 8; ++fn) {
        uint32_t state = 12345u;
        for (int i = 0; i < INPUTS; ++i) {
            state = state * 1664525u + 1013904223u;
            float unit = (float)(state >> 8) / 16777216.0f;
            /* Positive arguments (0.001 .. 40) for log, pow and sqrt; -20 .. 20 for the rest. */
            int positive = fn == 0 || fn == 4 || fn == 5 || fn == 6;
            float v = positive ? unit * 40.0f + 1e-3f : unit * 40.0f - 20.0f;
            float r;
            switch (fn) {
                case 0: r = logf(v); break;
                case 1: r = expf(v); break;
                case 2: r = sinf(v); break;
                case 3: r = cosf(v); break;
                case 4: r = powf(v, 0.37f); break;
                case 5: r = log10f(v); break;
                case 6: r = sqrtf(v); break;
                default: r = tanhf(v); break;
            }
            printf("%s %d %08lx\n", names[fn], i, (unsigned long)bits_of(r));
        }
    }
    printf("done\n");
    return 0;
}
