/*
 * Rule files: Prometheus rule-file YAML (libyaml document API) into
 * struct rule_file, and the template subset used by labels and
 * annotations.
 *
 * Conventions are daemon/config.c's: errors are "FILE:LINE:COL: message"
 * from the node's start mark, loading goes on to report them all, and a
 * file with any error is freed, never returned half-loaded.  What is
 * checked follows Prometheus' model/rulefmt (group names unique, exactly
 * one of alert/record, no for/annotations on recording rules, templates
 * parsed at load time).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "daemon/netprobed.h"
#include "daemon/yamldoc.h"
#include "rules/expr.h"
#include "rules/rule_file.h"

/* ---- templates ----------------------------------------------------- */

enum seg_kind {
	SEG_TEXT, SEG_VALUE, SEG_LABEL, SEG_HUMANIZE, SEG_HUMANIZE_DURATION,
	SEG_HUMANIZE_PERCENTAGE
};

struct seg {
	enum seg_kind	 kind;
	char		*s;		/* text, or label name */
};

struct rule_template {
	char		*text;
	struct seg	*segs;
	size_t		 nsegs;
};

static void
seg_add(struct rule_template *t, enum seg_kind kind, const char *s, size_t len)
{
	struct seg	*sg;

	if (kind == SEG_TEXT && len == 0)
		return;
	t->segs = xreallocarray(t->segs, t->nsegs + 1, sizeof(*t->segs));
	sg = &t->segs[t->nsegs++];
	sg->kind = kind;
	sg->s = NULL;
	if (s != NULL) {
		sg->s = xmalloc(len + 1);
		memcpy(sg->s, s, len);
		sg->s[len] = '\0';
	}
}

/* Is [s, s+len) exactly word? */
static int
word_is(const char *s, size_t len, const char *word)
{
	return (strlen(word) == len && memcmp(s, word, len) == 0);
}

static int
is_value_ref(const char *s, size_t len)
{
	return (word_is(s, len, "$value") || word_is(s, len, ".Value"));
}

/*
 * One action's body, trimmed: the forms listed in rule_file.h.  Returns
 * 0, or -1 with err set.
 */
static int
compile_action(struct rule_template *t, const char *a, size_t len, char *err,
    size_t errlen)
{
	static const struct { const char *fn; enum seg_kind kind; } fns[] = {
		{ "humanize", SEG_HUMANIZE },
		{ "humanizeDuration", SEG_HUMANIZE_DURATION },
		{ "humanizePercentage", SEG_HUMANIZE_PERCENTAGE },
	};
	const char	*name, *sp, *bar;
	size_t		 i, nlen, flen;

	if (is_value_ref(a, len)) {
		seg_add(t, SEG_VALUE, NULL, 0);
		return (0);
	}
	name = NULL;
	if (len > 8 && memcmp(a, "$labels.", 8) == 0)
		name = a + 8;
	else if (len > 8 && memcmp(a, ".Labels.", 8) == 0)
		name = a + 8;
	if (name != NULL) {
		nlen = len - (size_t)(name - a);
		for (i = 0; i < nlen; i++)
			if (!(isalpha((unsigned char)name[i]) ||
			    name[i] == '_' ||
			    (i > 0 && isdigit((unsigned char)name[i]))))
				break;
		if (i == nlen) {
			seg_add(t, SEG_LABEL, name, nlen);
			return (0);
		}
	}
	/* "fn $value" or "$value | fn" */
	sp = memchr(a, ' ', len);
	bar = memchr(a, '|', len);
	for (i = 0; i < NP_NELEM(fns); i++) {
		flen = strlen(fns[i].fn);
		if (bar == NULL && sp != NULL && (size_t)(sp - a) == flen &&
		    memcmp(a, fns[i].fn, flen) == 0) {
			while (sp < a + len && *sp == ' ')
				sp++;
			if (is_value_ref(sp, len - (size_t)(sp - a))) {
				seg_add(t, fns[i].kind, NULL, 0);
				return (0);
			}
		}
		if (bar != NULL) {
			const char	*l = bar, *r = bar + 1;

			while (l > a && l[-1] == ' ')
				l--;
			while (r < a + len && *r == ' ')
				r++;
			if (is_value_ref(a, (size_t)(l - a)) &&
			    word_is(r, len - (size_t)(r - a), fns[i].fn)) {
				seg_add(t, fns[i].kind, NULL, 0);
				return (0);
			}
		}
	}
	snprintf(err, errlen, "unsupported template action '{{ %.*s }}' "
	    "(supported: $value, $labels.NAME, humanize, humanizeDuration, "
	    "humanizePercentage)", (int)(len > 60 ? 60 : len), a);
	return (-1);
}

