/*
 * Programs run from files (tests/system/test_exec.py): pager.spawn_object
 * through the runtime's spawn_file. The pager starts this program as init
 * (scenarios/exec); it starts the file server itself (so that it can kill
 * it), copies its own boot module into fs files and runs them: a file's
 * copy of this program, started with "child <mode>", is the child of
 * each case. Checks: the data, the bss and the page where they meet; two
 * processes running one file share its text frames (pager.dump) while
 * their data is their own; fork in a program from a file; every bad image
 * and argument, hostile headers (test_hostile); the object's cache
 * refused to us (not its creator); an exit watch (child "watch"); the
 * file removed, cut short, and fs dead while a program runs from it
 * (killed with BUS, BUS and SERVER); the pool's frames back after each.
 * One line per check: TEST exec.<id> PASS, or FAIL and a detail. With
 * "bench" it prints make bench's pager.spawn_file_exit.
 */
#include <idl/fs_client.h>
#include <idl/names_client.h>
#include <idl/pager_client.h>
#include <mica/elf.h>
#include <mica/fault.h>
#include <mica/pager.h>
#include <spawn.h>
#include <startup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096
#define SELF "exectest.elf"
#define PROG "bin/exectest"

/*
 * Data a child checks: initialised (in the file; two pages, so that whole
 * pages of it are mapped from the file, and the page after them holds its
 * end and the start of the bss), zero (bss, across pages).
 */
static volatile uint64_t inited[PAGE / 4] = {[0] = 0x5eed5eed5eed5eedULL, [PAGE / 4 - 1] = 77};
static volatile uint8_t zeros[3 * PAGE + 200];
#define marker inited[0]

static int failures;
static mica_handle_t fs = MICA_HANDLE_NONE, pager;
static uint64_t fs_pid;
static uint8_t buf[PAGE];

static void result(const char *id, bool ok, long detail)
{
	if (ok) {
		printf("TEST exec.%s PASS\n", id);
	} else {
		printf("TEST exec.%s FAIL %ld\n", id, detail);
		failures++;
	}
}

#define FIRST(rc, call) ((rc) = (rc) ? (rc) : (call))

/* Free frames, and those given to the kernel's reserve: their sum is what processes hold not. */
static uint64_t frames_free(void)
{
	uint64_t f = 0, t, d = 0;
	int32_t l;
	struct pager_usage u;

	pager_stats(pager, &f, &t, &l, &d, &u);
	return f + d;
}

/* frames_free, and the pages this process maps (its own text, data and stack fault in as it runs).
 */
static uint64_t frames_not_held(void)
{
	uint64_t f = 0, t, d = 0;
	int32_t l;
	struct pager_usage u = {0};

	pager_stats(pager, &f, &t, &l, &d, &u);
	return f + d + u.resident_pages;
}

static int64_t wait_for(uint64_t pid)
{
	uint32_t reason;
	uint64_t code;
	int r;

	while ((r = pager_wait(pager, pid, &reason, &code)) == MICA_EAGAIN)
		mica_sleep(5000000);
	return r < 0 ? r : (int64_t)reason * 1000 + (int64_t)code;
}

/* ---- the child: a file's copy of this program ---- */

/* The file "ready.<pid>" says a child got through its checks. */
static void ready_name(char *out, uint64_t pid)
{
	snprintf(out, 32, "ready.%lu", (unsigned long)pid);
}

/*
 * Child "watch": pager.exit_watch refuses a notification without the
 * signal right (MICA_EINVAL); one with it is signalled at once, and again
 * when a process ends (a child of ours). 42 if so, else which step failed.
 */
