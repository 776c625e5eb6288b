/*
 * The name service's endpoint: init hands it over (pager.set_names); every
 * process spawned afterwards gets a send-only copy badged with its pid, and
 * init is hinted whenever a process ends (it reaps its children and drops
 * the names of the dead): its exit-hint notification is signalled
 * (pager.set_exit_hint), or without one names.exited is try-sent.
 */
#include <idl/names_types.h>

#include "pager.h"

static mica_handle_t names_ep = MICA_HANDLE_NONE; /* ours: SEND and COPY, no badge */
static struct space *names_owner;                 /* who set it (init) */
static mica_handle_t hint_ntf = MICA_HANDLE_NONE; /* init's exit hint (SIGNAL), or none */
static struct space *hint_owner;                  /* who set it (init) */

/* pager.set_exit_hint of s: only init (MICA_EPERM, hint closed, for anyone else). */
int names_set_hint(struct space *s, mica_handle_t hint)
{
	if (!process_is_init(s)) {
		ipc_handle_drop(hint);
		return MICA_EPERM;
	}
	ipc_handle_drop(hint_ntf);
	hint_ntf = hint;
	hint_owner = s;
	return 0;
}

/*
 * The set_names call of s: only init, the process the pager started from
 * init= (process_is_init: by its pid, while it lives), may make ep the
 * name service (MICA_EPERM, ep closed, for anyone else: an orphan has no
 * parent either, but is not init). A previous one is dropped. Returns 0
 * or MICA_EPERM.
 */
int names_set(struct space *s, mica_handle_t ep)
{
	/* Init, and nobody else. */
	if (!process_is_init(s)) {
		ipc_handle_drop(ep);
		return MICA_EPERM;
	}
	ipc_handle_drop(names_ep);
	names_ep = ep;
	names_owner = s;
	return 0;
}

/*
 * The names handle for child s, in s's own table: a copy of the service's
 * endpoint, SEND only, badged with s's pid. MICA_HANDLE_NONE if no service
 * is set or a step fails (the child then runs without one).
 */
mica_handle_t names_give(struct space *s)
{
	int64_t r;

	if (names_ep == MICA_HANDLE_NONE || names_owner == 0 || names_owner->state != SPACE_LIVE)
		return MICA_HANDLE_NONE;
	if ((r = mica_handle_mint(names_ep, MICA_RIGHT_SEND | MICA_RIGHT_COPY, s->pid)) < 0)
		return MICA_HANDLE_NONE;
	mica_handle_t minted = (mica_handle_t)r;

	r = mica_handle_give(s->as, minted, MICA_RIGHT_SEND);
	(void)mica_handle_close(minted);
	return r < 0 ? MICA_HANDLE_NONE : (mica_handle_t)r;
}

/*
 * Process s has ended. If it set the exit hint, the hint is gone; else the
 * hint is signalled. If it set the name service, the service is gone
 * (no later process gets it). Without a hint, send the service a names.exited hint,
 * for any process (init waits for its children and drops the names of
 * every process that ended); a try-send, so the pager never blocks: if
 * init is not waiting in its receive, it is running and will ask
 * pager.wait and pager.running itself (servers/init/README.md).
 */
void names_ended(struct space *s)
{
	struct mica_msg m = {.label = NAMES_LABEL_EXITED};

	if (s == hint_owner) {
		ipc_handle_drop(hint_ntf);
		hint_ntf = MICA_HANDLE_NONE;
		hint_owner = 0;
	} else if (hint_ntf != MICA_HANDLE_NONE) {
		/* Any end: init reaps its children and drops the names of the dead. */
		(void)mica_notify_signal(hint_ntf, 1); /* never blocks, never lost */
		return;
	}
	if (s == names_owner) {
		ipc_handle_drop(names_ep);
		names_ep = MICA_HANDLE_NONE;
		names_owner = 0;
		return;
	}
	if (names_ep == MICA_HANDLE_NONE || names_owner == 0 || names_owner->state != SPACE_LIVE)
		return;
	(void)mica_try_send(names_ep, &m, 0);
}
