/*
 * Rule files: one Prometheus rule file (groups of alerting and recording
 * rules) loaded from YAML, with expressions parsed and label/annotation
 * templates compiled, plus the small template language they use.
 *
 * Loading follows daemon/config.c: every error is collected as
 * "FILE:LINE:COL: message" and a file with any error is never returned.
 * Expanding globs of rule_files: is the daemon's job, not this module's.
 */
#ifndef RULES_RULE_FILE_H
#define RULES_RULE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/netprobed.h"

struct rl_expr;

/*
 * A compiled template: Go text/template syntax restricted to
 *	{{ $value }}  {{ .Value }}  {{ $labels.NAME }}  {{ .Labels.NAME }}
 *	{{ humanize $value }}  {{ humanizeDuration $value }}
 *	{{ humanizePercentage $value }}  (or "$value | humanize" etc.)
 * with "{{-" and "-}}" trimming whitespace like Go.  Anything else is an
 * error when the file is loaded.
 */
struct rule_template;

/*
 * Compile text.  Returns the template, or NULL with a message in err and
 * the 0-based byte offset of the problem in *err_offset.
 */
struct rule_template *rule_template_compile(const char *text,
		    size_t *err_offset, char *err, size_t errlen);
void		 rule_template_free(struct rule_template *);
/* The source text, as written. */
const char	*rule_template_text(const struct rule_template *);
/*
 * Expand with $labels = labels (may be NULL: no labels) and $value =
 * value.  A label that is absent expands to "", as in Prometheus (its
 * $labels is a map[string]string).  Returns a string the caller frees.
 */
char		*rule_template_expand(const struct rule_template *,
		    const struct np_labels *labels, double value);

/*
 * A name with a templated value: a rule label or an annotation.  On a
 * recording rule, label values are literal (as in Prometheus): their
 * template is the text alone and expands to itself.
 */
struct rule_kv {
	char			*name;
	struct rule_template	*tmpl;
};

/* Kept sorted by name. */
struct rule_kvs {
	struct rule_kv		*v;
	size_t			 n;
};

enum rule_kind { RULE_ALERTING, RULE_RECORDING };

struct rule {
	enum rule_kind		 kind;
	char			*name;		/* alert: or record: */
	char			*expr_text;	/* as written */
	struct rl_expr		*expr;		/* parsed, owned */
	uint64_t		 for_ms;	/* alerting only, 0 default */
	uint64_t		 keep_firing_for_ms; /* alerting only */
	struct rule_kvs		 labels;
	struct rule_kvs		 annotations;	/* alerting only */
	int			 line;		/* of the entry, 1-based */
};

struct rule_group {
	char			*name;		/* unique in the file */
	uint64_t		 interval_ms;	/* 0: the daemon's default */
	uint64_t		 limit;		/* 0: no limit */
	struct rule		*rules;
	size_t			 nrules;
	int			 line;
};

/*
 * A loaded file.  Everything inside is owned by it and freed by
 * rule_file_free(); callers only read it (pointers to groups and rules
 * stay valid until then).
 */
struct rule_file {
	char			*path;
	struct rule_group	*groups;
	size_t			 ngroups;
	/* the longest lookback of any rule's expression, in ms */
	int64_t			 max_lookback_ms;
};

/*
 * Load a rule file (or, for tests, text with a name used in messages).
 * Returns the file, or NULL with every error in *errs (initialised here;
 * the caller frees it with cfg_errors_free()).  An empty file is valid
 * and has no groups.
 */
struct rule_file *rule_file_load(const char *path, struct cfg_errors *);
struct rule_file *rule_file_load_string(const char *name, const char *text,
		    size_t len, struct cfg_errors *);
void		 rule_file_free(struct rule_file *);

/*
 * Prometheus durations: [Ny][Nw][Nd][Nh][Nm][Ns][Nms] in this order,
 * each at most once, or "0".  Returns 0 and stores ms, or -1 with a
 * static reason in *why.
 */
int		 rule_parse_duration(const char *, uint64_t *, const char **why);

#endif /* RULES_RULE_FILE_H */