static int watch_child(void)
{
	int64_t note = mica_notify_create(), weak, sig;
	uint64_t pid;

	if (note < 0)
		return 20;
	weak = mica_handle_mint((mica_handle_t)note, MICA_RIGHT_COPY, 0);
	sig = mica_handle_mint((mica_handle_t)note, MICA_RIGHT_SIGNAL | MICA_RIGHT_COPY, 0);
	if (weak < 0 || sig < 0)
		return 21;
	if (pager_exit_watch(pager, (mica_handle_t)weak) != MICA_EINVAL)
		return 22;
	if (mica_notify_poll((mica_handle_t)note) != 0)
		return 23; /* the refused one was never signalled */
	if (pager_exit_watch(pager, (mica_handle_t)sig) != 0)
		return 24;
	if (mica_notify_poll((mica_handle_t)note) <= 0)
		return 25; /* signalled once at once */
	if (pager_spawn(pager, SELF, "child none", &pid) < 0 || wait_for(pid) != 2)
		return 26;
	if (mica_notify_poll((mica_handle_t)note) <= 0)
		return 27; /* signalled at its end */
	return 42;
}

static int child(int argc, char **argv)
{
	const struct mica_startup *st = rt_startup_info();
	char name[32];

	if (strcmp(argv[1], "quit") == 0)
		return 42; /* make bench: nothing but the start and the end */
	/* The data as the file has it, the bss zero (its first page shares a page with data). */
	if (marker != 0x5eed5eed5eed5eedULL || inited[PAGE / 4 - 1] != 77)
		return 3;
	for (unsigned i = 0; i < sizeof(zeros); i++)
		if (zeros[i])
			return 4;
	if (strcmp(argv[1], "exit") == 0)
		return 42;
	if (strcmp(argv[1], "fork") == 0) {
		/* Our own copy of the data page, then a fork: each side's writes are its own. */
		marker = 7;
		inited[1] = 0x77; /* the same page: a copy of the file's page would lose it */
		zeros[5] = 1;
		long pid = fork();

		if (pid == 0) {
			if (marker != 7 || zeros[5] != 1)
				exit(10);
			marker = 9;
			exit(marker == 9 && inited[1] == 0x77 ? 0 : 11);
		}
		if (pid < 0)
			return 12;
		int64_t w = wait_for((uint64_t)pid);

		if (w != 0)
			return 13;
		if (marker != 7 || zeros[5] != 1)
			return 14;
		marker = 8;
		return marker == 8 && inited[1] == 0x77 ? 0 : 15;
	}
	if (strcmp(argv[1], "watch") == 0)
		return watch_child();
	if (strcmp(argv[1], "hold") == 0 && argc > 1) {
		/* Our own data from now on; say so, then run until killed (or killed by a touch).
		 */
		marker = st->pid;
		zeros[PAGE] = 1;
		if (names_lookup(rt_names_handle(), "fs", &fs) < 0)
			return 5;
		ready_name(name, st->pid);
		if (fs_create(fs, name) < 0)
			return 6;
		for (;;) {
			mica_sleep(2000000);
			if (marker != st->pid)
				return 7;
		}
	}
	return 2;
}

/* ---- the test ---- */

/* Start the file server as our child and wait until its name is there. */
static int fs_start(void)
{
	int rc = pager_spawn(pager, "fs.elf", "", &fs_pid);

	for (int i = 0; !rc && i < 500; i++) {
		if (names_lookup(rt_names_handle(), "fs", &fs) == 0)
			return 0;
		mica_sleep(10000000);
	}
	return rc ? rc : MICA_ETIMEDOUT;
}

/* Copy file from into a new file to (its first `limit` bytes; 0: all). */
static int copy_file(const char *from, const char *to, uint64_t limit)
{
	uint64_t in = 0, out = 0, size = 0, osz, got;
	uint32_t n = 0;
	int rc = fs_open(fs, from, &in, &size);

	FIRST(rc, fs_create(fs, to));
	FIRST(rc, fs_open(fs, to, &out, &osz));
	if (limit && limit < size)
		size = limit;
	for (uint64_t off = 0; !rc && off < size; off += n) {
		uint32_t want = size - off < PAGE ? (uint32_t)(size - off) : PAGE;

		rc = fs_read(fs, in, off, want, buf, &n);
		FIRST(rc, n ? fs_write(fs, out, off, buf, n, &got) : -100);
	}
	if (in)
		fs_close(fs, in);
	if (out)
		fs_close(fs, out);
	return rc;
}

