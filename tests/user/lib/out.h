/*
 * Output and results for test and benchmark programs, on the kernel's
 * debug console (until the user runtime brings printf).
 */
#ifndef USER_LIB_OUT_H
#define USER_LIB_OUT_H

/* Write a NUL-terminated string. */
void say(const char *s);
/* Write v in decimal. */
void say_num(long v);
/* Print "TEST <id> PASS", or "TEST <id> FAIL <fail> <detail>" if fail is not NULL. */
void result(const char *id, const char *fail, long detail);
/* The same for an id in a group: "TEST <group>.<id> ..." (group NULL: none). */
void result_in(const char *group, const char *id, const char *fail, long detail);

#endif /* USER_LIB_OUT_H */
