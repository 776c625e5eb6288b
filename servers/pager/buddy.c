/*
 * Buddy allocator over the user pool: per-order free and allocated bitmaps
 * with a summary tree over each free bitmap (buddy.h has the design).
 *
 * Positions: at order k, frame f (aligned to 2^k) is position
 * (f >> k) - order[k].first, where first = base >> k. Every bitmap covers
 * exactly the aligned blocks that meet the span, so no bit stands for a
 * frame below base, whatever base's alignment. The public functions and
 * their errors are described in buddy.h.
 */
#include "buddy.h"

#define WORD 64

static inline uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* Index of the lowest set bit; x != 0. A single instruction on x86_64. */
static inline unsigned lowest_bit(uint64_t x)
{
	return (unsigned)__builtin_ctzll(x);
}

/* Set bits in x, without libgcc (its popcount helper is not linked). */
static uint64_t popcount(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

static inline bool test_bit(const uint64_t *map, uint64_t i)
{
	return (map[i / WORD] >> (i % WORD)) & 1;
}

static inline uint64_t block_frames(unsigned k)
{
	return 1ULL << k;
}

/* Is the span valid: not empty, not too large, below BUDDY_FRAME_END? */
static int span_valid(uint64_t base, uint64_t nframes)
{
	if (nframes == 0 || nframes > BUDDY_MAX_FRAMES)
		return MICA_EINVAL;
	if (base >= BUDDY_FRAME_END || nframes > BUDDY_FRAME_END - base)
		return MICA_ERANGE;
	return MICA_OK;
}

/*
 * The shape of order k's bitmaps over the span: positions, words per
 * summary level, level count. Returns the words they need (free levels
 * plus the allocated bitmap).
 */
static uint64_t order_shape(uint64_t base, uint64_t nframes, unsigned k, struct buddy_order *o)
{
	uint64_t words;

	o->first = base >> k;
	o->nbits = ((base + nframes - 1) >> k) - o->first + 1;
	o->nwords[0] = div_up(o->nbits, WORD);
	words = 2 * o->nwords[0];
	o->levels = 1;
	while (o->nwords[o->levels - 1] > 1) {
		o->nwords[o->levels] = div_up(o->nwords[o->levels - 1], WORD);
		words += o->nwords[o->levels];
		o->levels++;
	}
	return words;
}

size_t buddy_meta_size(uint64_t base, uint64_t nframes)
{
	struct buddy_order o;
	uint64_t words = 0;

	if (span_valid(base, nframes) != MICA_OK)
		return 0;
	for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++)
		words += order_shape(base, nframes, k, &o);
	return words * sizeof(uint64_t);
}

int buddy_init(struct buddy *b, void *meta, size_t meta_size, uint64_t base, uint64_t nframes)
{
	uint64_t *next = meta;
	int err;

	/* Pointers present, metadata word-aligned, span sane and covered. */
	if (b == NULL || meta == NULL || (uintptr_t)meta % sizeof(uint64_t) != 0)
		return MICA_EINVAL;
	err = span_valid(base, nframes);
	if (err != MICA_OK)
		return err;
	if (meta_size < buddy_meta_size(base, nframes))
		return MICA_ENOMEM;

	b->base = base;
	b->nframes = nframes;
	b->pool = 0;
	b->nfree = 0;
	b->stale = BUDDY_NO_STALE;
	for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++) {
		struct buddy_order *o = &b->order[k];
		uint64_t words = order_shape(base, nframes, k, o);

		for (uint64_t w = 0; w < words; w++)
			next[w] = 0;
		o->nfree = 0;
		o->hint = 0;
		o->alloc = next;
		next += o->nwords[0];
		for (unsigned l = 0; l < BUDDY_LEVELS; l++) {
			o->free[l] = l < o->levels ? next : NULL;
			next += l < o->levels ? o->nwords[l] : 0;
		}
	}
	return MICA_OK;
}

static inline bool in_span(const struct buddy *b, uint64_t f)
{
	return f >= b->base && f - b->base < b->nframes;
}