/* A new file holding len bytes of data. */
static int write_file(const char *name, const void *data, uint64_t len)
{
	uint64_t fd = 0, sz, got;
	int rc = fs_create(fs, name);

	FIRST(rc, fs_open(fs, name, &fd, &sz));
	if (len)
		FIRST(rc, fs_write(fs, fd, 0, data, len, &got));
	if (fd)
		fs_close(fs, fd);
	return rc;
}

/* Run path with args and wait: reason * 1000 + code, or the spawn's error. */
static int64_t run(const char *path, const char *args)
{
	uint64_t pid;
	int rc = spawn_file(path, args, &pid);

	return rc < 0 ? rc : wait_for(pid);
}

/* Start path "child hold" and wait for its ready file: 0 and its pid, or an error. */
static int start_holder(const char *path, uint64_t *pid)
{
	char name[32];
	uint64_t size;
	uint32_t flags;
	int rc = spawn_file(path, "child hold", pid);

	if (rc < 0)
		return rc;
	ready_name(name, *pid);
	for (int i = 0; i < 1000; i++) {
		uint32_t live = 0;

		if (fs_stat(fs, name, &size, &flags) == 0)
			return fs_remove(fs, name);
		if (pager_running(pager, *pid, &live) < 0 || !live)
			return -200 - (int)wait_for(*pid);
		mica_sleep(5000000);
	}
	return MICA_ETIMEDOUT;
}

/* The frame backing page va of process pid (pager.dump, part PAGES), or 0. */
static uint64_t frame_at(uint64_t pid, uint64_t va)
{
	static uint8_t chunk[PAGER_DUMP_CHUNK_MAX];
	uint64_t next = 0;
	uint32_t len = 0;

	va &= ~(uint64_t)(PAGE - 1);
	if (pager_dump(pager, MICA_PAGER_DUMP_PAGES, pid, va, &next, chunk, &len) < 0 ||
	    len < sizeof(struct mica_pager_dump_run))
		return 0;
	struct mica_pager_dump_run r;

	memcpy(&r, chunk, sizeof(r));
	if (va < r.va || va >= r.va + r.count * PAGE)
		return 0;
	return r.frame + (va - r.va) / PAGE;
}

/* The object of file path, granted to us, and how many of its pages the pager holds. */
static int object_of(const char *path, uint64_t *object, uint64_t *cached)
{
	uint64_t fd = 0, size, owner, maps;
	uint32_t rights;
	int rc = fs_open(fs, path, &fd, &size);

	FIRST(rc, fs_map_object(fs, fd, rt_startup_info()->pid, object, &size));
	FIRST(rc, pager_memobj_stat(pager, *object, &size, &rights, &owner, cached, &maps));
	if (fd)
		fs_close(fs, fd);
	return rc;
}

static void test_runs(void)
{
	int64_t w = run(PROG, "child exit");

	result("runs", w == 42, (long)w);
	w = run(PROG, "child fork");
	result("fork", w == 0, (long)w);
}

/* Two processes running one file: the text's frames are the same, the data's are not. */
static void test_share(void)
{
	uint64_t a = 0, b = 0, obj = 0, c1 = 0, c2 = 0;
	int rc = start_holder(PROG, &a);

	FIRST(rc, object_of(PROG, &obj, &c1));
	FIRST(rc, start_holder(PROG, &b));
	FIRST(rc, object_of(PROG, &obj, &c2));
	uint64_t text = (uint64_t)(uintptr_t)&child, data = (uint64_t)(uintptr_t)&marker;
	uint64_t ta = rc ? 0 : frame_at(a, text), tb = rc ? 0 : frame_at(b, text);
	uint64_t da = rc ? 0 : frame_at(a, data), db = rc ? 0 : frame_at(b, data);
	uint64_t za = rc ? 0 : frame_at(a, (uint64_t)(uintptr_t)&zeros[PAGE]);
	uint64_t zb = rc ? 0 : frame_at(b, (uint64_t)(uintptr_t)&zeros[PAGE]);

	result("text_shared", rc == 0 && ta && ta == tb && c2 == c1,
	       rc ? rc : (long)(c2 - c1) * 1000 + (ta != tb));
	result("data_private", rc == 0 && da && db && da != db && za && zb && za != zb,
	       rc ? rc : (long)((da == db) + 2 * (za == zb)));
	/* Each checked its data was the file's before writing its own (start_holder). */
	int64_t ka = a ? (pager_kill(pager, a, 0), wait_for(a)) : -1;
	int64_t kb = b ? (pager_kill(pager, b, 0), wait_for(b)) : -1;

	result("two_run", rc == 0 && ka == MICA_EXIT_KILLED * 1000 && kb == MICA_EXIT_KILLED * 1000,
	       rc ? rc : (long)ka);
}

