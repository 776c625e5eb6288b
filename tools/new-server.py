#!/usr/bin/python3
"""make new-server NAME=<name>: a new server from a template
(docs/ADDING_A_SERVER.md). Creates

    idl/<name>.idl                          the interface, a fresh number
    servers/<name>/main.c, README.md        registers <name> with init, serves ping
    tests/user/<name>client/main.c          looks <name> up and calls it
    scenarios/<name>                        the pager, init, the server, then the client
    tests/system/test_<name>.py             boots the scenario

The Makefile finds servers/*/ and tests/user/*client/ by itself, and the
scenario lists what to boot (docs/SCENARIOS.md), so `make run
SCENARIO=<name>` boots the new server and `make test` builds, boots and
checks it with no further edit.
With --memobj (make new-server NAME=<name> MEMOBJ=1) the server is also a
memory server (docs/MEMORY_SERVERS.md): it serves one memory object from a
store in its memory, hands its number out by a method `object`, and the
client maps it and reads it; `stubs` files in both folders name the extra
stubs the Makefile compiles in.
Standard library only. Usage: tools/new-server.py <name> [--memobj] [--root DIR]
"""

import re
import sys
from pathlib import Path

NAME_RE = re.compile(r"[a-z][a-z0-9]*")
NAME_MAX = 16  # keeps the generated lines inside clang-format's 100 columns

# Names taken by the system, its build or C: a server can't be called that.
RESERVED = set("""
    pager init names kv echo idltest kernel runtime libipc lib user gen idl build servers tests
    test tools docs include all run debug bench deps style clean
    auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while asm typeof bool true false offsetof alignof main
    interface method version u8 u16 u32 u64 i8 i16 i32 i64 string bytes handle
""".split())

FIRST_NUMBER, LAST_NUMBER = 1, 0x0FFF  # the system's servers (docs/IDL.md)


def refuse(msg):
    print(f"new-server: {msg}", file=sys.stderr)
    sys.exit(2)


def check_name(root, name):
    if not NAME_RE.fullmatch(name or ""):
        refuse(f'bad name "{name}": use [a-z][a-z0-9]* (e.g. make new-server NAME=clock)')
    if len(name) > NAME_MAX:
        refuse(f'bad name "{name}": at most {NAME_MAX} characters')
    if name in RESERVED:
        refuse(f'"{name}" is reserved (a system server, a build name or a C keyword)')
    if name.endswith("client"):
        refuse(f'"{name}" ends in "client": that is the name of test clients')
    taken = [root / "servers" / name, root / "idl" / f"{name}.idl",
             root / "tests" / "idl" / f"{name}.idl", root / "tests" / "user" / name,
             root / "tests" / "user" / f"{name}client",
             root / "tests" / "system" / "manifests" / name, root / "scenarios" / name,
             root / "tests" / "system" / f"test_{name}.py"]
    for path in taken:
        if path.exists():
            refuse(f'"{name}" is taken: {path.relative_to(root)} exists')


def fresh_number(root):
    """The smallest interface number of the system's range no .idl file uses."""
    used = set()
    for f in sorted((root / "idl").glob("*.idl")) + sorted((root / "tests" / "idl").glob("*.idl")):
        for m in re.finditer(r"^\s*interface\s+\w+\s+(\w+)", f.read_text(), re.M):
            try:
                used.add(int(m.group(1), 0))
            except ValueError:
                pass
    for n in range(FIRST_NUMBER, LAST_NUMBER + 1):
        if n not in used:
            return n
    refuse("no free interface number in 1-0x0FFF")


IDL = """\
// The {name} server (servers/{name}/README.md), made by make new-server.

/// {name}: describe the service here.
interface {name} {number} version 1 {{
	/// Returns x + 1. Replace it with the server's own methods.
	method ping 1 (u64 x) -> (u64 y);
}}
"""

