/*
 * Fuzz target: the file server's real request handling (servers/fs/:
 * ops.c, store.c, fds.c behind the dispatch tools/idlc generates) over a
 * sequence of fuzzed requests, so state builds up between them: methods
 * with words that are often descriptors it was given, names from a small
 * pool or raw bytes, data of any length, and a page source that fails on
 * demand. After every request: the reply fits and has the status's shape,
 * store_check passes and the pages out are the pages the store counts;
 * after the sequence, every descriptor closed and every file removed
 * leaves no page and no descriptor behind.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include <string.h>

#include <idl/fs_server.h>
#include <mica/error.h>

#include "fs.h"
#include "fuzz.h"

/* ---- the fuzzed input, read front to back (zeros once it runs out) ---- */

static const uint8_t *in;
static size_t in_left;

static uint64_t take(unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in_left; i++, in_left--)
		v |= (uint64_t)*in++ << (8 * i);
	return v;
}

/* ---- fakes: pages (counted, failing on demand), the modules, handles ---- */

static long pages_out, fail_in = -1; /* allocations before one fails (-1: never) */

void *page_alloc(void)
{
	if (fail_in == 0)
		return NULL;
	if (fail_in > 0)
		fail_in--;
	void *p = aligned_alloc(FS_PAGE, FS_PAGE);

	FUZZ_CHECK(p);
	memset(p, 0, FS_PAGE);
	pages_out++;
	return p;
}

void page_free(void *page)
{
	FUZZ_CHECK(page && (uintptr_t)page % FS_PAGE == 0);
	pages_out--;
	free(page);
}

void pages_trim(void)
{
}

static int module_fail; /* the source's answer: 0, or an error the store must pass on */

static int source(const char *name, uint64_t offset, void *buf, uint32_t len)
{
	FUZZ_CHECK(store_find(name) && len > 0 && len <= FS_IO_MAX);
	uint64_t size;
	uint32_t flags;

	store_stat(store_find(name), &size, &flags);
	FUZZ_CHECK(flags == FS_READONLY && offset <= size && len <= size - offset);
	memset(buf, (int)(offset & 0xff), len);
	return module_fail;
}

/*
 * objects.c's calls (the pager behind them is not here): a table of the
 * files with an object, and a resize that fails on demand, so ops.c's
 * roll-backs run.
 */
#define NOBJS 8
static struct fs_file *objs[NOBJS];
static int resize_fail; /* objects_resize's answer for a file with an object */

static int obj_slot(const struct fs_file *f)
{
	for (int i = 0; i < NOBJS; i++)
		if (objs[i] == f)
			return i;
	return -1;
}

int objects_map(struct fs_file *f, uint64_t pid, uint64_t *object)
{
	uint64_t size;
	uint32_t flags;
	int i = obj_slot(f);

	(void)pid;
	store_stat(f, &size, &flags);
	FUZZ_CHECK(!store_removed(f));
	if (flags & FS_READONLY)
		return MICA_EPERM;
	if (i < 0 && (i = obj_slot(NULL)) < 0)
		return MICA_ELIMIT;
	objs[i] = f;
	*object = (uint64_t)i + 1;
	return MICA_OK;
}

int objects_resize(struct fs_file *f, uint64_t size)
{
	(void)size;
	FUZZ_CHECK(!store_removed(f));
	return obj_slot(f) >= 0 ? resize_fail : MICA_OK;
}

int objects_write(struct fs_file *f, uint64_t offset, const void *data, uint32_t len)
{
	uint64_t size;
	uint32_t flags;

	/* After the store took the bytes: they lie within the file. */
	(void)data;
	store_stat(f, &size, &flags);
	FUZZ_CHECK(!store_removed(f) && offset <= size && len <= size - offset);
	return MICA_OK;
}

/* clients.c's: the opener's pid is remembered (nothing to fake: no pager here). */
int clients_add(uint64_t pid)
{
	(void)pid;
	return MICA_OK;
}

void clients_poll(void)
{
}

int objects_pull(struct fs_file *f, uint64_t offset, uint32_t len)
{
	(void)offset, (void)len;
	FUZZ_CHECK(!store_removed(f));
	return MICA_OK;
}

void objects_drop(struct fs_file *f)
{
	int i = obj_slot(f);

	if (i >= 0)
		objs[i] = NULL;
}

int64_t ipc_handle_close(mica_handle_t h)
{
	(void)h;
	return MICA_OK;
}

/* ---- the requests ---- */

static const char *const names[] = {"a", "b", "mod.elf", "empty", "", "a b", "zz", "big"};
#define NNAMES (sizeof(names) / sizeof(names[0]))

#define NFDS 64
static uint64_t fds[NFDS];
static unsigned nfds;

/* A word: a descriptor it was given, a small number, an offset near a page edge, or any. */
static uint64_t word(void)
{
	uint8_t tag = (uint8_t)take(1);

	switch (tag >> 5) {
	case 0:
	case 1:
		return nfds ? fds[tag % nfds] : tag;
	case 2:
		return tag & 31;
	case 3:
		return take(2) * FS_PAGE / 16;
	case 4:
		return FS_PAGE * (tag & 7) + take(1) - 128;
	case 5:
		return take(2);
	default:
		return take(8);
	}
}

