# Mica: build, run, debug and test.
#
#   make                 build build/mica.iso
#   make run [SCENARIO=name] [MEM=5G]  boot scenarios/name (default) in QEMU, serial console here
#   make run-pager       boot the pager with ptest (make run SCENARIO=ptest)
#   make debug           boot it halted under QEMU's gdb stub (see README)
#   make test            every test: style, IDL, host unit tests, short fuzz runs, QEMU system tests
#   make fuzz-host       the host fuzz targets, FUZZ_SECONDS (60) each (tests/fuzz/README.md)
#   make fuzz SEED=n CALLS=n  the system-call fuzzer inside Mica (docs/TESTING.md)
#   make bench           micro-benchmarks, in instructions per operation
#   make idl-goldens     regenerate the IDL compiler's expected outputs (tests/idl/golden/)
#   make bench-baseline  make bench's figures (and bytes, boot, charts: docs/PERFORMANCE.md)
#                        written into tools/bench-baseline.json, which make test checks
#   make clean
#
# `run`, `test` and the build install missing Debian packages first
# (tools/deps.sh).

.DEFAULT_GOAL := all

BUILD   := build
ISO     := $(BUILD)/mica.iso
KERNEL  := $(BUILD)/kernel.elf
PYTHON  := /usr/bin/python3
QEMU    := qemu-system-x86_64

# ---- Named scenarios (scenarios/<name>, docs/SCENARIOS.md) ----
# What `make run` (and make, debug) boots comes from scenarios/$(SCENARIO):
# the GRUB modules (the first is the first task: the pager, which starts the
# second, init), init's manifest and every program it names, the kernel
# command line and the memory size. The default scenario boots the pager,
# init, boot/manifest and boot/tests (the test programs init runs: CMDLINE=
# "init.args=manifest=tests"). MEM= and MODULES= replace the scenario's;
# CMDLINE= is added to its command line. tools/scenario.py reads the file
# and writes build/scenarios/<name>.mk (and an inline manifest).
SCENARIO ?= default
SCENARIO_MK := $(shell $(PYTHON) tools/scenario.py mk $(SCENARIO))
ifeq ($(SCENARIO_MK),)
$(error no usable scenario "$(SCENARIO)": see the message above, and scenarios/)
endif
include $(SCENARIO_MK)
MEM     ?= $(SCENARIO_MEM)
MODULES ?= $(SCENARIO_MODULES)
override CMDLINE := $(strip $(SCENARIO_CMDLINE) $(CMDLINE))

CC      := gcc
NASM    := nasm
ARCH    := kernel/arch/x86_64

# A freestanding higher-half kernel: no red zone (interrupts would clobber
# it), no SSE/x87/MMX (the FPU registers hold the user threads' state, which
# ctx.c switches; the kernel never touches them), the kernel code model
# (code and data in the top 2 GiB), frame pointers for the panic backtrace.
KCFLAGS := -std=c11 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-mno-red-zone -mgeneral-regs-only -mcmodel=kernel \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-O2 -g -Wall -Wextra -Werror \
	-Iinclude -Ikernel -I$(ARCH) -Ilib -MMD -MP
KLDFLAGS := -nostdlib -static -no-pie -Wl,-T,$(BUILD)/linker.ld \
	-Wl,-z,max-page-size=0x1000 -Wl,--build-id=none -Wl,--no-warn-rwx-segments