SERVER_MAIN = """\
/*
 * {name}: a server made by make new-server (docs/ADDING_A_SERVER.md). Makes
 * an endpoint, registers a send-only copy of it with init as "{name}", and
 * serves idl/{name}.idl on it. Put each concern in its own file beside this
 * one (servers/kv/ is a fuller example).
 */
#include <idl/{name}_server.h>
#include <idl/names_client.h>
#include <mica/errname.h>
#include <startup.h>
#include <stdio.h>
#include <string.h>

static int op_ping(void *ctx, uint64_t badge, uint64_t x, uint64_t *y)
{{
	(void)ctx, (void)badge;
	*y = x + 1;
	return 0;
}}

static const struct {name}_ops handlers = {{.ping = op_ping}};
static struct ipc_server server; /* 8 KiB of buffers: not on the stack */

int main(void)
{{
	int64_t r = mica_endpoint_create();

	if (r < 0) {{
		printf("{name}: no endpoint: error %s\\n", mica_error_name(r));
		return 1;
	}}
	mica_handle_t ep = (mica_handle_t)r;

	/* Others get a send-only copy: only we receive on ep. */
	if ((r = mica_handle_mint(ep, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 1)) < 0) {{
		printf("{name}: mint: error %s\\n", mica_error_name(r));
		return 2;
	}}
	int rc = names_register_name(rt_names_handle(), "{name}", (mica_handle_t)r);

	if (rc < 0) {{
		printf("{name}: register: error %s\\n", mica_error_name(rc));
		return 3;
	}}
	/* The pager backs pages on first touch; the kernel copies only into mapped ones. */
	memset(&server, 0, sizeof(server));
	{name}_server_init(&server, &handlers, 0);
	r = ipc_serve(&server, ep);
	printf("{name}: serving ended: error %s\\n", mica_error_name(r));
	return 4;
}}
"""

IDL_MEMOBJ = """\
// The {name} server (servers/{name}/README.md), made by make new-server --memobj.

/// {name}: describe the service here.
interface {name} {number} version 1 {{
	/// Returns x + 1. Replace it with the server's own methods.
	method ping 1 (u64 x) -> (u64 y);

	/// The number of the memory object the server provides (pager.memobj_map
	/// maps it), granted to process pid and its descendants.
	method object 2 (u64 pid) -> (u64 id);
}}
"""

SERVER_MAIN_MEMOBJ = """\
/*
 * {name}: a memory server made by make new-server --memobj
 * (docs/MEMORY_SERVERS.md, docs/ADDING_A_SERVER.md). It provides one memory
 * object, whose bytes live in `store`: a thread serves idl/memobj.idl (the
 * pager's page_in and page_out) on an endpoint of its own, and the main
 * thread registers "{name}" with init and serves idl/{name}.idl, whose
 * `object` method hands the object's number out.
 */
#include <idl/memobj_server.h>
#include <idl/names_client.h>
#include <idl/pager_client.h>
#include <idl/{name}_server.h>
#include <mica/errname.h>
#include <startup.h>
#include <stdio.h>
#include <string.h>
#include <thread.h>

#define PAGES 4 /* the object's size */
#define PAGE  MICA_PAGE_SIZE

static uint8_t store[PAGES][PAGE]; /* the object's bytes */
static uint64_t object;            /* its number (pager.memobj_ctl CREATE) */

static int op_ping(void *ctx, uint64_t badge, uint64_t x, uint64_t *y)
{{
	(void)ctx, (void)badge;
	*y = x + 1;
	return 0;
}}

/* Grant pid the object and say its number (replace with your own rule of who may map it). */
static int op_object(void *ctx, uint64_t badge, uint64_t pid, uint64_t *id)
{{
	uint64_t out;
	int rc = pager_memobj_ctl(rt_startup_info()->pager, MICA_MEMOBJ_GRANT, object, pid,
	                          MICA_MAP_READ | MICA_MAP_WRITE, &out);

	(void)ctx, (void)badge;
	if (rc < 0)
		return rc;
	*id = object;
	return 0;
}}

/* The pages of a request: within the store. */
static bool in_store(uint64_t id, uint64_t offset, uint64_t npages)
{{
	return id == object && offset % PAGE == 0 && npages <= PAGES &&
	       offset / PAGE <= PAGES - npages;
}}

static int page_in(void *ctx, uint64_t badge, uint64_t id, uint64_t offset, uint64_t npages,
                   uint64_t window)
{{
	(void)ctx, (void)badge;
	if (!in_store(id, offset, npages))
		return MICA_EINVAL;
	memcpy((void *)window, store[offset / PAGE], npages * PAGE);
	return 0;
}}

static int page_out(void *ctx, uint64_t badge, uint64_t id, uint64_t offset, uint64_t npages,
                    uint64_t window)
{{
	(void)ctx, (void)badge;
	if (!in_store(id, offset, npages))
		return MICA_EINVAL;
	memcpy(store[offset / PAGE], (const void *)window, npages * PAGE);
	return 0;
}}

static const struct {name}_ops handlers = {{.ping = op_ping, .object = op_object}};
static const struct memobj_ops pages = {{.page_in = page_in, .page_out = page_out}};
static struct ipc_server server, pages_server; /* 8 KiB of buffers each: not on the stack */
static mica_handle_t pages_ep;

/* The thread serving the pager's requests for the object's pages. */
static long serve_pages(void *arg)
{{
	(void)arg;
	memset(&pages_server, 0, sizeof(pages_server)); /* backed now: the kernel copies into it */
	memobj_server_init(&pages_server, &pages, 0);
	return ipc_serve(&pages_server, pages_ep);
}}

int main(void)
{{
	mica_handle_t pager = rt_startup_info()->pager;
	int64_t r = mica_endpoint_create();

	if (r < 0) {{
		printf("{name}: no endpoint: error %s\\n", mica_error_name(r));
		return 1;
	}}
	/* A memory server: the pager calls memobj on pages_ep; one object of PAGES pages. */
	pages_ep = (mica_handle_t)r;
	strcpy((char *)store[0], "hello from {name}");
	int rc = pager_memobj_serve(pager, pages_ep);

	if (rc == 0)
		rc = pager_memobj_ctl(pager, MICA_MEMOBJ_CREATE, PAGES * PAGE,
		                      MICA_MAP_READ | MICA_MAP_WRITE, 0, &object);
	if (rc < 0 || thread_create(serve_pages, 0) < 0) {{
		printf("{name}: cannot serve memory: error %s\\n", mica_error_name(rc));
		return 1;
	}}
	if ((r = mica_endpoint_create()) < 0) {{
		printf("{name}: no endpoint: error %s\\n", mica_error_name(r));
		return 1;
	}}
	mica_handle_t ep = (mica_handle_t)r;

	/* Others get a send-only copy: only we receive on ep. */
	if ((r = mica_handle_mint(ep, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 1)) < 0) {{
		printf("{name}: mint: error %s\\n", mica_error_name(r));
		return 2;
	}}
	rc = names_register_name(rt_names_handle(), "{name}", (mica_handle_t)r);
	if (rc < 0) {{
		printf("{name}: register: error %s\\n", mica_error_name(rc));
		return 3;
	}}
	memset(&server, 0, sizeof(server));
	{name}_server_init(&server, &handlers, 0);
	r = ipc_serve(&server, ep);
	printf("{name}: serving ended: error %s\\n", mica_error_name(r));
	return 4;
}}
"""

