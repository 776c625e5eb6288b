/* A fixed-seed random generator (splitmix64) for host tests: the same sequence on every host. */
#ifndef HOST_RNG_H
#define HOST_RNG_H

#include <stdint.h>

static uint64_t rng_state;

static inline void rng_seed(uint64_t seed)
{
	rng_state = seed;
}

static inline uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* A number in [0, n). */
static inline uint64_t rng_below(uint64_t n)
{
	return rng() % n;
}

#endif /* HOST_RNG_H */
