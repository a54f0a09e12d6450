// Prefetch hints (C: Swift has no way to emit the CPU's prefetch instruction). CohortStorage's
// point table uses them so that a pipeline's index lookups wait for memory together. Also the
// allocator's trim, which Swift's Glibc module does not export.
#ifndef COHORT_PREFETCH_H
#define COHORT_PREFETCH_H

#if defined(__linux__)
#include <malloc.h>
#endif

/// Asks the CPU to bring the cache line holding `address` close, for reading. Only a hint: it
/// never faults, whatever the address, and changes no state a program can observe.
static inline void cohort_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Gives the pages of freed memory back to the operating system (glibc's `malloc_trim`);
/// nothing elsewhere. The storage engine calls it after building its index, whose temporary
/// buffers lie freed between the slots that stay.
static inline void cohort_release_free_memory(void) {
#if defined(__linux__)
    malloc_trim(0);
#endif
}

#endif