/*
 * pager.dump maps a process's pages back after reading their frames: a
 * shared writable mapping of an object keeps its write right (a thread of
 * ours writes after the dump; it was killed with ACCESS when dump mapped
 * the page back read-only).
 */
static void writer(uint64_t addr)
{
	*(volatile uint64_t *)addr = 0x2222;
	mica_thread_exit(0);
}

static void test_dump_shared(void)
{
	const uint32_t rw = MICA_MAP_READ | MICA_MAP_WRITE;
	uint64_t obj = 0, c, at = 0, tid = 0, code = 0, before = frames_free();
	uint32_t reason = 0;
	int rc = write_file("shared.map", "x", 1);

	FIRST(rc, object_of("shared.map", &obj, &c));
	FIRST(rc, pager_memobj_map(pager, obj, 0, PAGE, rw, MICA_MEMOBJ_SHARED, 0, &at));
	if (!rc)
		*(volatile uint64_t *)at = 0x1111;
	uint64_t f = rc ? 0 : frame_at(rt_startup_info()->pid, at);

	FIRST(rc, pager_thread_create(pager, (uint64_t)(uintptr_t)writer, at, &tid));
	while (!rc && (rc = pager_thread_join(pager, tid, &reason, &code)) == MICA_EAGAIN)
		mica_sleep(2000000);
	bool seen = rc == 0 && *(volatile uint64_t *)at == 0x2222;

	if (at)
		pager_unmap(pager, at);
	fs_remove(fs, "shared.map");
	result("dump_keeps_shared_write", rc == 0 && f && reason == MICA_EXIT_NORMAL && seen,
	       rc ? rc : (long)(reason * 1000 + code));
	result("dump_frames_back", frames_free() == before, (long)(frames_free() - before));
}

/* How patched_copy edits the copy's headers. */
enum patch {
	PATCH_SHIFT,   /* the first PT_LOAD's file offset moved by v bytes */
	PATCH_STACK,   /* the last PT_LOAD's memory size made to end at v */
	PATCH_ENTRY,   /* the entry point v */
	PATCH_PHOFF,   /* the program headers at file offset v */
	PATCH_OVERLAP, /* the last PT_LOAD on the first one's page (its offset to match) */
	PATCH_VADDR,   /* the first PT_LOAD at address v (its offset moved to match) */
	PATCH_MEMSZ,   /* the first PT_LOAD's memory size v */
};

