/*
 * The boot modules as read-only files: their list from pager.module_read
 * ("" lists them, one line "<name> <bytes>\n" each) at start, and their
 * bytes read through the pager when a client reads them (nothing is
 * copied into the store).
 */
#include "fs.h"

#include <idl/pager_client.h>
#include <mica/errname.h>
#include <mica/error.h>
#include <stdio.h>
#include <string.h>

static mica_handle_t pager = MICA_HANDLE_NONE;
static char chunk[PAGER_MODULE_READ_DATA_MAX + 1]; /* static: the reply lands in mapped pages */

/* Adds one line "<name> <bytes>" of the list; a module whose name is not a file name is left out.
 */
static void add_line(const char *line, size_t n)
{
	char name[FS_NAME_MAX + 1];
	size_t k = 0;
	uint64_t size = 0;

	while (k < n && line[k] != ' ')
		k++;
	if (k == 0 || k > FS_NAME_MAX || k == n)
		return;
	memcpy(name, line, k);
	name[k] = 0;
	for (size_t i = k + 1; i < n; i++) {
		if (line[i] < '0' || line[i] > '9')
			return;
		size = size * 10 + (uint64_t)(line[i] - '0');
	}
	int rc = store_add_readonly(name, size);

	if (rc < 0)
		printf("fs: module %s left out: error %s\n", name, mica_error_name(rc));
}

int modules_load(mica_handle_t p)
{
	static char list[8192]; /* the lines read so far: one line is at most 47 + 22 bytes */
	uint64_t off = 0, total = 0;
	uint32_t len = 0;
	size_t have = 0;

	pager = p;
	do {
		int rc = pager_module_read(pager, "", off, chunk, &len, &total);

		if (rc < 0)
			return rc;
		if (!len)
			break;
		if (have + len > sizeof(list))
			return MICA_ENOMEM;
		memcpy(list + have, chunk, len);
		have += len;
		off += len;
		/* Each whole line; a cut one waits for the next chunk. */
		size_t start = 0;

		for (size_t i = 0; i < have; i++)
			if (list[i] == '\n') {
				add_line(list + start, i - start);
				start = i + 1;
			}
		memmove(list, list + start, have - start);
		have -= start;
	} while (off < total);
	return MICA_OK;
}

int modules_read(const char *name, uint64_t offset, void *buf, uint32_t len)
{
	uint32_t done = 0, n = 0;
	uint64_t total = 0;

	while (done < len) {
		int rc = pager_module_read(pager, name, offset + done, chunk, &n, &total);

		if (rc < 0)
			return rc;
		if (!n)
			return MICA_ERANGE; /* the module is shorter than the list said */
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, chunk, n);
		done += n;
	}
	return MICA_OK;
}