/* Position of the 2^k-aligned frame f, which lies in the span. */
static inline uint64_t pos(const struct buddy *b, unsigned k, uint64_t f)
{
	return (f >> k) - b->order[k].first;
}

static inline bool is_free_at(const struct buddy *b, unsigned k, uint64_t f)
{
	return test_bit(b->order[k].free[0], pos(b, k, f));
}

static inline bool is_alloc_at(const struct buddy *b, unsigned k, uint64_t f)
{
	return test_bit(b->order[k].alloc, pos(b, k, f));
}

/* Mark a free block at position i, setting summary bits up to the first word that was non-empty. */
static void free_set(struct buddy_order *o, uint64_t i)
{
	if (i / WORD < o->hint)
		o->hint = i / WORD;
	for (unsigned l = 0; l < o->levels; l++) {
		uint64_t *w = &o->free[l][i / WORD];
		bool was_empty = *w == 0;

		*w |= 1ULL << (i % WORD);
		if (!was_empty)
			return;
		i /= WORD;
	}
}

/* Clear bit w of summary level l (the word below went empty), and upwards while words go empty. */
static void summary_clear(struct buddy_order *o, unsigned l, uint64_t w)
{
	for (; l < o->levels; l++) {
		uint64_t *s = &o->free[l][w / WORD];

		*s &= ~(1ULL << (w % WORD));
		if (*s != 0)
			return;
		w /= WORD;
	}
}

/* Unmark the free block at position i, clearing summary bits while words become empty. */
static void free_clear(struct buddy_order *o, uint64_t i)
{
	summary_clear(o, 0, i);
}

/*
 * Bring order 0's summaries up to date with its stale word, if there is
 * one: clear the word's bit in the level above, and upwards. Every
 * operation that changes the bitmaps does this first (after its checks),
 * except the two fast paths, so after a free or an added range there is no
 * stale word (the state is the same whatever the history).
 */
static void stale_flush(struct buddy *b)
{
	if (b->stale != BUDDY_NO_STALE)
		summary_clear(&b->order[0], 1, b->stale);
	b->stale = BUDDY_NO_STALE;
}

/*
 * The fast paths' summary work, last and by a tail call (so their usual
 * case saves no registers): a word went empty (clear its bit in the level
 * above, and upwards while words go empty), or an empty word has a block
 * now (set it, and upwards while words were empty). MICA_OK.
 */
static __attribute__((noinline)) int summary_went_empty(struct buddy_order *o, uint64_t w)
{
	summary_clear(o, 1, w);
	return MICA_OK;
}

static __attribute__((noinline)) int summary_went_used(struct buddy_order *o, uint64_t w)
{
	for (unsigned l = 1; l < o->levels; l++) {
		uint64_t *s = &o->free[l][w / WORD], y = *s;

		*s = y | 1ULL << (w % WORD);
		if (y != 0)
			break;
		w /= WORD;
	}
	return MICA_OK;
}

/*
 * The summary work at the end of buddy_free's fast path, by a tail call:
 * settle the stale word (a free leaves none), and set the summary bits of
 * w, o's word the block went into, if it was empty (x). MICA_OK.
 */
static __attribute__((noinline)) int free_settle(struct buddy *b, struct buddy_order *o, uint64_t w,
                                                 uint64_t x)
{
	stale_flush(b);
	if (x == 0)
		summary_went_used(o, w);
	return MICA_OK;
}

/*
 * The lowest free position of an order with o->nfree > 0 whose hint word
 * is empty: one word per level of the summary, top down. The hint moves
 * up to the word found.
 */
static uint64_t free_lowest(struct buddy_order *o)
{
	uint64_t i = 0;

	for (unsigned l = o->levels; l-- > 0;)
		i = i * WORD + lowest_bit(o->free[l][i]);
	o->hint = i / WORD;
	return i;
}

/*
 * Put the block (f, k), not marked anywhere, on the free bitmaps, merging
 * it with its buddy while the buddy is a free block of the same order.
 * Full coalescing holds afterwards if it held before. No stale word.
 */
