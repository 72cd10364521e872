/*
 * Label sets as the rule code uses them: struct np_labels kept sorted by
 * name, each name and value owned (xstrdup'ed) by the set.  One copy of
 * these helpers serves the evaluator, the alert states, the history and
 * the rule engine.
 */
#ifndef RULES_LABELS_H
#define RULES_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/netprobed.h"

/* Free every name and value; the set is left empty and reusable. */
void		 rl_labels_free(struct np_labels *);
/* dst = a sorted deep copy of src (src need not be sorted). */
void		 rl_labels_copy(struct np_labels *dst, const struct np_labels *);
/* The value of name, or NULL. */
const char	*rl_labels_get(const struct np_labels *, const char *name);
void		 rl_labels_del(struct np_labels *, const char *name);
/* Set name=value in order; a NULL or empty value deletes the label, as
 * Prometheus' labels.Builder does. */
void		 rl_labels_set(struct np_labels *, const char *name,
		    const char *value);
/* Order of two sorted sets: names then values, pair by pair. */
int		 rl_labels_cmp(const struct np_labels *,
		    const struct np_labels *);
/* FNV-1a over names and values, unambiguous (NUL separated). */
uint64_t	 rl_labels_hash(const struct np_labels *);
/* {a="b", c="d"} like Prometheus' labels.String() (values quoted as Go
 * does), truncated to fit len. */
void		 rl_labels_string(const struct np_labels *, char *buf,
		    size_t len);

#endif /* RULES_LABELS_H */
