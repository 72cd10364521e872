/*
 * Checking libyaml documents (see yamldoc.h): one copy of the node
 * helpers and the key walker for every loader.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/yamldoc.h"

void
yd_error(struct yamldoc *yd, const yaml_node_t *n, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	cfg_error_at(yd->errs, yd->file, n ? n->start_mark.line : 0,
	    n ? n->start_mark.column : 0, fmt, ap);
	va_end(ap);
}

const char *
yd_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return ("a scalar");
	case YAML_SEQUENCE_NODE:
		return ("a sequence");
	case YAML_MAPPING_NODE:
		return ("a mapping");
	default:
		return ("nothing");
	}
}

yaml_node_t *
yd_node(struct yamldoc *yd, int id)
{
	return (yaml_document_get_node(yd->doc, id));
}

int
yd_is_null(const yaml_node_t *n)
{
	const char	*v = (const char *)n->data.scalar.value;

	return (n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (*v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0));
}

const char *
yd_scalar(struct yamldoc *yd, yaml_node_t *n, const char *key,
    const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		yd_error(yd, n, "'%s' expects %s, got %s", key, what,
		    yd_kind(n));
		return (NULL);
	}
	if (yd_is_null(n)) {
		yd_error(yd, n, "'%s' expects %s, got no value", key, what);
		return (NULL);
	}
	if (strlen((const char *)n->data.scalar.value) !=
	    n->data.scalar.length) {
		yd_error(yd, n, "'%s' contains a NUL byte", key);
		return (NULL);
	}
	return ((const char *)n->data.scalar.value);
}

int
yd_mapping_expect(struct yamldoc *yd, yaml_node_t *n, const char *what)
{
	if (n->type == YAML_MAPPING_NODE)
		return (0);
	yd_error(yd, n, "%s must be a mapping, got %s", what, yd_kind(n));
	return (-1);
}

void
yd_mapping_walk(struct yamldoc *yd, yaml_node_t *map,
    const char *const *known, size_t nknown,
    int (*extra)(const char *, void *), yd_key_fn fn, void *arg,
    const char *where, const char *extra_names)
{
	yaml_node_pair_t	*p, *q;
	yaml_node_t		*k, *k2;
	const char		*key;
	char			 list[256];
	size_t			 i, off;

	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = yd_node(yd, p->key);
		if (k->type != YAML_SCALAR_NODE) {
			yd_error(yd, k, "keys must be scalars, got %s",
			    yd_kind(k));
			continue;
		}
		key = (const char *)k->data.scalar.value;
		for (q = map->data.mapping.pairs.start; q < p; q++) {
			k2 = yd_node(yd, q->key);
			if (k2->type == YAML_SCALAR_NODE && strcmp(key,
			    (const char *)k2->data.scalar.value) == 0)
				break;
		}
		if (q < p) {
			yd_error(yd, k, "duplicate key '%s' (first at line "
			    "%zu)", key, yd_node(yd, q->key)->start_mark.line +
			    1);
			continue;
		}
		for (i = 0; i < nknown; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == nknown && (extra == NULL || !extra(key, arg))) {
			list[0] = '\0';
			for (i = 0, off = 0; i < nknown && off < sizeof(list);
			    i++)
				off += (size_t)snprintf(list + off,
				    sizeof(list) - off, "%s%s", i ? ", " : "",
				    known[i]);
			yd_error(yd, k, "unknown key '%s' in %s (known: %s%s)",
			    key, where, list, extra_names ? extra_names : "");
			continue;
		}
		if (fn != NULL)
			fn(yd, key, yd_node(yd, p->value), k, arg);
	}
}

yaml_node_t *
yd_mapping_value(struct yamldoc *yd, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k;

	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = yd_node(yd, p->key);
		if (k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return (yd_node(yd, p->value));
	}
	return (map);
}

void
cfg_yaml_syntax_error(struct cfg_errors *errs, const char *name,
    const struct yaml_parser_s *parser)
{
	char	ctx[160] = "";

	if (parser->context != NULL)
		snprintf(ctx, sizeof(ctx), " %s", parser->context);
	if (parser->context != NULL &&
	    (parser->context_mark.line != parser->problem_mark.line ||
	    parser->context_mark.column != parser->problem_mark.column))
		snprintf(ctx, sizeof(ctx), " %s (started at line %zu, column "
		    "%zu)", parser->context, parser->context_mark.line + 1,
		    parser->context_mark.column + 1);
	cfg_error_raw(errs, name, parser->problem_mark.line,
	    parser->problem_mark.column, "YAML syntax error: %s%s",
	    parser->problem ? parser->problem : "unknown", ctx);
}

int
yd_load(struct yamldoc *yd, const char *text, size_t len,
    void (*parse)(struct yamldoc *, yaml_node_t *))
{
	yaml_parser_t	 parser;
	yaml_document_t	 doc, extra;
	yaml_node_t	*root;
	int		 empty = 0;

	if (!yaml_parser_initialize(&parser))
		fatalx("yaml_parser_initialize failed");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		cfg_yaml_syntax_error(yd->errs, yd->file, &parser);
		yaml_parser_delete(&parser);
		return (0);
	}
	yd->doc = &doc;
	if ((root = yaml_document_get_root_node(&doc)) == NULL)
		empty = 1;
	else
		parse(yd, root);
	yd->doc = NULL;
	/* a second document is almost always a pasting mistake */
	if (yaml_parser_load(&parser, &extra)) {
		if (yaml_document_get_root_node(&extra) != NULL)
			cfg_error_raw(yd->errs, yd->file,
			    extra.start_mark.line, extra.start_mark.column,
			    "only one YAML document is allowed");
		yaml_document_delete(&extra);
	} else
		cfg_yaml_syntax_error(yd->errs, yd->file, &parser);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return (empty);
}

