/*
 * The file store: names in an AVL tree (O(log n) lookups, listing in name
 * order from any name on) and each file's data as a list of pages indexed
 * by page number (NULL for a hole, which reads as zeros), so a page is
 * found in O(1) and can be served alone. Pages come from pages.c; the
 * bytes of read-only files (the boot modules) from the source given to
 * store_init. No IPC here: servers/fs/ops.c is the IPC front end.
 */
#include "fs.h"

#include <mica/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fs_file {
	/* The tree, by name (linked while not removed). */
	struct fs_file *left, *right;
	int height;
	/* The data: pages[i] holds bytes [i * FS_PAGE, (i + 1) * FS_PAGE). */
	void **pages;
	uint64_t npages; /* pages[] entries in use: ceil(size / FS_PAGE) */
	uint64_t cap;    /* pages[] entries allocated */
	uint64_t size;
	/* Who holds it: descriptors, and whether the tree still does. */
	uint64_t opens;
	bool removed;
	uint32_t flags; /* FS_READONLY */
	void *front;    /* the front end's (store_front) */
	char name[];    /* NUL-terminated */
};

/*
 * The longest page list: 2^37 entries (1 TiB of list, 512 TiB of file),
 * more than memory; the fuzz target sets less (its malloc has a limit).
 */
#ifndef FS_LIST_PAGES_MAX
#define FS_LIST_PAGES_MAX (1ULL << 37)
#endif

static struct fs_file *root;
static fs_source_fn source;
static uint64_t nfiles, npages, nbytes;

void store_init(fs_source_fn fn)
{
	source = fn;
}

bool store_name_ok(const char *name)
{
	size_t n = 0;

	for (; name[n]; n++)
		if (n >= FS_NAME_MAX || name[n] < 0x21 || name[n] > 0x7E)
			return false;
	return n > 0;
}

/* ---- the tree ---- */

static int height(const struct fs_file *f)
{
	return f ? f->height : 0;
}

static void fix_height(struct fs_file *f)
{
	int l = height(f->left), r = height(f->right);

	f->height = 1 + (l > r ? l : r);
}

static struct fs_file *rotate_right(struct fs_file *f)
{
	struct fs_file *l = f->left;

	f->left = l->right;
	l->right = f;
	fix_height(f);
	fix_height(l);
	return l;
}

static struct fs_file *rotate_left(struct fs_file *f)
{
	struct fs_file *r = f->right;

	f->right = r->left;
	r->left = f;
	fix_height(f);
	fix_height(r);
	return r;
}

/* Restores the AVL balance at f after one of its subtrees changed by one level. */
static struct fs_file *balance(struct fs_file *f)
{
	int d = height(f->left) - height(f->right);

	fix_height(f);
	if (d > 1) {
		if (height(f->left->left) < height(f->left->right))
			f->left = rotate_left(f->left);
		return rotate_right(f);
	}
	if (d < -1) {
		if (height(f->right->right) < height(f->right->left))
			f->right = rotate_right(f->right);
		return rotate_left(f);
	}
	return f;
}

static struct fs_file *insert(struct fs_file *t, struct fs_file *f)
{
	if (!t)
		return f;
	if (strcmp(f->name, t->name) < 0)
		t->left = insert(t->left, f);
	else
		t->right = insert(t->right, f);
	return balance(t);
}

/* Takes the smallest node out of t; *min gets it. */
static struct fs_file *take_min(struct fs_file *t, struct fs_file **min)
{
	if (!t->left) {
		*min = t;
		return t->right;
	}
	t->left = take_min(t->left, min);
	return balance(t);
}

/* Takes node f (in t) out of the tree. */
static struct fs_file *unlink_node(struct fs_file *t, struct fs_file *f)
{
	int c = strcmp(f->name, t->name);

	if (c < 0) {
		t->left = unlink_node(t->left, f);
	} else if (c > 0) {
		t->right = unlink_node(t->right, f);
	} else {
		struct fs_file *m;

		if (!t->right)
			return t->left;
		t->right = take_min(t->right, &m);
		m->left = t->left;
		m->right = t->right;
		return balance(m);
	}
	return balance(t);
}

struct fs_file *store_find(const char *name)
{
	struct fs_file *t = root;

	while (t) {
		int c = strcmp(name, t->name);

		if (!c)
			return t;
		t = c < 0 ? t->left : t->right;
	}
	return NULL;
}

/* ---- files ---- */

static int add(const char *name, uint64_t size, uint32_t flags)
{
	/* The name: printable, 1-FS_NAME_MAX bytes, and free. */
	if (!store_name_ok(name))
		return MICA_EINVAL;
	if (store_find(name))
		return MICA_EEXIST;
	size_t n = strlen(name);
	struct fs_file *f = calloc(1, sizeof(*f) + n + 1);

	if (!f)
		return MICA_ENOMEM;
	memcpy(f->name, name, n + 1);
	f->height = 1;
	f->size = size;
	f->flags = flags;
	root = insert(root, f);
	nfiles++;
	nbytes += size;
	return MICA_OK;
}

