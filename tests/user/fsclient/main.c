/*
 * The file server's test client (tests/system/test_fs.py): looks up "fs"
 * and calls every method of idl/fs.idl with every error it documents,
 * large files, many files, the boot modules, running out of memory (the
 * manifest gives fs a memory limit), files as memory objects
 * (fs.map_object: shared between this process and a child of its own,
 * private, cut by a truncate, destroyed by a remove) and the frames coming
 * back. Prints one line per check: TEST fs.<id> PASS, or FAIL and a
 * detail. With the argument "bench" it prints make bench's fs.read_4k
 * instead; with "child <object>" it is that child (test_objects).
 */
#include <idl/fs_client.h>
#include <idl/memobj_client.h>
#include <idl/names_client.h>
#include <idl/pager_client.h>
#include <mica/fault.h>
#include <mica/pager.h>
#include <mica/thread.h>
#include <startup.h>
#include <stdio.h>
#include <string.h>

#define PAGE 4096

static int failures; /* the exit code: a failed test fails the program, and so the run */
static mica_handle_t fs, pager;
static uint8_t buf[PAGE], big[PAGE]; /* static: replies land in mapped pages */
static char lines[FS_LIST_LINES_MAX + 1];

static void result(const char *id, bool ok, long detail)
{
	if (ok) {
		printf("TEST fs.%s PASS\n", id);
	} else {
		printf("TEST fs.%s FAIL %ld\n", id, detail);
		failures++;
	}
}

/* The first error of a sequence of calls, or 0. */
#define FIRST(rc, call) ((rc) = (rc) ? (rc) : (call))

/* Byte i of test pattern `seed`. */
static uint8_t pat(uint64_t seed, uint64_t i)
{
	return (uint8_t)((i * 131 + seed * 7 + (i >> 12)) ^ (i >> 8));
}

/*
 * The pool's free frames, with those it gave the kernel's reserve (a page
 * of a handle table, of a page table: kept by the kernel for the next one,
 * not lost; mica.frames_back counts the same), and this process's own
 * pages: its text, data and stack fault in as it runs (how many depends on
 * its layout), which is no frame lost by the server or the pager.
 */
static uint64_t pool_free(void)
{
	uint64_t f = 0, t, d = 0;
	int32_t l;
	struct pager_usage u = {0};

	pager_stats(pager, &f, &t, &l, &d, &u);
	return f + d + u.resident_pages;
}

static uint64_t fs_pages(void)
{
	struct fs_usage u = {0};

	fs_usage(fs, &u);
	return u.pages;
}

/* Writes `size` bytes of pattern seed into a new file name, 4 KiB a call; 0 or the error. */
static int write_file(const char *name, uint64_t size, uint64_t seed)
{
	uint64_t fd = 0, got = 0, sz;
	int rc = fs_create(fs, name);

	FIRST(rc, fs_open(fs, name, &fd, &sz));
	for (uint64_t off = 0; !rc && off < size; off += PAGE) {
		uint32_t n = size - off < PAGE ? (uint32_t)(size - off) : PAGE;

		for (uint32_t i = 0; i < n; i++)
			big[i] = pat(seed, off + i);
		rc = fs_write(fs, fd, off, big, n, &got);
		if (!rc && got != off + n)
			rc = -100;
	}
	if (fd)
		fs_close(fs, fd);
	return rc;
}

/* Reads name back whole (4 KiB a call, some reads across pages) and checks every byte. */
static int check_file(const char *name, uint64_t size, uint64_t seed)
{
	uint64_t fd = 0, sz = 0;
	uint32_t n = 0;
	int rc = fs_open(fs, name, &fd, &sz);

	if (!rc && sz != size)
		rc = -101;
	for (uint64_t off = 0; !rc && off < size; off += n) {
		uint32_t want =
		    (off / PAGE) % 3 == 1 ? 1000 : PAGE; /* 1000: later reads straddle */

		rc = fs_read(fs, fd, off, want, buf, &n);
		if (!rc && (n == 0 || n > want))
			rc = -102;
		for (uint32_t i = 0; !rc && i < n; i++)
			if (buf[i] != pat(seed, off + i))
				rc = -103;
	}
	if (fd)
		fs_close(fs, fd);
	return rc;
}

static void test_modules(void)
{
	static uint8_t mod[PAGER_MODULE_READ_DATA_MAX];
	uint64_t size = 0, fd = 0, sz, total = 0, got;

	uint32_t flags = 0, n = 0, mn = 0;
	int rc = fs_stat(fs, "fs.elf", &size, &flags);

	result("module_stat", rc == 0 && flags == 1 && size > 1000, rc ? rc : (long)flags);
	FIRST(rc, fs_open(fs, "fs.elf", &fd, &sz));
	FIRST(rc, fs_read(fs, fd, 0, PAGE, buf, &n));
	int prc = pager_module_read(pager, "fs.elf", 0, mod, &mn, &total);

	result("module_read",
	       rc == 0 && prc == 0 && n == PAGE && total == size &&
	           memcmp(buf,
	                  "\x7f"
	                  "ELF",
	                  4) == 0 &&
	           memcmp(buf, mod, mn) == 0,
	       rc    ? rc
	       : prc ? prc
	             : (long)n);
	/* The last bytes, across the pager's 4000-byte chunks, and the end. */
	rc = fs_read(fs, fd, size - 10, 100, buf, &n);
	prc = pager_module_read(pager, "fs.elf", size - 10, mod, &mn, &total);
	uint32_t at_end = 99;
	int end = fs_read(fs, fd, size, 1, buf + 100, &at_end);

	result("module_tail",
	       rc == 0 && prc == 0 && n == 10 && mn == 10 && memcmp(buf, mod, 10) == 0 &&
	           end == 0 && at_end == 0,
	       rc    ? rc
	       : prc ? prc
	             : end);
	rc = fs_read(fs, fd, size + 1, 1, buf, &n);
	result("module_past_end", rc == MICA_ERANGE, rc);
	rc = fs_write(fs, fd, 0, "x", 1, &got);
	int t = fs_truncate(fs, fd, 0);
	int r = fs_remove(fs, "fs.elf");

	result("module_readonly", rc == MICA_EPERM && t == MICA_EPERM && r == MICA_EPERM,
	       rc  ? rc
	       : t ? t
	           : r);
	fs_close(fs, fd);
	rc = fs_create(fs, "pager.elf");
	result("module_name_taken", rc == MICA_EEXIST, rc);
}

