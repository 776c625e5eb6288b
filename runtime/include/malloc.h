/* The heap's own controls (runtime/malloc.c), beyond stdlib.h. */
#ifndef RUNTIME_MALLOC_H
#define RUNTIME_MALLOC_H

#include <stdlib.h>

/* Give the free block at the top of the heap back to the pager now, whatever its size. */
void malloc_trim(void);

/* Walk the heap and its free lists: NULL if consistent, else a description of the damage. */
const char *heap_check(void);

#endif /* RUNTIME_MALLOC_H */