static int
is_tspace(char c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

struct rule_template *
rule_template_compile(const char *text, size_t *err_offset, char *err,
    size_t errlen)
{
	struct rule_template	*t;
	const char		*p, *open, *close, *a, *e, *lit;
	size_t			 litlen;
	int			 trim_next = 0;

	t = xcalloc(1, sizeof(*t));
	t->text = xstrdup(text);
	p = text;
	for (;;) {
		lit = p;
		if (trim_next)
			while (is_tspace(*lit))
				lit++;
		trim_next = 0;
		if ((open = strstr(lit, "{{")) == NULL) {
			seg_add(t, SEG_TEXT, lit, strlen(lit));
			break;
		}
		litlen = (size_t)(open - lit);
		a = open + 2;
		/* "{{- " trims the whitespace before the action */
		if (a[0] == '-' && is_tspace(a[1])) {
			while (litlen > 0 && is_tspace(lit[litlen - 1]))
				litlen--;
			a++;
		}
		seg_add(t, SEG_TEXT, lit, litlen);
		if ((close = strstr(a, "}}")) == NULL) {
			*err_offset = (size_t)(open - text);
			snprintf(err, errlen, "unclosed action (no '}}')");
			goto fail;
		}
		e = close;
		/* " -}}" trims the whitespace after it */
		if (e - a >= 2 && e[-1] == '-' && is_tspace(e[-2])) {
			e--;
			trim_next = 1;
		}
		while (a < e && is_tspace(*a))
			a++;
		while (e > a && is_tspace(e[-1]))
			e--;
		if (compile_action(t, a, (size_t)(e - a), err, errlen) == -1) {
			*err_offset = (size_t)(open - text);
			goto fail;
		}
		p = close + 2;
	}
	return (t);
fail:
	rule_template_free(t);
	return (NULL);
}

void
rule_template_free(struct rule_template *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nsegs; i++)
		free(t->segs[i].s);
	free(t->segs);
	free(t->text);
	free(t);
}

/*
 * A recording rule's label values are not templates in Prometheus: they
 * are kept as literal text, which expands to itself.
 */
static struct rule_template *
template_literal(const char *text)
{
	struct rule_template	*t;

	t = xcalloc(1, sizeof(*t));
	t->text = xstrdup(text);
	seg_add(t, SEG_TEXT, text, strlen(text));
	return (t);
}

const char *
rule_template_text(const struct rule_template *t)
{
	return (t->text);
}

/* Prometheus' humanize: SI prefixes in steps of 1000, "%.4g". */
static void
humanize(double v, char *buf, size_t len)
{
	static const char *const big[] = { "k", "M", "G", "T", "P", "E", "Z",
	    "Y" };
	static const char *const small[] = { "m", "u", "n", "p", "f", "a", "z",
	    "y" };
	const char	*pfx = "";
	size_t		 i;

	if (format_nonfinite(v, buf, len))
		return;
	if (v == 0) {
		snprintf(buf, len, "%.4g", v);
		return;
	}
	if (fabs(v) >= 1) {
		for (i = 0; i < NP_NELEM(big) && fabs(v) >= 1000; i++) {
			v /= 1000;
			pfx = big[i];
		}
	} else {
		for (i = 0; i < NP_NELEM(small) && fabs(v) < 1; i++) {
			v *= 1000;
			pfx = small[i];
		}
	}
	snprintf(buf, len, "%.4g%s", v, pfx);
}