static void test_basic(void)
{
	uint64_t fd = 0, fd2 = 0, size = 99, got = 0;
	uint32_t n = 0, flags = 9;
	int rc = fs_create(fs, "hello.txt");

	FIRST(rc, fs_open(fs, "hello.txt", &fd, &size));
	result("create_open", rc == 0 && size == 0 && fd != 0, rc ? rc : (long)size);
	rc = fs_write(fs, fd, 0, "hello, world", 12, &got);
	FIRST(rc, fs_read(fs, fd, 0, 100, buf, &n));
	result("write_read",
	       rc == 0 && got == 12 && n == 12 && memcmp(buf, "hello, world", 12) == 0,
	       rc ? rc : (long)n);
	rc = fs_write(fs, fd, 7, "Mica!!", 6, &got); /* over the end: grows by one */
	FIRST(rc, fs_read(fs, fd, 0, 100, buf, &n));
	result("overwrite_grow",
	       rc == 0 && got == 13 && n == 13 && memcmp(buf, "hello, Mica!!", 13) == 0,
	       rc ? rc : (long)got);
	rc = fs_size(fs, fd, &size);
	int st = fs_stat(fs, "hello.txt", &got, &flags);

	result("size_stat", rc == 0 && st == 0 && size == 13 && got == 13 && flags == 0,
	       rc   ? rc
	       : st ? st
	            : (long)size);
	rc = fs_read(fs, fd, 13, 10, buf, &n);
	result("read_at_end", rc == 0 && n == 0, rc ? rc : (long)n);
	rc = fs_read(fs, fd, 14, 10, buf, &n);
	result("read_past_end", rc == MICA_ERANGE, rc);
	rc = fs_read(fs, fd, 0, PAGE + 1, buf, &n);
	result("read_too_long", rc == MICA_EINVAL, rc);
	rc = fs_write(fs, fd, 14, "x", 1, &got);
	result("write_past_end", rc == MICA_ERANGE, rc);
	rc = fs_truncate(fs, fd, 13);
	/* A second descriptor on the same file sees the same bytes. */
	FIRST(rc, fs_open(fs, "hello.txt", &fd2, &size));
	FIRST(rc, fs_read(fs, fd2, 7, 4, buf, &n));
	result("two_fds", rc == 0 && fd2 != fd && size == 13 && memcmp(buf, "Mica", 4) == 0, rc);
	fs_close(fs, fd2);

	/* Across a page boundary, then a truncate into the first page and growing again. */
	rc = fs_truncate(fs, fd, 0);
	for (uint32_t i = 0; i < PAGE; i++)
		big[i] = (uint8_t)(i + 1);
	FIRST(rc, fs_write(fs, fd, 0, big, PAGE, &got));
	FIRST(rc, fs_write(fs, fd, 4000, big, 200, &got));
	FIRST(rc, fs_read(fs, fd, 3990, 220, buf, &n));
	bool ok = rc == 0 && got == 4200 && n == 210 && memcmp(buf, big + 3990, 10) == 0 &&
	          memcmp(buf + 10, big, 200) == 0;

	result("straddle", ok, rc ? rc : (long)n);
	rc = fs_truncate(fs, fd, 100);
	FIRST(rc, fs_truncate(fs, fd, 9000)); /* grows: zeros past 100, a hole past the page */
	FIRST(rc, fs_read(fs, fd, 0, PAGE, buf, &n));
	ok = rc == 0 && n == PAGE && memcmp(buf, big, 100) == 0;
	for (uint32_t i = 100; ok && i < PAGE; i++)
		ok = buf[i] == 0;
	FIRST(rc, fs_read(fs, fd, 8000, PAGE, buf, &n));
	ok = ok && rc == 0 && n == 1000;
	for (uint32_t i = 0; ok && i < n; i++)
		ok = buf[i] == 0;
	result("truncate_zeros", ok, rc ? rc : (long)n);
	rc = fs_truncate(fs, fd, 1ULL << 62); /* a page list of 2^50 entries: no memory for it */
	int sz = fs_size(fs, fd, &size);

	result("truncate_nomem", rc == MICA_ENOMEM && sz == 0 && size == 9000, rc ? rc : sz);
	rc = fs_close(fs, fd);
	int again = fs_close(fs, fd);

	result("close", rc == 0 && again == MICA_EBADH, rc ? rc : again);
	rc = fs_create(fs, "hello.txt");
	result("create_exists", rc == MICA_EEXIST, rc);
}