int store_create(const char *name)
{
	return add(name, 0, 0);
}

int store_add_readonly(const char *name, uint64_t size)
{
	return add(name, size, FS_READONLY);
}

/* Frees pages [from, npages) of f and makes from the page count. */
static void drop_pages(struct fs_file *f, uint64_t from)
{
	for (uint64_t i = from; i < f->npages; i++)
		if (f->pages[i]) {
			page_free(f->pages[i]);
			f->pages[i] = NULL;
			npages--;
		}
	f->npages = from;
}

int store_remove(const char *name)
{
	struct fs_file *f = store_find(name);

	/* The name: a file, not a boot module. */
	if (!f)
		return MICA_ENOENT;
	if (f->flags & FS_READONLY)
		return MICA_EPERM;
	root = unlink_node(root, f);
	nfiles--;
	nbytes -= f->size;
	drop_pages(f, 0);
	free(f->pages);
	f->pages = NULL;
	f->cap = 0;
	f->size = 0;
	f->removed = true;
	if (!f->opens)
		free(f);
	return MICA_OK;
}

void store_stat(const struct fs_file *f, uint64_t *size, uint32_t *flags)
{
	*size = f->size;
	*flags = f->flags;
}

bool store_removed(const struct fs_file *f)
{
	return f->removed;
}

void store_hold(struct fs_file *f)
{
	f->opens++;
}

void store_release(struct fs_file *f)
{
	if (--f->opens == 0 && f->removed)
		free(f);
}

/* Room in pages[] for n entries (new ones NULL): false when there is no memory. */
static bool reserve(struct fs_file *f, uint64_t n)
{
	if (n <= f->cap)
		return true;
	uint64_t cap = f->cap ? f->cap : 4;

	while (cap < n)
		cap = cap > UINT64_MAX / 2 ? n : cap * 2;
	if (cap > FS_LIST_PAGES_MAX)
		return false; /* past any memory: refused before malloc sees it */
	void **p = realloc(f->pages, cap * sizeof(void *));

	if (!p)
		return false;
	memset(p + f->cap, 0, (cap - f->cap) * sizeof(void *));
	f->pages = p;
	f->cap = cap;
	return true;
}

/* Pages needed for size bytes (size may be up to 2^64 - 1). */
static uint64_t pages_for(uint64_t size)
{
	return size / FS_PAGE + (size % FS_PAGE != 0);
}

int store_read(struct fs_file *f, uint64_t offset, void *buf, uint32_t len, uint32_t *got)
{
	if (len > FS_IO_MAX)
		return MICA_EINVAL;
	/* The range: the offset within the file, the length cut at its end. */
	if (offset > f->size)
		return MICA_ERANGE;
	if (len > f->size - offset)
		len = (uint32_t)(f->size - offset);
	*got = len;
	if (f->flags & FS_READONLY)
		return len ? source(f->name, offset, buf, len) : MICA_OK;
	for (uint32_t done = 0; done < len;) {
		uint64_t at = offset + done, in = at % FS_PAGE;
		uint32_t n =
		    (uint32_t)(FS_PAGE - in) < len - done ? (uint32_t)(FS_PAGE - in) : len - done;
		const uint8_t *page = f->pages[at / FS_PAGE];

		if (page)
			memcpy((uint8_t *)buf + done, page + in, n);
		else
			memset((uint8_t *)buf + done, 0, n);
		done += n;
	}
	return MICA_OK;
}

int store_write(struct fs_file *f, uint64_t offset, const void *buf, uint32_t len)
{
	/* The file and the range: writable, starting within it, ending below 2^64. */
	if (f->flags & FS_READONLY)
		return MICA_EPERM;
	if (len > FS_IO_MAX)
		return MICA_EINVAL;
	if (offset > f->size || len > UINT64_MAX - offset)
		return MICA_ERANGE;
	if (!len)
		return MICA_OK;
	uint64_t end = offset + len, first = offset / FS_PAGE, last = (end - 1) / FS_PAGE;

	if (!reserve(f, last + 1))
		return MICA_ENOMEM;
	/* Every page the write touches, before any byte moves: all or nothing. */
	uint64_t got[2] = {UINT64_MAX, UINT64_MAX}; /* pages new here (a write spans at most 2) */

	for (uint64_t i = first, k = 0; i <= last; i++) {
		if (f->pages[i])
			continue;
		if (!(f->pages[i] = page_alloc())) {
			for (uint64_t j = 0; j < k; j++) {
				page_free(f->pages[got[j]]);
				f->pages[got[j]] = NULL;
				npages--;
			}
			return MICA_ENOMEM;
		}
		got[k++] = i;
		npages++;
	}
	for (uint32_t done = 0; done < len;) {
		uint64_t at = offset + done, in = at % FS_PAGE;
		uint32_t n =
		    (uint32_t)(FS_PAGE - in) < len - done ? (uint32_t)(FS_PAGE - in) : len - done;

		memcpy((uint8_t *)f->pages[at / FS_PAGE] + in, (const uint8_t *)buf + done, n);
		done += n;
	}
	if (end > f->size) {
		nbytes += end - f->size;
		f->size = end;
		f->npages = pages_for(end);
	}
	return MICA_OK;
}

