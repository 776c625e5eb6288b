# Host fuzz targets (libFuzzer, clang, ASan + UBSan): tests/fuzz/README.md.
#
# Included by the top Makefile:
#   make fuzz-host [FUZZ_SECONDS=60]     each target for FUZZ_SECONDS, its corpus kept in
#                                        build/fuzz/corpus/<target>/
#   make fuzz-host-short                 each target for FUZZ_SHORT_SECONDS from the committed
#                                        seeds only (part of make test)
# A crash leaves build/fuzz/crash-<target>-<hash>; replay it with build/fuzz/<target> <file>.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SHORT_SECONDS ?= 5
FUZZ_BUILD := build/fuzz
FUZZ_CFLAGS := -DMICA_HOST -std=c11 -g -O1 -Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_INCLUDES := -I. -Iinclude -Ikernel -Ikernel/arch/x86_64 -Ilib -Itests/fuzz

FUZZ_TARGETS := mb2 elf pager_elf cmdline manifest idl fs

# What each target builds from, and its own include paths (searched first).
FUZZ_SRCS_mb2 := kernel/arch/x86_64/mb2.c kernel/memmap.c
FUZZ_SRCS_elf := kernel/elf.c
FUZZ_SRCS_pager_elf := servers/pager/elf.c
FUZZ_FLAGS_pager_elf := -Iservers/pager
FUZZ_SRCS_cmdline := lib/cmdparse.c kernel/cmdline.c
FUZZ_SRCS_manifest := servers/init/manifest.c
FUZZ_FLAGS_manifest := -Iservers/init -I$(dir $(IDL_OUT))
FUZZ_SRCS_idl := $(IDL_OUT)/kv_server.c $(IDL_OUT)/idltest_server.c
FUZZ_FLAGS_idl := -I$(dir $(IDL_OUT))
# The file server's handlers, store and descriptors, with a page list short enough for
# libFuzzer's malloc limit.
FUZZ_SRCS_fs := $(IDL_OUT)/fs_server.c servers/fs/ops.c servers/fs/store.c servers/fs/fds.c
FUZZ_FLAGS_fs := -Iservers/fs -I$(dir $(IDL_OUT)) '-DFS_LIST_PAGES_MAX=(1ULL << 20)'

FUZZ_HEADERS := $(wildcard include/mica/*.h kernel/*.h kernel/arch/x86_64/*.h kernel/lib/*.h \
	lib/*.h servers/pager/*.h servers/init/*.h servers/fs/*.h libipc/*.h tests/fuzz/*.h) $(IDL_GEN_H)
FUZZ_BINS := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))

define FUZZ_RULE
$(FUZZ_BUILD)/$(1): tests/fuzz/fuzz_$(1).c $(FUZZ_SRCS_$(1)) $(FUZZ_HEADERS) tests/fuzz/fuzz.mk \
		| deps
	@mkdir -p $$(@D)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) $(FUZZ_FLAGS_$(1)) $$(FUZZ_INCLUDES) -o $$@ \
		tests/fuzz/fuzz_$(1).c $(FUZZ_SRCS_$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULE,$(t))))

# $(call fuzz_run,<seconds>,<corpus dir to grow>): run every target, one line each;
# on a crash, the end of its log and how to replay it. Fails at the end if any crashed.
define fuzz_run
	@failed=""; \
	for t in $(FUZZ_TARGETS); do \
		dir=$(2)/$$t; mkdir -p $$dir; \
		log=$(FUZZ_BUILD)/$$t.log; \
		if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
			$(FUZZ_BUILD)/$$t -seed=1 -max_total_time=$(1) -close_fd_mask=1 \
			-artifact_prefix=$(FUZZ_BUILD)/$$t- $$dir tests/fuzz/corpus/$$t \
			>$$log 2>&1; then \
			runs=$$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' $$log); \
			echo "fuzz $$t: $$runs runs in $(1) s, no crash"; \
		else \
			tail -n 30 $$log; \
			crash=$$(sed -n 's/.*Test unit written to \(.*\)$$/\1/p' $$log); \
			echo "fuzz $$t: FAILED; input $$crash; replay: $(FUZZ_BUILD)/$$t $$crash"; \
			failed="$$failed $$t"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz-host: FAILED:$$failed"; exit 1; fi; \
	echo "fuzz-host: $(words $(FUZZ_TARGETS)) targets, $(1) s each, no crash"
endef

.PHONY: fuzz-host fuzz-host-short fuzz-build
fuzz-build: $(FUZZ_BINS)

# The long run keeps what it finds in build/fuzz/corpus/ for the next one.
fuzz-host: $(FUZZ_BINS)
	$(call fuzz_run,$(FUZZ_SECONDS),$(FUZZ_BUILD)/corpus)

# The short run starts from the committed seeds (and regression inputs) every time.
fuzz-host-short: $(FUZZ_BINS)
	@rm -rf $(FUZZ_BUILD)/short
	$(call fuzz_run,$(FUZZ_SHORT_SECONDS),$(FUZZ_BUILD)/short)
