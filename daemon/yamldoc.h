/*
 * Checking a libyaml document, shared by every YAML loader (the config,
 * rule files, rule test files): node lookups, scalars with clear errors,
 * and a walker over a mapping's keys that reports unknown and repeated
 * ones.  Every message is "FILE:LINE:COL: message" in the loader's error
 * list; loading goes on after an error so one run reports them all.
 *
 * A loader's context struct starts with a struct yamldoc, so a key
 * callback can get its own context back from the yamldoc pointer.
 */
#ifndef DAEMON_YAMLDOC_H
#define DAEMON_YAMLDOC_H

#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "daemon/netprobed.h"

struct yamldoc {
	const char		*file;
	yaml_document_t		*doc;
	struct cfg_errors	*errs;
};

void		 yd_error(struct yamldoc *, const yaml_node_t *,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "a scalar", "a sequence", "a mapping" */
const char	*yd_kind(const yaml_node_t *);
yaml_node_t	*yd_node(struct yamldoc *, int id);
/* An empty, ~ or null plain scalar. */
int		 yd_is_null(const yaml_node_t *);
/*
 * A scalar's text, or NULL after reporting "'KEY' expects WHAT, got ..."
 * (also for no value, and for text with a NUL byte).
 */
const char	*yd_scalar(struct yamldoc *, yaml_node_t *, const char *key,
		    const char *what);
/*
 * A file name, made relative to the document's own directory (allocated),
 * or NULL after "'KEY' expects a file name" or "'KEY': empty file name".
 */
char		*yd_path(struct yamldoc *, yaml_node_t *, const char *key);
/* 0 if n is a mapping, else -1 after "WHAT must be a mapping, got ...". */
int		 yd_mapping_expect(struct yamldoc *, yaml_node_t *,
		    const char *what);

typedef void (*yd_key_fn)(struct yamldoc *, const char *key,
    yaml_node_t *val, yaml_node_t *keynode, void *arg);
/*
 * Walk a mapping's keys: each must be a scalar, not repeated, and known
 * (in known[], or accepted by extra(key, arg) if given); otherwise the
 * error lists the known keys (plus extra_names, text appended as is).
 * fn (if not NULL) is called for each known key, in order.
 */
void		 yd_mapping_walk(struct yamldoc *, yaml_node_t *map,
		    const char *const *known, size_t nknown,
		    int (*extra)(const char *, void *), yd_key_fn fn, void *arg,
		    const char *where, const char *extra_names);
/* The value node of key in a mapping, or the mapping itself if absent
 * (a position to report a missing key at). */
yaml_node_t	*yd_mapping_value(struct yamldoc *, yaml_node_t *map,
		    const char *key);

/*
 * Typed scalars, each reporting "'KEY' expects ..." or "'KEY' must be
 * between MIN and MAX, got ..." at the node: a duration (10s, 500ms;
 * stored in ms), a whole number, a boolean (true/false, yes/no).
 * 0 and *out set, or -1 after the error.
 */
int		 yd_duration(struct yamldoc *, yaml_node_t *, const char *key,
		    uint64_t min_ms, uint64_t max_ms, uint64_t *out);
int		 yd_uint(struct yamldoc *, yaml_node_t *, const char *key,
		    uint64_t min, uint64_t max, uint64_t *out);
int		 yd_bool(struct yamldoc *, yaml_node_t *, const char *key,
		    int *out);

/*
 * Parse text as one YAML document and hand its root to parse (not
 * called for an empty document).  A syntax error, or a second document
 * after the first, is reported in yd->errs.  yd->file and yd->errs are
 * the caller's; yd->doc is set while parse runs.  Returns 1 if the
 * document was empty, else 0.
 */
int		 yd_load(struct yamldoc *, const char *text, size_t len,
		    void (*parse)(struct yamldoc *, yaml_node_t *root));

#endif /* DAEMON_YAMLDOC_H */
