/*
 * Helpers shared by the libFuzzer targets in tests/fuzz: copying the
 * input to a NUL-terminated string, and handing it to a loader that only
 * takes a path (an anonymous memfd seen through /proc/self/fd, so no
 * file is ever written).
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The input as a C string (the caller frees); embedded NULs stay. */
static inline char *
fuzz_strdup(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return (s);
}

/*
 * The input in an anonymous in-memory file: its fd, with "/proc/self/fd/N"
 * in path; -1 if it cannot be made (the run is skipped).  Close the fd.
 */
static inline int
fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t len)
{
	size_t	off;
	ssize_t	w;
	int	fd;

	if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) == -1)
		return (-1);
	for (off = 0; off < size; off += (size_t)w)
		if ((w = write(fd, data + off, size - off)) <= 0) {
			close(fd);
			return (-1);
		}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return (fd);
}

#endif /* TESTS_FUZZ_FUZZ_H */