/* Prometheus' humanizeDuration: seconds as "1d 2h 3m 4s" or "1.5ms". */
static void
humanize_duration(double v, char *buf, size_t len)
{
	static const char *const small[] = { "m", "u", "n", "p", "f", "a", "z",
	    "y" };
	const char	*sign = "";
	long long	 s, days, hours, mins, secs;
	size_t		 i;

	if (format_nonfinite(v, buf, len))
		return;
	if (v == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	if (v < 0) {
		sign = "-";
		v = -v;
	}
	if (v >= 1) {
		s = v >= 9.2e18 ? (long long)9.2e18 : (long long)v;
		days = s / 86400;
		hours = s / 3600 % 24;
		mins = s / 60 % 60;
		secs = s % 60;
		if (days != 0)
			snprintf(buf, len, "%s%lldd %lldh %lldm %llds", sign,
			    days, hours, mins, secs);
		else if (hours != 0)
			snprintf(buf, len, "%s%lldh %lldm %llds", sign, hours,
			    mins, secs);
		else if (mins != 0)
			snprintf(buf, len, "%s%lldm %llds", sign, mins, secs);
		else
			snprintf(buf, len, "%s%.4gs", sign, v);
		return;
	}
	for (i = 0; i < 3 && v < 1; i++)
		v *= 1000;
	snprintf(buf, len, "%s%.4g%ss", sign, v, small[i - 1]);
}

char *
rule_template_expand(const struct rule_template *t,
    const struct np_labels *labels, double value)
{
	char		*out, num[64];
	const char	*piece;
	size_t		 i, j, len = 0, cap = 64, plen;

	out = xmalloc(cap);
	for (i = 0; i < t->nsegs; i++) {
		piece = num;
		switch (t->segs[i].kind) {
		case SEG_TEXT:
			piece = t->segs[i].s;
			break;
		case SEG_VALUE:
			format_double(value, num, sizeof(num));
			break;
		case SEG_HUMANIZE:
			humanize(value, num, sizeof(num));
			break;
		case SEG_HUMANIZE_DURATION:
			humanize_duration(value, num, sizeof(num));
			break;
		case SEG_HUMANIZE_PERCENTAGE:
			if (!format_nonfinite(value * 100, num, sizeof(num) - 1))
				snprintf(num, sizeof(num), "%.4g", value * 100);
			strcat(num, "%");
			break;
		case SEG_LABEL:
			piece = "";
			for (j = 0; labels != NULL && j < labels->n; j++)
				if (strcmp(labels->v[j].name,
				    t->segs[i].s) == 0) {
					piece = labels->v[j].value;
					break;
				}
			break;
		}
		plen = strlen(piece);
		while (len + plen + 1 > cap)
			cap *= 2;
		out = xreallocarray(out, cap, 1);
		memcpy(out + len, piece, plen);
		len += plen;
	}
	out[len] = '\0';
	return (out);
}

/* ---- durations ----------------------------------------------------- */

int
rule_parse_duration(const char *s, uint64_t *out, const char **why)
{
	/* largest first: the order Prometheus' model.ParseDuration wants */
	static const struct { const char *u; uint64_t ms; } units[] = {
		{ "y", 365ULL * 86400000 }, { "w", 604800000 },
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 }, { "ms", 1 },
	};
	const char	*start;
	uint64_t	 total = 0, v;
	size_t		 i, next = 0;

	if (*s == '\0') {
		*why = "empty duration";
		return (-1);
	}
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return (0);
	}
	for (start = s; *s != '\0';) {
		if (!isdigit((unsigned char)*s)) {
			/* "5mins": the unit is what is wrong */
			*why = s == start ? "expected a number" :
			    "unknown unit; use ms, s, m, h, d, w or y";
			return (-1);
		}
		for (v = 0; isdigit((unsigned char)*s); s++) {
			if (v > (UINT64_MAX - 9) / 10) {
				*why = "duration too long";
				return (-1);
			}
			v = v * 10 + (uint64_t)(*s - '0');
		}
		for (i = 0; i < NP_NELEM(units); i++)
			if (strncmp(s, units[i].u, strlen(units[i].u)) == 0 &&
			    !(i == 4 && s[1] == 's'))	/* "m" of "ms" */
				break;
		if (i == NP_NELEM(units)) {
			*why = *s == '\0' ? "no unit; use ms, s, m, h, d, w or "
			    "y" : "unknown unit; use ms, s, m, h, d, w or y";
			return (-1);
		}
		if (i < next) {
			*why = "units out of order or repeated";
			return (-1);
		}
		next = i + 1;
		s += strlen(units[i].u);
		/* Prometheus keeps durations in int64 nanoseconds */
		if (v > (uint64_t)(INT64_MAX / 1000000) / units[i].ms ||
		    total + v * units[i].ms > (uint64_t)(INT64_MAX / 1000000)) {
			*why = "duration too long";
			return (-1);
		}
		total += v * units[i].ms;
	}
	*out = total;
	return (0);
}

