/*
 * msh, the Mica shell (servers/msh/README.md): the console's foreground
 * reader in the system `make run` boots. It attaches to the console server
 * (idl/console.idl), prints the prompt "mica> ", reads a line and runs it
 * (cmds.c). The console does the echo and the line editing (backspace,
 * '\r' as a newline, Ctrl-C ending the line), so msh reads whole lines at
 * the prompt. While a program runs in the foreground msh reads the bytes
 * typed as they come: Ctrl-C ends the program (pager.kill_tree), anything
 * else is kept as the start of the next line.
 *
 * msh is a server entry of init's manifest, so it registers the name
 * "msh" (init waits for that, and ends it with the servers at the end of
 * a run); it serves nothing on that endpoint.
 */
#include <idl/console_client.h>
#include <idl/names_client.h>
#include <idl/pager_client.h>
#include <mica/errname.h>
#include <mica/fault.h>
#include <startup.h>
#include <stdio.h>
#include <spawn.h>
#include <string.h>

#include "msh.h"

#define POLL_NS   (20ull * 1000 * 1000) /* how often a foreground wait looks at its child */
#define LINE_MAX  CONSOLE_READ_DATA_MAX
#define INPUT_BIT 1u /* the console's notification: input arrived */

mica_handle_t msh_pager;
mica_handle_t msh_ports = MICA_HANDLE_NONE;

static mica_handle_t con;   /* the console */
static mica_handle_t input; /* its notification: input for us */
static uint64_t token;      /* our reads' token (0: not attached) */

/* Bytes typed while a program ran in the foreground: the start of the next line(s). */
static char pend[LINE_MAX + 1];
static uint32_t pend_len;

struct job {
	uint64_t pid; /* 0: a free slot */
	char name[48];
};
static struct job jobs[MSH_JOBS];

/* Make msh the console's foreground reader (again). */
static int attach(void)
{
	uint64_t t;
	mica_handle_t n;
	int rc = console_attach(con, &t, &n);

	if (rc < 0)
		return rc;
	if (token)
		mica_handle_close(input);
	token = t;
	input = n;
	return 0;
}

/*
 * Keep typed bytes for the next line. A Ctrl-C (with the newline the
 * console puts after it) cancels what was kept; returns whether one came.
 */
static bool keep(const uint8_t *b, uint32_t n)
{
	bool intr = false;

	for (uint32_t i = 0; i < n; i++) {
		if (b[i] == 0x03) {
			intr = true;
			pend_len = 0;
			if (i + 1 < n && b[i + 1] == '\n')
				i++;
			continue;
		}
		if (pend_len < LINE_MAX)
			pend[pend_len++] = (char)b[i];
	}
	return intr;
}

/* Take one line out of pend into line (without its newline), if pend holds a whole one. */
static bool pend_line(char *line)
{
	char *nl = memchr(pend, '\n', pend_len);

	if (!nl)
		return false;
	uint32_t n = (uint32_t)(nl - pend);

	memcpy(line, pend, n);
	line[n] = 0;
	pend_len -= n + 1;
	memmove(pend, nl + 1, pend_len);
	return true;
}

/*
 * The next line typed (NUL-terminated, without its newline); a line cut
 * by Ctrl-C comes back as "\x03". Returns false if the console failed.
 */
