#include "CohortCRC.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

int cohort_crc32c_hardware_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSE4_2) != 0;
}

__attribute__((target("sse4.2")))
uint32_t cohort_crc32c_update(uint32_t state, const void *bytes, size_t length) {
    const unsigned char *next = bytes;
    uint64_t wide = state;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, next, sizeof word);
        wide = __builtin_ia32_crc32di(wide, word);
        next += 8;
        length -= 8;
    }
    uint32_t narrow = (uint32_t)wide;
    while (length > 0) {
        narrow = __builtin_ia32_crc32qi(narrow, *next);
        next += 1;
        length -= 1;
    }
    return narrow;
}

#else

int cohort_crc32c_hardware_available(void) { return 0; }

uint32_t cohort_crc32c_update(uint32_t state, const void *bytes, size_t length) {
    (void)bytes;
    (void)length;
    return state;
}

#endif