static void test_errors(void)
{
	char name[FS_CREATE_NAME_MAX + 2];
	uint64_t fd = 0, size, got;
	uint32_t n, flags;

	int a = fs_create(fs, ""), b = fs_open(fs, "", &fd, &size), c = fs_remove(fs, "");
	int d = fs_stat(fs, "", &size, &flags), e = fs_create(fs, "a b"),
	    f = fs_create(fs, "tab\t");

	result("bad_name",
	       a == MICA_EINVAL && b == MICA_EINVAL && c == MICA_EINVAL && d == MICA_EINVAL &&
	           e == MICA_EINVAL && f == MICA_EINVAL,
	       a   ? a
	       : b ? b
	       : c ? c
	       : d ? d
	       : e ? e
	           : f);
	memset(name, 'n', sizeof(name));
	name[FS_CREATE_NAME_MAX] = 0; /* the longest: 127 bytes */
	a = fs_create(fs, name);
	b = a ? a : fs_remove(fs, name);
	name[FS_CREATE_NAME_MAX] = 'n';
	name[FS_CREATE_NAME_MAX + 1] = 0; /* one too many: the stub refuses it */
	c = fs_create(fs, name);
	d = fs_open(fs, name, &fd, &size);
	result("name_too_long", b == 0 && c == MICA_EINVAL && d == MICA_EINVAL, b ? b : c ? c : d);

	a = fs_open(fs, "nosuch", &fd, &size);
	b = fs_remove(fs, "nosuch");
	c = fs_stat(fs, "nosuch", &size, &flags);
	result("missing", a == MICA_ENOENT && b == MICA_ENOENT && c == MICA_ENOENT,
	       a   ? a
	       : b ? b
	           : c);

	/* Descriptors never given: 0, made up, a slot's wrong generation, huge. */
	static const uint64_t bad[] = {0, 12345, (7ULL << 32) | 1, UINT64_MAX, 1ULL << 31};
	bool ok = true;
	long det = 0;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r[5] = {fs_read(fs, bad[i], 0, 1, buf, &n),
		            fs_write(fs, bad[i], 0, "x", 1, &got), fs_size(fs, bad[i], &size),
		            fs_truncate(fs, bad[i], 0), fs_close(fs, bad[i])};

		for (int k = 0; k < 5; k++)
			if (r[k] != MICA_EBADH)
				ok = false, det = (long)i * 100 - r[k];
	}
	result("bad_fd", ok, det);

	/* A file removed while open: its descriptor gets ENOENT until closed. */
	a = fs_create(fs, "doomed");
	FIRST(a, fs_open(fs, "doomed", &fd, &size));
	FIRST(a, fs_write(fs, fd, 0, "bye", 3, &got));
	FIRST(a, fs_remove(fs, "doomed"));
	b = fs_read(fs, fd, 0, 3, buf, &n);
	c = fs_write(fs, fd, 0, "x", 1, &got);
	d = fs_size(fs, fd, &size);
	e = fs_truncate(fs, fd, 0);
	f = fs_close(fs, fd);
	int g = fs_stat(fs, "doomed", &size, &flags);
	int h = fs_create(fs, "doomed"); /* the name is free again */

	FIRST(h, fs_remove(fs, "doomed"));
	result("removed_while_open",
	       a == 0 && b == MICA_ENOENT && c == MICA_ENOENT && d == MICA_ENOENT &&
	           e == MICA_ENOENT && f == 0 && g == MICA_ENOENT && h == 0,
	       a                  ? a
	       : b != MICA_ENOENT ? b
	       : f                ? f
	                          : h);
}

/* Every name listed, in order, paged with `after`; how many lines, or an error. */
static long list_all(char *last_out)
{
	char after[FS_LIST_AFTER_MAX + 1] = "", prev[FS_LIST_AFTER_MAX + 1] = "";
	long total = 0;

	for (;;) {
		uint32_t count = 0, len = 0;
		int rc = fs_list(fs, after, &count, lines, &len);

		if (rc)
			return rc;
		if (!count)
			break;
		lines[len] = 0;
		total += count;
		/* Each line "<name> <size>": names in order, after `after`. */
		for (char *p = lines; *p;) {
			char *sp = strchr(p, ' '), *nl = strchr(p, '\n');

			if (!sp || !nl || sp > nl)
				return -200;
			*sp = 0;
			if (strcmp(p, prev) <= 0)
				return -201;
			strcpy(prev, p);
			p = nl + 1;
		}
		strcpy(after, prev);
	}
	if (last_out)
		strcpy(last_out, prev);
	return total;
}

static void test_list(void)
{
	uint32_t count = 0, len = 0;
	int rc = fs_list(fs, "", &count, lines, &len);

	lines[rc ? 0 : len] = 0;
	result("list",
	       rc == 0 && count >= 4 && strstr(lines, "hello.txt 9000\n") &&
	           strstr(lines, "pager.elf ") && strstr(lines, "fs.elf "),
	       rc ? rc : (long)count);
	rc = fs_list(fs, "zzzz", &count, lines, &len);
	result("list_after_last", rc == 0 && count == 0 && len == 0, rc ? rc : (long)count);
}

#define MANY 600

static void test_many(void)
{
	char name[32];
	uint64_t size = 0;
	uint32_t flags;
	struct fs_usage u0 = {0}, u1 = {0};
	int rc = fs_usage(fs, &u0);
	long before = list_all(NULL);

	for (int i = 0; !rc && i < MANY; i++) {
		snprintf(name, sizeof(name), "many-%04d", (i * 7919) % MANY); /* not in order */
		rc = write_file(name, (uint64_t)(i % 5) * 1000 + 1, (uint64_t)i);
	}
	FIRST(rc, fs_usage(fs, &u1));
	long listed = list_all(NULL);

	result("many_create", rc == 0 && u1.files == u0.files + MANY && listed == before + MANY,
	       rc ? rc : listed);
	for (int i = 0; !rc && i < MANY; i++) {
		snprintf(name, sizeof(name), "many-%04d", (i * 7919) % MANY);
		rc = fs_stat(fs, name, &size, &flags);
		if (!rc && size != (uint64_t)(i % 5) * 1000 + 1)
			rc = -300;
		if (!rc && i % 50 == 0)
			rc = check_file(name, size, (uint64_t)i);
	}
	result("many_read", rc == 0, rc);
	for (int i = 0; !rc && i < MANY; i++) {
		snprintf(name, sizeof(name), "many-%04d", i);
		rc = fs_remove(fs, name);
	}
	FIRST(rc, fs_usage(fs, &u1));
	result("many_remove", rc == 0 && u1.files == u0.files && u1.pages == u0.pages,
	       rc ? rc : (long)u1.files);
}

#define LARGE (5ULL << 20) /* 5 MiB: the fs server's limit is 8 MiB (test manifest) */