/* A copy of our image at `to` with its ELF headers edited as how and v say. */
static int patched_copy(const char *to, enum patch how, uint64_t v)
{
	struct mica_elf64_ehdr eh;
	struct mica_elf64_phdr ph, first = {0}, last = {0};
	uint64_t fd = 0, sz, got, first_at = 0, last_at = 0;
	uint32_t n;
	int rc = copy_file(PROG, to, 0);

	FIRST(rc, fs_open(fs, to, &fd, &sz));
	FIRST(rc, fs_read(fs, fd, 0, sizeof(eh), buf, &n));
	memcpy(&eh, buf, sizeof(eh));
	for (unsigned i = 0; !rc && i < eh.e_phnum; i++) {
		uint64_t at = eh.e_phoff + i * sizeof(ph);

		FIRST(rc, fs_read(fs, fd, at, sizeof(ph), buf, &n));
		memcpy(&ph, buf, sizeof(ph));
		if (ph.p_type != MICA_PT_LOAD)
			continue;
		if (!first_at)
			first = ph, first_at = at;
		last = ph, last_at = at;
	}
	if (!rc && (!first_at || first_at == last_at))
		rc = -101; /* we have two PT_LOADs at least (text, data) */
	if (how == PATCH_ENTRY || how == PATCH_PHOFF) {
		if (how == PATCH_ENTRY)
			eh.e_entry = v;
		else
			eh.e_phoff = v;
		FIRST(rc, fs_write(fs, fd, 0, &eh, sizeof(eh), &got));
	} else if (how == PATCH_SHIFT || how == PATCH_VADDR || how == PATCH_MEMSZ) {
		if (how == PATCH_SHIFT) {
			first.p_offset += v;
		} else if (how == PATCH_VADDR) {
			first.p_offset += (v & (PAGE - 1)) - (first.p_vaddr & (PAGE - 1));
			first.p_vaddr = v;
		} else {
			first.p_memsz = v;
		}
		FIRST(rc, fs_write(fs, fd, first_at, &first, sizeof(first), &got));
	} else {
		if (how == PATCH_STACK) {
			last.p_memsz = v - last.p_vaddr;
		} else {
			last.p_offset = first.p_offset;
			last.p_vaddr = first.p_vaddr;
		}
		FIRST(rc, fs_write(fs, fd, last_at, &last, sizeof(last), &got));
	}
	if (fd)
		fs_close(fs, fd);
	return rc;
}

