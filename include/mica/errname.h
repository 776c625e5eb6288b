/*
 * The names of Mica's error codes (include/mica/error.h) for what people
 * read: serial lines say "error ENOENT", not "error -5". One function, in
 * lib/errname.c, built into the kernel and into libipc (so every user
 * program: the pager, init, servers, runtime programs, tests).
 */
#ifndef MICA_ERRNAME_H
#define MICA_ERRNAME_H

/*
 * The name of error code err without its MICA_ prefix ("ENOENT" for
 * MICA_ENOENT, "OK" for 0), or "unknown" for a value that is no code of
 * include/mica/error.h. Never NULL; the string is static. Anyone may call it.
 */
const char *mica_error_name(long err);

#endif /* MICA_ERRNAME_H */