static void test_large(void)
{
	/* A warm-up round first: the server's heap grows to its size once (page list, nodes). */
	int rc = write_file("large", LARGE, 1);

	FIRST(rc, fs_remove(fs, "large"));
	uint64_t free0 = pool_free(), pages0 = fs_pages();

	FIRST(rc, write_file("large", LARGE, 2));
	uint64_t pages1 = fs_pages(), free1 = pool_free();

	result("large_write",
	       rc == 0 && pages1 == pages0 + LARGE / PAGE && free1 + LARGE / PAGE <= free0,
	       rc ? rc : (long)(pages1 - pages0));
	rc = check_file("large", LARGE, 2);
	result("large_read", rc == 0, rc);
	rc = fs_remove(fs, "large");
	uint64_t free2 = pool_free(), pages2 = fs_pages();

	result("large_frames_back", rc == 0 && pages2 == pages0 && free2 == free0,
	       rc ? rc : (long)(free0 - free2));
}

static void test_nomem(void)
{
	uint64_t fd = 0, size, got = 0, off = 0;
	struct fs_usage u0 = {0}, u1 = {0};
	int rc = fs_usage(fs, &u0);

	/* Fill memory until the pager refuses the server a page (its 8 MiB limit). */
	FIRST(rc, fs_create(fs, "hog"));
	FIRST(rc, fs_open(fs, "hog", &fd, &size));
	memset(big, 0x5a, PAGE);
	while (rc == 0 && off < (64ULL << 20)) {
		rc = fs_write(fs, fd, off, big, PAGE, &got);
		off += rc == 0 ? PAGE : 0;
	}
	int sz = fs_size(fs, fd, &size);
	/* A write that needed a page changed nothing; one into pages it has still works. */
	int w = fs_write(fs, fd, 0, "ok", 2, &got);

	result("out_of_memory",
	       rc == MICA_ENOMEM && sz == 0 && size == off && off >= (4ULL << 20) && w == 0 &&
	           got == off,
	       rc != MICA_ENOMEM ? rc
	       : sz              ? sz
	       : w               ? w
	                         : (long)(size - off));
	fs_close(fs, fd);
	rc = fs_remove(fs, "hog");
	FIRST(rc, fs_usage(fs, &u1));
	/* Room again: a file can be written after. */
	FIRST(rc, write_file("after-hog", 3 * PAGE, 5));
	FIRST(rc, check_file("after-hog", 3 * PAGE, 5));
	FIRST(rc, fs_remove(fs, "after-hog"));
	result("nomem_recovers", rc == 0 && u1.pages == u0.pages, rc ? rc : (long)u1.pages);
}

/* ---- files as memory objects (fs.map_object, docs/MEMORY_SERVERS.md) ---- */

#define RW     (MICA_MAP_READ | MICA_MAP_WRITE)
#define SHARED MICA_MEMOBJ_SHARED

static uint64_t parse_num(const char *s)
{
	uint64_t v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	return v;
}

/* Wait for child pid: reason * 1000 + code, or a negative error. */
static int64_t wait_for(uint64_t pid)
{
	uint32_t reason;
	uint64_t code;
	int r;

	while ((r = pager_wait(pager, pid, &reason, &code)) == MICA_EAGAIN)
		mica_sleep(10000000);
	return r < 0 ? r : (int64_t)reason * 1000 + (int64_t)code;
}

static void toucher(uint64_t addr)
{
	(void)*(volatile uint64_t *)addr;
	mica_thread_exit(0);
}

/* A thread of ours touches addr: reason * 1000 + code it ended with, or a negative error. */
static int64_t touch_in_thread(uint64_t addr)
{
	uint64_t tid, code;
	uint32_t reason;
	int r = pager_thread_create(pager, (uint64_t)(uintptr_t)toucher, addr, &tid);

	if (r < 0)
		return r;
	while ((r = pager_thread_join(pager, tid, &reason, &code)) == MICA_EAGAIN)
		mica_sleep(10000000);
	return r < 0 ? r : (int64_t)reason * 1000 + (int64_t)code;
}

/* The u64 at byte offset off of file fd, through fs.read; ~0 when the read fails. */
static uint64_t read_u64(uint64_t fd, uint64_t off)
{
	uint64_t v = ~0ull;
	uint32_t n = 0;

	if (fs_read(fs, fd, off, 8, buf, &n) == 0 && n == 8)
		memcpy(&v, buf, 8);
	return v;
}

/*
 * The child (argv "child <object>"): maps the object shared, checks the
 * word its parent wrote through its own mapping, writes two of its own
 * (word 1 of page 0, word 0 of page 1), syncs and unmaps. Exit code 0, or
 * the step that failed.
 */
static int child(uint64_t object)
{
	uint64_t at = 0, n = 0;

	if (pager_memobj_map(pager, object, 0, 2 * PAGE, RW, SHARED, 0, &at) < 0)
		return 10;
	volatile uint64_t *w = (volatile uint64_t *)at;

	if (w[0] != 0x1111)
		return 11;
	w[1] = 0x2222;
	w[PAGE / 8] = 0x3333;
	if (pager_memobj_ctl(pager, MICA_MEMOBJ_SYNC, at, 0, 0, &n) < 0 || n < 2)
		return 12;
	return pager_unmap(pager, at) < 0 ? 13 : 0;
}