/* ---- YAML helpers (as in daemon/config.c) -------------------------- */

struct rf_ctx {
	struct yamldoc		 yd;		/* first: callbacks cast back */
	struct rule_file	*rf;
};


/*
 * An error at byte off inside scalar n's value.  For a plain scalar on one
 * line the value is the source text, so the column is exact (libyaml
 * counts columns in characters: count UTF-8 lead bytes).  Otherwise
 * escapes and folding break the mapping: give the scalar's position and
 * the offset.
 */
static void
rf_error_in_scalar(struct rf_ctx *c, const yaml_node_t *n, size_t off,
    const char *what, const char *msg)
{
	const unsigned char	*v = n->data.scalar.value;
	size_t			 i, col;

	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    n->start_mark.line == n->end_mark.line &&
	    off <= n->data.scalar.length) {
		for (i = 0, col = n->start_mark.column; i < off; i++)
			if ((v[i] & 0xc0) != 0x80)
				col++;
		cfg_error_raw(c->yd.errs, c->yd.file, n->start_mark.line, col, "%s",
		    msg);
	} else
		yd_error(&c->yd, n, "%s (at offset %zu in the %s)", msg, off, what);
}

static void
parse_duration_node(struct rf_ctx *c, yaml_node_t *n, const char *key,
    uint64_t *out)
{
	const char	*s, *why;

	if ((s = yd_scalar(&c->yd, n, key, "a duration like 5m or 1h30m")) == NULL)
		return;
	if (rule_parse_duration(s, out, &why) == -1)
		yd_error(&c->yd, n, "'%s' expects a duration like 5m or 1h30m, got "
		    "\"%s\" (%s)", key, s, why);
}

/* Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; alert names without ':'. */
static int
valid_metric_name(const char *s, int colon)
{
	if (!(isalpha((unsigned char)*s) || *s == '_' || (colon && *s == ':')))
		return (0);
	for (s++; *s != '\0'; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' ||
		    (colon && *s == ':')))
			return (0);
	return (1);
}

/* ---- rules --------------------------------------------------------- */

static int
kv_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct rule_kv *)a)->name,
	    ((const struct rule_kv *)b)->name));
}

static void
kvs_free(struct rule_kvs *kv)
{
	size_t	i;

	for (i = 0; i < kv->n; i++) {
		free(kv->v[i].name);
		rule_template_free(kv->v[i].tmpl);
	}
	free(kv->v);
	kv->v = NULL;
	kv->n = 0;
}

/* labels: or annotations: of a rule; values are templates. */
static void
parse_kvs(struct rf_ctx *c, yaml_node_t *map, const char *key,
    enum rule_kind kind, struct rule_kvs *out)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k, *v;
	const char		*name, *val;
	struct rule_template	*t;
	char			 err[256], *msg;
	size_t			 i, off;

	if (yd_is_null(map))
		return;
	if (map->type != YAML_MAPPING_NODE) {
		yd_error(&c->yd, map, "'%s' must be a mapping, got %s", key,
		    yd_kind(map));
		return;
	}
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = yd_node(&c->yd, p->key);
		v = yd_node(&c->yd, p->value);
		if ((name = yd_scalar(&c->yd, k, key, "names")) == NULL)
			continue;
		if (!valid_label_name(name)) {
			yd_error(&c->yd, k, "invalid %s name '%s' (letters, digits "
			    "and '_', not starting with a digit or '__')",
			    strcmp(key, "labels") == 0 ? "label" : "annotation",
			    name);
			continue;
		}
		if (kind == RULE_ALERTING && strcmp(key, "labels") == 0 &&
		    (strcmp(name, "alertname") == 0 ||
		    strcmp(name, "alertstate") == 0)) {
			yd_error(&c->yd, k, "label '%s' is set by the alerting rule "
			    "itself", name);
			continue;
		}
		for (i = 0; i < out->n; i++)
			if (strcmp(out->v[i].name, name) == 0)
				break;
		if (i < out->n) {
			yd_error(&c->yd, k, "duplicate key '%s' in '%s'", name, key);
			continue;
		}
		if (v->type == YAML_SCALAR_NODE && yd_is_null(v))
			val = "";
		else if ((val = yd_scalar(&c->yd, v, name, "a string value")) == NULL)
			continue;
		if (kind == RULE_RECORDING)
			t = template_literal(val);
		else if ((t = rule_template_compile(val, &off, err,
		    sizeof(err))) == NULL) {
			xasprintf(&msg, "'%s': %s", name, err);
			rf_error_in_scalar(c, v, off, "template", msg);
			free(msg);
			continue;
		}
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		out->v[out->n].name = xstrdup(name);
		out->v[out->n].tmpl = t;
		out->n++;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), kv_cmp);
}

