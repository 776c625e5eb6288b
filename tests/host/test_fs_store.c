/*
 * Host unit tests for the file server's store and descriptors
 * (servers/fs/store.c, fds.c): names, the AVL tree against a sorted model,
 * reads, writes and truncates against a flat byte model, holes, running out
 * of pages at every point (all or nothing, no page lost), listing, the boot
 * modules' read-only files, descriptors and their generations. store_check
 * runs after every change; the fake page source counts its pages.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mica/error.h>
#include "servers/fs/fs.h"
#include "rng.h"

/* ---- the fake page source: counted, and failing on demand ---- */

static long pages_out;       /* pages given and not yet back */
static long fail_after = -1; /* allocations to allow before failing (-1: never fail) */

void *page_alloc(void)
{
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	void *p = aligned_alloc(FS_PAGE, FS_PAGE);

	assert_non_null(p);
	memset(p, 0, FS_PAGE);
	pages_out++;
	return p;
}

void page_free(void *page)
{
	assert_non_null(page);
	assert_int_equal((uintptr_t)page % FS_PAGE, 0);
	pages_out--;
	free(page);
}

/* ---- the fake boot modules: module "mod-<n>" holds byte i = (i * n) & 0xff ---- */

static int source_calls;

static int source(const char *name, uint64_t offset, void *buf, uint32_t len)
{
	unsigned n = (unsigned)atoi(name + 4);

	source_calls++;
	assert_true(strncmp(name, "mod-", 4) == 0);
	assert_true(len > 0 && len <= FS_IO_MAX);
	for (uint32_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = (uint8_t)((offset + i) * n);
	return MICA_OK;
}

static void check(void)
{
	const char *why = NULL;
	struct fs_counts c;

	if (store_check(&why) != MICA_OK)
		fail_msg("store_check: %s", why);
	store_counts(&c);
	assert_int_equal((long)c.pages, pages_out);
}

static int setup(void **state)
{
	(void)state;
	store_init(source);
	return 0;
}

/* ---- names ---- */

static void test_names(void **state)
{
	char name[FS_NAME_MAX + 2];

	(void)state;
	assert_false(store_name_ok(""));
	assert_false(store_name_ok("a b"));
	assert_false(store_name_ok("tab\t"));
	assert_false(store_name_ok("\x7f"));
	assert_false(store_name_ok("caf\xc3\xa9"));
	assert_true(store_name_ok("a"));
	assert_true(store_name_ok("boot/x.elf~!"));
	memset(name, 'x', sizeof(name));
	name[FS_NAME_MAX] = 0;
	assert_true(store_name_ok(name));
	name[FS_NAME_MAX] = 'x';
	name[FS_NAME_MAX + 1] = 0;
	assert_false(store_name_ok(name));
	assert_int_equal(store_create(name), MICA_EINVAL);
	assert_int_equal(store_create(""), MICA_EINVAL);
	assert_int_equal(store_remove("nosuch"), MICA_ENOENT);
	assert_null(store_find("nosuch"));
	check();
}

/* ---- the tree against a sorted model ---- */

#define TREE_N 2000

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file's name through store_list, paged with a small buffer; how many. */
static int list_names(char **out, int max)
{
	char after[FS_NAME_MAX + 1] = "", buf[300];
	uint32_t len, count;
	int n = 0;

	for (;;) {
		store_list(after, buf, sizeof(buf), &len, &count);
		if (!count)
			return n;
		assert_true(len <= sizeof(buf));
		for (char *p = buf; p < buf + len;) {
			char *sp = memchr(p, ' ', (size_t)(buf + len - p));
			char *nl = memchr(p, '\n', (size_t)(buf + len - p));

			assert_non_null(sp);
			assert_non_null(nl);
			assert_true(sp < nl);
			*sp = 0;
			assert_true(n < max);
			out[n++] = strdup(p);
			strcpy(after, p);
			p = nl + 1;
		}
	}
}

static void test_tree(void **state)
{
	static char *model[TREE_N], *listed[TREE_N + 8];
	static bool live[TREE_N];
	int nlive = 0;

	(void)state;
	rng_seed(7);
	for (int i = 0; i < TREE_N; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f%lx-%d", (unsigned long)rng_below(1u << 20), i);
		model[i] = strdup(name);
	}
	for (int step = 0; step < 6 * TREE_N; step++) {
		int i = (int)rng_below(TREE_N);
		int rc;

		if (live[i]) {
			rc = store_remove(model[i]);
			assert_int_equal(rc, MICA_OK);
			live[i] = false, nlive--;
			assert_null(store_find(model[i]));
		} else {
			rc = store_create(model[i]);
			assert_int_equal(rc, MICA_OK);
			assert_int_equal(store_create(model[i]), MICA_EEXIST);
			live[i] = true, nlive++;
			assert_non_null(store_find(model[i]));
		}
		if (step % 97 == 0)
			check();
	}
	check();
	/* The listing: every live name once, in byte order. */
	char *sorted[TREE_N];
	int k = 0;

	for (int i = 0; i < TREE_N; i++)
		if (live[i])
			sorted[k++] = model[i];
	qsort(sorted, (size_t)k, sizeof(sorted[0]), cmp_str);
	int n = list_names(listed, TREE_N + 8);

	assert_int_equal(n, nlive);
	for (int i = 0; i < n; i++) {
		assert_string_equal(listed[i], sorted[i]);
		free(listed[i]);
	}
	for (int i = 0; i < TREE_N; i++) {
		if (live[i])
			assert_int_equal(store_remove(model[i]), MICA_OK);
		free(model[i]);
	}
	check();
	assert_int_equal(pages_out, 0);
}

/* ---- data against a flat model ---- */

#define MODEL_MAX (64 * FS_PAGE)

static uint8_t model_bytes[MODEL_MAX];

static void test_data(void **state)
{
	static uint8_t buf[FS_IO_MAX], want[FS_IO_MAX];
	uint64_t size = 0, fd, got64;
	uint32_t flags, got;
	struct fs_file *f;

	(void)state;
	rng_seed(11);
	assert_int_equal(store_create("data"), MICA_OK);
	f = store_find("data");
	assert_non_null(f);
	assert_int_equal(fds_open(f, 1, &fd), MICA_OK);
	memset(model_bytes, 0, sizeof(model_bytes));
	for (int step = 0; step < 20000; step++) {
		unsigned op = (unsigned)rng_below(10);
		uint64_t off = rng_below(size + 2); /* sometimes one past the end */
		uint32_t len = (uint32_t)rng_below(FS_IO_MAX + 1);

		if (op < 5) { /* write */
			for (uint32_t i = 0; i < len; i++)
				want[i] = (uint8_t)rng();
			int rc = store_write(f, off, want, len);

			if (off > size || off + len > MODEL_MAX) {
				if (off > size)
					assert_int_equal(rc, MICA_ERANGE);
				else if (rc == MICA_OK)
					fail_msg("model too small"); /* keeps the model honest */
				continue;
			}
			assert_int_equal(rc, MICA_OK);
			memcpy(model_bytes + off, want, len);
			if (off + len > size)
				size = off + len;
		} else if (op < 8) { /* read */
			int rc = store_read(f, off, buf, len, &got);

			if (off > size) {
				assert_int_equal(rc, MICA_ERANGE);
				continue;
			}
			assert_int_equal(rc, MICA_OK);
			assert_int_equal(got, len < size - off ? len : size - off);
			assert_memory_equal(buf, model_bytes + off, got);
		} else { /* truncate: often small, sometimes up into holes */
			uint64_t to =
			    rng_below(2) ? rng_below(size + 1) : rng_below(MODEL_MAX - FS_IO_MAX);

			assert_int_equal(store_truncate(f, to), MICA_OK);
			if (to < size)
				memset(model_bytes + to, 0, size - to);
			size = to;
		}
		store_stat(f, &got64, &flags);
		assert_int_equal(got64, size);
		assert_int_equal(flags, 0);
		if (step % 53 == 0)
			check();
		/* Pages past the end are never held. */
		assert_null(store_page(f, (size + FS_PAGE - 1) / FS_PAGE));
	}
	check();
	/* A hole reads as zeros and holds no page. */
	assert_int_equal(store_truncate(f, 0), MICA_OK);
	assert_int_equal(pages_out, 0);
	assert_int_equal(store_truncate(f, 10 * FS_PAGE), MICA_OK);
	assert_int_equal(pages_out, 0);
	assert_int_equal(store_read(f, 5 * FS_PAGE - 10, buf, 100, &got), MICA_OK);
	assert_int_equal(got, 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(buf[i], 0);
	assert_null(store_page(f, 5));
	assert_int_equal(store_write(f, 5 * FS_PAGE - 1, "ab", 2), MICA_OK); /* two pages */
	assert_int_equal(pages_out, 2);
	assert_non_null(store_page(f, 4));
	assert_memory_equal((uint8_t *)store_page(f, 5), "b", 1);
	/* Lengths over FS_IO_MAX; a page list past any memory. */
	assert_int_equal(store_read(f, 0, buf, FS_IO_MAX + 1, &got), MICA_EINVAL);
	assert_int_equal(store_write(f, 0, buf, FS_IO_MAX + 1), MICA_EINVAL);
	assert_int_equal(store_truncate(f, UINT64_MAX), MICA_ENOMEM);
	assert_int_equal(store_truncate(f, 1ULL << 62), MICA_ENOMEM);
	store_stat(f, &got64, &flags);
	assert_int_equal(got64, 10 * FS_PAGE);
	check();
	/* Removed while open: the pages go now, the file when the descriptor closes. */
	assert_int_equal(store_remove("data"), MICA_OK);
	assert_int_equal(pages_out, 0);
	assert_true(fds_get(fd) == f);
	assert_true(store_removed(f));
	assert_int_equal(fds_close(fd), MICA_OK);
	check();
}

/* Out of pages at each page a write needs: all or nothing, no page lost. */
static void test_nomem(void **state)
{
	static uint8_t data[FS_IO_MAX], buf[FS_IO_MAX];
	struct fs_file *f;
	uint32_t got;

	(void)state;
	memset(data, 0xAB, sizeof(data));
	assert_int_equal(store_create("nomem"), MICA_OK);
	f = store_find("nomem");
	assert_int_equal(store_write(f, 0, data, 100), MICA_OK);
	for (long allow = 0; allow < 1; allow++) {
		long before = pages_out;

		fail_after = allow;
		/* From byte 100 over the first page's end: the second page is new, and refused. */
		assert_int_equal(store_write(f, 100, data, FS_IO_MAX), MICA_ENOMEM);
		fail_after = -1;
		assert_int_equal(pages_out, before);
		uint64_t size;
		uint32_t flags;

		store_stat(f, &size, &flags);
		assert_int_equal(size, 100);
		check();
	}
	/* Both pages new (a hole, then the write): the first one given back too. */
	assert_int_equal(store_truncate(f, 3 * FS_PAGE), MICA_OK);
	fail_after = 1;
	assert_int_equal(store_write(f, 2 * FS_PAGE - 10, data, 20), MICA_ENOMEM);
	fail_after = -1;
	assert_null(store_page(f, 1));
	assert_null(store_page(f, 2));
	assert_int_equal(store_read(f, 2 * FS_PAGE - 10, buf, 20, &got), MICA_OK);
	for (int i = 0; i < 20; i++)
		assert_int_equal(buf[i], 0);
	check();
	assert_int_equal(store_write(f, 2 * FS_PAGE - 10, data, 20), MICA_OK);
	assert_int_equal(store_remove("nomem"), MICA_OK);
	assert_int_equal(pages_out, 0);
	check();
}

static void test_list_edges(void **state)
{
	char buf[64];
	uint32_t len, count;

	(void)state;
	assert_int_equal(store_create("b"), MICA_OK);
	assert_int_equal(store_create("a"), MICA_OK);
	assert_int_equal(store_create("c"), MICA_OK);
	store_list("", buf, sizeof(buf), &len, &count);
	assert_int_equal(count, 3);
	assert_int_equal(len, 12);
	assert_memory_equal(buf, "a 0\nb 0\nc 0\n", 12);
	store_list("a", buf, sizeof(buf), &len, &count);
	assert_int_equal(count, 2);
	store_list("bb", buf, sizeof(buf), &len, &count); /* after a name that is not there */
	assert_int_equal(count, 1);
	assert_memory_equal(buf, "c 0\n", 4);
	store_list("c", buf, sizeof(buf), &len, &count);
	assert_int_equal(count, 0);
	assert_int_equal(len, 0);
	/* Whole lines only: 9 bytes hold two of them. */
	store_list("", buf, 9, &len, &count);
	assert_int_equal(count, 2);
	assert_int_equal(len, 8);
	store_list("", buf, 3, &len, &count);
	assert_int_equal(count, 0);
	for (const char *n = "abc"; *n; n++) {
		char s[2] = {*n, 0};

		assert_int_equal(store_remove(s), MICA_OK);
	}
	check();
}

static void test_readonly(void **state)
{
	uint8_t buf[FS_IO_MAX];
	struct fs_file *f;
	uint64_t size;
	uint32_t flags, got;

	(void)state;
	assert_int_equal(store_add_readonly("mod-3", 10000), MICA_OK);
	assert_int_equal(store_add_readonly("mod-3", 5), MICA_EEXIST);
	assert_int_equal(store_add_readonly("bad name", 5), MICA_EINVAL);
	assert_int_equal(store_create("mod-3"), MICA_EEXIST);
	f = store_find("mod-3");
	store_stat(f, &size, &flags);
	assert_int_equal(size, 10000);
	assert_int_equal(flags, FS_READONLY);
	source_calls = 0;
	assert_int_equal(store_read(f, 9000, buf, FS_IO_MAX, &got), MICA_OK);
	assert_int_equal(got, 1000);
	for (uint32_t i = 0; i < got; i++)
		assert_int_equal(buf[i], (uint8_t)((9000 + i) * 3));
	assert_int_equal(store_read(f, 10000, buf, 10, &got), MICA_OK); /* at the end: no call */
	assert_int_equal(got, 0);
	assert_int_equal(source_calls, 1);
	assert_int_equal(store_read(f, 10001, buf, 10, &got), MICA_ERANGE);
	assert_int_equal(store_write(f, 0, "x", 1), MICA_EPERM);
	assert_int_equal(store_truncate(f, 0), MICA_EPERM);
	assert_int_equal(store_remove("mod-3"), MICA_EPERM);
	assert_null(store_page(f, 0));
	assert_int_equal(pages_out, 0);
	check();
}

/* store_page_put (a memory object's page written back): a hole gets a page, the tail stays zeros.
 */
static void test_page_put(void **state)
{
	static uint8_t page[FS_PAGE], buf[FS_IO_MAX];
	struct fs_file *f;
	uint32_t got;

	(void)state;
	memset(page, 0xAB, sizeof(page));
	assert_int_equal(store_create("put"), MICA_OK);
	f = store_find("put");
	assert_int_equal(store_page_put(f, 0, page), MICA_ERANGE);   /* empty: no page 0 */
	assert_int_equal(store_truncate(f, FS_PAGE + 100), MICA_OK); /* two holes */
	fail_after = 0;
	assert_int_equal(store_page_put(f, 1, page), MICA_ENOMEM);
	fail_after = -1;
	assert_null(store_page(f, 1));
	assert_int_equal(store_page_put(f, 1, page), MICA_OK);
	assert_int_equal(store_page_put(f, 2, page), MICA_ERANGE);
	assert_int_equal(pages_out, 1);
	assert_int_equal(store_read(f, FS_PAGE, buf, FS_IO_MAX, &got), MICA_OK);
	assert_int_equal(got, 100);
	assert_int_equal(buf[0], 0xAB);
	assert_int_equal(buf[99], 0xAB);
	/* Past the end the page holds zeros: growing the file reads them. */
	assert_int_equal(((uint8_t *)store_page(f, 1))[100], 0);
	assert_int_equal(store_page_put(f, 0, page), MICA_OK);
	assert_int_equal(pages_out, 2);
	check();
	assert_int_equal(store_add_readonly("mod-5", 10), MICA_OK);
	assert_int_equal(store_page_put(store_find("mod-5"), 0, page), MICA_EPERM);
	assert_int_equal(store_remove("put"), MICA_OK);
	assert_int_equal(pages_out, 0);
	check();
}

static void test_fds(void **state)
{
	enum { N = 1000 };
	static uint64_t fds[N];
	struct fs_file *f;
	uint64_t fd;

	(void)state;
	assert_int_equal(store_create("fdfile"), MICA_OK);
	f = store_find("fdfile");
	uint64_t base = fds_count();

	/* Many at once: the table grows; each names the file. */
	for (int i = 0; i < N; i++) {
		assert_int_equal(fds_open(f, 10 + i % 3, &fds[i]), MICA_OK);
		assert_true(fds_get(fds[i]) == f);
		for (int k = 0; k < i; k += 97)
			assert_true(fds[k] != fds[i]);
	}
	assert_int_equal(fds_count(), base + N);
	/* Closed ones are refused, also once their slot is reused (the generation). */
	for (int i = 0; i < N; i += 2)
		assert_int_equal(fds_close(fds[i]), MICA_OK);
	for (int i = 0; i < N; i += 2) {
		assert_null(fds_get(fds[i]));
		assert_int_equal(fds_close(fds[i]), MICA_EBADH);
	}
	assert_int_equal(fds_open(f, 1, &fd), MICA_OK);
	assert_true((fd & 0xFFFFFFFFu) <= N);
	for (int i = 0; i < N; i += 2)
		assert_true(fd != fds[i]);
	assert_int_equal(fds_close(fd), MICA_OK);
	/* Never given: 0, slots past the table, the wrong generation. */
	assert_null(fds_get(0));
	assert_null(fds_get(UINT64_MAX));
	assert_null(fds_get(1ULL << 31));
	assert_null(fds_get((fds[1] & 0xFFFFFFFFu) | 99ULL << 32));
	assert_int_equal(fds_close(0), MICA_EBADH);
	/* The file outlives its removal while held. */
	assert_int_equal(store_remove("fdfile"), MICA_OK);
	for (int i = 1; i < N; i += 2) {
		assert_true(fds_get(fds[i]) == f);
		assert_int_equal(fds_close(fds[i]), MICA_OK);
	}
	assert_int_equal(fds_count(), base);
	check();
}

/* An ended client's descriptors close, and only its (fds_close_owner). */
static void test_fds_owner(void **state)
{
	enum { N = 300 };
	static uint64_t fds[N];
	struct fs_file *f;

	(void)state;
	assert_int_equal(store_create("owned"), MICA_OK);
	f = store_find("owned");
	uint64_t base = fds_count();

	for (int i = 0; i < N; i++)
		assert_int_equal(fds_open(f, 20 + i % 3, &fds[i]), MICA_OK);
	assert_int_equal(fds_close(fds[1]), MICA_OK); /* one of pid 21's closed already */
	assert_int_equal(fds_close_owner(21), N / 3 - 1);
	assert_int_equal(fds_count(), base + N - N / 3);
	for (int i = 0; i < N; i++)
		assert_true(i % 3 == 1 ? fds_get(fds[i]) == NULL : fds_get(fds[i]) == f);
	assert_int_equal(fds_close_owner(21), 0);
	assert_int_equal(fds_close_owner(99), 0);
	/* A removed file goes with its last descriptor, closed this way too. */
	assert_int_equal(store_remove("owned"), MICA_OK);
	assert_int_equal(fds_close_owner(20), N / 3);
	assert_int_equal(fds_close_owner(22), N / 3);
	assert_int_equal(fds_count(), base);
	check();
}

/* idset: sorted, no repeats, against a bitmap model under random adds and removes. */
static void test_idset(void **state)
{
	enum { IDS = 512, OPS = 20000 };
	static bool model[IDS];
	struct idset set = {0};
	uint64_t x = 12345;

	(void)state;
	for (int i = 0; i < OPS; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		uint64_t id = (x >> 33) % IDS;

		if ((x >> 20) & 1) {
			assert_int_equal(idset_add(&set, id), MICA_OK);
			model[id] = true;
		} else {
			assert_int_equal(idset_remove(&set, id), model[id]);
			model[id] = false;
		}
		if (i % 997 == 0) {
			size_t n = 0;

			for (uint64_t k = 0; k < IDS; k++) {
				assert_int_equal(idset_has(&set, k), model[k]);
				n += model[k];
			}
			assert_int_equal(set.n, n);
			for (size_t k = 1; k < set.n; k++)
				assert_true(set.v[k - 1] < set.v[k]);
		}
	}
	idset_free(&set);
	assert_int_equal(set.n, 0);
	assert_false(idset_has(&set, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),      cmocka_unit_test(test_tree),
	    cmocka_unit_test(test_data),       cmocka_unit_test(test_nomem),
	    cmocka_unit_test(test_list_edges), cmocka_unit_test(test_readonly),
	    cmocka_unit_test(test_fds),        cmocka_unit_test(test_page_put),
	    cmocka_unit_test(test_fds_owner),  cmocka_unit_test(test_idset),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
