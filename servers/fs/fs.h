/*
 * The file server's private interfaces (servers/fs/README.md): the store
 * (store.c, names and files), the descriptors (fds.c), the page source
 * (pages.c, the pager; a fake in the host tests) and the boot modules
 * (modules.c). The store knows nothing of IPC, so that another front end
 * (a memory-object server) can serve the same pages.
 */
#ifndef FS_FS_H
#define FS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mica/handle.h>

#define FS_PAGE     4096u
#define FS_NAME_MAX 127u  /* bytes in a name, the NUL not counted (idl/fs.idl) */
#define FS_IO_MAX   4096u /* bytes one read or write moves */
#define FS_LIST_MAX 4000u /* bytes of lines one list returns */
#define FS_READONLY 1u    /* stat's flag: a boot module */

struct fs_file;

/* What the store holds (fs.usage). */
struct fs_counts {
	uint64_t files, pages, fds, bytes;
};

/*
 * How a read-only file's bytes are read: len bytes of module `name` from
 * `offset` (within its size) into buf; 0 or a negative MICA_E* error.
 */
typedef int (*fs_source_fn)(const char *name, uint64_t offset, void *buf, uint32_t len);

/* ---- store.c: names (a balanced tree) and files (a page list each) ---- */

/* Where read-only files' bytes come from; call once before adding any. */
void store_init(fs_source_fn source);
/* Whether name is a valid file name (1-FS_NAME_MAX printable, no space). */
bool store_name_ok(const char *name);
/* A new empty file: MICA_EINVAL bad name, MICA_EEXIST taken, MICA_ENOMEM. */
int store_create(const char *name);
/* A read-only file of `size` bytes read through the source (a boot module). */
int store_add_readonly(const char *name, uint64_t size);
/* The file named name, or NULL. */
struct fs_file *store_find(const char *name);
/*
 * Unlinks name and frees its pages now; the file itself lives on, removed,
 * while descriptors hold it. MICA_ENOENT, MICA_EPERM (read-only).
 */
int store_remove(const char *name);
/* Size and FS_* flags of a file. */
void store_stat(const struct fs_file *f, uint64_t *size, uint32_t *flags);
/* Whether f was removed (its descriptors then get MICA_ENOENT). */
bool store_removed(const struct fs_file *f);
/* Descriptors count their file: hold when opened, release when closed (frees a removed one). */
void store_hold(struct fs_file *f);
void store_release(struct fs_file *f);
/* Up to len bytes from offset into buf; *got how many. MICA_ERANGE past the end. */
int store_read(struct fs_file *f, uint64_t offset, void *buf, uint32_t len, uint32_t *got);
/* len bytes at offset (<= size), growing the file; all or nothing. */
int store_write(struct fs_file *f, uint64_t offset, const void *buf, uint32_t len);
/* Sets the size: MICA_EPERM read-only, MICA_ENOMEM no room for the page list. */
int store_truncate(struct fs_file *f, uint64_t size);
/*
 * Lines "<name> <size>\n" of the files after `after`, whole lines up to cap
 * bytes; *len bytes, *count lines.
 */
void store_list(const char *after, char *out, uint32_t cap, uint32_t *len, uint32_t *count);
/*
 * Page `index` of f for a front end that maps pages (a memory object): the
 * page, NULL for a hole (zeros) or past the end. Read-only files have none.
 */
void *store_page(const struct fs_file *f, uint64_t index);
/*
 * Stores page `index` of f from src (a memory object's page written back):
 * the bytes up to the file's end, a page allocated for a hole. MICA_EPERM
 * read-only, MICA_ERANGE past the end, MICA_ENOMEM.
 */
int store_page_put(struct fs_file *f, uint64_t index, const void *src);
/*
 * The front end's own pointer for f (objects.c: its memory object), NULL
 * until set: found in O(1) from the file.
 */
void *store_front(const struct fs_file *f);
void store_set_front(struct fs_file *f, void *p);
/* The counts (fds filled in by the caller). */
void store_counts(struct fs_counts *c);
/*
 * Checks the whole store (the tree's order and balance, each page list,
 * the counts): 0, or MICA_EINVAL and *why. For the host tests.
 */
int store_check(const char **why);

/* ---- fds.c: descriptors, a table of slots with generations ---- */