/* What one rule entry holds while its keys are read. */
struct rule_keys {
	struct rule	*r;
	yaml_node_t	*alert, *record, *expr;
	yaml_node_t	*for_k, *kff_k, *ann_k;	/* key nodes */
	yaml_node_t	*labels, *annotations, *for_v, *kff_v;
};

static void
rule_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	struct rule_keys	*rk = arg;

	if (strcmp(key, "alert") == 0)
		rk->alert = v;
	else if (strcmp(key, "record") == 0)
		rk->record = v;
	else if (strcmp(key, "expr") == 0)
		rk->expr = v;
	else if (strcmp(key, "for") == 0) {
		rk->for_k = k;
		rk->for_v = v;
	} else if (strcmp(key, "keep_firing_for") == 0) {
		rk->kff_k = k;
		rk->kff_v = v;
	} else if (strcmp(key, "labels") == 0)
		rk->labels = v;
	else if (strcmp(key, "annotations") == 0) {
		rk->ann_k = k;
		rk->annotations = v;
	}
}

static void
parse_expr(struct rf_ctx *c, struct rule *r, yaml_node_t *n)
{
	const char	*s;
	char		 err[256], *msg;
	size_t		 off = 0;
	int64_t		 lb;

	if ((s = yd_scalar(&c->yd, n, "expr", "a PromQL expression")) == NULL)
		return;
	r->expr_text = xstrdup(s);
	err[0] = '\0';
	if ((r->expr = rl_expr_parse(s, &off, err, sizeof(err))) == NULL) {
		xasprintf(&msg, "invalid expression: %s", err);
		rf_error_in_scalar(c, n, off, "expression", msg);
		free(msg);
		return;
	}
	lb = rl_expr_lookback_ms(r->expr);
	if (lb > c->rf->max_lookback_ms)
		c->rf->max_lookback_ms = lb;
}

static void
parse_rule(struct rf_ctx *c, yaml_node_t *n, struct rule *r)
{
	static const char *const known[] = { "record", "alert", "expr", "for",
	    "keep_firing_for", "labels", "annotations" };
	struct rule_keys	 rk;
	yaml_node_t		*namen;
	const char		*s;

	r->line = (int)n->start_mark.line + 1;
	if (n->type != YAML_MAPPING_NODE) {
		yd_error(&c->yd, n, "a rule must be a mapping, got %s",
		    yd_kind(n));
		return;
	}
	memset(&rk, 0, sizeof(rk));
	rk.r = r;
	yd_mapping_walk(&c->yd, n, known, NP_NELEM(known), NULL, rule_key, &rk,
	    "a rule", NULL);

	if (rk.alert != NULL && rk.record != NULL) {
		yd_error(&c->yd, n, "a rule has either 'alert' or 'record', not "
		    "both");
		return;
	}
	if (rk.alert == NULL && rk.record == NULL) {
		yd_error(&c->yd, n, "a rule needs 'alert' (an alerting rule) or "
		    "'record' (a recording rule)");
		return;
	}
	r->kind = rk.alert != NULL ? RULE_ALERTING : RULE_RECORDING;
	namen = rk.alert != NULL ? rk.alert : rk.record;
	if (r->kind == RULE_ALERTING) {
		if ((s = yd_scalar(&c->yd, namen, "alert", "an alert name")) != NULL) {
			if (valid_metric_name(s, 0))
				r->name = xstrdup(s);
			else
				yd_error(&c->yd, namen, "invalid alert name '%s' "
				    "(letters, digits and '_', not starting "
				    "with a digit)", s);
		}
	} else {
		if ((s = yd_scalar(&c->yd, namen, "record", "a metric name")) != NULL) {
			if (valid_metric_name(s, 1))
				r->name = xstrdup(s);
			else
				yd_error(&c->yd, namen, "invalid metric name '%s' "
				    "for 'record' (letters, digits, '_' and "
				    "':', not starting with a digit)", s);
		}
		if (rk.for_k != NULL)
			yd_error(&c->yd, rk.for_k, "'for' is only valid in an "
			    "alerting rule");
		if (rk.kff_k != NULL)
			yd_error(&c->yd, rk.kff_k, "'keep_firing_for' is only valid "
			    "in an alerting rule");
		if (rk.ann_k != NULL)
			yd_error(&c->yd, rk.ann_k, "'annotations' is only valid in "
			    "an alerting rule");
	}
	if (rk.expr == NULL)
		yd_error(&c->yd, n, "rule '%s' has no 'expr'",
		    r->name != NULL ? r->name : "?");
	else
		parse_expr(c, r, rk.expr);
	if (r->kind == RULE_ALERTING) {
		if (rk.for_v != NULL && !yd_is_null(rk.for_v))
			parse_duration_node(c, rk.for_v, "for", &r->for_ms);
		if (rk.kff_v != NULL && !yd_is_null(rk.kff_v))
			parse_duration_node(c, rk.kff_v, "keep_firing_for",
			    &r->keep_firing_for_ms);
		if (rk.annotations != NULL)
			parse_kvs(c, rk.annotations, "annotations", r->kind,
			    &r->annotations);
	}
	if (rk.labels != NULL)
		parse_kvs(c, rk.labels, "labels", r->kind, &r->labels);
}