static void test_errors(void)
{
	uint64_t before = frames_not_held(), pid = 0, size = 0, obj = 0, fd = 0, c;
	struct pager_limits lim = {0};
	int rc = 0;

	/* Not an ELF, empty, cut inside the headers, cut inside the segments, misplaced. */
	FIRST(rc, write_file("bad.text", "hello, world\n", 13));
	FIRST(rc, write_file("bad.empty", "", 0));
	FIRST(rc, copy_file(PROG, "bad.short", 100));
	FIRST(rc, copy_file(PROG, "bad.cut", 2 * PAGE + 10));
	FIRST(rc, patched_copy("bad.shift", PATCH_SHIFT, 8));
	int64_t e1 = run("bad.text", ""), e2 = run("bad.empty", ""), e3 = run("bad.short", "");
	int64_t e4 = run("bad.cut", ""), e5 = run("bad.shift", "");

	result("not_elf", rc == 0 && e1 == MICA_ENOEXEC, rc ? rc : (long)e1);
	result("empty", rc == 0 && e2 == MICA_ENOEXEC, rc ? rc : (long)e2);
	result("truncated", rc == 0 && e3 == MICA_ENOEXEC && e4 == MICA_ENOEXEC,
	       rc ? rc : (long)(e3 != MICA_ENOEXEC ? e3 : e4));
	result("misaligned", rc == 0 && e5 == MICA_ENOEXEC, rc ? rc : (long)e5);

	/* No such file, a boot module (no object: fs refuses), no such object, a bad name. */
	int64_t e6 = run("bin/none", ""), e7 = run(SELF, "");
	int e8 = pager_spawn_object(pager, 999999, "x", "", &lim, &pid);

	result("missing", e6 == MICA_ENOENT && e7 == MICA_EPERM && e8 == MICA_ENOENT,
	       (long)(e6 != MICA_ENOENT  ? e6
	              : e7 != MICA_EPERM ? e7
	                                 : e8));
	rc = object_of(PROG, &obj, &c);
	int e9 = rc ? rc : pager_spawn_object(pager, obj, "", "", &lim, &pid);
	int e10 = rc ? rc : pager_spawn_object(pager, obj, "a b", "", &lim, &pid);

	result("bad_name", e9 == MICA_EINVAL && e10 == MICA_EINVAL, e9 != MICA_EINVAL ? e9 : e10);

	/*
	 * A memory limit (the subtree the child joins: its own) too small for
	 * the pages backed at spawn, the stack's top page and the page where
	 * our data meets bss: refused before the child runs, nothing kept
	 * (errors_frames_back counts).
	 */
	struct pager_limits tight = {.mem_pages = 1};
	uint64_t tpid = 0;
	int e12 = rc ? rc : pager_spawn_object(pager, obj, "tight", "child exit", &tight, &tpid);

	if (e12 == 0)
		wait_for(tpid);
	result("spawn_mem_limit", e12 == MICA_ELIMIT, e12);

	/*
	 * The cache of a file's object is fs's (its creator's) alone: we may run
	 * the object, but not write into its cached pages, take a dirty page
	 * out (WRITEBACK), resize, grant or destroy it; an unknown op is
	 * refused first. The object is as it was after.
	 */
	uint64_t wout = 0, wn = 0, sz0 = 0, sz1 = 1, own, cch, mps;
	uint32_t rts;
	int ec[7];

	FIRST(rc, pager_memobj_stat(pager, obj, &sz0, &rts, &own, &cch, &mps));
	ec[0] =
	    pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK, obj, 0, (uint64_t)(uintptr_t)buf, &wout);
	ec[1] = pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK, obj, 0, 0, &wout);
	ec[2] = pager_memobj_ctl(pager, MICA_MEMOBJ_RESIZE, obj, 0, 0, &wout);
	ec[3] = pager_memobj_ctl(pager, MICA_MEMOBJ_GRANT, obj, rt_startup_info()->pid,
	                         MICA_MAP_READ | MICA_MAP_WRITE, &wout);
	ec[4] = pager_memobj_ctl(pager, MICA_MEMOBJ_DESTROY, obj, 0, 0, &wout);
	ec[5] = pager_memobj_write(pager, obj, 0, (const uint8_t *)"x", 1, &wn);
	ec[6] = pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK + 1, obj, 0, 0, &wout);
	FIRST(rc, pager_memobj_stat(pager, obj, &sz1, &rts, &own, &cch, &mps));
	int cache_bad = rc;

	for (unsigned i = 0; i < 6 && !cache_bad; i++)
		if (ec[i] != MICA_EPERM)
			cache_bad = ec[i] ? ec[i] : -100 - (int)i;
	if (!cache_bad && ec[6] != MICA_EINVAL)
		cache_bad = ec[6] ? ec[6] : -106;
	result("cache_ops_refused", cache_bad == 0 && sz0 == sz1 && sz0 > 0, cache_bad);

	/*
	 * Our fs handle carries our pid (the names' lookup badged it), so no
	 * other pid can be claimed with it: a badge is never replaced. Nor
	 * through the names: registered under a name of ours, it is lent as it
	 * is (still badged) to whoever looks it up.
	 */
	mica_handle_t again = MICA_HANDLE_NONE;
	int64_t m1 = mica_handle_mint(fs, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 12345), m2 = -1;
	int r1 = names_register_name(rt_names_handle(), "fs.again", fs);
	int r2 = r1 ? r1 : names_lookup(rt_names_handle(), "fs.again", &again);

	if (!r2)
		m2 = mica_handle_mint(again, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 12345);
	if (m1 >= 0)
		mica_handle_close((mica_handle_t)m1);
	if (m2 >= 0)
		mica_handle_close((mica_handle_t)m2);
	if (again != MICA_HANDLE_NONE)
		mica_handle_close(again);
	result("fs_badge_fixed", m1 == MICA_ERIGHTS && r1 == 0 && r2 == 0 && m2 == MICA_ERIGHTS,
	       m1 != MICA_ERIGHTS ? m1
	       : r1               ? r1
	       : r2               ? r2
	                          : m2);

	/* An exit watch (the child's: its watch goes when it ends, so every frame comes back). */
	int64_t wr = run(PROG, "child watch");

	result("exit_watch_signals", wr == 42, (long)wr);

	/* An object granted to another process only (a child of ours: we are not in its subtree).
	 */
	uint64_t other = 0;

	rc = copy_file(PROG, "bin/other", 0);
	FIRST(rc, pager_spawn(pager, SELF, "child wait", &other));
	FIRST(rc, fs_open(fs, "bin/other", &fd, &size));
	FIRST(rc, fs_map_object(fs, fd, other, &obj, &size));
	int e11 = rc ? rc : pager_spawn_object(pager, obj, "other", "", &lim, &pid);

	if (fd)
		fs_close(fs, fd);
	if (other)
		wait_for(other); /* "child wait" is no mode: it ends with 2 */
	result("no_rights", e11 == MICA_EPERM, e11);

	const char *files[] = {"bad.text", "bad.empty", "bad.short",
	                       "bad.cut",  "bad.shift", "bin/other"};

	for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		fs_remove(fs, files[i]);
	/* Ours counted too: the pages of our own this test faults in are no leak. */
	result("errors_frames_back", frames_not_held() == before,
	       (long)(frames_not_held() - before));
}

