/*
 * The buddy allocator's cost in instructions (make bench: buddy.order0.pair,
 * buddy.order9.pair): servers/pager/buddy.c built for the host with the
 * pager's code-generation flags, driven here and counted by valgrind's
 * callgrind (tools/bench.py runs it with --toggle-collect=measured_pair, so
 * only the measured pairs count).
 *
 * A 1 GiB pool kept about half full with blocks of random orders 0-9 (fixed
 * seed): between two measured pairs a few unmeasured steps free a random
 * block or allocate one, so every pair meets a different, realistic
 * layout. A pair is buddy_alloc at the order and buddy_free of the block it
 * gave. After each batch of PAIRS pairs the driver asks callgrind to dump
 * its counts, named after the figure; tools/bench.py takes the median batch.
 * Run natively (no valgrind) it only checks that every call succeeds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <valgrind/callgrind.h>

#include <mica/error.h>
#include "servers/pager/buddy.h"
#include "rng.h"

#define BASE      256ULL       /* first frame of the span: 1 MiB, as a pool would start */
#define NFRAMES   (1ULL << 18) /* 1 GiB of 4 KiB frames */
#define MAX_ORDER 9            /* random blocks: orders 0 to 9 */
#define BATCHES   9
#define PAIRS     1000
#define CHURN     4 /* unmeasured steps before each measured pair */

static struct buddy b;
static struct {
	uint64_t frame;
	unsigned order;
} held[NFRAMES]; /* the blocks allocated now */
static uint64_t nheld;

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_buddy: %s failed: %d\n", what, rc);
	exit(1);
}

/* One unmeasured step towards half full: allocate a random block, or free a random one. */
static void churn(void)
{
	if (buddy_free_count(&b) > NFRAMES / 2 || nheld == 0) {
		unsigned order = (unsigned)rng_below(MAX_ORDER + 1);
		uint64_t f;
		int rc = buddy_alloc(&b, order, &f);

		if (rc == MICA_ENOMEM)
			return;
		if (rc < 0)
			die("buddy_alloc", rc);
		held[nheld].frame = f;
		held[nheld++].order = order;
		return;
	}
	uint64_t i = rng_below(nheld);
	int rc = buddy_free(&b, held[i].frame, held[i].order);

	if (rc < 0)
		die("buddy_free", rc);
	held[i] = held[--nheld];
}

/* What is counted: one allocation at `order` and the free of the block it gave. */
__attribute__((noipa)) static int measured_pair(unsigned order)
{
	uint64_t f;
	int rc = buddy_alloc(&b, order, &f);

	if (rc < 0)
		return rc;
	return buddy_free(&b, f, order);
}

static void figure(const char *name, unsigned order)
{
	for (int batch = 0; batch < BATCHES; batch++) {
		for (int i = 0; i < PAIRS; i++) {
			for (int c = 0; c < CHURN; c++)
				churn();
			int rc = measured_pair(order);

			if (rc < 0)
				die(name, rc);
		}
		CALLGRIND_DUMP_STATS_AT(name);
	}
	printf("%s batches=%d pairs=%d\n", name, BATCHES, PAIRS);
}

int main(void)
{
	size_t bytes = buddy_meta_size(BASE, NFRAMES);
	void *meta = calloc(1, bytes);
	int rc;

	if (!meta)
		die("calloc", 0);
	if ((rc = buddy_init(&b, meta, bytes, BASE, NFRAMES)) < 0)
		die("buddy_init", rc);
	if ((rc = buddy_add_range(&b, BASE, NFRAMES)) < 0)
		die("buddy_add_range", rc);
	rng_seed(1);
	while (buddy_free_count(&b) > NFRAMES / 2)
		churn();
	for (int i = 0; i < 100000; i++)
		churn();
	figure("buddy.order0.pair", 0);
	figure("buddy.order9.pair", 9);
	printf("free %llu of %llu frames, %llu blocks held\n",
	       (unsigned long long)buddy_free_count(&b), (unsigned long long)NFRAMES,
	       (unsigned long long)nheld);
	free(meta);
	return 0;
}
