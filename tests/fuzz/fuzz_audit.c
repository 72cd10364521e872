/*
 * libFuzzer target: the audit trail verifier (daemon/audit.h,
 * `netprobed --verify-audit`): every line parsed as a record, the hash
 * chain, sequence numbers and torn-write recovery.  audit_verify() only
 * takes a path, so the input is an anonymous memfd seen as
 * /proc/self/fd/N; its one line of report goes to /dev/null.
 */
#include "config.h"

#include "daemon/audit.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE	*null;
	char		 path[64];
	int		 fd;

	if (null == NULL && (null = fopen("/dev/null", "w")) == NULL)
		abort();
	if ((fd = fuzz_memfile(data, size, path, sizeof(path))) == -1)
		return (0);
	(void)audit_verify(path, null);
	close(fd);
	return (0);
}
