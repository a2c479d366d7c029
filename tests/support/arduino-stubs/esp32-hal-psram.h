/* Stub of the esp32 core's esp32-hal-psram.h. */
#pragma once
#include <stddef.h>

bool psramFound();
void *ps_malloc(size_t size);
void *ps_calloc(size_t n, size_t size);
