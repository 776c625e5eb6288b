/* What the program was started with (runtime/crt0.c; the layout is include/mica/pager.h). */
#ifndef RUNTIME_STARTUP_H
#define RUNTIME_STARTUP_H

#include <mica/pager.h>

/* The startup info the pager gave this program, or NULL if it gave none. */
const struct mica_startup *rt_startup_info(void);

/*
 * The name service's endpoint (idl/names.idl: send only, badged with this
 * process's pid), or MICA_HANDLE_NONE if the pager gave none (init itself,
 * or no init has set one).
 */
mica_handle_t rt_names_handle(void);

#endif /* RUNTIME_STARTUP_H */