CLIENT_MAIN_MEMOBJ = """\
/*
 * The {name} server's test client (tests/system/test_{name}.py): looks up
 * "{name}" with init, calls it, and maps its memory object and reads it.
 * Prints one line per check: TEST {name}.<id> PASS, or FAIL and a detail.
 */
#include <idl/names_client.h>
#include <idl/pager_client.h>
#include <idl/{name}_client.h>
#include <startup.h>
#include <stdio.h>
#include <string.h>

static int failures; /* the exit code: a failed check fails the program, and so the run */

static void result(const char *id, bool ok, long detail)
{{
	if (ok) {{
		printf("TEST {name}.%s PASS\\n", id);
	}} else {{
		printf("TEST {name}.%s FAIL %ld\\n", id, detail);
		failures++;
	}}
}}

int main(void)
{{
	const struct mica_startup *st = rt_startup_info();
	mica_handle_t ep = MICA_HANDLE_NONE;
	uint64_t y = 0, id = 0, at = 0;
	int rc = names_lookup(rt_names_handle(), "{name}", &ep);

	result("lookup", rc == 0, rc);
	if (rc < 0)
		return 1;
	rc = {name}_ping(ep, 41, &y);
	result("ping", rc == 0 && y == 42, rc ? rc : (long)y);
	/* The object: mapped shared, read (its first page comes from the server now). */
	rc = {name}_object(ep, st->pid, &id);
	if (rc == 0)
		rc = pager_memobj_map(st->pager, id, 0, MICA_PAGE_SIZE, MICA_MAP_READ,
		                      MICA_MEMOBJ_SHARED, 0, &at);
	result("map", rc == 0 && strcmp((const char *)at, "hello from {name}") == 0, rc);
	if (rc == 0)
		result("unmap", pager_unmap(st->pager, at) == 0, 0);
	return failures ? 1 : 0;
}}
"""

SERVER_README = """\
# {name}

A server made by `make new-server NAME={name}` (docs/ADDING_A_SERVER.md). A
runtime program (`build/user/{name}.elf`) that registers the name `{name}`
with init and serves `idl/{name}.idl` (interface {number}).

| file | what |
|---|---|
| `main.c` | the endpoint, `names.register_name("{name}")`, the handlers, the `ipc_serve` loop |

## Calls

| method | what | errors |
|---|---|---|
| `ping(x) -> (y)` | returns x + 1 | |

## Running it

`make run SCENARIO={name}` boots the scenario `scenarios/{name}`: the pager,
init, this server (`server {name}.elf`) and its test client,
`tests/user/{name}client/`, after which the run ends (its `cmdline` line; drop
it to keep Mica running). `tests/system/test_{name}.py` boots the same scenario.
"""