int store_truncate(struct fs_file *f, uint64_t size)
{
	/* The file: writable; the new size: its page list fits in memory. */
	if (f->flags & FS_READONLY)
		return MICA_EPERM;
	uint64_t n = pages_for(size);

	if (size > f->size) {
		if (!reserve(f, n))
			return MICA_ENOMEM;
	} else {
		drop_pages(f, n);
		/* The tail of the last page: zeros, as growing again must read. */
		if (size % FS_PAGE && f->pages[n - 1])
			memset((uint8_t *)f->pages[n - 1] + size % FS_PAGE, 0,
			       FS_PAGE - size % FS_PAGE);
	}
	nbytes = nbytes - f->size + size;
	f->size = size;
	f->npages = n;
	return MICA_OK;
}

/* Appends the lines of t's files after `after`, in order; false once one did not fit. */
static bool list_tree(const struct fs_file *t, const char *after, char *out, uint32_t cap,
                      uint32_t *len, uint32_t *count)
{
	if (!t)
		return true;
	int c = strcmp(t->name, after);

	if (c > 0 && !list_tree(t->left, after, out, cap, len, count))
		return false;
	if (c > 0) {
		char line[FS_NAME_MAX + 24];
		int n = snprintf(line, sizeof(line), "%s %lu\n", t->name, (unsigned long)t->size);

		if (n < 0 || (uint32_t)n > cap - *len)
			return false;
		memcpy(out + *len, line, (size_t)n);
		*len += (uint32_t)n;
		(*count)++;
	}
	return list_tree(t->right, after, out, cap, len, count);
}

void store_list(const char *after, char *out, uint32_t cap, uint32_t *len, uint32_t *count)
{
	*len = 0;
	*count = 0;
	list_tree(root, after, out, cap, len, count);
}

void *store_page(const struct fs_file *f, uint64_t index)
{
	return index < f->npages && f->pages ? f->pages[index] : NULL;
}

void *store_front(const struct fs_file *f)
{
	return f->front;
}

void store_set_front(struct fs_file *f, void *p)
{
	f->front = p;
}

int store_page_put(struct fs_file *f, uint64_t index, const void *src)
{
	/* The file: writable; the page: within its size. */
	if (f->flags & FS_READONLY)
		return MICA_EPERM;
	if (index >= f->npages)
		return MICA_ERANGE;
	if (!f->pages[index]) {
		if (!(f->pages[index] = page_alloc()))
			return MICA_ENOMEM;
		npages++;
	}
	/* Only the bytes before the end: the tail of the last page stays zeros. */
	uint64_t n = f->size - index * FS_PAGE;

	memcpy(f->pages[index], src, n < FS_PAGE ? n : FS_PAGE);
	return MICA_OK;
}

/* Checks t's subtree: order within (lo, hi), heights, balance; its files and pages counted. */
static const char *check_tree(const struct fs_file *t, const char *lo, const char *hi, int *h,
                              uint64_t *files, uint64_t *pages, uint64_t *bytes)
{
	int hl = 0, hr = 0;
	const char *why;

	if (!t) {
		*h = 0;
		return NULL;
	}
	if ((lo && strcmp(t->name, lo) <= 0) || (hi && strcmp(t->name, hi) >= 0))
		return "names out of order";
	if (!store_name_ok(t->name) || t->removed)
		return "a bad name or a removed file in the tree";
	if ((why = check_tree(t->left, lo, t->name, &hl, files, pages, bytes)) ||
	    (why = check_tree(t->right, t->name, hi, &hr, files, pages, bytes)))
		return why;
	*h = 1 + (hl > hr ? hl : hr);
	if (t->height != *h)
		return "a stale height";
	if (hl - hr > 1 || hr - hl > 1)
		return "unbalanced";
	if ((t->flags & FS_READONLY) ? t->npages || t->cap
	                             : t->npages != pages_for(t->size) || t->npages > t->cap)
		return "a page list that does not match the size";
	for (uint64_t i = 0; i < t->cap; i++)
		if (t->pages[i] && i >= t->npages)
			return "a page past the end";
		else if (t->pages[i])
			*pages += 1;
	(*files)++;
	*bytes += t->size;
	return NULL;
}

int store_check(const char **why)
{
	uint64_t files = 0, pages = 0, bytes = 0;
	int h;

	*why = check_tree(root, NULL, NULL, &h, &files, &pages, &bytes);
	if (!*why && (files != nfiles || pages != npages || bytes != nbytes))
		*why = "the counts do not match the tree";
	return *why ? MICA_EINVAL : MICA_OK;
}

void store_counts(struct fs_counts *c)
{
	c->files = nfiles;
	c->pages = npages;
	c->bytes = nbytes;
}