static void check_all(void)
{
	const char *why = NULL;
	struct fs_counts c;

	if (store_check(&why) != MICA_OK) {
		fprintf(stderr, "fuzz: store_check: %s\n", why);
		FUZZ_CHECK(!"store_check");
	}
	store_counts(&c);
	FUZZ_CHECK((long)c.pages == pages_out);
}

static uint8_t reqbuf[MICA_MSG_BUF_MAX], repbuf[MICA_MSG_BUF_MAX];

/* One request: 0 to go on, 1 when the input is spent. */
static int one_request(void)
{
	struct ipc_msg req, rep;
	/* sel: the method (bits 0-3; 0 and 13-15 are none), a module read that fails
	 * (bit 4), a memory object's resize that fails (bit 5), a page source that
	 * fails (bit 6), a well-formed buffer (bit 7). */
	uint8_t sel = (uint8_t)take(1);
	uint16_t method = sel & 0x0f;
	uint32_t len = 0;

	if (!in_left)
		return 1;
	ipc_msg_init(&req, MICA_IDL_LABEL(FS_NUMBER, method), reqbuf, sizeof(reqbuf));
	for (int i = 0; i < MICA_MSG_WORDS; i++)
		req.m.w[i] = word();
	if (sel & 0x80) {
		/* A name (string methods) or data (write): well formed. */
		if (method == 4) {
			len = (uint32_t)(take(2) % (FS_WRITE_DATA_MAX + 1));
			memset(reqbuf, (int)take(1), len);
			req.m.w[2] = len;
		} else {
			const char *n = names[take(1) % NNAMES];

			len = (uint32_t)strlen(n);
			memcpy(reqbuf, n, len + 1);
			req.m.w[0] = len++;
		}
	} else {
		/* Raw bytes, any length the rest of the input gives. */
		len = (uint32_t)(take(1) % 64);
		for (uint32_t i = 0; i < len; i++)
			reqbuf[i] = (uint8_t)take(1);
	}
	req.len = len;
	req.badge = 1;
	fail_in = sel & 0x40 ? (long)(take(1) % 3) : -1;
	module_fail = sel & 0x10 ? MICA_EPEER : 0;
	resize_fail = sel & 0x20 ? MICA_ENOMEM : 0;
	ipc_msg_init(&rep, 0, repbuf, sizeof(repbuf));

	int rc = fs_dispatch(&fs_handlers, NULL, &req, &rep);

	fail_in = -1;
	FUZZ_CHECK(rc <= 0 && rc >= MICA_ETIMEDOUT);
	FUZZ_CHECK(rep.len <= rep.cap && rep.m.label == MICA_IDL_STATUS_LABEL(rc));
	FUZZ_CHECK(rc == 0 || rep.len == 0);
	/* A new descriptor: kept (the oldest closed when the list is full). */
	if (rc == 0 && method == 1) {
		if (nfds == NFDS) {
			FUZZ_CHECK(fds_close(fds[0]) == MICA_OK);
			memmove(fds, fds + 1, sizeof(fds) - sizeof(fds[0]));
			nfds--;
		}
		fds[nfds++] = rep.m.w[0];
	}
	/* A file mapped: a page written back into it (as the pager's page_out). */
	if (rc == 0 && method == 12) {
		static uint8_t page[FS_PAGE];
		struct fs_file *f = fds_get(req.m.w[0]);

		FUZZ_CHECK(f && obj_slot(f) >= 0);
		memset(page, (int)take(1), sizeof(page));
		fail_in = sel & 0x40 ? 0 : -1;
		int prc = store_page_put(f, take(1) % 4, page);

		fail_in = -1;
		FUZZ_CHECK(prc == MICA_OK || prc == MICA_ERANGE || prc == MICA_ENOMEM);
	}
	check_all();
	return 0;
}

/* Every file removed (but the modules), every descriptor closed: nothing left. */
static void clean_up(void)
{
	static char lines[FS_LIST_MAX + 1];
	char after[FS_NAME_MAX + 1] = "";
	uint32_t len, count;

	for (unsigned i = 0; i < nfds; i++)
		(void)fds_close(fds[i]); /* EBADH for one closed by a request */
	nfds = 0;
	memset(objs, 0, sizeof(objs)); /* the files go below without fs.remove */
	for (;;) {
		store_list(after, lines, FS_LIST_MAX, &len, &count);
		if (!count)
			break;
		lines[len] = 0;
		for (char *p = lines; *p;) {
			char *sp = strchr(p, ' '), *nl = strchr(p, '\n');

			FUZZ_CHECK(sp && nl && sp < nl);
			*sp = 0;
			int rc = store_remove(p);

			FUZZ_CHECK(rc == MICA_OK ||
			           (rc == MICA_EPERM && strcmp(p, "mod.elf") == 0));
			strcpy(after, p);
			p = nl + 1;
		}
	}
	check_all();
	FUZZ_CHECK(pages_out == 0 && fds_count() == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool started;

	if (!started) {
		store_init(source);
		FUZZ_CHECK(store_add_readonly("mod.elf", 3 * FS_PAGE + 5) == MICA_OK);
		started = true;
	}
	in = data, in_left = size;
	for (int n = 0; n < 200 && !one_request(); n++)
		;
	clean_up();
	return 0;
}
