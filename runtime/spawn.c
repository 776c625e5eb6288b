/*
 * Programs from files (spawn.h): a file of the file server run as a child
 * through its memory object (fs.map_object, then pager.spawn_object). The
 * fs handle is looked up once and again if fs has gone (a restarted fs
 * registers a new endpoint).
 */
#include <idl/fs_client.h>
#include <idl/names_client.h>
#include <idl/pager_client.h>
#include <libipc/syscall.h>
#include <mica/error.h>
#include <spawn.h>
#include <startup.h>
#include <string.h>

#define SPAWN_TRIES 8 /* pager.spawn_object's "try again" answers taken before giving up */

static mica_handle_t fs = MICA_HANDLE_NONE;

/* The file server's handle: looked up (again, with fresh) from the name service. */
static int fs_get(bool fresh, mica_handle_t *out)
{
	int rc;

	if (fresh && fs != MICA_HANDLE_NONE) {
		mica_handle_close(fs);
		fs = MICA_HANDLE_NONE;
	}
	if (fs == MICA_HANDLE_NONE && (rc = names_lookup(rt_names_handle(), "fs", &fs)) < 0) {
		fs = MICA_HANDLE_NONE;
		return rc;
	}
	*out = fs;
	return 0;
}

/* Open path and get its object granted to pid: fs's error, or 0 with *object. */
static int file_object(mica_handle_t f, const char *path, uint64_t pid, uint64_t *object)
{
	uint64_t fd, size;
	int rc = fs_open(f, path, &fd, &size);

	if (rc < 0)
		return rc;
	rc = fs_map_object(f, fd, pid, object, &size);
	fs_close(f, fd); /* the object lives as long as the file, not the descriptor */
	return rc;
}

int spawn_file_with(const char *path, const char *args, uint64_t mem_pages, uint64_t procs,
                    uint64_t *pid)
{
	const struct mica_startup *st = rt_startup_info();
	struct pager_limits lim = {.mem_pages = mem_pages, .procs = procs};
	char name[PAGER_SPAWN_OBJECT_NAME_MAX + 1];
	const char *base = strrchr(path, '/');
	uint64_t object = 0;
	mica_handle_t f;
	size_t len;
	int rc;

	if (!st)
		return MICA_EINVAL;
	/* The child's name: the path's last part, its last 47 bytes. */
	base = base && base[1] ? base + 1 : path;
	len = strlen(base);
	if (len > PAGER_SPAWN_OBJECT_NAME_MAX)
		base += len - PAGER_SPAWN_OBJECT_NAME_MAX;
	strncpy(name, base, sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	if ((rc = fs_get(false, &f)) < 0)
		return rc;
	rc = file_object(f, path, st->pid, &object);
	if (rc == MICA_EPEER && fs_get(true, &f) == 0) /* fs ended since the lookup: once more */
		rc = file_object(f, path, st->pid, &object);
	if (rc < 0)
		return rc;
	for (int i = 0; i < SPAWN_TRIES; i++) {
		rc = pager_spawn_object(st->pager, object, name, args ? args : "", &lim, pid);
		if (rc != MICA_EAGAIN && rc != MICA_EBUSY)
			break;
		mica_yield();
	}
	return rc;
}

int spawn_file(const char *path, const char *args, uint64_t *pid)
{
	return spawn_file_with(path, args, 0, 0, pid);
}