static bool read_line(char *line)
{
	static uint8_t buf[LINE_MAX];
	uint32_t len = 0;
	bool too_long = false;
	int rc;

	for (;;) {
		char *nl = memchr(pend, '\n', pend_len);

		if (nl && too_long) {
			/* The end of a line too long to keep: drop it, say so. */
			pend_len -= (uint32_t)(nl + 1 - pend);
			memmove(pend, nl + 1, pend_len);
			printf("msh: line too long (at most %u characters)\n", LINE_MAX - 1);
			line[0] = 0;
			return true;
		}
		if (pend_line(line))
			return true;
		if (pend_len == LINE_MAX) {
			too_long = true;
			pend_len = 0;
		}
		rc = console_read(con, token, LINE_MAX - pend_len, true, buf, &len);
		if (rc == MICA_EAGAIN) {
			int64_t bits = mica_notify_wait(input);

			/* Another reader attached (a program of ours, now ended): take it back. */
			if ((bits < 0 || (bits & ~(int64_t)INPUT_BIT)) && (rc = attach()) < 0)
				break;
			continue;
		}
		if (rc == MICA_EBUSY && (rc = attach()) == 0)
			continue;
		if (rc < 0)
			break;
		if (memchr(buf, 0x03, len)) {
			/* Ctrl-C: the line so far is dropped. */
			pend_len = 0;
			strcpy(line, "\x03");
			return true;
		}
		memcpy(pend + pend_len, buf, len);
		pend_len += len;
	}
	printf("msh: console: error %s\n", mica_error_name(rc));
	return false;
}

/* Take what was typed (not as lines); true if a Ctrl-C came. */
static bool poll_input(void)
{
	static uint8_t buf[LINE_MAX];
	uint32_t len = 0;
	bool intr = false;

	if (!token)
		return false;
	for (;;) {
		int rc = console_read(con, token, LINE_MAX - 1, false, buf, &len);

		if (rc < 0) {
			/* MICA_EAGAIN: nothing more; MICA_EBUSY: the program reads the console
			 * itself. */
			if (rc == MICA_EBUSY)
				token = 0;
			return intr;
		}
		intr |= keep(buf, len);
	}
}

/* How a process ended, in words: "exit 0", "killed (code 130)", "fault (vector 14)". */
static void ended(const char *name, uint64_t pid, uint32_t reason, uint64_t code)
{
	static const char *const why[] = {[MICA_EXIT_NORMAL] = "exit",
	                                  [MICA_EXIT_FAULT] = "fault, vector",
	                                  [MICA_EXIT_PAGER] = "killed by the pager, code",
	                                  [MICA_EXIT_KILLED] = "killed, code",
	                                  [MICA_EXIT_PORT] = "killed at I/O port"};

	printf("msh: %s pid %lu ended: %s %lu\n", name, (unsigned long)pid,
	       reason < sizeof(why) / sizeof(why[0]) && why[reason] ? why[reason] : "reason ?",
	       (unsigned long)code);
}

/* Wait for child pid; Ctrl-C kills it (kill), or only stops the wait. 1: it ended; 0: stopped. */
static int wait_child(const char *name, uint64_t pid, bool kill, bool report)
{
	uint32_t reason = 0;
	uint64_t code = 0;

	for (;;) {
		int rc = pager_wait(msh_pager, pid, &reason, &code);

		if (rc == 0) {
			if (report || reason != MICA_EXIT_NORMAL || code)
				ended(name, pid, reason, code);
			return 1;
		}
		if (rc != MICA_EAGAIN) {
			printf("msh: wait for pid %lu: error %s\n", (unsigned long)pid,
			       mica_error_name(rc));
			return 1;
		}
		if (poll_input()) {
			if (!kill)
				return 0;
			/* Ended already (EPEER): wait reports it next. */
			rc = pager_kill_tree(msh_pager, pid, MSH_CODE_INTERRUPT);
			if (rc < 0 && rc != MICA_EPEER)
				printf("msh: kill pid %lu: error %s\n", (unsigned long)pid,
				       mica_error_name(rc));
		}
		mica_sleep(POLL_NS);
	}
}

int msh_run(const char *what, const char *module, const char *args, bool background, bool report)
{
	return msh_run_from(what, module, args, background, report, false);
}