static void
rule_clear(struct rule *r)
{
	free(r->name);
	free(r->expr_text);
	if (r->expr != NULL)
		rl_expr_free(r->expr);
	kvs_free(&r->labels);
	kvs_free(&r->annotations);
}

/* ---- groups -------------------------------------------------------- */

struct group_keys {
	yaml_node_t	*name, *rules;
};

static void
group_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	struct rf_ctx	*c = (struct rf_ctx *)yd;
	struct group_keys	*gk = arg;
	struct rule_group	*g = &c->rf->groups[c->rf->ngroups - 1];

	if (strcmp(key, "name") == 0)
		gk->name = v;
	else if (strcmp(key, "rules") == 0)
		gk->rules = v;
	else if (yd_is_null(v))
		return;
	else if (strcmp(key, "interval") == 0)
		parse_duration_node(c, v, key, &g->interval_ms);
	else if (strcmp(key, "limit") == 0) {
		const char		*s;
		char			*end;
		unsigned long long	 l;

		if ((s = yd_scalar(&c->yd, v, key, "a whole number")) == NULL)
			return;
		errno = 0;
		l = strtoull(s, &end, 10);
		if (*s < '0' || *s > '9' || *end != '\0' || errno != 0)
			yd_error(&c->yd, v, "'limit' expects a whole number, got "
			    "\"%s\"", s);
		else
			g->limit = l;
	}
}

static void
parse_group(struct rf_ctx *c, yaml_node_t *n, struct rule_group *g)
{
	static const char *const known[] = { "name", "interval", "limit",
	    "rules" };
	struct group_keys	 gk;
	yaml_node_item_t	*it;
	const char		*s;
	size_t			 i, count;

	g->line = (int)n->start_mark.line + 1;
	if (n->type != YAML_MAPPING_NODE) {
		yd_error(&c->yd, n, "a group must be a mapping, got %s",
		    yd_kind(n));
		return;
	}
	memset(&gk, 0, sizeof(gk));
	yd_mapping_walk(&c->yd, n, known, NP_NELEM(known), NULL, group_key,
	    &gk, "a group", NULL);
	if (gk.name == NULL)
		yd_error(&c->yd, n, "a group needs a 'name'");
	else if ((s = yd_scalar(&c->yd, gk.name, "name", "a group name")) != NULL) {
		for (i = 0; i + 1 < c->rf->ngroups; i++)
			if (c->rf->groups[i].name != NULL &&
			    strcmp(c->rf->groups[i].name, s) == 0)
				break;
		if (i + 1 < c->rf->ngroups)
			yd_error(&c->yd, gk.name, "duplicate group name '%s' (first "
			    "at line %d)", s, c->rf->groups[i].line);
		else
			g->name = xstrdup(s);
	}
	if (gk.rules == NULL || yd_is_null(gk.rules))
		return;
	if (gk.rules->type != YAML_SEQUENCE_NODE) {
		yd_error(&c->yd, gk.rules, "'rules' must be a sequence of rules, "
		    "got %s", yd_kind(gk.rules));
		return;
	}
	count = (size_t)(gk.rules->data.sequence.items.top -
	    gk.rules->data.sequence.items.start);
	g->rules = xcalloc(count ? count : 1, sizeof(*g->rules));
	for (it = gk.rules->data.sequence.items.start;
	    it < gk.rules->data.sequence.items.top; it++)
		parse_rule(c, yd_node(&c->yd, *it), &g->rules[g->nrules++]);
}