CLIENT_MAIN = """\
/*
 * The {name} server's test client (tests/system/test_{name}.py): looks up
 * "{name}" with init and calls it. Prints one line per check:
 * TEST {name}.<id> PASS, or FAIL and a detail.
 */
#include <idl/{name}_client.h>
#include <idl/names_client.h>
#include <startup.h>
#include <stdio.h>

static int failures; /* the exit code: a failed check fails the program, and so the run */

static void result(const char *id, bool ok, long detail)
{{
	if (ok) {{
		printf("TEST {name}.%s PASS\\n", id);
	}} else {{
		printf("TEST {name}.%s FAIL %ld\\n", id, detail);
		failures++;
	}}
}}

int main(void)
{{
	mica_handle_t ep = MICA_HANDLE_NONE;
	uint64_t y = 0;
	int rc = names_lookup(rt_names_handle(), "{name}", &ep);

	result("lookup", rc == 0, rc);
	if (rc < 0)
		return 1;
	rc = {name}_ping(ep, 41, &y);
	result("ping", rc == 0 && y == 42, rc ? rc : (long)y);
	return failures ? 1 : 0;
}}
"""

SCENARIO = """\
# The {name} server made by make new-server (docs/SCENARIOS.md): the pager,
# init, the server, then its test client. make run SCENARIO={name} boots it,
# tests/system/test_{name}.py and make test-inside (test) too; the command line
# ends the run once the client has (drop it to keep Mica running).
test
cmdline idle=exit pager.exit_when_idle init=init.elf init.exit_when_done
module pager.elf
module init.elf
server {name}.elf
program {name}client.elf
"""

TEST = '''\
"""The {name} server (servers/{name}/): the scenario scenarios/{name} boots
the pager and init, which starts the server and then its client
(tests/user/{name}client/), which looks it up and calls it."""

import mica
import pytest

IDS = ["lookup", "ping"]


@pytest.fixture(scope="module")
def run():
    r = mica.boot_scenario("{name}")
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


@pytest.mark.parametrize("test_id", IDS)
def test_{name}(run, test_id):
    assert run.results(f"{name}.{{test_id}}") == [f"TEST {name}.{{test_id}} PASS"], run.log


def test_every_result_is_known(run):
    assert run.result_ids("{name}") == sorted(IDS), run.log


def test_ready_after_{name}_registered(run):
    assert run.lines.count("init: ready") == 1, run.log
    ready = run.lines.index("init: ready")
    assert run.line("init: {name} registered by pid") in run.lines[:ready], run.log
    assert run.has("init: done"), run.log


def test_every_frame_back_in_the_pager(run):
    assert run.frames_back(), run.log
'''


def main(argv):
    args = argv[1:]
    root = Path(__file__).resolve().parents[1]
    memobj = "--memobj" in args
    args = [a for a in args if a != "--memobj"]
    if len(args) == 3 and args[1] == "--root":
        root = Path(args[2]).resolve()
        args = args[:1]
    if len(args) != 1:
        refuse("usage: make new-server NAME=<name> [MEMOBJ=1]  "
               "(tools/new-server.py <name> [--memobj] [--root DIR])")
    name = args[0]
    check_name(root, name)
    number = fresh_number(root)
    files = {
        f"idl/{name}.idl": IDL,
        f"servers/{name}/main.c": SERVER_MAIN,
        f"servers/{name}/README.md": SERVER_README,
        f"tests/user/{name}client/main.c": CLIENT_MAIN,
        f"scenarios/{name}": SCENARIO,
        f"tests/system/test_{name}.py": TEST,
    }
    if memobj:
        files[f"idl/{name}.idl"] = IDL_MEMOBJ
        files[f"servers/{name}/main.c"] = SERVER_MAIN_MEMOBJ
        files[f"servers/{name}/stubs"] = "memobj_server pager_client\n"
        files[f"tests/user/{name}client/main.c"] = CLIENT_MAIN_MEMOBJ
        files[f"tests/user/{name}client/stubs"] = "pager_client\n"
        files[f"tests/system/test_{name}.py"] = TEST.replace(
            'IDS = ["lookup", "ping"]', 'IDS = ["lookup", "ping", "map", "unmap"]')
    for rel, template in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(name=name, number=number))
        print(f"new-server: wrote {rel}")
    print(f"new-server: {name} is interface {number}; make run SCENARIO={name} boots it, make "
          f"test tests it (alone: /usr/bin/python3 -m pytest tests/system/test_{name}.py)")


if __name__ == "__main__":
    main(sys.argv)