int msh_run_from(const char *what, const char *module, const char *args, bool background,
                 bool report, bool file)
{
	uint64_t pid;
	unsigned slot = 0;

	if (background) {
		while (slot < MSH_JOBS && jobs[slot].pid)
			slot++;
		if (slot == MSH_JOBS) {
			printf("%s: %u background programs already: wait for them first\n", what,
			       MSH_JOBS);
			return MICA_ELIMIT;
		}
	}
	int rc = file ? spawn_file(module, args, &pid) : pager_spawn(msh_pager, module, args, &pid);

	if (rc == MICA_ENOENT) {
		if (file)
			printf("%s: %s: no such file (ls lists them)\n", what, module);
		else
			printf("%s: %s not found\n", what, module);
		return rc;
	}
	if (file && rc == MICA_EPERM) {
		printf("%s: %s is a boot module: spawn runs it (or cp it to a file)\n", what,
		       module);
		return rc;
	}
	if (file && rc == MICA_ENOEXEC) {
		printf("%s: %s: not a program (error ENOEXEC)\n", what, module);
		return rc;
	}
	if (rc < 0) {
		printf("%s: cannot start %s: error %s\n", what, module, mica_error_name(rc));
		return rc;
	}
	if (background) {
		jobs[slot].pid = pid;
		strncpy(jobs[slot].name, module, sizeof(jobs[slot].name) - 1);
		printf("msh: %s pid %lu in the background\n", module, (unsigned long)pid);
		return 0;
	}
	wait_child(module, pid, true, report);
	/* The program may have attached to the console itself: be its reader again. */
	if (!token && attach() < 0)
		printf("msh: cannot attach to the console again\n");
	return 0;
}

unsigned msh_jobs(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MSH_JOBS; i++)
		n += jobs[i].pid != 0;
	return n;
}

void msh_wait_jobs(void)
{
	if (!msh_jobs()) {
		printf("wait: no background programs\n");
		return;
	}
	for (unsigned i = 0; i < MSH_JOBS; i++) {
		if (!jobs[i].pid)
			continue;
		if (!wait_child(jobs[i].name, jobs[i].pid, false, true)) {
			printf("wait: interrupted; %u still in the background\n", msh_jobs());
			return;
		}
		jobs[i].pid = 0;
	}
}

/* Split line into words at spaces and tabs; returns how many (at most MSH_ARGS_MAX). */
static int split(char *line, char **argv)
{
	int argc = 0;

	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = 0;
		if (!*p)
			break;
		if (argc == MSH_ARGS_MAX)
			return -1;
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return argc;
}

int main(void)
{
	const struct mica_startup *st = rt_startup_info();
	static char line[LINE_MAX + 1];
	char *argv[MSH_ARGS_MAX];
	int64_t ep;
	int rc;

	msh_pager = st->pager;
	if ((rc = names_lookup(rt_names_handle(), "console", &con)) < 0) {
		printf("msh: no console: error %s\n", mica_error_name(rc));
		return 1;
	}
	if ((rc = attach()) < 0) {
		printf("msh: console attach: error %s\n", mica_error_name(rc));
		return 2;
	}
	/* The exit port, if the manifest gave it (halt). */
	if (st->version >= 3 && st->ports != MICA_HANDLE_NONE && mica_ioport_enable(st->ports) == 0)
		msh_ports = st->ports;
	/* init waits for a server entry to register. */
	if ((ep = mica_endpoint_create()) < 0 ||
	    (rc = names_register_name(rt_names_handle(), "msh", (mica_handle_t)ep)) < 0) {
		printf("msh: register: error %s\n", mica_error_name(ep < 0 ? ep : rc));
		return 3;
	}
	printf("msh: the Mica shell; type help\n");
	for (;;) {
		printf("mica> ");
		if (!read_line(line))
			return 4;
		if (line[0] == 0x03)
			continue; /* Ctrl-C: the console echoed ^C and a newline */
		int argc = split(line, argv);

		if (argc < 0) {
			printf("msh: too many words (at most %d)\n", MSH_ARGS_MAX);
			continue;
		}
		if (argc)
			cmd_run(argc, argv);
	}
}