/* A new descriptor for f (held), owned by pid owner: MICA_ENOMEM. */
int fds_open(struct fs_file *f, uint64_t owner, uint64_t *fd);
/* The file fd names, or NULL for a descriptor never given or closed. */
struct fs_file *fds_get(uint64_t fd);
/* Closes fd: MICA_EBADH if it is not open. */
int fds_close(uint64_t fd);
/* Closes every descriptor owner opened (it has ended); how many. O(slots). */
unsigned fds_close_owner(uint64_t owner);
/* Descriptors open. */
uint64_t fds_count(void);

/* ---- pages.c: where file pages come from ---- */

/* The pager the pages come from: call once at start. */
void pages_init(mica_handle_t pager);

/* A zeroed, writable page, or NULL when there is no memory. */
void *page_alloc(void);
/* Gives a page from page_alloc back. */
void page_free(void *page);
/* Gives the heap's free top back to the pager (after a remove, a shrink or a close). */
void pages_trim(void);

/* ---- modules.c: the boot modules, through the pager ---- */

/* Adds each boot module as a read-only file; 0 or the pager's error. */
int modules_load(mica_handle_t pager);
/* The fs_source_fn of the boot modules. */
int modules_read(const char *name, uint64_t offset, void *buf, uint32_t len);

/* ---- objects.c: files as memory objects (docs/MEMORY_SERVERS.md) ---- */

/*
 * The badge of the copy the pager calls memobj through. Clients' copies are
 * badged with their pids by the name service (fs registers an unbadged
 * one: idl/names.idl, lookup), and no pid is this large.
 */
#define FS_BADGE_PAGER (1ULL << 62)

/* Registers fs as a memory server with pager, served on ep: 0 or the pager's error. */
int objects_init(mica_handle_t pager, mica_handle_t ep);
/* f's object (made at the first call) granted to pid: *object (fs.map_object's errors). */
int objects_map(struct fs_file *f, uint64_t pid, uint64_t *object);
/*
 * f's size becomes size: its object (if it has one) follows first. 0, or
 * MICA_ERANGE past MICA_MEMOBJ_MAX_SIZE, or the pager's error.
 */
int objects_resize(struct fs_file *f, uint64_t size);
/*
 * len bytes were written at offset into f's store: its object's pages
 * cached in the pager take them too (every mapping sees them at once;
 * docs/MEMORY_SERVERS.md, "Coherence"). 0 or the pager's error.
 */
int objects_write(struct fs_file *f, uint64_t offset, const void *data, uint32_t len);
/*
 * Before a read of [offset, offset + len) of f: the pages of that range a
 * shared mapping wrote and did not hand back yet come from the pager into
 * the store (MICA_MEMOBJ_WRITEBACK), so the read sees every byte mappers
 * wrote. 0, MICA_ENOMEM (no page for a hole: nothing changed) or the
 * pager's error.
 */
int objects_pull(struct fs_file *f, uint64_t offset, uint32_t len);
/* f is being removed: its object (if any) is destroyed. */
void objects_drop(struct fs_file *f);
/* Process pid has ended: it leaves every object's list of grantees. */
void objects_forget(uint64_t pid);

struct ipc_msg;
/* The endpoint's dispatch (an ipc_dispatch_fn): idl/memobj.idl's requests, else idl/fs.idl's. */
int objects_dispatch(const void *ops, void *ctx, const struct ipc_msg *req, struct ipc_msg *rep);

/* ---- idset.c: sets of ids, sorted arrays (O(log n) lookups, memory the only bound) ---- */

struct idset {
	uint64_t *v; /* sorted, no repeats */
	size_t n, cap;
};

/* Whether id is in s. */
bool idset_has(const struct idset *s, uint64_t id);
/* Adds id (nothing if it is in already): MICA_OK, or MICA_ENOMEM (s unchanged). */
int idset_add(struct idset *s, uint64_t id);
/* Takes id out: whether it was in. */
bool idset_remove(struct idset *s, uint64_t id);
/* Frees s's array: s is empty after. */
void idset_free(struct idset *s);

/* ---- clients.c: the processes fs holds something for, and their ends ---- */

/* Watches for ended processes (pager.exit_watch, a notification): 0 or the error. */
int clients_init(mica_handle_t pager);
/* pid holds (or may hold) descriptors or grants: it is looked at when processes end. */
int clients_add(uint64_t pid);
/* If the exit watch was signalled, clients_sweep (never blocks). */
void clients_poll(void);
/* Processes have ended: what each ended client held goes (descriptors, grants). */
void clients_sweep(void);

/* ---- ops.c: the IPC front end (idl/fs.idl) ---- */

struct fs_ops;
/* The handlers of idl/fs.idl over the store and the descriptors. */
extern const struct fs_ops fs_handlers;

#endif /* FS_FS_H */
