/*
 * Shared by the attack programs (tests/user/sysfuzz/, ipcfuzz/, ordeal/;
 * docs/TESTING.md): a seeded random sequence (splitmix64, the same on every
 * run for a seed), the frame counts a run compares against its start, and
 * argument parsing. Runtime programs only (printf, the pager's stubs).
 */
#ifndef USER_LIB_ATTACK_H
#define USER_LIB_ATTACK_H

#include <idl/names_client.h>
#include <idl/pager_client.h>
#include <libipc/syscall.h>
#include <startup.h>
#include <stdio.h>
#include <string.h>

/* splitmix64: one 64-bit state, every value a function of the seed and the step. */
struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* A value in [0, n) (n > 0). */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

/* One of the n values of a table. */
#define RNG_PICK(r, table) ((table)[rng_below((r), sizeof(table) / sizeof((table)[0]))])

/*
 * What must be the same before and after an attack: the pager's free
 * frames (with those it donated to the kernel's reserve, which left the
 * pool for good) and the kernel's pool mappings, page tables and objects.
 */
struct counts {
	uint64_t pool_free;
	uint64_t pool_mapped, mappings, page_tables, objects;
};

static inline int counts_take(mica_handle_t pager, struct counts *c)
{
	uint64_t f = 0, t = 0, d = 0;
	int32_t l = 0;
	struct pager_usage u;
	struct mica_mem_stats ms;
	int rc = pager_stats(pager, &f, &t, &l, &d, &u);

	if (rc < 0)
		return rc;
	if ((rc = (int)mica_mem_stats(&ms)) < 0)
		return rc;
	c->pool_free = f + d;
	c->pool_mapped = ms.pool_mapped;
	c->mappings = ms.mappings;
	c->page_tables = ms.page_tables;
	c->objects = ms.objects;
	return 0;
}

/*
 * Compare counts now with `was`, printing any difference as
 * "<who>: frames <name> <before> -> <after>"; returns how many differ.
 */
static inline int counts_diff(const char *who, const struct counts *was, const struct counts *now)
{
	int n = 0;
#define COUNTS_ONE(f)                                                                              \
	if (was->f != now->f) {                                                                    \
		printf("%s: frames " #f " %lu -> %lu\n", who, (unsigned long)was->f,               \
		       (unsigned long)now->f);                                                     \
		n++;                                                                               \
	}
	COUNTS_ONE(pool_free)
	COUNTS_ONE(pool_mapped)
	COUNTS_ONE(mappings)
	COUNTS_ONE(page_tables)
	COUNTS_ONE(objects)
#undef COUNTS_ONE
	return n;
}

/*
 * Wait until the counts equal `was` (orphans and killed processes end
 * asynchronously), yielding between looks, at most `tries` looks; 0 if they
 * came back, else the number of counts still different (printed).
 */
static inline int counts_settle(mica_handle_t pager, const char *who, const struct counts *was,
                                unsigned tries)
{
	struct counts now;

	for (unsigned i = 0; i < tries; i++) {
		if (counts_take(pager, &now) == 0 && memcmp(&now, was, sizeof(now)) == 0)
			return 0;
		mica_yield();
	}
	if (counts_take(pager, &now) < 0)
		return 1;
	return counts_diff(who, was, &now);
}

/* The value of argument `key=` as a number (decimal or 0x hex), or `def`. */
static inline uint64_t arg_num(int argc, char **argv, const char *key, uint64_t def)
{
	size_t k = strlen(key);

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], key, k) != 0 || argv[i][k] != '=')
			continue;
		const char *p = argv[i] + k + 1;
		uint64_t v = 0;

		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
			for (p += 2; *p; p++) {
				unsigned d = (*p >= '0' && *p <= '9')   ? (unsigned)(*p - '0')
				             : (*p >= 'a' && *p <= 'f') ? (unsigned)(*p - 'a' + 10)
				             : (*p >= 'A' && *p <= 'F') ? (unsigned)(*p - 'A' + 10)
				                                        : 16;
				if (d == 16)
					break;
				v = v * 16 + d;
			}
		} else {
			for (; *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (uint64_t)(*p - '0');
		}
		return v;
	}
	return def;
}

/* Is the word `w` among the arguments? */
static inline bool arg_has(int argc, char **argv, const char *w)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], w) == 0)
			return true;
	return false;
}

/* Wait for child pid (yielding while it runs); 0 and its end, or an error. */
static inline int child_wait(mica_handle_t pager, uint64_t pid, uint32_t *reason, uint64_t *code)
{
	int rc;

	while ((rc = pager_wait(pager, pid, reason, code)) == MICA_EAGAIN)
		mica_yield();
	return rc;
}

#endif /* USER_LIB_ATTACK_H */
