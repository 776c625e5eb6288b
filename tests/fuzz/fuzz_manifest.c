/*
 * Fuzz target: init's manifest reader (servers/init/manifest.c) over any
 * module text. manifest_load reads the module through a stand-in for the
 * pager's module_read that serves the input honestly, in chunks of a size
 * the input varies (at most the interface's 4000 bytes). Every entry it
 * keeps is well-formed: a module name of 1 to MODULE_MAX characters with
 * no space, arguments within ARGS_MAX, a known restart policy, at most
 * ENTRIES_MAX entries; nothing leaks (ASan's leak check).
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include <string.h>

#include "fuzz.h"
#include "init.h"

mica_handle_t init_pager = 7; /* main.c's, which is not built here */

static const uint8_t *module;
static size_t module_size, chunk;

/* The pager's module_read for the one module "manifest", as pager.idl describes it. */
int pager_module_read(mica_handle_t ep, const char *name, uint64_t offset, void *data,
                      uint32_t *data_len, uint64_t *total)
{
	FUZZ_CHECK(ep == init_pager);
	if (strcmp(name, "manifest") != 0)
		return MICA_ENOENT;
	if (offset > module_size)
		return MICA_ERANGE;
	size_t n = module_size - offset;

	if (n > chunk)
		n = chunk;
	memcpy(data, module + offset, n);
	*data_len = (uint32_t)n;
	*total = module_size;
	return MICA_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	module = data;
	module_size = size;
	chunk = PAGER_MODULE_READ_DATA_MAX - size % 64; /* short reads too */
	memset(entries, 0, sizeof(entries));
	nentries = 0;
	FUZZ_CHECK(manifest_load("manifest") == 0);
	FUZZ_CHECK(nentries <= ENTRIES_MAX);
	for (unsigned i = 0; i < nentries; i++) {
		const struct entry *e = &entries[i];
		size_t m = strnlen(e->module, sizeof(e->module));

		FUZZ_CHECK(m >= 1 && m <= MODULE_MAX);
		FUZZ_CHECK(!strpbrk(e->module, " \t\r\n#"));
		FUZZ_CHECK(strnlen(e->args, sizeof(e->args)) <= ARGS_MAX);
		FUZZ_CHECK(e->restart == RESTART_NEVER || e->restart == RESTART_ON_FAILURE ||
		           e->restart == RESTART_ALWAYS);
		FUZZ_CHECK(e->pid == 0 && !e->done);
	}
	FUZZ_CHECK(manifest_load("other") == MICA_ENOENT);
	return 0;
}
