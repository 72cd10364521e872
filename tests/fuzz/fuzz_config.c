/*
 * libFuzzer target: the YAML configuration loader (config_load_string,
 * daemon/config.c with the snmp, watchers and sweep sections it hands
 * on).  A config that loads is freed again; so are the error messages.
 *
 * Not pure: rule_files entries are globbed relative to the working
 * directory and snmp secret files are opened (read-only) by the loader.
 */
#include "config.h"

#include "daemon/netprobed.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors	 errs;
	struct np_config	*conf;
	char			*text;

	text = fuzz_strdup(data, size);
	memset(&errs, 0, sizeof(errs));
	if ((conf = config_load_string("fuzz.yaml", text, size,
	    &errs)) != NULL)
		config_free(conf);
	cfg_errors_free(&errs);
	free(text);
	return (0);
}
