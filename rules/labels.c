/*
 * Label sets of the rule code (see labels.h).  Sets are small (a handful
 * of labels), so linear scans and insertion keep them sorted cheaply.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/labels.h"

static int
namecmp(const void *a, const void *b)
{
	return (strcmp(((const struct np_label *)a)->name,
	    ((const struct np_label *)b)->name));
}

void
rl_labels_free(struct np_labels *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
rl_labels_copy(struct np_labels *dst, const struct np_labels *src)
{
	size_t	i;

	dst->n = src->n;
	dst->v = src->n ? xreallocarray(NULL, src->n, sizeof(*dst->v)) : NULL;
	for (i = 0; i < src->n; i++) {
		dst->v[i].name = xstrdup(src->v[i].name);
		dst->v[i].value = xstrdup(src->v[i].value);
	}
	if (dst->n > 1)
		qsort(dst->v, dst->n, sizeof(*dst->v), namecmp);
}

const char *
rl_labels_get(const struct np_labels *l, const char *name)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return (l->v[i].value);
	return (NULL);
}

void
rl_labels_del(struct np_labels *l, const char *name)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0) {
			free(l->v[i].name);
			free(l->v[i].value);
			memmove(&l->v[i], &l->v[i + 1],
			    (l->n - i - 1) * sizeof(*l->v));
			l->n--;
			return;
		}
}

void
rl_labels_set(struct np_labels *l, const char *name, const char *value)
{
	size_t	i;

	rl_labels_del(l, name);
	if (value == NULL || *value == '\0')
		return;
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	for (i = l->n; i > 0 && strcmp(l->v[i - 1].name, name) > 0; i--)
		l->v[i] = l->v[i - 1];
	l->v[i].name = xstrdup(name);
	l->v[i].value = xstrdup(value);
	l->n++;
}

int
rl_labels_cmp(const struct np_labels *a, const struct np_labels *b)
{
	size_t	i;
	int	r;

	for (i = 0; i < a->n && i < b->n; i++) {
		if ((r = strcmp(a->v[i].name, b->v[i].name)) != 0)
			return (r);
		if ((r = strcmp(a->v[i].value, b->v[i].value)) != 0)
			return (r);
	}
	return (a->n < b->n ? -1 : a->n > b->n);
}

static uint64_t
fnv(uint64_t h, const char *s)
{
	do
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	while (*s++ != '\0');
	return (h);
}

uint64_t
rl_labels_hash(const struct np_labels *l)
{
	uint64_t	h = 14695981039346656037ULL;
	size_t		i;

	for (i = 0; i < l->n; i++)
		h = fnv(fnv(h, l->v[i].name), l->v[i].value);
	return (h);
}

/* Append to buf at *o (truncating at len), as snprintf would. */
static void
put(char *buf, size_t len, size_t *o, const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++, (*o)++)
		if (*o + 1 < len)
			buf[*o] = s[i];
	if (len > 0)
		buf[*o + 1 < len ? *o : len - 1] = '\0';
}

/* A value quoted as Go's strconv.Quote does for printable UTF-8. */
static void
put_quoted(char *buf, size_t len, size_t *o, const char *v)
{
	char	esc[8];

	put(buf, len, o, "\"", 1);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			snprintf(esc, sizeof(esc), "\\%c", *v);
		else if (*v == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (*v == '\t')
			snprintf(esc, sizeof(esc), "\\t");
		else if ((unsigned char)*v < 0x20 || *v == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x",
			    (unsigned char)*v);
		else {
			put(buf, len, o, v, 1);
			continue;
		}
		put(buf, len, o, esc, strlen(esc));
	}
	put(buf, len, o, "\"", 1);
}

void
rl_labels_string(const struct np_labels *l, char *buf, size_t len)
{
	size_t	i, o = 0;

	put(buf, len, &o, "{", 1);
	for (i = 0; i < l->n; i++) {
		if (i > 0)
			put(buf, len, &o, ", ", 2);
		put(buf, len, &o, l->v[i].name, strlen(l->v[i].name));
		put(buf, len, &o, "=", 1);
		put_quoted(buf, len, &o, l->v[i].value);
	}
	put(buf, len, &o, "}", 1);
}