/*
 * Hostile headers: an image reaching into the stack's pages (its last
 * segment's bss up to the stack's top, or only over the guard page below
 * it; the stack is the layout's, so this is no image we run: MICA_ENOEXEC,
 * where the spawn said MICA_ENOMEM, the stack's insertion failing); an
 * entry outside every segment; program headers past the first page; two
 * segments on one page; a segment in the kernel half or below the user
 * base; a memory size past the user half. Twice: the first pass may grow
 * fs's own tables for good, the second must give every frame back.
 */
static void test_hostile(void)
{
	static const char *const files[] = {"bad.stack",   "bad.guard",  "bad.entry", "bad.phoff",
	                                    "bad.overlap", "bad.kernel", "bad.low",   "bad.huge"};
	const unsigned n = sizeof(files) / sizeof(files[0]);
	uint64_t before = 0;
	int e[8], rc = 0, hostile = 0;

	for (int pass = 0; pass < 2; pass++) {
		before = frames_not_held();
		FIRST(rc, patched_copy(files[0], PATCH_STACK, MICA_PAGER_STACK_TOP));
		FIRST(rc, patched_copy(files[1], PATCH_STACK,
		                       MICA_PAGER_STACK_TOP - MICA_PAGER_STACK_INIT - PAGE + 1));
		FIRST(rc, patched_copy(files[2], PATCH_ENTRY, 0x100000));
		FIRST(rc, patched_copy(files[3], PATCH_PHOFF, PAGE));
		FIRST(rc, patched_copy(files[4], PATCH_OVERLAP, 0));
		FIRST(rc, patched_copy(files[5], PATCH_VADDR, 0xFFFF800000000000ULL));
		FIRST(rc, patched_copy(files[6], PATCH_VADDR, 0x1000));
		FIRST(rc, patched_copy(files[7], PATCH_MEMSZ, UINT64_MAX - PAGE));
		for (unsigned i = 0; i < n; i++)
			e[i] = rc ? rc : (int)run(files[i], "child none");
		for (unsigned i = 0; i < n; i++)
			fs_remove(fs, files[i]);
	}
	result("stack_segment", e[0] == MICA_ENOEXEC && e[1] == MICA_ENOEXEC,
	       e[0] != MICA_ENOEXEC ? e[0] : e[1]);
	for (unsigned i = 2; i < n && !hostile; i++)
		if (e[i] != MICA_ENOEXEC)
			hostile = e[i] ? e[i] : -(int)i;
	result("hostile_headers", hostile == 0, hostile);
	result("hostile_frames_back", frames_not_held() == before,
	       (long)(frames_not_held() - before));
}

/* The file removed, or cut short, while a program runs from it: its next touch is BUS. */
static void test_gone(void)
{
	uint64_t before = frames_free(), pid = 0, fd = 0, sz;
	int rc = copy_file(PROG, "bin/gone", 0);

	FIRST(rc, start_holder("bin/gone", &pid));
	FIRST(rc, fs_remove(fs, "bin/gone"));
	int64_t w = rc ? rc : wait_for(pid);

	result("removed_bus", w == MICA_EXIT_PAGER * 1000 + MICA_PAGER_KILL_BUS, (long)w);
	result("removed_frames_back", frames_free() == before, (long)(frames_free() - before));

	rc = copy_file(PROG, "bin/cut", 0);
	FIRST(rc, start_holder("bin/cut", &pid));
	FIRST(rc, fs_open(fs, "bin/cut", &fd, &sz));
	FIRST(rc, fs_truncate(fs, fd, PAGE)); /* the headers stay; every segment is past the end */
	w = rc ? rc : wait_for(pid);
	if (fd)
		fs_close(fs, fd);
	fs_remove(fs, "bin/cut");
	result("shrunk_bus", w == MICA_EXIT_PAGER * 1000 + MICA_PAGER_KILL_BUS, (long)w);
	result("shrunk_frames_back", frames_free() == before, (long)(frames_free() - before));
}