static void release(struct buddy *b, uint64_t f, unsigned k)
{
	while (k < BUDDY_MAX_ORDER) {
		uint64_t buddy = f ^ block_frames(k);

		if (!in_span(b, buddy) || !is_free_at(b, k, buddy))
			break;
		free_clear(&b->order[k], pos(b, k, buddy));
		b->order[k].nfree--;
		f &= ~block_frames(k);
		k++;
	}
	free_set(&b->order[k], pos(b, k, f));
	b->order[k].nfree++;
}

/*
 * Find the block holding frame f (in the span): blocks are aligned, so it
 * starts at f rounded down to some order. MICA_EFRAME if there is none.
 */
static int block_of(const struct buddy *b, uint64_t f, uint64_t *start, unsigned *order,
                    bool *is_free)
{
	for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++) {
		uint64_t s = f & ~(block_frames(k) - 1);

		if (s < b->base)
			break;
		if (is_free_at(b, k, s) || is_alloc_at(b, k, s)) {
			*start = s;
			*order = k;
			*is_free = is_free_at(b, k, s);
			return MICA_OK;
		}
	}
	return MICA_EFRAME;
}

/* Are bits [lo, hi) of map all clear? Word at a time. */
static bool bits_clear(const uint64_t *map, uint64_t lo, uint64_t hi)
{
	while (lo < hi) {
		uint64_t n = WORD - lo % WORD;
		uint64_t mask;

		if (n > hi - lo)
			n = hi - lo;
		mask = (n == WORD ? ~0ULL : ((1ULL << n) - 1)) << (lo % WORD);
		if (map[lo / WORD] & mask)
			return false;
		lo += n;
	}
	return true;
}

/* Does no block of the pool meet the aligned block (f, k)? */
static bool block_unused(const struct buddy *b, uint64_t f, unsigned k)
{
	/* No block holds it: none starts at f rounded down to order k or above. */
	for (unsigned j = k; j <= BUDDY_MAX_ORDER; j++) {
		uint64_t s = f & ~(block_frames(j) - 1);

		if (s < b->base)
			break;
		if (is_free_at(b, j, s) || is_alloc_at(b, j, s))
			return false;
	}
	/* No smaller block starts inside it: its 2^(k-j) positions at each order j are clear. */
	for (unsigned j = 0; j < k; j++) {
		uint64_t lo = pos(b, j, f), hi = lo + (1ULL << (k - j));

		if (!bits_clear(b->order[j].free[0], lo, hi) ||
		    !bits_clear(b->order[j].alloc, lo, hi))
			return false;
	}
	return true;
}

/*
 * Split [first, first + count) into the largest aligned blocks, in address
 * order: the next block is as large as both first's alignment and the
 * frames left allow.
 */
static unsigned next_block(uint64_t first, uint64_t count)
{
	unsigned k = 0;

	while (k < BUDDY_MAX_ORDER && (first & block_frames(k)) == 0 &&
	       block_frames(k + 1) <= count)
		k++;
	return k;
}

int buddy_add_range(struct buddy *b, uint64_t first, uint64_t count)
{
	uint64_t f, left;
	unsigned k;

	/* Not empty, and inside the span. */
	if (count == 0)
		return MICA_EINVAL;
	if (!in_span(b, first) || count > b->nframes - (first - b->base))
		return MICA_ERANGE;
	/* No frame of it is in the pool yet. */
	for (f = first, left = count; left > 0; f += block_frames(k), left -= block_frames(k)) {
		k = next_block(f, left);
		if (!block_unused(b, f, k))
			return MICA_EEXIST;
	}

	stale_flush(b);
	for (f = first, left = count; left > 0; f += block_frames(k), left -= block_frames(k)) {
		k = next_block(f, left);
		b->pool += block_frames(k);
		b->nfree += block_frames(k);
		release(b, f, k);
	}
	return MICA_OK;
}

