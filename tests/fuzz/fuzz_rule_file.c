/*
 * libFuzzer target: the Prometheus rule-file loader (rules/rule_file.h):
 * YAML, groups, rules, durations, label and annotation templates and the
 * expressions in them.  A loaded file has its templates expanded once.
 */
#include "config.h"

#include "daemon/netprobed.h"
#include "rules/rule_file.h"
#include "tests/fuzz/fuzz.h"

/* Expand every template of the file against a typical alert's labels. */
static void
expand_all(const struct rule_file *rf)
{
	struct np_label		 lv[] = {
		{ (char *)"instance", (char *)"10.1.2.3" },
		{ (char *)"job", (char *)"extranet" },
		{ (char *)"target", (char *)"mcu" },
	};
	const struct np_labels	 l = { lv, sizeof(lv) / sizeof(lv[0]) };
	const struct rule	*r;
	size_t			 g, i, k;

	for (g = 0; g < rf->ngroups; g++)
		for (i = 0; i < rf->groups[g].nrules; i++) {
			r = &rf->groups[g].rules[i];
			for (k = 0; k < r->labels.n; k++)
				free(rule_template_expand(r->labels.v[k].tmpl,
				    &l, 0.25));
			for (k = 0; k < r->annotations.n; k++)
				free(rule_template_expand(
				    r->annotations.v[k].tmpl, &l, 1e6));
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors	 errs;
	struct rule_file	*rf;
	char			*text;

	text = fuzz_strdup(data, size);
	memset(&errs, 0, sizeof(errs));
	if ((rf = rule_file_load_string("fuzz.rules.yml", text, size,
	    &errs)) != NULL) {
		expand_all(rf);
		rule_file_free(rf);
	}
	cfg_errors_free(&errs);
	free(text);
	return (0);
}