/* fs ends while a program runs from one of its files: the program dies with SERVER. */
static void test_fs_dead(uint64_t start)
{
	uint64_t pid = 0, obj = 0, c, p2;
	struct pager_limits lim = {0};
	int rc = copy_file(SELF, "bin/last", 0);

	FIRST(rc, object_of("bin/last", &obj, &c));
	FIRST(rc, start_holder("bin/last", &pid));
	int k = pager_kill(pager, fs_pid, 0); /* whatever happened: fs goes, and the run ends */
	int64_t f = k ? k : wait_for(fs_pid);
	int64_t w = rc ? rc : wait_for(pid);
	int e1 = pager_spawn_object(pager, obj, "last", "", &lim, &p2);
	int e2 = spawn_file("bin/last", "", &p2);

	result("fs_dead_server", w == MICA_EXIT_PAGER * 1000 + MICA_PAGER_KILL_SERVER,
	       rc ? rc : (long)w);
	result("fs_dead_refused", f == MICA_EXIT_KILLED * 1000 && e1 == MICA_ENOENT && e2 < 0,
	       (long)(e1 != MICA_ENOENT ? e1 : e2));
	result("frames_back", frames_not_held() == start, (long)(frames_not_held() - start));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * make bench's pager.spawn_file_exit: spawn_file of a copy of this program
 * (its pages in the pager's cache after a warm-up), which exits at once,
 * and its wait; in instructions (-icount), as pager.spawn_exit for a module.
 */
static int bench(void)
{
	const uint64_t n = 20;
	uint64_t t0, t1;
	int64_t w = 0;
	int rc = fs_start();

	FIRST(rc, copy_file(SELF, PROG, 0));
	for (int i = 0; !rc && i < 2; i++)
		w = run(PROG, "child quit");
	t0 = rdtsc();
	for (uint64_t i = 0; !rc && w == 42 && i < n; i++) {
		uint64_t pid = 0, code = 0;
		uint32_t reason = 0;
		int r = spawn_file(PROG, "child quit", &pid);

		/* Yield, not sleep: the child runs at once, and no idle time is counted. */
		while (!r && pager_wait(pager, pid, &reason, &code) == MICA_EAGAIN)
			mica_yield();
		w = r ? r : (int64_t)reason * 1000 + (int64_t)code;
	}
	t1 = rdtsc();
	if (rc || w != 42) {
		printf("bench: pager.spawn_file_exit failed: %d %ld\n", rc, (long)w);
		return 1;
	}
	printf("bench pager.spawn_file_exit %lu instr/op n=%lu\n",
	       (unsigned long)((t1 - t0 + n / 2) / n), (unsigned long)n);
	fs_remove(fs, PROG);
	if (!pager_kill(pager, fs_pid, 0))
		wait_for(fs_pid);
	printf("bench: done\n");
	return 0;
}

int main(int argc, char **argv)
{
	const struct mica_startup *st = rt_startup_info();

	if (!st)
		return 1;
	pager = st->pager;
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return argc > 2 ? child(argc - 1, argv + 1) : 2;
	if (argc > 1 && strcmp(argv[1], "bench") == 0)
		return bench();
	/*
	 * A first fs, ended at once: init's name table keeps the page the
	 * registration took (its heap is not trimmed), so the count at start is
	 * taken after it.
	 */
	int rc = fs_start();

	if (!rc && !pager_kill(pager, fs_pid, 0))
		wait_for(fs_pid);
	uint64_t start = frames_not_held();

	FIRST(rc, fs_start());

	FIRST(rc, copy_file(SELF, PROG, 0));
	result("copied", rc == 0, rc);
	if (rc)
		return 1;
	test_runs();
	test_share();
	test_dump_shared();
	test_errors();
	test_hostile();
	test_gone();
	fs_remove(fs, PROG);
	test_fs_dead(start);
	return failures ? 1 : 0;
}
