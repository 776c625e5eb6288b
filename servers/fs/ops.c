/*
 * The IPC front end of the file server: the handlers of idl/fs.idl, each a
 * check of its descriptor and a call into the store (store.c) or the
 * descriptor table (fds.c). The dispatch (build/gen/idl/fs_server.c) has
 * checked the message's shape already; every value is checked here or in
 * the store, so no request can crash the server.
 */
#include "fs.h"

#include <idl/fs_server.h>
#include <mica/error.h>
#include <string.h>

/* The open file fd names: MICA_EBADH no such descriptor, MICA_ENOENT its file was removed. */
static int file_of(uint64_t fd, struct fs_file **f)
{
	if (!(*f = fds_get(fd)))
		return MICA_EBADH;
	return store_removed(*f) ? MICA_ENOENT : MICA_OK;
}

static int op_open(void *ctx, uint64_t badge, const char *name, uint64_t *fd, uint64_t *size)
{
	struct fs_file *f;
	uint32_t flags;

	(void)ctx;
	clients_poll(); /* ended clients' descriptors and grants go first */
	/* The name: valid, and a file's. */
	if (!store_name_ok(name))
		return MICA_EINVAL;
	if (!(f = store_find(name)))
		return MICA_ENOENT;
	store_stat(f, size, &flags);
	/* The caller (its pid: the badge of its fs handle) is a client: its end closes the fd. */
	int rc = badge ? clients_add(badge) : MICA_OK; /* 0: a handle not from the names */

	return rc ? rc : fds_open(f, badge, fd);
}

static int op_close(void *ctx, uint64_t badge, uint64_t fd)
{
	(void)ctx, (void)badge;
	int rc = fds_close(fd);

	pages_trim(); /* a removed file's last close: its record back to the pager */
	return rc;
}

static int op_read(void *ctx, uint64_t badge, uint64_t fd, uint64_t offset, uint32_t len,
                   uint8_t *data, uint32_t *data_len)
{
	struct fs_file *f;
	int rc = file_of(fd, &f);

	(void)ctx, (void)badge;
	/* A mapped file: what mappers wrote and did not hand back comes in first. */
	if (rc || (len <= FS_IO_MAX && (rc = objects_pull(f, offset, len)) < 0))
		return rc;
	return store_read(f, offset, data, len, data_len);
}

static int op_write(void *ctx, uint64_t badge, uint64_t fd, uint64_t offset, const uint8_t *data,
                    uint32_t data_len, uint64_t *size)
{
	struct fs_file *f;
	uint32_t flags;
	int rc = file_of(fd, &f);

	(void)ctx, (void)badge;
	if (rc)
		return rc;
	/* A write that grows the file grows its memory object first (back if it fails). */
	uint64_t old;

	store_stat(f, &old, &flags);
	bool grows = offset <= old && data_len <= FS_IO_MAX && data_len <= UINT64_MAX - offset &&
	             offset + data_len > old;

	if (grows && (rc = objects_resize(f, offset + data_len)) < 0)
		return rc;
	if ((rc = store_write(f, offset, data, data_len)) < 0) {
		if (grows)
			(void)objects_resize(f, old);
		return rc;
	}
	/*
	 * Then the pager's cache of the file's object: mappings see the bytes at
	 * once (no fault of ours can come between: this thread serves page_in).
	 */
	(void)objects_write(f, offset, data, data_len);
	store_stat(f, size, &flags);
	return MICA_OK;
}

static int op_create(void *ctx, uint64_t badge, const char *name)
{
	(void)ctx, (void)badge;
	clients_poll(); /* ended clients' descriptors and grants go first */
	return store_create(name);
}

static int op_remove(void *ctx, uint64_t badge, const char *name)
{
	(void)ctx, (void)badge;
	/* The name: valid (a bad one is never a file's). */
	if (!store_name_ok(name))
		return MICA_EINVAL;
	struct fs_file *f = store_find(name);
	uint64_t size;
	uint32_t flags;

	/* A file's memory object goes with it (a boot module has none). */
	if (f && (store_stat(f, &size, &flags), !(flags & FS_READONLY)))
		objects_drop(f);
	int rc = store_remove(name);

	pages_trim(); /* the page list's memory back to the pager, too */
	return rc;
}

static int op_size(void *ctx, uint64_t badge, uint64_t fd, uint64_t *size)
{
	struct fs_file *f;
	uint32_t flags;
	int rc = file_of(fd, &f);

	(void)ctx, (void)badge;
	if (rc)
		return rc;
	store_stat(f, size, &flags);
	return MICA_OK;
}

static int op_truncate(void *ctx, uint64_t badge, uint64_t fd, uint64_t size)
{
	struct fs_file *f;
	int rc = file_of(fd, &f);

	uint64_t old;
	uint32_t flags;

	(void)ctx, (void)badge;
	if (rc)
		return rc;
	/* The memory object first (a shrink cuts the mappings first), back if need be. */
	store_stat(f, &old, &flags);
	if (!(flags & FS_READONLY) && (rc = objects_resize(f, size)) < 0)
		return rc;
	if ((rc = store_truncate(f, size)) < 0) {
		if (!(flags & FS_READONLY))
			(void)objects_resize(f, old);
		return rc;
	}
	pages_trim();
	return MICA_OK;
}

static int op_map_object(void *ctx, uint64_t badge, uint64_t fd, uint64_t pid, uint64_t *object,
                         uint64_t *size)
{
	struct fs_file *f;
	uint32_t flags;
	int rc;

	(void)ctx, (void)badge;
	/* Before the descriptor is looked at: the sweep may close it (its owner ended). */
	clients_poll();
	if ((rc = file_of(fd, &f)) || (rc = objects_map(f, pid, object)) < 0)
		return rc;
	store_stat(f, size, &flags);
	return MICA_OK;
}

static int op_list(void *ctx, uint64_t badge, const char *after, uint32_t *count, uint8_t *lines,
                   uint32_t *lines_len)
{
	(void)ctx, (void)badge;
	store_list(after, (char *)lines, FS_LIST_LINES_MAX, lines_len, count);
	return MICA_OK;
}

static int op_stat(void *ctx, uint64_t badge, const char *name, uint64_t *size, uint32_t *flags)
{
	struct fs_file *f;

	(void)ctx, (void)badge;
	/* The name: valid, and a file's. */
	if (!store_name_ok(name))
		return MICA_EINVAL;
	if (!(f = store_find(name)))
		return MICA_ENOENT;
	store_stat(f, size, flags);
	return MICA_OK;
}

static int op_usage(void *ctx, uint64_t badge, struct fs_usage *now)
{
	struct fs_counts c;

	(void)ctx, (void)badge;
	clients_poll(); /* ended clients' descriptors and grants go first */
	store_counts(&c);
	now->files = c.files;
	now->pages = c.pages;
	now->fds = fds_count();
	now->bytes = c.bytes;
	return MICA_OK;
}

const struct fs_ops fs_handlers = {
    .open = op_open,
    .close = op_close,
    .read = op_read,
    .write = op_write,
    .create = op_create,
    .remove = op_remove,
    .size = op_size,
    .truncate = op_truncate,
    .list = op_list,
    .stat = op_stat,
    .usage = op_usage,
    .map_object = op_map_object,
};