# lib/: freestanding code built into both the kernel and the pager (the command-line parser).
# asmoffsets.c is not linked: compiled to assembly, it gives nasm the structure offsets.
KSRC_C   := $(filter-out $(ARCH)/asmoffsets.c,$(wildcard kernel/*.c kernel/lib/*.c $(ARCH)/*.c lib/*.c))
KSRC_ASM := $(wildcard $(ARCH)/*.asm)
KOBJ     := $(KSRC_C:%.c=$(BUILD)/%.o) $(KSRC_ASM:%.asm=$(BUILD)/%.asm.o)

# User programs (for now the kernel's test tasks): freestanding, static,
# linked at MICA_USER_BASE. The kernel gives every thread its own FPU/SSE
# state, so user code may use them (in asm, as ktest does; runtime programs
# also in C, see RUNTIME_CFLAGS); the compiler is kept to general registers
# here because these programs start threads on
# 16-byte-aligned stacks with no return address (the SysV ABI wants RSP+8
# aligned at entry), where compiler-made SSE stack spills (movaps) fault.
# Generated IDL stubs are included as <idl/<iface>_client.h>.
USER_CFLAGS := -std=c11 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-mgeneral-regs-only -O2 -g -Wall -Wextra -Werror -Iinclude -I. -I$(BUILD)/gen -Itests/user/lib
USER_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,tests/user/user.ld \
	-Wl,-z,max-page-size=0x1000 -Wl,--build-id=none
USER_PROGS := $(BUILD)/user/ktest.elf $(BUILD)/user/idltest.elf $(BUILD)/user/bench.elf \
	$(BUILD)/user/pager.elf $(BUILD)/user/ptest.elf $(BUILD)/user/kfuzz.elf \
	$(BUILD)/user/memtest.elf

include tools/idlc/idl.mk

# libipc (libipc/*.c), an archive every program links: only what it uses is pulled in.
LIBIPC     := $(BUILD)/user/libipc.a
LIBIPC_OBJ := $(patsubst libipc/%.c,$(BUILD)/user/libipc/%.o,$(wildcard libipc/*.c)) \
	$(BUILD)/user/lib/errname.o

$(BUILD)/user/libipc/%.o: libipc/%.c $(wildcard libipc/*.h include/mica/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -c $< -o $@

# The error names (lib/errname.c, include/mica/errname.h) go into libipc, so every program has them.
$(BUILD)/user/lib/errname.o: lib/errname.c $(wildcard include/mica/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -c $< -o $@

$(LIBIPC): $(LIBIPC_OBJ)
	rm -f $@
	ar rcs $@ $^

# The user runtime (runtime/, see its README): crt0, string.h, stdio.h,
# stdlib.h over the debug console and the pager, an archive programs link
# before libipc.a. Its cores must not become calls to themselves (a copy
# loop turned into a memcpy call), hence no loop-to-libcall patterns.
LIBRUNTIME     := $(BUILD)/user/libruntime.a
LIBRUNTIME_OBJ := $(patsubst runtime/%.c,$(BUILD)/user/runtime/%.o,$(wildcard runtime/*.c)) \
	$(BUILD)/user/runtime/pager_client.o $(BUILD)/user/runtime/console_client.o \
	$(BUILD)/user/runtime/names_client.o $(BUILD)/user/runtime/fs_client.o
# Runtime programs start at _start, which aligns the stack for the SysV ABI,
# so their compiled C may use x87 and SSE (float, double): the kernel keeps
# each thread's FPU/SSE state (docs/ABI.md). rthello's float test checks it.
RUNTIME_CFLAGS := $(filter-out -mgeneral-regs-only,$(USER_CFLAGS)) -Iruntime/include \
	-fno-tree-loop-distribute-patterns
# The headers every runtime program may include: a change to one rebuilds them all.
RT_HDRS := $(wildcard include/mica/*.h libipc/*.h runtime/include/*.h tests/user/lib/*.h) \
	$(IDL_GEN_H)

$(BUILD)/user/runtime/%.o: runtime/%.c $(wildcard runtime/*.h runtime/include/*.h libipc/*.h \
		include/mica/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(RUNTIME_CFLAGS) -c $< -o $@

# The client stubs: the pager's for sbrk, names and console for stdout.
$(BUILD)/user/runtime/%_client.o: $(IDL_OUT)/%_client.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(RUNTIME_CFLAGS) -c $< -o $@

$(BUILD)/user/runtime/sbrk.o $(BUILD)/user/runtime/stdio.o $(BUILD)/user/runtime/thread.o \
	$(BUILD)/user/runtime/spawn.o: $(IDL_GEN_H)

$(LIBRUNTIME): $(LIBRUNTIME_OBJ)
	rm -f $@
	ar rcs $@ $^

# A program on the runtime: main(argc, argv), printf, malloc over the pager's
# sbrk (tests/system/test_runtime.py boots it under the pager).
$(BUILD)/user/rthello.elf: $(wildcard tests/user/rthello/*.c) tests/user/user.ld $(LIBRUNTIME) \
		$(LIBIPC) $(RT_HDRS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(RUNTIME_CFLAGS) $(USER_LDFLAGS) -o $@ $(filter %.c,$^) $(LIBRUNTIME) $(LIBIPC)

runtime: $(LIBRUNTIME) $(BUILD)/user/rthello.elf

# init (servers/init/, docs/ARCHITECTURE.md "Init and the name service"): a
# runtime program serving the name service, and the name service's test
# program (tests/system/test_init.py).
$(BUILD)/user/init.elf: $(wildcard servers/init/*.c servers/init/*.h) $(IDL_OUT)/names_server.c \
		tests/user/user.ld $(LIBRUNTIME) $(LIBIPC) $(RT_HDRS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(RUNTIME_CFLAGS) $(USER_LDFLAGS) -o $@ $(filter %.c,$^) $(LIBRUNTIME) $(LIBIPC)

$(BUILD)/user/nametest.elf: $(wildcard tests/user/nametest/*.c) $(IDL_OUT)/names_client.c \
		$(IDL_OUT)/echo_client.c $(IDL_OUT)/echo_server.c tests/user/user.ld $(LIBRUNTIME) \
		$(LIBIPC) $(RT_HDRS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(RUNTIME_CFLAGS) $(USER_LDFLAGS) -o $@ $(filter %.c,$^) $(LIBRUNTIME) $(LIBIPC)

init: $(BUILD)/user/init.elf $(BUILD)/user/nametest.elf

# Servers on the runtime, found by folder: servers/<name>/ (but pager and
# init, built above) gives build/user/<name>.elf with the stubs <name>_server
# and names_client; a test client tests/user/<name>client/ gives
# build/user/<name>client.elf with <name>_client and names_client.
# RT_IDL_<program> adds stubs (e.g. RT_IDL_kv := pager_client), and so does
# a file `stubs` in the program's folder (one line of names: make new-server
# --memobj writes one). So a new server (make new-server NAME=<name>,
# docs/ADDING_A_SERVER.md) needs no edit here.
RT_SERVERS := $(filter-out pager init msh,$(patsubst servers/%/main.c,%,$(wildcard servers/*/main.c)))
RT_CLIENTS := $(patsubst tests/user/%/main.c,%,$(wildcard tests/user/*client/main.c))
RT_PROGS   := $(foreach p,$(RT_SERVERS) $(RT_CLIENTS),$(BUILD)/user/$(p).elf)
RT_IDL_consoleclient := pager_client
RT_IDL_fs := pager_client memobj_server
RT_IDL_fsclient := pager_client memobj_client

# $(call rt_prog,<program>,<folder>,<stubs>): a runtime program from a folder.
define rt_prog
$(BUILD)/user/$(1).elf: $(wildcard $(2)/*.c $(2)/*.h) \
		$(foreach s,$(3),$(IDL_OUT)/$(s).c) tests/user/user.ld $(LIBRUNTIME) $(LIBIPC) $(RT_HDRS) | deps
	@mkdir -p $$(dir $$@)
	$$(CC) $$(RUNTIME_CFLAGS) $$(USER_LDFLAGS) -o $$@ $$(filter %.c,$$^) $$(LIBRUNTIME) $$(LIBIPC)
endef
rt_stubs = $(if $(wildcard $(1)/stubs),$(shell cat $(1)/stubs))
$(foreach s,$(RT_SERVERS),$(eval $(call rt_prog,$(s),servers/$(s),$(s)_server names_client $(RT_IDL_$(s)) $(call rt_stubs,servers/$(s)))))
$(foreach c,$(RT_CLIENTS),$(eval $(call rt_prog,$(c),tests/user/$(c),$(c:client=)_client names_client $(RT_IDL_$(c)) $(call rt_stubs,tests/user/$(c)))))

# Programs a person runs (apps/<name>/, runtime programs with the pager's
# stubs): memview draws memory from pager.dump (docs/MEMDUMP.md).
APPS := memview
APP_PROGS := $(foreach p,$(APPS),$(BUILD)/user/$(p).elf)
$(foreach p,$(APPS),$(eval $(call rt_prog,$(p),apps/$(p),pager_client)))

# The shell (servers/msh/): a client of the console, the pager, the names and fs, serving nothing.
$(eval $(call rt_prog,msh,servers/msh,console_client pager_client names_client fs_client))

servers: $(RT_PROGS) $(APP_PROGS) $(BUILD)/user/msh.elf

# The attack programs (docs/TESTING.md): the system-call fuzzer, the IPC
# fuzzer, and death and stress (ordeal), runtime programs on every client stub.
ATTACK := sysfuzz ipcfuzz ordeal
ATTACK_PROGS := $(foreach p,$(ATTACK),$(BUILD)/user/$(p).elf)
$(foreach p,$(ATTACK),$(eval $(call rt_prog,$(p),tests/user/$(p),pager_client names_client kv_client fs_client)))
# Threads and the pager's limits (tests/system/test_threads.py), a runtime program.
$(eval $(call rt_prog,threadtest,tests/user/threadtest,))
ATTACK_PROGS += $(BUILD)/user/threadtest.elf
# fork and copy on write (tests/system/test_fork.py), a runtime program.
$(eval $(call rt_prog,forktest,tests/user/forktest,))
ATTACK_PROGS += $(BUILD)/user/forktest.elf
# Programs from files (tests/user/exectest/): pager.spawn_object through the runtime's spawn_file.
$(eval $(call rt_prog,exectest,tests/user/exectest,))
ATTACK_PROGS += $(BUILD)/user/exectest.elf

# A new server from the template (tools/new-server.py): make new-server NAME=<name>.
new-server:
	$(PYTHON) tools/new-server.py $(NAME) $(if $(MEMOBJ),--memobj)

# Each program is a folder of C files: tests/user/<name>/ gives build/user/<name>.elf,
# linked with the helpers they share in tests/user/lib/.
# USER_IDL_<name> lists the generated stubs it compiles in, e.g. echo_client.
USER_IDL_idltest := idltest_client idltest_server
USER_IDL_ptest := pager_client
USER_IDL_memtest := pager_client memobj_server

.SECONDEXPANSION:
$(BUILD)/user/%.elf: $$(wildcard tests/user/%/*.c tests/user/%/*.h) \
		$$(addprefix $(IDL_OUT)/,$$(addsuffix .c,$$(USER_IDL_$$*))) tests/user/user.ld \
		$(wildcard tests/user/lib/*.c tests/user/lib/*.h libipc/*.h include/mica/*.h) $(LIBIPC) | deps
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(USER_LDFLAGS) -o $@ $(filter %.c,$^) $(LIBIPC)

# The pager (servers/pager/, docs/ARCHITECTURE.md "The pager") is a user
# program like the others, built from its own folder with its server stubs
# and the command-line parser it shares with the kernel (lib/).
$(BUILD)/user/pager.elf: $(wildcard servers/pager/*.c servers/pager/*.h) lib/cmdparse.c \
		lib/cmdparse.h $(IDL_OUT)/pager_server.c $(IDL_OUT)/memobj_client.c tests/user/user.ld \
		$(wildcard libipc/*.h include/mica/*.h) $(LIBIPC) | deps
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Ilib $(USER_LDFLAGS) -o $@ $(filter %.c,$^) $(LIBIPC)

# -cpu max: SMEP, SMAP, XSAVE and AVX, as in the tests (tests/system/mica.py).
QEMU_FLAGS := -m $(MEM) -cdrom $(ISO) -boot d -display none -no-reboot -cpu max \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04

.PHONY: all run run-pager debug test test-inside test-one fuzz bench deps runtime init servers new-server style idl-check idl-test idl-goldens system-test clean FORCE
all: $(ISO)

deps:
	@tools/deps.sh

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@

# The layout constants, for nasm and the linker script, from the one header.
$(BUILD)/gen/layout.inc: include/mica/layout.h | deps
	@mkdir -p $(dir $@)
	$(CC) -E -dM -D__ASSEMBLER__ $< | grep ' MICA_' | sed 's/^#define/%define/' > $@

# The structure offsets for the assembly IPC fast path (ipcfast.asm), from the compiler.
$(BUILD)/gen/asmoffsets.inc: $(ARCH)/asmoffsets.c $(wildcard kernel/*.h $(ARCH)/*.h include/mica/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -g -MMD -MP,$(KCFLAGS)) -S $< -o - | \
	  sed -n 's/^.*@OFF \([A-Z0-9_]*\) \(-\{0,1\}[0-9]*\).*$$/%define \1 \2/p' > $@

$(BUILD)/linker.ld: $(ARCH)/linker.ld.S include/mica/layout.h | deps
	@mkdir -p $(dir $@)
	$(CC) -E -P -D__ASSEMBLER__ -Iinclude -x c $< -o $@

$(BUILD)/%.asm.o: %.asm $(BUILD)/gen/layout.inc $(BUILD)/gen/asmoffsets.inc $(wildcard $(ARCH)/*.inc) | deps
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -g -F dwarf -I$(BUILD)/gen/ -I$(ARCH)/ $< -o $@

$(KERNEL): $(KOBJ) $(BUILD)/linker.ld
	$(CC) $(KLDFLAGS) -o $@ $(KOBJ)

# The command line and the modules are baked into the ISO's grub.cfg: rebuild when they change.
$(BUILD)/cmdline: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CMDLINE) | $(MODULES)' | cmp -s - $@ || echo '$(CMDLINE) | $(MODULES)' > $@

$(ISO): $(KERNEL) $(BUILD)/cmdline tools/mkiso.sh $(MODULES)
	tools/mkiso.sh $(KERNEL) $@ "$(CMDLINE)" multiboot2 "$(MODULES)"

FORCE:

# Quit QEMU with Ctrl-A then X.
run: $(ISO)
	$(QEMU) $(QEMU_FLAGS) -serial mon:stdio

# The pager as the first task, starting ptest (docs/ARCHITECTURE.md, "The pager"):
# the scenario scenarios/ptest.
run-pager:
	$(MAKE) run SCENARIO=ptest

debug: $(ISO)
	@echo "QEMU is halted with its gdb stub on :1234. In another terminal: gdb -x tools/gdbinit"
	$(QEMU) $(QEMU_FLAGS) -serial mon:stdio -s -S

include tests/host/host.mk
include tests/fuzz/fuzz.mk

# Every C file formatted as .clang-format says, new files too (not yet added to git).
style: | deps
	clang-format --dry-run --Werror $$(git ls-files -co --exclude-standard '*.c' '*.h' 2>/dev/null || find kernel include tests -name '*.[ch]')

# The stubs of every interface compile cleanly, freestanding, with -Werror.
IDL_CHECK_OBJ := $(patsubst $(IDL_OUT)/%.c,$(BUILD)/idl-check/%.o,$(IDL_GEN_C))

$(BUILD)/idl-check/%.o: $(IDL_OUT)/%.c $(IDL_GEN_H) $(wildcard libipc/*.h include/mica/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -c $< -o $@

idl-check: $(IDL_CHECK_OBJ)

# The compiler's golden and error tests, after the compile check.
idl-test: idl-check | deps
	$(PYTHON) -m pytest -q tests/idl

idl-goldens: | deps
	$(PYTHON) tests/idl/goldens.py --regen

# What the system tests boot; tests/system/conftest.py builds it (make system-test-build)
# before any pytest run of tests/system, so a test run alone finds its programs.
SYSTEM_TEST_BUILD = $(KERNEL) $(USER_PROGS) $(BUILD)/user/init.elf $(BUILD)/user/nametest.elf \
	$(RT_PROGS) $(ATTACK_PROGS) $(APP_PROGS) $(BUILD)/user/msh.elf $(BUILD)/user/rthello.elf
.PHONY: system-test-build
system-test-build: $(SYSTEM_TEST_BUILD)

system-test: $(SYSTEM_TEST_BUILD) | deps
	$(PYTHON) -m pytest -v tests/system

# Pictures of memory (docs/MEMDUMP.md): boot scenarios/memmap, take memview's
# dump from the serial log and render build/memmap/pool.svg and proc-<pid>.svg.
.PHONY: memmap
memmap: system-test-build runtime | deps
	$(PYTHON) tools/memmap.py --boot memmap --out $(BUILD)/memmap

# Every test program inside Mica (the scenarios marked test); and one test by its id.
SYSTEM_PROGS = $(KERNEL) $(USER_PROGS) $(BUILD)/user/init.elf $(BUILD)/user/nametest.elf servers \
	runtime
# test-inside boots every scenario marked `test` (tools/scenario.py list).
test-inside: system-test-build | deps
	$(PYTHON) tools/testrun.py inside

# The system-call fuzzer with a seed and a number of calls (docs/TESTING.md); a
# failure prints the seed and the call's index, and the same seed repeats it;
# TRACE=<index> prints every call from that index on.
SEED  ?= 1
CALLS ?= 100000
TRACE ?=
fuzz: $(SYSTEM_PROGS) $(ATTACK_PROGS) | deps
	cd tests/system && $(PYTHON) test_attack.py $(SEED) $(CALLS) $(TRACE)

test-one: $(SYSTEM_PROGS) | deps
	@test -n "$(ID)" || { echo "usage: make test-one ID=<id> (as in a TEST <id> line)"; exit 2; }
	$(PYTHON) tools/testrun.py one $(ID)

# The figures (docs/PERFORMANCE.md): instructions per operation counted
# under QEMU -icount, boot time, memory per frame and per object, and the
# buddy allocator on the host under callgrind. bench writes build/bench.json
# and charts in build/bench/; bench-check (part of test) fails when a figure
# is more than 10% above tools/bench-baseline.json; bench-baseline rewrites
# the baseline's values (commit it with the change that moved them).
.PHONY: bench-check bench-baseline itrace
# The boot figures boot what make run boots: every program of the scenario's modules too.
BENCH_DEPS = $(KERNEL) $(USER_PROGS) $(BUILD)/user/init.elf $(RT_PROGS) $(BUILD)/user/rthello.elf \
	$(BUILD)/user/exectest.elf \
	$(filter $(BUILD)/user/%.elf,$(SCENARIO_MODULES)) $(BUILD)/host/bench_buddy

# The buddy allocator built as the pager builds it, driven on the host.
$(BUILD)/host/bench_buddy: tools/bench_buddy.c tests/host/rng.h servers/pager/buddy.c \
		servers/pager/buddy.h $(wildcard include/mica/*.h) | deps
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -c servers/pager/buddy.c -o $(BUILD)/host/buddy.bench.o
	$(CC) -std=c11 -O2 -g -Wall -Wextra -Werror -fno-pie -no-pie -I. -Iinclude -Itests/host \
		-o $@ tools/bench_buddy.c $(BUILD)/host/buddy.bench.o

bench: $(BENCH_DEPS) | deps
	$(PYTHON) tools/bench.py

bench-check: $(BENCH_DEPS) | deps
	$(PYTHON) tools/bench.py --check

bench-baseline: $(BENCH_DEPS) | deps
	$(PYTHON) tools/bench.py --update-baseline

# Where one figure's instructions go (tools/itrace.py): make itrace FIG=ipc.call_reply.remote
itrace: $(KERNEL) $(USER_PROGS) | deps
	@test -n "$(FIG)" || { echo "usage: make itrace FIG=<figure> [ITRACE_ARGS=--sequence]"; exit 2; }
	$(PYTHON) tools/itrace.py $(FIG) $(ITRACE_ARGS)

# The pytest summary is the last line.
test: style idl-test host-test fuzz-host-short runtime bench-check system-test

clean:
	rm -rf $(BUILD)

-include $(KOBJ:.o=.d)