static void test_objects(void)
{
	const struct mica_startup *st = rt_startup_info();
	uint64_t warm = 0;

	/*
	 * A process ends first: fs's code that looks at its clients then
	 * (clients.c) is paged in at its first run and stays (a frame for good),
	 * so it is not counted below.
	 */
	if (pager_spawn(pager, "fsclient.elf", "hold", &warm) == 0) {
		(void)pager_kill(pager, warm, 0);
		(void)wait_for(warm);
		(void)fs_pages(); /* fs.usage: fs looks at its clients now */
	}
	uint64_t before = pool_free(), pages0 = fs_pages();
	uint64_t fd = 0, mfd = 0, sz = 0, obj = 0, obj2 = 0, at = 0, n, owner, cached, maps, ssize,
	         pid = 0;
	uint32_t rights;
	char args[32];
	int rc = write_file("mapped", 2 * PAGE, 7);

	FIRST(rc, fs_open(fs, "mapped", &fd, &sz));
	FIRST(rc, fs_map_object(fs, fd, st->pid, &obj, &sz));
	FIRST(rc, fs_map_object(fs, fd, st->pid, &obj2, &sz)); /* the same object again */
	FIRST(rc, pager_memobj_stat(pager, obj, &ssize, &rights, &owner, &cached, &maps));
	result("object_made", rc == 0 && obj == obj2 && sz == 2 * PAGE && ssize == 2 * PAGE,
	       rc ? rc : (long)obj2);

	/* Errors: no descriptor, a boot module, no such pid, a removed file. */
	int e1 = fs_map_object(fs, 999999, st->pid, &obj2, &n);
	int e2 = fs_open(fs, "fs.elf", &mfd, &n);
	int e3 = e2 ? e2 : fs_map_object(fs, mfd, st->pid, &obj2, &n);
	int e4 = fs_map_object(fs, fd, 999999, &obj2, &n);
	int e5 = fs_create(fs, "gone");
	uint64_t gfd = 0;

	FIRST(e5, fs_open(fs, "gone", &gfd, &n));
	FIRST(e5, fs_remove(fs, "gone"));
	e5 = e5 ? e5 : fs_map_object(fs, gfd, st->pid, &obj2, &n);
	fs_close(fs, gfd);
	fs_close(fs, mfd);
	result("object_errors",
	       e1 == MICA_EBADH && e3 == MICA_EPERM && e4 == MICA_EINVAL && e5 == MICA_ENOENT,
	       e1 != MICA_EBADH    ? e1
	       : e3 != MICA_EPERM  ? e3
	       : e4 != MICA_EINVAL ? e4
	                           : e5);

	/* Only the pager may call memobj on fs: a client's page_in would name any window. */
	int e6 = memobj_page_in(fs, obj, 0, 1, (uint64_t)(uintptr_t)buf);
	struct fs_usage u;
	int e7 = fs_usage(fs, &u);

	result("object_memobj_refused", e6 == MICA_ENOMETHOD && e7 == 0, e6);
	/* Only the object's creator (fs) may write into the pager's cache of it. */
	uint64_t wn = 0;
	int e8 = pager_memobj_write(pager, obj, 0, (const uint8_t *)"x", 1, &wn);

	result("object_cache_write_refused", e8 == MICA_EPERM, e8);

	/* Shared: the file's bytes at first; a child sees our write and we see its writes. */
	FIRST(rc, pager_memobj_map(pager, obj, 0, 2 * PAGE, RW, SHARED, 0, &at));
	volatile uint64_t *w = (volatile uint64_t *)at;
	bool same = rc == 0;

	for (uint64_t i = 0; same && i < 2 * PAGE; i += 97)
		same = ((volatile uint8_t *)w)[i] == pat(7, i);
	result("object_reads_file", rc == 0 && same, rc);
	int64_t cr = -1;

	if (!rc) {
		w[0] = 0x1111;
		memcpy(args, "child ", 6);
		int k = 6;
		char d[24];
		int m = 0;

		for (uint64_t v = obj; m == 0 || v; v /= 10)
			d[m++] = (char)('0' + v % 10);
		while (m)
			args[k++] = d[--m];
		args[k] = 0;
		rc = pager_spawn(pager, "fsclient.elf", args, &pid);
		cr = rc ? rc : wait_for(pid);
	}
	uint64_t f1 = read_u64(fd, 8), f2 = read_u64(fd, PAGE);

	result("object_shared", cr == 0 && w[1] == 0x2222 && w[PAGE / 8] == 0x3333,
	       cr ? cr : (long)w[1]);
	/* The child's sync wrote its pages back, our word with them; our unmap writes ours. */
	w[2] = 0x4444;
	FIRST(rc, pager_unmap(pager, at));
	result("object_written_back",
	       rc == 0 && f1 == 0x2222 && f2 == 0x3333 && read_u64(fd, 0) == 0x1111 &&
	           read_u64(fd, 16) == 0x4444,
	       rc ? rc : (long)f1);

	/* Private: our writes are our own, never the file's. */
	FIRST(rc, pager_memobj_map(pager, obj, 0, 2 * PAGE, RW, 0, 0, &at));
	w = (volatile uint64_t *)at;
	bool priv = rc == 0 && w[0] == 0x1111;

	if (priv) {
		w[0] = 0x5555;
		w[PAGE / 8 + 1] = 0x6666;
		priv = w[0] == 0x5555 && read_u64(fd, 0) == 0x1111;
	}
	FIRST(rc, pager_unmap(pager, at));
	result("object_private",
	       rc == 0 && priv && read_u64(fd, 0) == 0x1111 && read_u64(fd, PAGE + 8) != 0x6666,
	       rc);

	/* A truncate cuts the object: page 1 is past the end, a touch there kills with BUS. */
	FIRST(rc, pager_memobj_map(pager, obj, 0, 2 * PAGE, RW, SHARED, 0, &at));
	int64_t t1 = rc ? rc : touch_in_thread(at + PAGE + 8);

	FIRST(rc, fs_truncate(fs, fd, 100));
	int64_t t2 = rc ? rc : touch_in_thread(at + PAGE + 8);
	int64_t t3 = rc ? rc : touch_in_thread(at + 8);

	FIRST(rc, pager_memobj_stat(pager, obj, &ssize, &rights, &owner, &cached, &maps));
	FIRST(rc, pager_unmap(pager, at));
	result("object_truncate_bus",
	       rc == 0 && t1 == 0 && t2 == MICA_EXIT_PAGER * 1000 + MICA_PAGER_KILL_BUS &&
	           t3 == 0 && ssize == 100,
	       rc                                                   ? rc
	       : t1                                                 ? t1
	       : t2 != MICA_EXIT_PAGER * 1000 + MICA_PAGER_KILL_BUS ? t2
	                                                            : t3);

	/* A write past the end grows the object with the file: page 1 maps again. */
	uint64_t grown = 0;

	FIRST(rc, fs_write(fs, fd, 100, big, PAGE, &grown));
	FIRST(rc, pager_memobj_stat(pager, obj, &ssize, &rights, &owner, &cached, &maps));
	FIRST(rc, pager_memobj_map(pager, obj, 0, 2 * PAGE, MICA_MAP_READ, 0, 0, &at));
	bool tail = rc == 0 && ((volatile uint8_t *)at)[PAGE + 99] == big[PAGE - 1];

	FIRST(rc, pager_unmap(pager, at));
	result("object_grows", rc == 0 && ssize == 100 + PAGE && grown == ssize && tail,
	       rc ? rc : (long)ssize);

	/* Removing the file destroys its object. */
	fs_close(fs, fd);
	FIRST(rc, fs_remove(fs, "mapped"));
	int s1 = pager_memobj_stat(pager, obj, &ssize, &rights, &owner, &cached, &maps);
	int s2 = pager_memobj_map(pager, obj, 0, PAGE, MICA_MAP_READ, 0, 0, &at);

	result("object_removed", rc == 0 && s1 == MICA_ENOENT && s2 == MICA_ENOENT,
	       rc   ? rc
	       : s1 ? s2
	            : s1);
	uint64_t after = pool_free();

	result("object_frames_back", after == before && fs_pages() == pages0,
	       (long)(after - before) * 1000 + (long)(fs_pages() - pages0));
}

