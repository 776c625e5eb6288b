/*
 * Programs run from memory objects (pager.spawn_object): a program whose
 * image is a file of the file server (fs.map_object gives the caller its
 * object) rather than a boot module. The ELF headers are read through the
 * object's first page (its pages come from its server through the memobj
 * protocol, memobj.c) and checked by elf.c's rules; each PT_LOAD segment
 * then becomes regions of the child:
 *
 *   - its whole pages of file bytes: a private mapping of the object
 *     (memobj.c), so a read-only segment (text) maps the object's cached
 *     frames themselves, the same frames in every process running the
 *     file, and a writable one (data) copies a page at its first write;
 *   - the page where its file bytes end, if memory goes on after them
 *     (the end of .data and the start of .bss): a private frame, filled
 *     now from the cached page with the rest zeroed;
 *   - the pages after it (.bss): anonymous, zero-filled on first touch.
 *
 * Reading a page may wait on the object's server (the token goes to
 * another worker meanwhile), so everything is read first, and the child
 * is built afterwards in one go with the token held: the headers are read
 * again then, and if the object changed in between (a page dropped, the
 * size changed) the reading starts over, a few times at most.
 */
#include "elf.h"
#include "pager.h"

#define PAGE         MICA_PAGE_SIZE
#define PAGE_DOWN(x) ((x) & ~(PAGE - 1))
#define PAGE_UP(x)   (((x) + PAGE - 1) & ~(PAGE - 1))
#define TRIES        3 /* readings of an object that keeps changing before MICA_EAGAIN */

/* A program read from an object: what image_load builds the child from. */
struct image {
	uint64_t object;
	uint64_t entry;
	int n; /* segments */
	struct elf_seg segs[SPACE_SEGS];
};

/* Does segment g's file part end inside a page that has more of its memory after it? */
static bool seg_tail(const struct elf_seg *g)
{
	return g->filesz && g->filesz < g->memsz && ((g->vaddr + g->filesz) & (PAGE - 1));
}

/* The object's page holding g's last file byte (seg_tail). */
static uint64_t tail_index(const struct elf_seg *g)
{
	return PAGE_DOWN(g->offset + g->filesz) / PAGE;
}

/*
 * Check the headers in the object's cached first page (no wait): 0 with
 * the segments in im, MICA_ENOEXEC (elf.c's rules), MICA_ENOENT the object
 * is gone, MICA_EAGAIN its first page is no longer cached.
 */
static int image_parse(struct image *im)
{
	uint64_t size, owner, cached, maps, pa;
	uint32_t rights;
	int n;

	if (memobj_stat(im->object, &size, &rights, &owner, &cached, &maps) < 0)
		return MICA_ENOENT;
	if (!(pa = memobj_cached(im->object, 0)))
		return size ? MICA_EAGAIN : MICA_ENOEXEC;
	n = elf_read_head(PHYS(pa), size < PAGE ? size : PAGE, size, im->segs, SPACE_SEGS,
	                  &im->entry, ELF_MAPPED);
	if (n < 0)
		return n;
	im->n = n;
	return 0;
}

/* A memobj_page error as spawn_object reports it: the object shrank meanwhile (try again). */
static int page_error(int e)
{
	return e == MICA_ERANGE ? MICA_EAGAIN : e;
}

/*
 * Read the program in object im->object for the process ppid: its first
 * page and each tail page into the object's cache (may wait on its
 * server), then, with no wait after, the headers again. 0 with im ready
 * and every page it needs cached; MICA_EPEER the caller ended meanwhile;
 * image_parse's and memobj_page's errors (MICA_EAGAIN after TRIES).
 */
