/*
 * Error codes returned by the kernel's system calls and by servers (an IDL
 * reply carries one: include/mica/idl.h). 0 is success; every error is
 * negative.
 * The X-macro keeps each code, its name and its one-line meaning together.
 */
#ifndef MICA_ERROR_H
#define MICA_ERROR_H

#define MICA_ERRORS(X)                                                                             \
	X(MICA_OK, 0, "success")                                                                   \
	X(MICA_EINVAL, -1, "invalid argument (bad flags, zero count, bad value)")                  \
	X(MICA_EALIGN, -2, "address or size not aligned to the page size")                         \
	X(MICA_ERANGE, -3, "address not canonical, in the wrong half, or the range overflows")     \
	X(MICA_EEXIST, -4, "something is already mapped or allocated there")                       \
	X(MICA_ENOENT, -5, "nothing is mapped or allocated there")                                 \
	X(MICA_ENOMEM, -6, "out of memory (frames or table space)")                                \
	X(MICA_EPERM, -7, "not permitted: writable with executable, or a priority too high")       \
	X(MICA_EBUSY, -8, "part of a larger mapping or object, or already taken")                  \
	X(MICA_EBADH, -9, "no such handle: never given, closed, or naming another object type")    \
	X(MICA_ERIGHTS, -10, "the handle lacks a right the call needs")                            \
	X(MICA_ENOEXEC, -11, "not a valid executable for Mica (ELF64 x86_64, W^X segments)")       \
	X(MICA_ENOSYS, -12, "no such system call")                                                 \
	X(MICA_EFAULT, -13, "a user buffer is not mapped in the user half with the needed rights") \
	X(MICA_EAGAIN, -14, "no partner is ready (non-blocking IPC)")                              \
	X(MICA_EPEER, -15, "the other side is gone (endpoint closed or partner thread died)")      \
	X(MICA_EFRAME, -16,                                                                        \
	  "a physical frame outside the user pool (kernel, tables, MMIO, no RAM)")                 \
	X(MICA_EBADMSG, -17, "malformed IDL message (length, bounds, values or handle)")           \
	X(MICA_ENOMETHOD, -18, "the server does not serve this label (no such method)")            \
	X(MICA_ELIMIT, -19, "a per-process limit (memory pages, descendants) would be exceeded")   \
	X(MICA_ETIMEDOUT, -20, "the timeout passed before the call could complete")

enum mica_error {
#define MICA_ERROR_ENUM(name, value, text) name = value,
	MICA_ERRORS(MICA_ERROR_ENUM)
#undef MICA_ERROR_ENUM
};

#endif /* MICA_ERROR_H */