/*
 * Take the lowest free block of order k (b->order[k].nfree > 0, no stale
 * word) off the free bitmap: its position. The hint's word holds it when
 * it is not empty (no word below the hint has a free block); else the
 * summary tree is descended, one word per level, and the hint moves to
 * the word found.
 */
static uint64_t free_take(struct buddy *b, unsigned k)
{
	struct buddy_order *o = &b->order[k];
	uint64_t w = o->hint, x = o->free[0][w];

	if (x == 0) {
		w = free_lowest(o) / WORD;
		x = o->free[0][w];
	}
	o->free[0][w] = x & (x - 1);
	if ((x & (x - 1)) == 0)
		summary_clear(o, 1, w);
	o->nfree--;
	return w * WORD + lowest_bit(x);
}

/*
 * The last split of an order-0 allocation: frame position i (the upper
 * half of an order-1 block) goes free at order 0. When it lies in the
 * stale word, that word's summary bits are set already: the bit alone,
 * and the word is no longer stale (the usual case when frames are taken
 * one after another: the word that went empty has the next block).
 * Otherwise the stale word is settled, and i set as usual.
 */
static inline void split_to_frame(struct buddy *b, uint64_t i)
{
	struct buddy_order *o = &b->order[0];

	if (i / WORD == b->stale) {
		b->stale = BUDDY_NO_STALE;
		o->free[0][i / WORD] |= 1ULL << (i % WORD);
		if (i / WORD < o->hint)
			o->hint = i / WORD;
	} else {
		stale_flush(b);
		free_set(o, i);
	}
	o->nfree++;
}

/*
 * buddy_alloc when the order has no free block (its arguments checked):
 * a larger one is split, the upper halves staying free. MICA_ENOMEM when
 * no order from order up has a free block.
 */
static __attribute__((noinline)) int alloc_slow(struct buddy *b, unsigned order, uint64_t *frame)
{
	unsigned k;
	uint64_t f;

	for (k = order; k <= BUDDY_MAX_ORDER && b->order[k].nfree == 0; k++)
		;
	if (k > BUDDY_MAX_ORDER)
		return MICA_ENOMEM;
	/* k > order >= 0: the stale word (order 0's) is settled below, not here. */
	f = (b->order[k].first + free_take(b, k)) << k;
	/* The halves above order 1 (above order, if larger); order 0's last. */
	while (k > (order ? order : 1)) {
		k--;
		free_set(&b->order[k], pos(b, k, f + block_frames(k)));
		b->order[k].nfree++;
	}
	if (order == 0)
		split_to_frame(b, pos(b, 0, f + 1));
	else
		stale_flush(b);
	b->order[order].alloc[pos(b, order, f) / WORD] |= 1ULL << (pos(b, order, f) % WORD);
	b->nfree -= block_frames(order);
	*frame = f;
	return MICA_OK;
}

/*
 * Take the lowest free block of an order from x, the hint's word w (not
 * empty). The block's position is w * WORD + lowest_bit(x): the same word
 * and bit in the allocated bitmap. When the word goes empty at order 0 and
 * no word is stale, its summary bits are left set: it becomes the stale
 * word, which the usual next step, the frame coming back, finds so.
 * Otherwise the summary work is done last, by a tail call.
 */
static inline int alloc_from(struct buddy *b, unsigned order, uint64_t w, uint64_t x,
                             uint64_t *frame)
{
	struct buddy_order *o = &b->order[order];
	uint64_t rest = x & (x - 1);

	o->free[0][w] = rest;
	o->alloc[w] |= x ^ rest;
	o->nfree--;
	b->nfree -= block_frames(order);
	*frame = (o->first + w * WORD + lowest_bit(x)) << order;
	if (rest != 0)
		return MICA_OK;
	if (order != 0 || b->stale != BUDDY_NO_STALE)
		return summary_went_empty(o, w);
	b->stale = w;
	return MICA_OK;
}

/*
 * buddy_alloc when the hint's word is empty: descend the summary tree to
 * the lowest non-empty word (the stale word settled first, as the tree
 * leads to it), or split a larger block when the order has none.
 */
