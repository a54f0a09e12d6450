// CRC-32C (Castagnoli) with the CPU's own instruction where there is one. CohortCore's
// CRC32C calls it and keeps a software path for CPUs without it.
#ifndef COHORT_CRC_H
#define COHORT_CRC_H

#include <stddef.h>
#include <stdint.h>

/// Nonzero when `cohort_crc32c_update` can run on this CPU (x86-64 with SSE 4.2).
int cohort_crc32c_hardware_available(void);

/// Updates the raw CRC-32C state `state` (no pre- or post-inversion) with `length` bytes at
/// `bytes`. Call only when `cohort_crc32c_hardware_available()` is nonzero.
uint32_t cohort_crc32c_update(uint32_t state, const void *bytes, size_t length);

#endif