/*
 * Coherence (docs/MEMORY_SERVERS.md): a write through fs.write reaches the
 * pages the pager has cached, so a shared mapping sees it at once, as does
 * a private one whose page is not copied yet; a private copy already made
 * keeps its bytes; a mapper's own unsynced writes elsewhere in the page
 * are kept and go back with fs's. A truncate leaves zeros past the new end
 * of the last page, in the mappings and after growing again.
 */
static void test_coherence(void)
{
	const struct mica_startup *st = rt_startup_info();
	uint64_t before = pool_free(), pages0 = fs_pages();
	uint64_t fd = 0, sz = 0, obj = 0, sh = 0, pr = 0, cp = 0, got = 0;
	int rc = write_file("coherent", 2 * PAGE, 9);

	FIRST(rc, fs_open(fs, "coherent", &fd, &sz));
	FIRST(rc, fs_map_object(fs, fd, st->pid, &obj, &sz));
	FIRST(rc, pager_memobj_map(pager, obj, 0, 2 * PAGE, RW, SHARED, 0, &sh));
	FIRST(rc, pager_memobj_map(pager, obj, 0, 2 * PAGE, RW, 0, 0, &pr));
	FIRST(rc, pager_memobj_map(pager, obj, 0, 2 * PAGE, RW, 0, 0, &cp));
	volatile uint8_t *s = (volatile uint8_t *)sh, *p = (volatile uint8_t *)pr,
	                 *c = (volatile uint8_t *)cp;
	bool ok = rc == 0;

	if (ok) {
		/* Every page cached and mapped: read through each mapping; c copies page 0. */
		ok = s[0] == pat(9, 0) && s[PAGE] == pat(9, PAGE) && p[0] == pat(9, 0) &&
		     p[PAGE] == pat(9, PAGE) && c[PAGE] == pat(9, PAGE);
		c[0] = 0xC1;
		s[8] = 0x5A; /* ours, not synced: page 0 is dirty */
	}
	/* 200 bytes across the page boundary, through fs.write. */
	for (unsigned i = 0; i < 200; i++)
		big[i] = (uint8_t)(0xE0 ^ i);
	FIRST(rc, fs_write(fs, fd, PAGE - 100, big, 200, &got));
	bool shared_sees = rc == 0 && ok, private_sees = shared_sees, copy_keeps = shared_sees;

	for (unsigned i = 0; shared_sees && i < 200; i++)
		shared_sees = s[PAGE - 100 + i] == big[i];
	for (unsigned i = 0; private_sees && i < 200; i++)
		private_sees = p[PAGE - 100 + i] == big[i];
	copy_keeps = copy_keeps && c[0] == 0xC1 && c[PAGE - 1] == pat(9, PAGE - 1) &&
	             c[PAGE] == big[100]; /* its page 1 is not copied: it sees the write */
	result("object_write_shared", shared_sees && s[8] == 0x5A, rc ? rc : (long)s[PAGE - 100]);
	result("object_write_private", private_sees && copy_keeps, rc ? rc : (long)c[0]);
	/* Another process's fs.write: our shared mapping sees it at once too. */
	uint64_t wpid = 0;
	int64_t wr = -1;

	FIRST(rc, pager_spawn(pager, "fsclient.elf", "writer", &wpid));
	wr = rc ? rc : wait_for(wpid);
	result("object_write_other_process",
	       wr == 0 && s[2000] == 'C' && s[2005] == '!' && p[2000] == 'C',
	       wr ? wr : (long)s[2000]);
	/*
	 * fs.read sees what a mapper wrote and did not hand back: the page is
	 * written back into the file first. It is clean after, so our next
	 * write faults, marks it again, and the next read sees that too.
	 */
	uint32_t n = 0;

	FIRST(rc, fs_read(fs, fd, 0, 16, buf, &n));
	bool sees = rc == 0 && n == 16 && buf[8] == 0x5A;

	if (rc == 0)
		s[9] = 0x6B;
	FIRST(rc, fs_read(fs, fd, 0, 16, buf, &n));
	sees = sees && rc == 0 && buf[9] == 0x6B && buf[8] == 0x5A;
	result("object_read_sees_mapper", sees, rc ? rc : (long)buf[8]);
	/* The unmap hands page 0 back: our byte 8 and fs's bytes, both. */
	FIRST(rc, pager_unmap(pager, sh));

	FIRST(rc, fs_read(fs, fd, 0, PAGE, buf, &n));
	bool merged = rc == 0 && n == PAGE && buf[8] == 0x5A && buf[PAGE - 1] == big[99] &&
	              buf[0] == pat(9, 0);

	result("object_write_merged", merged, rc ? rc : (long)buf[8]);

	/* Truncate into page 0: the cached bytes past 100 read as zeros in the mapping. */
	FIRST(rc, pager_memobj_map(pager, obj, 0, 2 * PAGE, RW, SHARED, 0, &sh));
	s = (volatile uint8_t *)sh;
	uint8_t was = rc ? 0 : s[200]; /* page 0 cached and mapped again */

	FIRST(rc, fs_truncate(fs, fd, 100));
	bool zeros = rc == 0 && was == pat(9, 200) && s[99] == pat(9, 99);

	for (unsigned i = 100; zeros && i < PAGE; i += 37)
		zeros = s[i] == 0 && p[i] == 0;
	int64_t bus = rc ? rc : touch_in_thread(sh + PAGE);

	result("object_truncate_tail", zeros && bus == MICA_EXIT_PAGER * 1000 + MICA_PAGER_KILL_BUS,
	       rc ? rc : (long)bus);
	/* A write past the end in the last page is no data: growing again shows zeros. */
	if (rc == 0)
		s[300] = 0x77;
	FIRST(rc, fs_truncate(fs, fd, 2 * PAGE));
	bool regrown = rc == 0 && s[300] == 0 && s[200] == 0 && s[PAGE + 5] == 0;

	FIRST(rc, fs_read(fs, fd, 0, PAGE, buf, &n));
	regrown = regrown && rc == 0 && buf[200] == 0 && buf[300] == 0 && buf[99] == pat(9, 99);
	/* Page 1 is a hole in the file now: a mapper's write there reaches a read too. */
	uint64_t holes0 = fs_pages();

	if (rc == 0)
		s[PAGE + 7] = 0x3C;
	FIRST(rc, fs_read(fs, fd, PAGE, 16, buf, &n));
	result("object_read_hole_page",
	       rc == 0 && buf[7] == 0x3C && buf[6] == 0 && fs_pages() == holes0 + 1,
	       rc ? rc : (long)buf[7]);
	/* Unmapping writes page 0 back: still zeros past byte 100 of the old end. */
	FIRST(rc, pager_unmap(pager, sh));
	FIRST(rc, fs_read(fs, fd, 0, PAGE, buf, &n));
	regrown = regrown && rc == 0 && buf[300] == 0 && buf[200] == 0;
	result("object_truncate_regrow", regrown, rc ? rc : (long)buf[300]);
	FIRST(rc, pager_unmap(pager, pr));
	FIRST(rc, pager_unmap(pager, cp));
	fs_close(fs, fd);
	FIRST(rc, fs_remove(fs, "coherent"));
	result("object_coherent_frames_back",
	       rc == 0 && pool_free() == before && fs_pages() == pages0,
	       rc ? rc : (long)(before - pool_free()));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* make bench: a 4 KiB read of a RAM file through the server, in instructions (-icount). */
static int bench(void)
{
	const uint64_t n = 1000;
	uint64_t fd = 0, size, t0, t1;
	uint32_t got = 0;
	int rc = write_file("bench", 2 * PAGE, 3);

	FIRST(rc, fs_open(fs, "bench", &fd, &size));
	for (int i = 0; !rc && i < 10; i++) /* warm: the pages of both sides' buffers */
		rc = fs_read(fs, fd, PAGE, PAGE, buf, &got);
	t0 = rdtsc();
	for (uint64_t i = 0; !rc && i < n; i++)
		rc = fs_read(fs, fd, PAGE, PAGE, buf, &got);
	t1 = rdtsc();
	if (rc || got != PAGE) {
		printf("bench: fs.read_4k failed: %d\n", rc);
		return 1;
	}
	printf("bench fs.read_4k %lu instr/op n=%lu\n", (unsigned long)((t1 - t0 + n / 2) / n),
	       (unsigned long)n);
	fs_close(fs, fd);
	fs_remove(fs, "bench");
	printf("bench: done\n");
	return 0;
}

/*
 * A file's object granted to many processes over time: each holder runs
 * while it is granted and is killed before the next; every grant
 * succeeds, and what fs and the pager kept for each holder goes at its
 * end (the pool is as it was after another 100).
 */
/*
 * Starts a holder, grants it the object of fd, ends it and waits for it:
 * 0 or the first error.
 */
static int grant_one(uint64_t fd)
{
	uint64_t pid = 0, obj = 0, sz = 0;
	int rc = pager_spawn(pager, "fsclient.elf", "hold", &pid);

	if (rc)
		return rc;
	rc = fs_map_object(fs, fd, pid, &obj, &sz);
	int kr = pager_kill(pager, pid, 0);
	int64_t wr = wait_for(pid);

	FIRST(rc, kr);
	if (!rc && wr < 0)
		rc = (int)wr;
	return rc;
}

static void test_grants(void)
{
	uint64_t fd = 0, sz = 0;
	int rc = write_file("granted", PAGE, 3);
	unsigned i;

	FIRST(rc, fs_open(fs, "granted", &fd, &sz));
	for (i = 0; rc == 0 && i < 20; i++)
		rc = grant_one(fd);
	result("object_grants_reclaimed", rc == 0 && i == 20, rc ? rc : (long)i);
	/*
	 * The pager forgets an ended process's grants at its exit: another 100
	 * holders (more grants than a slab of them holds) and the pool is as it
	 * was, while the object lives on.
	 */
	uint64_t free0 = pool_free();

	for (i = 0; rc == 0 && i < 100; i++)
		rc = grant_one(fd);
	uint64_t free1 = pool_free();

	result("object_grants_released", rc == 0 && free1 == free0,
	       rc ? rc : (long)(free0 - free1));
	fs_close(fs, fd);
	FIRST(rc, fs_remove(fs, "granted"));
}

/*
 * No fixed tables in fs: more files with objects at once than the 64 it
 * once had room for, and one object granted to more running processes at
 * once than 16; everything goes after. 0 or the first error; *files and
 * *held: how many files had objects and how many holders were granted.
 */
static int no_limits_round(unsigned *files, unsigned *held)
{
	const struct mica_startup *st = rt_startup_info();
	enum { FILES = 70, HOLDERS = 20 };
	static uint64_t fds[FILES], holders[HOLDERS];
	uint64_t sz, obj;
	char name[32];
	int rc = 0;

	for (*files = 0; rc == 0 && *files < FILES; (*files)++) {
		snprintf(name, sizeof(name), "objfile-%u", *files);
		FIRST(rc, write_file(name, 100, *files));
		FIRST(rc, fs_open(fs, name, &fds[*files], &sz));
		FIRST(rc, fs_map_object(fs, fds[*files], st->pid, &obj, &sz));
		if (rc)
			break;
	}
	unsigned spawned = 0;

	for (*held = 0; rc == 0 && *held < HOLDERS; (*held)++) {
		FIRST(rc, pager_spawn(pager, "fsclient.elf", "hold", &holders[spawned]));
		if (rc)
			break;
		spawned++;
		if ((rc = fs_map_object(fs, fds[0], holders[spawned - 1], &obj, &sz)))
			break;
	}
	for (unsigned i = 0; i < spawned; i++) {
		(void)pager_kill(pager, holders[i], 0);
		(void)wait_for(holders[i]);
	}
	for (unsigned i = 0; i <= *files && i < FILES; i++) {
		if (i < *files)
			fs_close(fs, fds[i]);
		snprintf(name, sizeof(name), "objfile-%u", i);
		int r = fs_remove(fs, name);

		if (i < *files)
			FIRST(rc, r);
	}
	return rc;
}

static void test_no_limits(void)
{
	unsigned files = 0, held = 0;
	/* A first round: fs's tables (descriptors, objects, clients) grow to their size once. */
	int rc = no_limits_round(&files, &held);
	uint64_t before = pool_free();

	FIRST(rc, no_limits_round(&files, &held));
	result("object_no_fixed_limits", rc == 0 && files == 70 && held == 20,
	       rc ? rc : (long)files * 1000 + held);
	result("object_no_limits_frames_back", rc == 0 && pool_free() == before,
	       rc ? rc : (long)(before - pool_free()));
}

/* The child "writer": writes "CHILD!" at byte 2000 of file "coherent" (test_coherence). */
static int writer(void)
{
	uint64_t fd = 0, sz, got;
	int rc = fs_open(fs, "coherent", &fd, &sz);

	FIRST(rc, fs_write(fs, fd, 2000, "CHILD!", 6, &got));
	return rc ? 1 : 0; /* the descriptor closes with us */
}

/*
 * The child "opener": opens file "dies" three times, maps its object for
 * itself and ends without closing anything (test_client_death).
 */
static int opener(void)
{
	const struct mica_startup *st = rt_startup_info();
	uint64_t fd, sz, obj;
	int rc = 0;

	for (int i = 0; i < 3; i++)
		FIRST(rc, fs_open(fs, "dies", &fd, &sz));
	FIRST(rc, fs_map_object(fs, fd, st->pid, &obj, &sz));
	return rc ? 1 : 0;
}

/*
 * A client that ends with descriptors open: fs hears of it (the pager's
 * exit watch) and closes them, so clients that open files and die leak
 * nothing; and the exit watch refuses what is not a notification.
 */
static void test_client_death(void)
{
	struct fs_usage u0 = {0}, u1 = {0};
	uint64_t pid = 0, free0 = 0;
	int64_t wr = 0;
	int rc = fs_create(fs, "dies");
	unsigned i;

	for (i = 0; rc == 0 && i < 21; i++) {
		if (i == 1) { /* after a first round: fs's tables have their size */
			FIRST(rc, fs_usage(fs, &u0));
			free0 = pool_free();
		}
		FIRST(rc, pager_spawn(pager, "fsclient.elf", "opener", &pid));
		if (rc == 0 && (wr = wait_for(pid)) != 0)
			rc = wr < 0 ? (int)wr : -400;
	}
	FIRST(rc, fs_usage(fs, &u1));
	uint64_t free1 = pool_free();

	result("client_death_fds_closed", rc == 0 && u1.fds == u0.fds && free1 == free0,
	       rc ? rc : (long)(u1.fds - u0.fds) * 1000 + (long)(free0 - free1));
	FIRST(rc, fs_remove(fs, "dies"));
	/* An endpoint is no notification: refused, and nothing kept. */
	int e = pager_exit_watch(pager, fs);

	result("exit_watch_refused", rc == 0 && e == MICA_EINVAL, rc ? rc : e);
}

int main(int argc, char **argv)
{
	const struct mica_startup *st = rt_startup_info();
	int rc = names_lookup(rt_names_handle(), "fs", &fs);

	if (argc > 1 && strcmp(argv[1], "bench") == 0)
		return rc || !st ? 1 : (pager = st->pager, bench());
	if (argc > 1 && strcmp(argv[1], "writer") == 0)
		return rc ? 1 : writer();
	if (argc > 1 && strcmp(argv[1], "opener") == 0)
		return rc || !st ? 1 : (pager = st->pager, opener());
	if (argc > 1 && strcmp(argv[1], "hold") == 0)
		for (;;) /* until killed: a process that runs (test_grants) */
			mica_yield();
	if (argc > 2 && strcmp(argv[1], "child") == 0)
		return !st ? 1 : (pager = st->pager, child(parse_num(argv[2])));
	result("lookup", rc == 0 && st, rc);
	if (rc < 0 || !st)
		return 1;
	pager = st->pager;
	test_modules();
	test_basic();
	test_errors();
	test_list();
	test_many();
	test_large();
	test_nomem();
	test_objects();
	test_coherence();
	test_grants();
	test_no_limits();
	test_client_death();
	/* Everything this client made is gone: no pages, no descriptors. */
	struct fs_usage u = {0};

	rc = fs_usage(fs, &u);
	FIRST(rc, fs_remove(fs, "hello.txt"));
	FIRST(rc, fs_usage(fs, &u));
	result("usage_clean", rc == 0 && u.pages == 0 && u.fds == 0 && u.bytes > 0,
	       rc ? rc : (long)(u.pages * 1000 + u.fds));
	return failures ? 1 : 0;
}