static __attribute__((noinline)) int alloc_descend(struct buddy *b, unsigned order, uint64_t *frame)
{
	struct buddy_order *o = &b->order[order];
	uint64_t w;

	if (o->nfree == 0)
		return alloc_slow(b, order, frame);
	stale_flush(b);
	w = free_lowest(o) / WORD;
	return alloc_from(b, order, w, o->free[0][w], frame);
}

/*
 * The fast path handles the usual case with no call but tail calls (so no
 * registers to save): the hint's word has a free block of this order.
 */
static inline __attribute__((always_inline)) int alloc_fast(struct buddy *b, unsigned order,
                                                            uint64_t *frame)
{
	struct buddy_order *o;
	uint64_t w, x;

	o = &b->order[order];
	w = o->hint;
	x = o->free[0][w];
	if (x == 0)
		return alloc_descend(b, order, frame);
	return alloc_from(b, order, w, x, frame);
}

/* The fast path for any order but 0, out of line (buddy_alloc keeps order 0's registers few). */
static __attribute__((noinline)) int alloc_any(struct buddy *b, unsigned order, uint64_t *frame)
{
	return alloc_fast(b, order, frame);
}

int buddy_alloc(struct buddy *b, unsigned order, uint64_t *frame)
{
	/* A known order and somewhere to put the answer. */
	if (order > BUDDY_MAX_ORDER || frame == NULL)
		return MICA_EINVAL;
	if (order != 0)
		return alloc_any(b, order, frame);
	return alloc_fast(b, 0, frame); /* the pager's usual order, compiled for it */
}

/*
 * Why frame cannot be freed as a block of this order (it is in the span):
 * the error buddy_free gives, from the block that holds it.
 */
static int free_refusal(const struct buddy *b, uint64_t frame, unsigned order)
{
	uint64_t start;
	unsigned k;
	bool is_free;

	if (block_of(b, frame, &start, &k, &is_free) != MICA_OK)
		return MICA_EFRAME;
	if (is_free)
		return MICA_ENOENT;
	if (start != frame)
		return MICA_EBUSY;
	return k != order ? MICA_EINVAL : MICA_OK;
}

/*
 * buddy_free off the fast path: every check in the documented order (a
 * refusal changes nothing), then the block merged with free buddies
 * upwards.
 */
static __attribute__((noinline)) int free_slow(struct buddy *b, uint64_t frame, unsigned order)
{
	uint64_t i;

	/* A known order, a frame of the span. */
	if (order > BUDDY_MAX_ORDER)
		return MICA_EINVAL;
	if (!in_span(b, frame))
		return MICA_ERANGE;
	/*
	 * A frame of the pool, allocated, the first of its block, with that
	 * order. Blocks never overlap, so an allocated block of this order
	 * starting at frame is all of that: one bit. Only when it is clear
	 * are the orders searched, for the precise error.
	 */
	i = pos(b, order, frame);
	if ((frame & (block_frames(order) - 1)) != 0 || i >= b->order[order].nbits ||
	    !test_bit(b->order[order].alloc, i)) {
		int err = free_refusal(b, frame, order);

		return err != MICA_OK ? err
		                      : MICA_EINVAL; /* MICA_OK cannot happen: the bit is clear */
	}
	stale_flush(b);
	b->order[order].alloc[i / WORD] &= ~(1ULL << (i % WORD));
	b->nfree += block_frames(order);
	release(b, frame, order);
	return MICA_OK;
}

/*
 * The fast path handles the usual case with no call but tail calls (so no
 * registers to save): a block of this order allocated at frame, and its
 * buddy not free (no merge). If its word was empty, its summary bits are
 * set last by a tail call, unless it is order 0's stale word, whose bits
 * are set already. Everything else, refusals included, goes to free_slow,
 * which checks again in the documented order.
 */