static void
rule_file_parse(struct rf_ctx *c, yaml_node_t *root)
{
	static const char *const known[] = { "groups" };
	yaml_node_pair_t	*p;
	yaml_node_t		*k, *v;
	yaml_node_item_t	*it;
	size_t			 count;

	if (yd_is_null(root))
		return;
	if (root->type != YAML_MAPPING_NODE) {
		yd_error(&c->yd, root, "a rule file must be a mapping with "
		    "'groups', got %s", yd_kind(root));
		return;
	}
	for (p = root->data.mapping.pairs.start;
	    p < root->data.mapping.pairs.top; p++) {
		k = yd_node(&c->yd, p->key);
		if (k->type != YAML_SCALAR_NODE ||
		    strcmp((const char *)k->data.scalar.value, "groups") != 0) {
			/* reported with the known list below */
			continue;
		}
		v = yd_node(&c->yd, p->value);
		if (yd_is_null(v))
			continue;
		if (v->type != YAML_SEQUENCE_NODE) {
			yd_error(&c->yd, v, "'groups' must be a sequence of rule "
			    "groups, got %s", yd_kind(v));
			continue;
		}
		if (c->rf->groups != NULL)
			continue;	/* a duplicate key: reported below */
		count = (size_t)(v->data.sequence.items.top -
		    v->data.sequence.items.start);
		c->rf->groups = xcalloc(count ? count : 1,
		    sizeof(*c->rf->groups));
		for (it = v->data.sequence.items.start;
		    it < v->data.sequence.items.top; it++) {
			c->rf->ngroups++;
			parse_group(c, yd_node(&c->yd, *it),
			    &c->rf->groups[c->rf->ngroups - 1]);
		}
	}
	/* only for the key checks: groups were handled above */
	yd_mapping_walk(&c->yd, root, known, NP_NELEM(known), NULL, NULL, NULL,
	    "the rule file", NULL);
}

static void
rule_file_root(struct yamldoc *yd, yaml_node_t *root)
{
	rule_file_parse((struct rf_ctx *)yd, root);
}

struct rule_file *
rule_file_load_string(const char *name, const char *text, size_t len,
    struct cfg_errors *errs)
{
	struct rf_ctx		 c;
	struct rule_file	*rf;

	memset(errs, 0, sizeof(*errs));
	rf = xcalloc(1, sizeof(*rf));
	rf->path = xstrdup(name);
	memset(&c, 0, sizeof(c));
	c.yd.file = name;
	c.yd.errs = errs;
	c.rf = rf;
	(void)yd_load(&c.yd, text, len, rule_file_root);	/* empty: no groups */
	if (errs->n > 0) {
		rule_file_free(rf);
		return (NULL);
	}
	return (rf);
}

struct rule_file *
rule_file_load(const char *path, struct cfg_errors *errs)
{
	struct rule_file	*rf;
	char			*buf;
	size_t			 len;

	memset(errs, 0, sizeof(*errs));
	if ((buf = cfg_read_file(path, &len, errs)) == NULL)
		return (NULL);
	rf = rule_file_load_string(path, buf, len, errs);
	free(buf);
	return (rf);
}

void
rule_file_free(struct rule_file *rf)
{
	size_t	i, j;

	if (rf == NULL)
		return;
	for (i = 0; i < rf->ngroups; i++) {
		for (j = 0; j < rf->groups[i].nrules; j++)
			rule_clear(&rf->groups[i].rules[j]);
		free(rf->groups[i].rules);
		free(rf->groups[i].name);
	}
	free(rf->groups);
	free(rf->path);
	free(rf);
}