static int image_fetch(struct image *im, uint64_t ppid)
{
	for (int t = 0; t < TRIES; t++) {
		uint64_t pa;
		int e = memobj_page(im->object, 0, &pa);
		bool all = true;

		if (e == MICA_ERANGE)
			return MICA_ENOEXEC; /* an empty object */
		if (e < 0)
			return e;
		if ((e = image_parse(im)) == MICA_EAGAIN)
			continue;
		if (e < 0)
			return e;
		for (int i = 0; i < im->n; i++)
			if (seg_tail(&im->segs[i]) &&
			    (e = memobj_page(im->object, tail_index(&im->segs[i]), &pa)) < 0)
				return page_error(e);
		/* From here on nothing waits: look at everything again. */
		struct space *p = space_by_pid(ppid);

		if (!p || p->state != SPACE_LIVE)
			return MICA_EPEER;
		if ((e = image_parse(im)) == MICA_EAGAIN)
			continue;
		if (e < 0)
			return e;
		for (int i = 0; i < im->n; i++)
			if (seg_tail(&im->segs[i]) &&
			    !memobj_cached(im->object, tail_index(&im->segs[i])))
				all = false;
		if (all)
			return 0;
	}
	return MICA_EAGAIN;
}

/*
 * process_start's loader for a program read by image_fetch (ctx, a struct
 * image): the regions of each segment (see the top of the file), the
 * entry, the heap from the page after the highest segment. No wait.
 */
static int image_load(struct space *s, const void *ctx, uint64_t *entry)
{
	const struct image *im = ctx;
	uint64_t end = 0;
	int e;

	for (int i = 0; i < im->n; i++) {
		const struct elf_seg *g = &im->segs[i];
		uint64_t lo = PAGE_DOWN(g->vaddr), fend = g->vaddr + g->filesz;
		uint64_t mend = PAGE_UP(g->vaddr + g->memsz), oend;
		struct region *r;

		/* The pages the object backs: all the file part's, but a last one bss shares. */
		if (!g->filesz)
			oend = lo;
		else if (g->filesz == g->memsz)
			oend = mend;
		else
			oend = PAGE_DOWN(fend);
		if (oend > lo && (e = memobj_map_at(s, im->object, PAGE_DOWN(g->offset), oend - lo,
		                                    g->rights, lo)) < 0)
			return e;
		if (mend > end)
			end = mend;
		if (oend == mend)
			continue;
		/* The rest: zero-filled, but for the page that holds the end of the file part. */
		if ((e = space_insert(s, oend, mend, g->rights, REGION_ANON, 0, &r)) < 0)
			return e;
		if (!seg_tail(g))
			continue;
		uint64_t src = memobj_cached(im->object, tail_index(g)), keep = fend - oend, pa;

		if (!src)
			return MICA_EAGAIN;
		if (!(pa = frame_alloc_unzeroed()))
			return MICA_ENOMEM;
		mem_copy(PHYS(pa), PHYS(src), keep);
		mem_zero((uint8_t *)PHYS(pa) + keep, PAGE - keep);
		if ((e = space_map(s, r, oend, pa, g->rights)) < 0) {
			frame_free(pa);
			return e;
		}
	}
	*entry = im->entry;
	s->heap_start = s->brk = end;
	return 0;
}

/* A process name as spawn_object takes it: 1-47 bytes of printable ASCII without space. */
static bool name_ok(const char *name)
{
	unsigned i = 0;

	for (; name[i] && i < MICA_BOOTINFO_NAME_MAX; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return false;
	return i > 0 && i < MICA_BOOTINFO_NAME_MAX;
}

/*
 * pager.spawn_object of parent: start the program in object `object` as
 * its child named name, with args and limits (as spawn_with); its pid to
 * *pid. Errors: idl/pager.idl.
 */
int spawnobj_spawn(struct space *parent, uint64_t object, const char *name, const char *args,
                   uint64_t mem_pages, uint64_t procs, uint64_t *pid)
{
	struct image im = {.object = object};
	uint64_t ppid = parent->pid, size;
	int e;

	if (!name_ok(name))
		return MICA_EINVAL;
	if ((e = memobj_run_check(parent, object, &size)) < 0 ||
	    (e = limit_spawn_check(parent)) < 0 || (e = image_fetch(&im, ppid)) < 0)
		return e;
	/* The caller runs (image_fetch looked, and nothing has waited since). */
	parent = space_by_pid(ppid);
	return process_start(parent, name, image_load, &im, args, mem_pages, procs, 0, pid);
}
