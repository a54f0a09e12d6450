// Prefetch hints (C: Swift has no way to emit the CPU's prefetch instruction). CohortStorage's
// point table uses them so that a pipeline's index lookups wait for memory together.
#ifndef COHORT_PREFETCH_H
#define COHORT_PREFETCH_H

/// Asks the CPU to bring the cache line holding `address` close, for reading. Only a hint: it
/// never faults, whatever the address, and changes no state a program can observe.
static inline void cohort_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
