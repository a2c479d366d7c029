/* Reset for the emulated Cortex-M boards (QEMU mps2-an386 / mps2-an500): the vector table
 * (initial stack pointer, reset handler), the FPU switched on before any float instruction, and
 * SysTick started as the instruction counter (under `-icount shift=0` QEMU's virtual clock moves
 * one nanosecond per instruction, so SysTick's count follows the instructions executed).
 *
 * With TINYLAB_NO_NEWLIB the reset handler clears .bss and calls main itself (the footprint
 * build, which links no C runtime); otherwise it hands over to newlib's `_start` (rdimon.specs:
 * semihosting stdio, .bss cleared, exit code back to QEMU). */
#include <stdint.h>

extern uint32_t _stack_top;
void reset_handler(void);
static void fault_handler(void);

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &_stack_top, (const void *)reset_handler, (const void *)fault_handler,
    (const void *)fault_handler, (const void *)fault_handler, (const void *)fault_handler,
    (const void *)fault_handler,
};

#define CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

#ifdef TINYLAB_NO_NEWLIB
extern uint32_t __bss_start__, __bss_end__;
int main(void);
#else
void _start(void);
#endif

void reset_handler(void) {
    /* CP10 and CP11 full access: the FPU (fpv4-sp-d16 / fpv5-d16). */
    CPACR |= 0xFu << 20;
    __asm volatile("dsb\n\tisb" ::: "memory");
    /* SysTick: largest reload, processor clock, no interrupt, enabled. */
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5;
#ifdef TINYLAB_NO_NEWLIB
    for (uint32_t *p = &__bss_start__; p < &__bss_end__; ++p) {
        *p = 0;
    }
    (void)main();
    for (;;) {
    }
#else
    _start();
#endif
}

/* A fault stops the program where a debugger would see it; under QEMU the test's time limit
 * turns this into a failure that names the machine. */
static void fault_handler(void) {
    for (;;) {
    }
}
