/*
 * Exit watches (pager.exit_watch): any process may name a notification
 * that the pager signals whenever a process ends, so a server learns that
 * some client may have ended and asks pager.running about the ones it
 * serves (the file server closes their descriptors). One watch a process,
 * in a tree by pid; a signal never blocks, so no watcher can hold the
 * pager up, and a watch goes with its process.
 */
#include "pager.h"

struct watch {
	struct idnode node; /* key: the watcher's pid */
	mica_handle_t hint; /* ours: SIGNAL */
};

static struct idtree watches;
static struct slab_cache watches_cache = {.size = sizeof(struct watch)};

/*
 * pager.exit_watch of s: hint (now ours) becomes its watch, replacing one
 * it had. MICA_EINVAL (hint closed) not a notification we can signal,
 * MICA_ENOMEM no record.
 */
int watch_set(struct space *s, mica_handle_t hint)
{
	struct idnode *n = idtree_find(&watches, s->pid);
	struct watch *w = n ? (struct watch *)(uintptr_t)n : 0;

	/* A notification with the signal right: signalled once now, as the call says. */
	if (mica_notify_signal(hint, 1) < 0) {
		ipc_handle_drop(hint);
		return MICA_EINVAL;
	}
	if (!w) {
		if (!(w = slab_alloc(&watches_cache))) {
			ipc_handle_drop(hint);
			return MICA_ENOMEM;
		}
		w->node.key = s->pid;
		w->hint = MICA_HANDLE_NONE;
		(void)idtree_insert(&watches, &w->node);
	}
	ipc_handle_drop(w->hint);
	w->hint = hint;
	return 0;
}

/* Process s has ended: its own watch goes, and every other watch is signalled. */
void watch_ended(struct space *s)
{
	struct idnode *n = idtree_remove(&watches, s->pid);

	if (n) {
		ipc_handle_drop(((struct watch *)(uintptr_t)n)->hint);
		slab_free(&watches_cache, n);
	}
	for (n = idtree_next(&watches, 0); n; n = idtree_next(&watches, n->key))
		(void)mica_notify_signal(((struct watch *)(uintptr_t)n)->hint, 1);
}
