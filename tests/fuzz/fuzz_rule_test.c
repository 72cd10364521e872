/*
 * libFuzzer target: the `promtool test rules` file format
 * (rules/rule_test.h, `netprobed --test-rules`): loading the test file,
 * the series notation, and running its tests.  rule_test_run() only
 * takes paths, so the input is an anonymous memfd seen as
 * /proc/self/fd/N; its report goes to /dev/null.  A rule_files entry is
 * resolved next to it, in /proc/self/fd, or is an absolute path: rule
 * files are read (never written) from there.
 */
#include "config.h"

#include "rules/rule_test.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE	*null;
	char		 path[64], *files[1];
	int		 fd;

	if (null == NULL && (null = fopen("/dev/null", "w")) == NULL)
		abort();
	if ((fd = fuzz_memfile(data, size, path, sizeof(path))) == -1)
		return (0);
	files[0] = path;
	(void)rule_test_run(files, 1, null, null);
	close(fd);
	return (0);
}