int
yd_duration(struct yamldoc *yd, yaml_node_t *n, const char *key,
    uint64_t min, uint64_t max, uint64_t *out)
{
	const char	*s, *why;
	char		 lo[32], hi[32];
	uint64_t	 ms;

	if ((s = yd_scalar(yd, n, key, "a duration like 10s or 500ms")) == NULL)
		return (-1);
	if (parse_duration_ms(s, &ms, &why) == -1) {
		yd_error(yd, n, "'%s' expects a duration like 10s or 500ms, "
		    "got \"%s\" (%s)", key, s, why);
		return (-1);
	}
	if (ms < min || ms > max) {
		format_duration_ms(min, lo, sizeof(lo));
		format_duration_ms(max, hi, sizeof(hi));
		yd_error(yd, n, "'%s' must be between %s and %s, got %s", key,
		    lo, hi, s);
		return (-1);
	}
	*out = ms;
	return (0);
}

int
yd_uint(struct yamldoc *yd, yaml_node_t *n, const char *key,
    uint64_t min, uint64_t max, uint64_t *out)
{
	const char		*s;
	char			*end;
	unsigned long long	 v;

	if ((s = yd_scalar(yd, n, key, "a whole number")) == NULL)
		return (-1);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0) {
		yd_error(yd, n, "'%s' expects a whole number, got \"%s\"", key,
		    s);
		return (-1);
	}
	if (v < min || v > max) {
		yd_error(yd, n, "'%s' must be between %llu and %llu, got %s",
		    key, (unsigned long long)min, (unsigned long long)max, s);
		return (-1);
	}
	*out = v;
	return (0);
}

int
yd_bool(struct yamldoc *yd, yaml_node_t *n, const char *key, int *out)
{
	const char	*s;

	if ((s = yd_scalar(yd, n, key, "true or false")) == NULL)
		return (-1);
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
		*out = 1;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
		*out = 0;
	else {
		yd_error(yd, n, "'%s' expects true or false, got \"%s\"", key,
		    s);
		return (-1);
	}
	return (0);
}

char *
yd_path(struct yamldoc *yd, yaml_node_t *n, const char *key)
{
	const char	*s;

	if ((s = yd_scalar(yd, n, key, "a file name")) == NULL)
		return (NULL);
	if (*s == '\0') {
		yd_error(yd, n, "'%s': empty file name", key);
		return (NULL);
	}
	return (cfg_relative_path(yd->file, s));
}