static inline __attribute__((always_inline)) int free_fast(struct buddy *b, uint64_t frame,
                                                           unsigned order)
{
	struct buddy_order *o;
	uint64_t p, i, j, w, bit, a, x, hint;

	if (order >= BUDDY_MAX_ORDER)
		return free_slow(b, frame, order);
	/* Everything is read before anything is written (the compiler need not reload). */
	o = &b->order[order];
	p = frame >> order;
	i = p - o->first;
	w = i / WORD;
	bit = 1ULL << (i % WORD);
	/* Allocated at frame with this order: aligned, a position, its bit set. */
	if ((p << order) != frame || i >= o->nbits)
		return free_slow(b, frame, order);
	a = o->alloc[w];
	if ((a & bit) == 0)
		return free_slow(b, frame, order);
	/*
	 * No free buddy (no merge). With first even the buddy's position is
	 * i ^ 1, a bit of the same word (past the last position a bit is
	 * never set); else it may be in the next or previous word, or none.
	 */
	x = o->free[0][w];
	if ((o->first & 1) == 0) {
		if ((x >> ((i ^ 1) % WORD)) & 1)
			return free_slow(b, frame, order);
	} else {
		j = (p ^ 1) - o->first;
		if (j < o->nbits && test_bit(o->free[0], j))
			return free_slow(b, frame, order);
	}
	hint = o->hint;
	o->alloc[w] = a & ~bit;
	o->free[0][w] = x | bit;
	o->hint = w < hint ? w : hint;
	o->nfree++;
	b->nfree += block_frames(order);
	if (x != 0 && b->stale == BUDDY_NO_STALE)
		return MICA_OK;
	if (x == 0 && order == 0 && w == b->stale) {
		b->stale = BUDDY_NO_STALE; /* the stale word: its summary bits are set */
		return MICA_OK;
	}
	return free_settle(b, o, w, x);
}

/* The fast path for any order but 0, out of line (buddy_free keeps order 0's registers few). */
static __attribute__((noinline)) int free_any(struct buddy *b, uint64_t frame, unsigned order)
{
	return free_fast(b, frame, order);
}

int buddy_free(struct buddy *b, uint64_t frame, unsigned order)
{
	if (order != 0)
		return free_any(b, frame, order);
	return free_fast(b, frame, 0); /* the pager's usual order, compiled for it */
}

int buddy_block(const struct buddy *b, uint64_t frame, uint64_t *start, unsigned *order,
                bool *is_free)
{
	uint64_t s;
	unsigned k;
	bool fr;

	if (!in_span(b, frame))
		return MICA_ERANGE;
	if (block_of(b, frame, &s, &k, &fr) != MICA_OK)
		return MICA_EFRAME;
	if (start != NULL)
		*start = s;
	if (order != NULL)
		*order = k;
	if (is_free != NULL)
		*is_free = fr;
	return MICA_OK;
}

uint64_t buddy_free_count(const struct buddy *b)
{
	return b->nfree;
}

uint64_t buddy_pool_count(const struct buddy *b)
{
	return b->pool;
}

uint64_t buddy_free_blocks(const struct buddy *b, unsigned order)
{
	return order > BUDDY_MAX_ORDER ? 0 : b->order[order].nfree;
}

int buddy_largest_free_order(const struct buddy *b)
{
	for (int k = BUDDY_MAX_ORDER; k >= 0; k--)
		if (b->order[k].nfree > 0)
			return k;
	return -1;
}

/* Report a broken rule from buddy_check. */
static int broken(const char **why, const char *rule)
{
	if (why != NULL)
		*why = rule;
	return MICA_EINVAL;
}

/* Bits at or above `valid` in the last word of a bitmap of `valid` bits. */
static uint64_t tail_bits(const uint64_t *map, uint64_t valid)
{
	uint64_t last = (valid - 1) / WORD;

	return valid % WORD == 0 ? 0 : map[last] & ~((1ULL << (valid % WORD)) - 1);
}

/*
 * One order's bitmaps on their own: summaries agree with the level below,
 * nothing past the last position, free and allocated disjoint, blocks at
 * the edges inside the span, free count exact. Adds its set bits to *heads.
 */
