/*
 * A program on the user runtime: arguments, printf and the heap. It needs
 * the pager to start it (with argc and argv) and to serve sbrk, so for now
 * it is only built, to prove that a runtime program links.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	char *copy;

	printf("rthello: %d argument%s\n", argc, argc == 1 ? "" : "s");
	for (int i = 0; i < argc; i++)
		printf("  argv[%d] = \"%s\"\n", i, argv[i]);
	copy = malloc(strlen(argv[0]) + 1);
	if (!copy) {
		puts("rthello: no heap");
		return EXIT_FAILURE;
	}
	strcpy(copy, argv[0]);
	printf("rthello: %zu bytes at %p: %s\n", strlen(copy) + 1, (void *)copy, copy);
	free(copy);
	return EXIT_SUCCESS;
}
