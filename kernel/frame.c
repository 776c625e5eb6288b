/*
 * Frame bitmap. A set bit means "usable and free"; frames that are not
 * usable (holes, reserved ranges) stay clear forever, so they can never be
 * handed out. Above the bitmap sits a summary: bit w is set when word w of
 * the bitmap has at least one free frame, so a search skips 64 used frames
 * per summary bit and 4096 per summary word. `hint` is the lowest word that
 * may hold a free frame: allocation starts there, never at frame 0.
 */
#include <mica/error.h>
#include <mica/layout.h>
#include "frame.h"

#define WORD_BITS 64

static struct {
	const struct memmap *map; /* usable ranges, for frame_free checks */
	uint64_t *bits;           /* 1 = free; nframes bits */
	uint64_t *summary;        /* 1 = bits[w] != 0; nwords bits */
	uint64_t nframes;         /* frames covered: 0 .. nframes-1 */
	uint64_t nwords;          /* words in bits[] */
	uint64_t nsummary;        /* words in summary[] */
	uint64_t hint;            /* no free frame below word `hint` */
	uint64_t total;           /* usable frames */
	uint64_t nfree;           /* free frames */
} fb;

/* Set bits in x (no libgcc: the kernel does not link it). */
static uint64_t popcount(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* Bytes of metadata (bitmap plus summary) that frame_init() needs for m. */
size_t frame_meta_bytes(const struct memmap *m)
{
	uint64_t nframes = memmap_end(m) >> MICA_PAGE_SHIFT;
	uint64_t nwords = div_up(nframes, WORD_BITS);

	return (nwords + div_up(nwords, WORD_BITS)) * sizeof(uint64_t);
}

static void set_free(uint64_t f)
{
	uint64_t w = f / WORD_BITS;

	fb.bits[w] |= 1ULL << (f % WORD_BITS);
	fb.summary[w / WORD_BITS] |= 1ULL << (w % WORD_BITS);
	if (w < fb.hint)
		fb.hint = w;
	fb.nfree++;
}

static void set_used(uint64_t f)
{
	uint64_t w = f / WORD_BITS;

	fb.bits[w] &= ~(1ULL << (f % WORD_BITS));
	if (fb.bits[w] == 0)
		fb.summary[w / WORD_BITS] &= ~(1ULL << (w % WORD_BITS));
	fb.nfree--;
}

/* Bits lo..hi-1 of a word (0 < hi - lo <= 64). */
static uint64_t bit_span(uint64_t lo, uint64_t hi)
{
	uint64_t n = hi - lo;

	return (n == WORD_BITS ? ~0ULL : ((1ULL << n) - 1)) << lo;
}

/*
 * Mark frames [first, end) free (all of them used before), a word at a
 * time: for frame_init, which sets whole usable ranges.
 */
static void set_free_range(uint64_t first, uint64_t end)
{
	while (first < end) {
		uint64_t w = first / WORD_BITS;
		uint64_t stop = MIN(end, (w + 1) * WORD_BITS);

		fb.bits[w] |= bit_span(first % WORD_BITS, stop - w * WORD_BITS);
		fb.summary[w / WORD_BITS] |= 1ULL << (w % WORD_BITS);
		if (w < fb.hint)
			fb.hint = w;
		first = stop;
	}
}

/* Mark frames [first, end) used (all of them free before), a word at a time. */
static void set_used_range(uint64_t first, uint64_t end)
{
	fb.nfree -= end - first;
	while (first < end) {
		uint64_t w = first / WORD_BITS;
		uint64_t stop = MIN(end, (w + 1) * WORD_BITS);

		fb.bits[w] &= ~bit_span(first % WORD_BITS, stop - w * WORD_BITS);
		if (fb.bits[w] == 0)
			fb.summary[w / WORD_BITS] &= ~(1ULL << (w % WORD_BITS));
		first = stop;
	}
}

static bool is_free(uint64_t f)
{
	return f < fb.nframes && (fb.bits[f / WORD_BITS] >> (f % WORD_BITS)) & 1;
}

/*
 * Take over `bytes` bytes at `meta` (frame_meta_bytes(m) at least) and
 * mark every usable frame of m free. m must stay valid afterwards. Boot
 * code then marks the frames it already uses with frame_mark_used().
 */
void frame_init(const struct memmap *m, void *meta, size_t bytes)
{
	fb.map = m;
	fb.nframes = memmap_end(m) >> MICA_PAGE_SHIFT;
	fb.nwords = div_up(fb.nframes, WORD_BITS);
	fb.nsummary = div_up(fb.nwords, WORD_BITS);
	fb.bits = meta;
	fb.summary = fb.bits + fb.nwords;
	fb.hint = fb.nwords;
	fb.nfree = 0;
	for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
		fb.bits[i] = 0;
	/* Usable ranges are page-aligned (memmap_compute). */
	for (size_t r = 0; r < m->nusable; r++)
		set_free_range(m->usable[r].start >> MICA_PAGE_SHIFT,
		               m->usable[r].end >> MICA_PAGE_SHIFT);
	/* The total is what the bitmap holds, counted, not what the map claims. */
	fb.total = 0;
	for (uint64_t w = 0; w < fb.nwords; w++)
		fb.total += popcount(fb.bits[w]);
	fb.nfree = fb.total;
}

/*
 * Mark every frame overlapping the byte range [start, end) used, whatever
 * its state: for boot-time ranges (the low MiB, the kernel image, the boot
 * information) that may be unaligned, overlap each other or unusable
 * memory. Returns how many frames changed from free to used.
 */
uint64_t frame_mark_used(paddr_t start, paddr_t end)
{
	uint64_t changed = 0;

	if (end <= start)
		return 0;
	uint64_t first = start >> MICA_PAGE_SHIFT;
	uint64_t last = (end - 1) >> MICA_PAGE_SHIFT; /* inclusive: no overflow */

	for (uint64_t f = first; f <= last && f < fb.nframes; f++) {
		if (is_free(f)) {
			set_used(f);
			changed++;
		}
	}
	return changed;
}

/* The first free frame at or after frame `from`, or fb.nframes if none. */
static uint64_t next_free(uint64_t from)
{
	uint64_t w = from / WORD_BITS;

	if (from >= fb.nframes)
		return fb.nframes;
	/* The rest of the first word. */
	uint64_t bits = fb.bits[w] & (~0ULL << (from % WORD_BITS));
	if (bits)
		return w * WORD_BITS + (uint64_t)__builtin_ctzll(bits);
	/* Then whole words, found through the summary. */
	w++;
	for (uint64_t s = w / WORD_BITS; s < fb.nsummary; s++) {
		uint64_t sum = fb.summary[s];

		if (s == w / WORD_BITS)
			sum &= ~0ULL << (w % WORD_BITS);
		if (sum) {
			uint64_t word = s * WORD_BITS + (uint64_t)__builtin_ctzll(sum);

			return word * WORD_BITS + (uint64_t)__builtin_ctzll(fb.bits[word]);
		}
	}
	return fb.nframes;
}

/*
 * Allocate one frame; store its physical address in *pa. Returns
 * MICA_ENOMEM when no frame is free.
 */
int frame_alloc(paddr_t *pa)
{
	uint64_t f = next_free(fb.hint * WORD_BITS);

	if (f >= fb.nframes) {
		fb.hint = fb.nwords;
		return MICA_ENOMEM;
	}
	fb.hint = f / WORD_BITS;
	set_used(f);
	*pa = f << MICA_PAGE_SHIFT;
	return MICA_OK;
}

/*
 * Allocate n physically contiguous frames whose first frame number is a
 * multiple of `align` (a power of two, in frames; 1 for none). Returns
 * MICA_EINVAL for n == 0 or a bad alignment, MICA_ENOMEM if no run fits.
 */
int frame_alloc_run(uint64_t n, uint64_t align, paddr_t *pa)
{
	if (n == 0 || align == 0 || (align & (align - 1)) != 0)
		return MICA_EINVAL;
	if (n > fb.nfree)
		return MICA_ENOMEM;

	uint64_t start = ALIGN_UP(next_free(fb.hint * WORD_BITS), align);
	while (start < fb.nframes && fb.nframes - start >= n) {
		uint64_t f = start;

		while (f < start + n && is_free(f))
			f++;
		if (f == start + n) {
			for (f = start; f < start + n; f++)
				set_used(f);
			*pa = start << MICA_PAGE_SHIFT;
			return MICA_OK;
		}
		/* Frame f is in use: the next candidate starts after it. */
		start = ALIGN_UP(next_free(f + 1), align);
	}
	return MICA_ENOMEM;
}

/*
 * Free n frames starting at pa. Every frame must be usable and allocated;
 * otherwise nothing changes and the call returns MICA_EALIGN (pa not
 * frame-aligned), MICA_EINVAL (n == 0), MICA_ERANGE (a frame outside usable
 * memory, or the range overflows) or MICA_ENOENT (a frame already free).
 */
int frame_free(paddr_t pa, uint64_t n)
{
	uint64_t first = pa >> MICA_PAGE_SHIFT;

	/* The range: aligned, non-empty, no overflow. */
	if (!IS_ALIGNED(pa, MICA_PAGE_SIZE))
		return MICA_EALIGN;
	if (n == 0)
		return MICA_EINVAL;
	if (first >= fb.nframes || n > fb.nframes - first)
		return MICA_ERANGE;
	/* Every frame usable and currently allocated. */
	for (uint64_t f = first; f < first + n; f++) {
		if (!memmap_is_usable(fb.map, f << MICA_PAGE_SHIFT))
			return MICA_ERANGE;
		if (is_free(f))
			return MICA_ENOENT;
	}
	for (uint64_t f = first; f < first + n; f++)
		set_free(f);
	return MICA_OK;
}

/*
 * Take the highest run of free frames below frame `hi` and at or above
 * frame `lo`, at most `max` frames long (its top part if longer): mark it
 * used and store its first frame's address in *pa. Returns its length, 0
 * if no frame in [lo, hi) is free. A word of the bitmap at a time: the
 * user pool is carved with it at boot, from the top of memory down.
 */
uint64_t frame_take_top(uint64_t lo, uint64_t hi, uint64_t max, paddr_t *pa)
{
	uint64_t top, start;

	hi = MIN(hi, fb.nframes);
	if (max == 0 || lo >= hi)
		return 0;
	/* The highest free frame below hi: top - 1. */
	for (top = hi; top > lo;) {
		uint64_t w = (top - 1) / WORD_BITS, b = (top - 1) % WORD_BITS;
		uint64_t bits = fb.bits[w] & bit_span(0, b + 1);

		if (bits) {
			top = w * WORD_BITS + (WORD_BITS - (uint64_t)__builtin_clzll(bits));
			break;
		}
		top = w * WORD_BITS;
	}
	if (top <= lo)
		return 0;
	/* Down from there while frames are free (a clear bit ends the run). */
	for (start = top; start > lo && top - start < max;) {
		uint64_t w = (start - 1) / WORD_BITS, b = (start - 1) % WORD_BITS;
		uint64_t used = ~fb.bits[w] & bit_span(0, b + 1);
		uint64_t run_lo =
		    used ? w * WORD_BITS + (WORD_BITS - (uint64_t)__builtin_clzll(used))
		         : w * WORD_BITS;

		start = MAX(MAX(run_lo, lo), top - MIN(max, top));
		if (used)
			break;
	}
	set_used_range(start, top);
	*pa = start << MICA_PAGE_SHIFT;
	return top - start;
}

/* Is the frame holding pa usable and free? */
bool frame_is_free(paddr_t pa)
{
	return is_free(pa >> MICA_PAGE_SHIFT);
}

/* How many frames are free. */
uint64_t frame_free_count(void)
{
	return fb.nfree;
}

/* Bytes of the bitmap and its summary (make bench: meta.kernel_bits_per_frame). */
uint64_t frame_meta_size(void)
{
	return (fb.nwords + fb.nsummary) * sizeof(uint64_t);
}

/* The counts printed as the `frames:` line. */
void frame_stats(struct frame_stats *s)
{
	s->total = fb.total;
	s->free = fb.nfree;
	s->used = fb.total - fb.nfree;
}