static int check_order(const struct buddy *b, unsigned k, uint64_t *heads, const char **why)
{
	const struct buddy_order *o = &b->order[k];
	uint64_t nfree = 0, nalloc = 0, lo, hi;

	if (o->first != b->base >> k || o->levels == 0 || o->levels > BUDDY_LEVELS ||
	    o->nwords[o->levels - 1] != 1)
		return broken(why, "order shape differs from the span");
	uint64_t stale = k == 0 ? b->stale : BUDDY_NO_STALE;

	if (stale != BUDDY_NO_STALE && (stale >= o->nwords[0] || o->free[0][stale] != 0))
		return broken(why, "stale word is not an empty word");
	for (unsigned l = 0; l + 1 < o->levels; l++) {
		for (uint64_t w = 0; w < o->nwords[l]; w++)
			if ((o->free[l][w] != 0 || (l == 0 && w == stale)) !=
			    test_bit(o->free[l + 1], w))
				return broken(why, "summary bit disagrees with its word");
		if (tail_bits(o->free[l + 1], o->nwords[l]) != 0)
			return broken(why, "summary bit past the last word");
	}
	if (tail_bits(o->free[0], o->nbits) != 0 || tail_bits(o->alloc, o->nbits) != 0)
		return broken(why, "bit past the last position");
	for (uint64_t w = 0; w < o->nwords[0]; w++) {
		if (o->free[0][w] & o->alloc[w])
			return broken(why, "block both free and allocated");
		nfree += popcount(o->free[0][w]);
		nalloc += popcount(o->alloc[w]);
	}
	if (nfree != o->nfree)
		return broken(why, "free block count of an order is wrong");
	for (uint64_t w = 0; w < o->hint && w < o->nwords[0]; w++)
		if (o->free[0][w])
			return broken(why, "free block below an order's hint");
	/* Only the first and last positions can stick out of the span. */
	lo = o->first << k;
	hi = (o->first + o->nbits - 1) << k;
	if (lo < b->base && (test_bit(o->free[0], 0) || test_bit(o->alloc, 0)))
		return broken(why, "block starts below the span");
	if (hi + block_frames(k) > b->base + b->nframes &&
	    (test_bit(o->free[0], o->nbits - 1) || test_bit(o->alloc, o->nbits - 1)))
		return broken(why, "block ends past the span");
	*heads += nfree + nalloc;
	return MICA_OK;
}

int buddy_check(const struct buddy *b, const char **why)
{
	uint64_t heads = 0, seen = 0, covered = 0, nfree = 0, by_order = 0;
	uint64_t end = b->base + b->nframes;
	int err;

	for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++) {
		err = check_order(b, k, &heads, why);
		if (err != MICA_OK)
			return err;
		by_order += b->order[k].nfree * block_frames(k);
	}

	/*
	 * Walk the span block by block. Each block found is skipped whole, so
	 * a block starting inside another is never seen, and seen < heads.
	 */
	for (uint64_t f = b->base; f < end;) {
		unsigned found = 0, k = 0;
		bool is_free = false;

		for (unsigned j = 0; j <= BUDDY_MAX_ORDER && (f & (block_frames(j) - 1)) == 0;
		     j++) {
			bool fr = is_free_at(b, j, f), al = is_alloc_at(b, j, f);

			if (fr || al) {
				found += fr + al;
				k = j;
				is_free = fr;
			}
		}
		if (found > 1)
			return broken(why, "two blocks start at one frame");
		if (found == 0) {
			f++; /* not in the pool */
			continue;
		}
		seen++;
		covered += block_frames(k);
		if (is_free) {
			uint64_t buddy = f ^ block_frames(k);

			nfree += block_frames(k);
			if (k < BUDDY_MAX_ORDER && in_span(b, buddy) && is_free_at(b, k, buddy))
				return broken(why, "free buddies not merged");
		}
		f += block_frames(k);
	}
	if (seen != heads)
		return broken(why, "a block starts inside another");
	if (covered != b->pool)
		return broken(why, "blocks do not cover exactly the pool");
	if (nfree != b->nfree || by_order != b->nfree)
		return broken(why, "free frame count is wrong");
	return MICA_OK;
}
