/*
 * replay.c - run a libFuzzer target's entry point over files, without
 * libFuzzer: make check builds every target with the project's compiler
 * and this main(), and feeds it the seed corpus and every saved
 * reproducer in t/fuzz/crashes, so an input that once broke porter is
 * tried again on every change (t/fuzz/run does the fuzzing itself).
 *
 *   replay_NAME FILE...     exit 0 when every input passed; a broken
 *                           invariant aborts, as under the fuzzer
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

/* Read the whole of path into a malloc'd buffer; NULL on error. */
static uint8_t *
replay_slurp(const char *path, size_t *len)
{
	FILE		*f;
	uint8_t		*buf = NULL;
	size_t		 cap = 0, n = 0, r;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	do {
		if (n == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	if (ferror(f)) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	/* exactly n bytes, so ASan sees a read past the input */
	if (buf != NULL) {
		uint8_t *nb;

		if ((nb = realloc(buf, n ? n : 1)) != NULL)
			buf = nb;
	}
	*len = n;
	return buf;
}

int
main(int argc, char **argv)
{
	struct stat	 st;
	uint8_t		*buf;
	size_t		 len;
	int		 i, n = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if ((buf = replay_slurp(argv[i], &len)) == NULL) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		n++;
	}
	printf("%s: %d inputs passed\n", argv[0], n);
	return 0;
}
