/*
 * msh's commands (README.md lists them). Each takes its words, checks
 * them before doing anything (a bad one: a message naming the command and
 * the word, never a crash), and gets its data over IDL calls any program
 * may make: pager.procs, pager.stats, pager.free_blocks, pager.regions,
 * pager.module_read (the name "" lists the modules), the mem_stats system
 * call; ls and cat ask the file server (idl/fs.idl). vm and pmap are
 * drawn by another program, memview.elf.
 */
#include <idl/fs_client.h>
#include <idl/names_client.h>
#include <idl/pager_client.h>
#include <mica/errname.h>
#include <mica/memory.h>
#include <mica/pager.h>
#include <mica/trace.h>
#include <startup.h>
#include <stdio.h>
#include <string.h>

#include "msh.h"

#define QEMU_EXIT_PORT    0xf4 /* QEMU's isa-debug-exit: status (v << 1) | 1 */
#define QEMU_EXIT_SUCCESS 0x10 /* status 33, as the kernel's ready=exit and idle=exit */
#define QEMU_EXIT_FAILURE 0x11 /* status 35 */

bool cmd_number(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2])
		s += 2, base = 16;
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d = *s >= '0' && *s <= '9'   ? (unsigned)(*s - '0')
		             : *s >= 'a' && *s <= 'f' ? (unsigned)(*s - 'a' + 10)
		             : *s >= 'A' && *s <= 'F' ? (unsigned)(*s - 'A' + 10)
		                                      : 99;
		if (d >= base || v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* A pid argument: a number, else a message and false. */
static bool pid_arg(const char *cmd, const char *s, uint64_t *pid)
{
	if (cmd_number(s, pid))
		return true;
	printf("%s: bad pid \"%s\": a number is wanted (ps lists them)\n", cmd, s);
	return false;
}

/* ---- processes ---- */

static struct mica_pager_proc procs[64];

/* Every process (pager.procs, a page at a time); how many, or -1 (reported). */
static int list_procs(const char *cmd)
{
	static struct mica_pager_proc page[MICA_PAGER_PROCS_MAX];
	uint32_t total = 0, len = 0, n = 0;

	do {
		int rc = pager_procs(msh_pager, n, &total, page, &len);

		if (rc < 0) {
			printf("%s: pager.procs: error %s\n", cmd, mica_error_name(rc));
			return -1;
		}
		len /= sizeof(page[0]);
		for (uint32_t i = 0; i < len && n < sizeof(procs) / sizeof(procs[0]); i++)
			procs[n++] = page[i];
		if (!len)
			break;
	} while (n < total && n < sizeof(procs) / sizeof(procs[0]));
	return (int)n;
}

/* A limit, or "-" for none. */
static const char *limit(uint64_t v, char *buf, unsigned cap)
{
	if (v == MICA_PAGER_NO_LIMIT)
		return "-";
	snprintf(buf, cap, "%lu", (unsigned long)v);
	return buf;
}

static void cmd_ps(int argc, char **argv)
{
	(void)argc, (void)argv;
	int n = list_procs("ps");

	if (n < 0)
		return;
	printf("%6s %6s %-16s %-5s %3s %6s %4s %13s %11s\n", "PID", "PARENT", "NAME", "STATE",
	       "THR", "PAGES", "REGS", "MEM USED/LIM", "PROCS/LIM");
	for (int i = 0; i < n; i++) {
		const struct mica_pager_proc *p = &procs[i];
		char ml[24], pl[24], mem[48], pr[48];

		snprintf(mem, sizeof(mem), "%lu/%s", (unsigned long)p->mem_used,
		         limit(p->mem_limit, ml, sizeof(ml)));
		snprintf(pr, sizeof(pr), "%lu/%s", (unsigned long)p->procs_used,
		         limit(p->procs_limit, pl, sizeof(pl)));
		printf("%6lu %6lu %-16s %-5s %3u %6lu %4u %13s %11s\n", (unsigned long)p->pid,
		       (unsigned long)p->parent, p->name,
		       p->state == MICA_PAGER_PROC_LIVE ? "run" : "ended", p->threads,
		       (unsigned long)p->resident, p->regions, mem, pr);
	}
	printf("%d processes\n", n);
}

static void cmd_mem(int argc, char **argv)
{
	struct mica_mem_stats ks;
	struct pager_usage mine;
	uint64_t free, total, donated, blocks[19];
	uint32_t len = 0;
	int32_t largest;
	int64_t r;

	(void)argc, (void)argv;
	if ((r = mica_mem_stats(&ks)) < 0) {
		printf("mem: mem_stats: error %s\n", mica_error_name(r));
		return;
	}
	printf("kernel: reserve %lu frames, %lu free; pool %lu frames, %lu mapped (%lu mappings); "
	       "%lu page tables, %lu objects\n",
	       (unsigned long)ks.reserve_total, (unsigned long)ks.reserve_free,
	       (unsigned long)ks.pool_total, (unsigned long)ks.pool_mapped,
	       (unsigned long)ks.mappings, (unsigned long)ks.page_tables,
	       (unsigned long)ks.objects);
	if ((r = pager_stats(msh_pager, &free, &total, &largest, &donated, &mine)) < 0 ||
	    (r = pager_free_blocks(msh_pager, blocks, &len)) < 0) {
		printf("mem: pager: error %s\n", mica_error_name(r));
		return;
	}
	printf("pager: %lu of %lu frames free, largest block order %d (%lu KiB), %lu given to the "
	       "kernel's reserve\n",
	       (unsigned long)free, (unsigned long)total, (int)largest,
	       largest < 0 ? 0ul : 4ul << largest, (unsigned long)donated);
	printf("free blocks by order:");
	for (uint32_t k = 0; k < len / 8; k++)
		printf(" %u:%lu", k, (unsigned long)blocks[k]);
	printf("\n");
	int n = list_procs("mem");

	if (n < 0)
		return;
	printf("frames per process:");
	for (int i = 0; i < n; i++)
		printf(" %s(%lu)=%lu", procs[i].name, (unsigned long)procs[i].pid,
		       (unsigned long)procs[i].resident);
	printf("\n");
}

static const char *kind_name(uint32_t kind)
{
	static const char *const names[] = {
	    [MICA_PAGER_KIND_ANON] = "anon",     [MICA_PAGER_KIND_IMAGE] = "image",
	    [MICA_PAGER_KIND_HEAP] = "heap",     [MICA_PAGER_KIND_STACK] = "stack",
	    [MICA_PAGER_KIND_SHARED] = "shared", [MICA_PAGER_KIND_OBJECT] = "object"};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

static void cmd_regions(int argc, char **argv)
{
	static struct mica_pager_region list[MICA_PAGER_REGIONS_MAX];
	uint64_t pid, backed = 0;
	uint32_t total = 0, len = 0, n = 0;

	(void)argc;
	if (!pid_arg("regions", argv[1], &pid))
		return;
	do {
		int rc = pager_regions(msh_pager, pid, n, &total, list, &len);

		if (rc == MICA_ENOENT) {
			printf("regions: no running process has pid %lu (error ENOENT)\n",
			       (unsigned long)pid);
			return;
		}
		if (rc < 0) {
			printf("regions: error %s\n", mica_error_name(rc));
			return;
		}
		if (n == 0)
			printf("%-18s %-18s %-6s %-6s %s\n", "START", "END", "RIGHTS", "KIND",
			       "BACKED");
		len /= sizeof(list[0]);
		for (uint32_t i = 0; i < len; i++, n++) {
			const struct mica_pager_region *e = &list[i];
			char rights[4] = {e->rights & MICA_MAP_READ ? 'r' : '-',
			                  e->rights & MICA_MAP_WRITE ? 'w' : '-',
			                  e->rights & MICA_MAP_EXEC ? 'x' : '-', 0};

			printf("0x%016lx 0x%016lx %-6s %-6s %lu\n", (unsigned long)e->start,
			       (unsigned long)e->end, e->rights ? rights : "guard",
			       kind_name(e->kind), (unsigned long)e->backed);
			backed += e->backed;
		}
		if (!len)
			break;
	} while (n < total);
	printf("%u regions, %lu pages backed\n", n, (unsigned long)backed);
}

/* vm PID and pmap: pictures memview.elf draws from the pager's dump. */
static void cmd_vm(int argc, char **argv)
{
	char args[32];
	uint64_t pid;

	(void)argc;
	if (!pid_arg("vm", argv[1], &pid))
		return;
	snprintf(args, sizeof(args), "vm %lu", (unsigned long)pid);
	msh_run("vm", "memview.elf", args, false, false);
}

static void cmd_pmap(int argc, char **argv)
{
	(void)argc, (void)argv;
	msh_run("pmap", "memview.elf", "pmap", false, false);
}

/*
 * spawn MODULE [ARGS] [&] and run FILE [ARGS] [&]: the program, its
 * arguments joined by spaces, in the foreground or (a last word &) the
 * background; file: FILE is a file of the file server.
 */
static void start(const char *cmd, int argc, char **argv, bool file)
{
	char args[128];
	uint32_t n = 0;
	bool bg = strcmp(argv[argc - 1], "&") == 0;

	if (bg)
		argc--;
	if (argc < 2) {
		printf(file ? "run: which file? (ls lists them)\n"
		            : "spawn: which module? (modules lists them)\n");
		return;
	}
	if (!file && strlen(argv[1]) > 47) {
		printf("spawn: module name longer than 47 characters\n");
		return;
	}
	if (file && strlen(argv[1]) > FS_OPEN_NAME_MAX) {
		printf("run: name too long (at most %u bytes)\n", (unsigned)FS_OPEN_NAME_MAX);
		return;
	}
	args[0] = 0;
	for (int i = 2; i < argc; i++) {
		uint32_t w = (uint32_t)strlen(argv[i]);

		if (n + (n ? 1 : 0) + w > sizeof(args) - 1) {
			printf("%s: arguments longer than %u characters\n", cmd,
			       (unsigned)sizeof(args) - 1);
			return;
		}
		if (n)
			args[n++] = ' ';
		memcpy(args + n, argv[i], w + 1);
		n += w;
	}
	msh_run_from(cmd, argv[1], args, bg, true, file);
}

static void cmd_spawn(int argc, char **argv)
{
	start("spawn", argc, argv, false);
}

static void cmd_run_file(int argc, char **argv)
{
	start("run", argc, argv, true);
}

static void cmd_kill(int argc, char **argv)
{
	uint64_t pid;

	(void)argc;
	if (!pid_arg("kill", argv[1], &pid))
		return;
	int rc = pager_kill_tree(msh_pager, pid, MSH_CODE_KILL);

	if (rc == MICA_ENOENT)
		printf("kill: pid %lu is not a program msh started (error ENOENT)\n",
		       (unsigned long)pid);
	else if (rc == MICA_EPEER)
		printf("kill: pid %lu has already ended (error EPEER); wait reports it\n",
		       (unsigned long)pid);
	else if (rc < 0)
		printf("kill: error %s\n", mica_error_name(rc));
	else
		printf("msh: killed pid %lu\n", (unsigned long)pid);
}

static void cmd_wait(int argc, char **argv)
{
	(void)argc, (void)argv;
	msh_wait_jobs();
}

static void cmd_modules(int argc, char **argv)
{
	static char data[PAGER_MODULE_READ_DATA_MAX + 1];
	uint64_t off = 0, total = 0;
	uint32_t len = 0;

	(void)argc, (void)argv;
	do {
		int rc = pager_module_read(msh_pager, "", off, data, &len, &total);

		if (rc < 0) {
			printf("modules: error %s\n", mica_error_name(rc));
			return;
		}
		data[len] = 0;
		printf("%s", data);
		off += len;
		if (!len)
			break;
	} while (off < total);
}

static void cmd_trace(int argc, char **argv)
{
	(void)argc;
	if (strcmp(argv[1], "start") && strcmp(argv[1], "stop") && strcmp(argv[1], "dump")) {
		printf("trace: \"%s\": start, stop or dump\n", argv[1]);
		return;
	}
	/* The pager makes the kernel's trace call for us, if init's manifest says `trace`. */
	uint32_t op = !strcmp(argv[1], "start")  ? MICA_TRACE_START
	              : !strcmp(argv[1], "stop") ? MICA_TRACE_STOP
	                                         : MICA_TRACE_DUMP;
	uint64_t n = 0;
	int rc = pager_trace(msh_pager, op, 0, &n);

	if (rc == MICA_EPERM)
		printf(
		    "trace: not permitted (the shell's manifest entry needs the option trace)\n");
	else if (rc < 0)
		printf("trace: error %s\n", mica_error_name(rc));
	else if (op == MICA_TRACE_START)
		printf("trace: recording every event (trace stop, then trace dump)\n");
	else if (op == MICA_TRACE_STOP)
		printf("trace: stopped, %lu events in the ring\n", (unsigned long)n);
	else
		printf("trace: %lu events dumped (tools/trace.py reads them from the serial log)\n",
		       (unsigned long)n);
}

/* ---- files (the file server, servers/fs/) ---- */

static mica_handle_t fs_server = MICA_HANDLE_NONE;

/* The file server, looked up once (again after a failed call); false if it is not there. */
static bool fs_handle(const char *cmd)
{
	if (fs_server != MICA_HANDLE_NONE)
		return true;
	int rc = names_lookup(rt_names_handle(), "fs", &fs_server);

	if (rc < 0) {
		printf("%s: no file server (names.lookup fs: error %s)\n", cmd,
		       mica_error_name(rc));
		fs_server = MICA_HANDLE_NONE;
	}
	return rc == 0;
}

/* A failed fs call: its message; the handle is looked up again next time. */
static void fs_failed(const char *cmd, const char *what, int rc)
{
	printf("%s: %s: error %s\n", cmd, what, mica_error_name(rc));
	if (rc == MICA_EPEER || rc == MICA_EBADH) {
		mica_handle_close(fs_server);
		fs_server = MICA_HANDLE_NONE;
	}
}

static void cmd_ls(int argc, char **argv)
{
	static char lines[FS_LIST_LINES_MAX + 1];
	static char after[FS_LIST_AFTER_MAX + 1];
	uint32_t count = 0, len = 0, total = 0;

	(void)argc, (void)argv;
	if (!fs_handle("ls"))
		return;
	after[0] = 0;
	for (;;) {
		int rc = fs_list(fs_server, after, &count, lines, &len);

		if (rc < 0) {
			fs_failed("ls", "fs.list", rc);
			return;
		}
		if (!count || !len)
			break;
		lines[len] = 0;
		printf("%s", lines);
		total += count;
		/* Go on after the last name: the line before the final newline. */
		lines[len - 1] = 0;
		char *last = strrchr(lines, '\n');

		last = last ? last + 1 : lines;
		char *sp = strchr(last, ' ');

		if (!sp) {
			printf("ls: fs.list gave a line without a size: \"%s\"\n", last);
			return;
		}
		*sp = 0;
		snprintf(after, sizeof(after), "%s", last);
	}
	printf("%u files\n", (unsigned)total);
}

static void cmd_cat(int argc, char **argv)
{
	static uint8_t data[FS_READ_DATA_MAX];
	uint64_t fd = 0, size = 0, off = 0;
	uint32_t n = 0;
	uint8_t last = '\n';
	int rc = 0;

	(void)argc;
	if (!fs_handle("cat"))
		return;
	if (strlen(argv[1]) > FS_OPEN_NAME_MAX) {
		printf("cat: name too long (at most %u bytes)\n", (unsigned)FS_OPEN_NAME_MAX);
		return;
	}
	if ((rc = fs_open(fs_server, argv[1], &fd, &size)) < 0) {
		if (rc == MICA_ENOENT)
			printf("cat: %s: no such file (ls lists them)\n", argv[1]);
		else
			fs_failed("cat", argv[1], rc);
		return;
	}
	for (; off < size; off += n) {
		if ((rc = fs_read(fs_server, fd, off, sizeof(data), data, &n)) < 0 || !n)
			break;
		rt_stdout_write(data, n);
		last = data[n - 1];
	}
	if (rc < 0)
		fs_failed("cat", "fs.read", rc);
	else if (last != '\n')
		printf("\n"); /* the prompt on a line of its own */
	fs_close(fs_server, fd);
}

/* cp FROM TO: a new file TO with FROM's bytes (a boot module's too: then run can start it). */
static void cmd_cp(int argc, char **argv)
{
	static uint8_t data[FS_READ_DATA_MAX];
	uint64_t in = 0, out = 0, size = 0, osz, got, off = 0;
	uint32_t n = 0;
	int rc;

	(void)argc;
	if (!fs_handle("cp"))
		return;
	if (strlen(argv[1]) > FS_OPEN_NAME_MAX || strlen(argv[2]) > FS_OPEN_NAME_MAX) {
		printf("cp: name too long (at most %u bytes)\n", (unsigned)FS_OPEN_NAME_MAX);
		return;
	}
	if ((rc = fs_open(fs_server, argv[1], &in, &size)) < 0) {
		if (rc == MICA_ENOENT)
			printf("cp: %s: no such file (ls lists them)\n", argv[1]);
		else
			fs_failed("cp", argv[1], rc);
		return;
	}
	if ((rc = fs_create(fs_server, argv[2])) < 0 ||
	    (rc = fs_open(fs_server, argv[2], &out, &osz)) < 0) {
		if (rc == MICA_EEXIST)
			printf("cp: %s: a file has that name already\n", argv[2]);
		else
			fs_failed("cp", argv[2], rc);
		fs_close(fs_server, in);
		return;
	}
	for (; off < size; off += n) {
		if ((rc = fs_read(fs_server, in, off, sizeof(data), data, &n)) < 0 || !n)
			break;
		if ((rc = fs_write(fs_server, out, off, data, n, &got)) < 0)
			break;
	}
	if (rc < 0)
		fs_failed("cp", "copying", rc);
	else
		printf("cp: %s: %lu bytes\n", argv[2], (unsigned long)off);
	fs_close(fs_server, in);
	fs_close(fs_server, out);
}

/* rm FILE: removes a file (a program running from it is killed at its next touch of it). */
static void cmd_rm(int argc, char **argv)
{
	int rc;

	(void)argc;
	if (!fs_handle("rm"))
		return;
	if (strlen(argv[1]) > FS_REMOVE_NAME_MAX) {
		printf("rm: name too long (at most %u bytes)\n", (unsigned)FS_REMOVE_NAME_MAX);
		return;
	}
	rc = fs_remove(fs_server, argv[1]);
	if (rc == MICA_ENOENT)
		printf("rm: %s: no such file (ls lists them)\n", argv[1]);
	else if (rc == MICA_EPERM)
		printf("rm: %s: a boot module (read-only)\n", argv[1]);
	else if (rc < 0)
		fs_failed("rm", argv[1], rc);
}

static void cmd_halt(int argc, char **argv)
{
	uint8_t status = QEMU_EXIT_SUCCESS;

	if (argc > 1) {
		if (strcmp(argv[1], "fail") == 0) {
			status = QEMU_EXIT_FAILURE;
		} else if (strcmp(argv[1], "ok") != 0) {
			printf("halt: \"%s\": ok or fail\n", argv[1]);
			return;
		}
	}
	if (msh_ports == MICA_HANDLE_NONE) {
		printf("halt: msh was not given QEMU's exit port (manifest: ports=0xf4-0xf4)\n");
		return;
	}
	printf("msh: halt: QEMU exits with status %u\n", (unsigned)(status << 1 | 1));
	mica_outb(QEMU_EXIT_PORT, status);
	mica_sleep(100ull * 1000 * 1000);
	printf("halt: the machine did not stop (no isa-debug-exit device?)\n");
}

static void cmd_help(int argc, char **argv);

struct cmd {
	const char *name;
	int min, max; /* words after the name */
	const char *usage, *what;
	void (*fn)(int argc, char **argv);
};

static const struct cmd cmds[] = {
    {"help", 0, 0, "help", "this list", cmd_help},
    {"ps", 0, 0, "ps", "processes: pid, parent, name, state, threads, pages, regions, limits",
     cmd_ps},
    {"mem", 0, 0, "mem",
     "kernel reserve and pool, pager free frames and blocks, frames per process", cmd_mem},
    {"regions", 1, 1, "regions PID", "a process's regions: range, rights, kind, backed pages",
     cmd_regions},
    {"vm", 1, 1, "vm PID", "a picture of a process's address space (memview.elf)", cmd_vm},
    {"pmap", 0, 0, "pmap", "a picture of physical memory by owner (memview.elf)", cmd_pmap},
    {"spawn", 1, MSH_ARGS_MAX - 1, "spawn MODULE [ARGS] [&]",
     "start a module; wait for it (Ctrl-C ends it), or & in the background", cmd_spawn},
    {"kill", 1, 1, "kill PID", "end a program msh started, and what it started", cmd_kill},
    {"wait", 0, 0, "wait", "wait for the background programs (Ctrl-C stops waiting)", cmd_wait},
    {"modules", 0, 0, "modules", "the boot modules and their sizes", cmd_modules},
    {"ls", 0, 0, "ls", "the files of the file server (fs) and their sizes", cmd_ls},
    {"cat", 1, 1, "cat FILE", "a file's bytes (the boot modules are files too)", cmd_cat},
    {"cp", 2, 2, "cp FROM TO", "copy a file (a boot module too) into a new file", cmd_cp},
    {"rm", 1, 1, "rm FILE", "remove a file", cmd_rm},
    {"run", 1, MSH_ARGS_MAX - 1, "run FILE [ARGS] [&]",
     "start the program in a file (cp a module to one first); as spawn", cmd_run_file},
    {"trace", 1, 1, "trace start|stop|dump", "the kernel's trace buffer", cmd_trace},
    {"halt", 0, 1, "halt [ok|fail]", "end the run: QEMU exits with status 33 (fail: 35)", cmd_halt},
};

static void cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("commands:\n");
	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		printf("  %-24s %s\n", cmds[i].usage, cmds[i].what);
	printf("Ctrl-C ends the program in the foreground\n");
}

void cmd_run(int argc, char **argv)
{
	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const struct cmd *c = &cmds[i];

		if (strcmp(argv[0], c->name) != 0)
			continue;
		if (argc - 1 < c->min || argc - 1 > c->max) {
			printf("%s: usage: %s\n", c->name, c->usage);
			return;
		}
		c->fn(argc, argv);
		return;
	}
	printf("msh: unknown command \"%s\"; help lists the commands\n", argv[0]);
}
