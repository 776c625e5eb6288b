# Host unit tests (cmocka), built with sanitizers and run on the build machine.
#
# Included by the top Makefile; also usable on its own:
#   make -f tests/host/host.mk host-test
# Paths are relative to the repository root. Each test is one gcc call that
# compiles the test, the shared fakes and the kernel sources it exercises.

# Keep the includer's default goal: remember it, restore it at the end.
HOST_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)
HOST_STANDALONE := $(if $(filter 1,$(words $(MAKEFILE_LIST))),yes,)

HOST_CC ?= gcc
HOST_CFLAGS := -DMICA_HOST -std=c11 -g -O1 -Wall -Wextra -Werror \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-I. -Iinclude -Ikernel -Ikernel/arch/x86_64 -Ilib
HOST_LDLIBS ?= -lcmocka
HOST_BUILD := build/host

HOST_TESTS := test_memmap test_mb2 test_frame test_pt test_format test_handle test_handle_grow test_elf \
	test_ipc test_syscall_args test_buddy test_region test_idl test_pager_elf test_malloc \
	test_printf test_string test_cmdparse test_cmdline test_errname test_slab test_idtree \
	test_fs_store

# The IDL stubs test_idl runs (when this file is used on its own, too).
ifndef IDL_OUT
include tools/idlc/idl.mk
endif

HOST_SRCS_test_memmap := kernel/memmap.c
HOST_SRCS_test_mb2 := kernel/arch/x86_64/mb2.c kernel/memmap.c
HOST_SRCS_test_frame := kernel/frame.c kernel/memmap.c
HOST_SRCS_test_pt := kernel/arch/x86_64/pt.c kernel/frame.c kernel/memmap.c
HOST_SRCS_test_format := kernel/lib/format.c
HOST_SRCS_test_handle := kernel/handle.c
HOST_SRCS_test_handle_grow := kernel/handle.c
HOST_SRCS_test_slab := kernel/slab.c
HOST_SRCS_test_elf := kernel/elf.c
HOST_SRCS_test_ipc := kernel/ipc.c kernel/fastpath.c kernel/handle.c kernel/kobj.c kernel/syscall.c \
	kernel/timer.c kernel/slab.c kernel/ipcbuf.c
HOST_SRCS_test_syscall_args := kernel/syscall.c kernel/mem.c kernel/pool.c kernel/aspace.c \
	kernel/ipcbuf.c kernel/handle.c kernel/kobj.c kernel/usercopy.c kernel/arch/x86_64/pt.c kernel/frame.c \
	kernel/memmap.c
HOST_SRCS_test_buddy := servers/pager/buddy.c
HOST_SRCS_test_region := servers/pager/region.c
HOST_SRCS_test_idtree := servers/pager/idtree.c
HOST_SRCS_test_fs_store := servers/fs/store.c servers/fs/fds.c servers/fs/idset.c
HOST_SRCS_test_pager_elf := servers/pager/elf.c
HOST_SRCS_test_idl := $(IDL_OUT)/idltest_client.c $(IDL_OUT)/idltest_server.c libipc/server.c
HOST_SRCS_test_malloc := runtime/malloc.c runtime/string.c
HOST_SRCS_test_printf := runtime/format.c runtime/string.c
HOST_SRCS_test_string := runtime/string.c
HOST_SRCS_test_cmdparse := lib/cmdparse.c
HOST_SRCS_test_cmdline := kernel/cmdline.c lib/cmdparse.c
HOST_SRCS_test_errname := lib/errname.c
HOST_FLAGS_test_idl := -I. -I$(dir $(IDL_OUT))

HOST_HEADERS := $(wildcard include/mica/*.h kernel/*.h kernel/arch/x86_64/*.h \
	kernel/lib/*.h lib/*.h servers/pager/*.h servers/fs/*.h tests/host/*.h libipc/*.h runtime/*.h) $(IDL_GEN_H)
HOST_BINS := $(addprefix $(HOST_BUILD)/,$(HOST_TESTS))

define HOST_TEST_RULE
$(HOST_BUILD)/$(1): tests/host/$(1).c tests/host/fakes.c $(HOST_SRCS_$(1)) $(HOST_HEADERS) \
		tests/host/host.mk
	@mkdir -p $$(@D)
	$$(HOST_CC) $$(HOST_CFLAGS) $(HOST_FLAGS_$(1)) -Itests/host -o $$@ tests/host/$(1).c \
		tests/host/fakes.c \
		$(HOST_SRCS_$(1)) $$(HOST_LDLIBS)
endef
$(foreach t,$(HOST_TESTS),$(eval $(call HOST_TEST_RULE,$(t))))

# The pager's standalone modules (and the command-line parser it shares with
# the kernel) build as freestanding C with only the ABI
# headers (no kernel/, no libc) and call nothing outside themselves.
PAGER_STANDALONE := servers/pager/buddy.c servers/pager/region.c servers/pager/elf.c \
	servers/pager/idtree.c \
	lib/cmdparse.c lib/errname.c
$(HOST_BUILD)/pager-standalone.ok: $(PAGER_STANDALONE) $(wildcard servers/pager/*.h \
		include/mica/*.h) tests/host/host.mk
	@mkdir -p $(@D)
	@for src in $(PAGER_STANDALONE); do \
		obj=$(HOST_BUILD)/$$(basename $$src .c).standalone.o; \
		$(HOST_CC) -std=c11 -ffreestanding -O2 -Wall -Wextra -Werror -Iinclude \
			-c $$src -o $$obj || exit 1; \
		undef=$$(nm -u $$obj); \
		if [ -n "$$undef" ]; then echo "$$src needs: $$undef"; exit 1; fi; \
	done
	@touch $@

# A real Mica executable for test_elf to parse, when the top Makefile can build one.
ifneq ($(HOST_STANDALONE),yes)
HOST_ELF_SAMPLE := build/user/ktest.elf
endif

# Run every test even after a failure; fail at the end if any failed.
.PHONY: host-test
host-test: $(HOST_BINS) $(HOST_BUILD)/pager-standalone.ok $(HOST_ELF_SAMPLE)
	@failed=""; \
	for t in $(HOST_BINS); do \
		echo "== $$t"; \
		MICA_ELF_SAMPLE=$(HOST_ELF_SAMPLE) \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t || \
			failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "host tests FAILED:$$failed"; exit 1; fi; \
	echo "host tests passed"

ifeq ($(HOST_STANDALONE),yes)
.DEFAULT_GOAL := host-test
else
.DEFAULT_GOAL := $(HOST_SAVED_DEFAULT_GOAL)
endif
