/*
 * The state file (state.h): read once at start, written when dirty.
 *
 * The loop only serializes (microseconds for a few alerts and informs);
 * a short-lived thread writes the temporary file, fsyncs it, renames it
 * over the old one and fsyncs the directory -- the part that can take a
 * slow flash card hundreds of milliseconds.  One write at a time; what
 * changes meanwhile goes in the next one.  A file that cannot be read or
 * parsed is logged and ignored (a state file must never keep the daemon
 * from starting), and left in place for the operator.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/daemon.h"
#include "daemon/state.h"
#include "daemon/yamldoc.h"
#include "rules/labels.h"

#define STATE_VERSION	1
#define STATE_MAX_BYTES	(16 * 1024 * 1024)

struct job {
	char	*path;
	char	*data;
	size_t	 len;
	int	 err;		/* 0 or an errno */
};

static struct {
	char		*path;
	struct event	*timer;
	uint64_t	 saved_gen;
	int		 last_err;	/* logged once until it changes */
	/* the write in progress */
	pthread_t	 th;
	struct job	*job;
	uint64_t	 job_gen;
	atomic_int	 done;
	struct series	*m_writes[2];	/* failure, success */
} st;

/* ---- writing ---------------------------------------------------------- */

static int
write_atomic(const char *path, const char *data, size_t len)
{
	char	*tmp, *dcopy;
	size_t	 off = 0;
	ssize_t	 w;
	int	 fd, dfd, err = 0;

	xasprintf(&tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		err = errno;
		free(tmp);
		return (err);
	}
	while (off < len && err == 0) {
		if ((w = write(fd, data + off, len - off)) < 0) {
			if (errno != EINTR)
				err = errno;
		} else
			off += (size_t)w;
	}
	if (err == 0 && fsync(fd) == -1)
		err = errno;
	if (close(fd) == -1 && err == 0)
		err = errno;
	if (err == 0 && rename(tmp, path) == -1)
		err = errno;
	if (err != 0)
		(void)unlink(tmp);
	else {
		/* the rename itself must reach the disk */
		dcopy = xstrdup(path);
		if ((dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) != -1) {
			(void)fsync(dfd);
			close(dfd);
		}
		free(dcopy);
	}
	free(tmp);
	return (err);
}

static void *
writer(void *arg)
{
	struct job	*j = arg;

	j->err = write_atomic(j->path, j->data, j->len);
	atomic_store(&st.done, 1);
	return (NULL);
}

static struct job *
serialize(struct np_daemon *d)
{
	struct evbuffer	*b = evbuffer_new();
	struct job	*j;

	if (b == NULL)
		fatalx("out of memory (evbuffer)");
	evbuffer_add_printf(b, "{\"version\":%d,\"saved_at_ms\":%lld,",
	    STATE_VERSION, (long long)(now_wall_ns() / 1000000));
	rules_state_write(d, b);
	evbuffer_add(b, ",", 1);
	snmp_state_write(d, b);
	evbuffer_add(b, "}\n", 2);
	j = xcalloc(1, sizeof(*j));
	j->path = xstrdup(st.path);
	j->len = evbuffer_get_length(b);
	j->data = xmalloc(j->len);
	evbuffer_remove(b, j->data, j->len);
	evbuffer_free(b);
	return (j);
}

static void
job_end(struct job *j, uint64_t gen)
{
	if (j->err == 0) {
		st.saved_gen = gen;
		series_add(st.m_writes[1], 1);
		if (st.last_err != 0)
			log_info("state file %s written again", j->path);
	} else {
		series_add(st.m_writes[0], 1);
		if (j->err != st.last_err)
			log_warnx("cannot write the state file %s: %s",
			    j->path, strerror(j->err));
	}
	st.last_err = j->err;
	free(j->path);
	free(j->data);
	free(j);
}

static void
reap(void)
{
	if (st.job == NULL || !atomic_load(&st.done))
		return;
	pthread_join(st.th, NULL);
	job_end(st.job, st.job_gen);
	st.job = NULL;
}

static void
tick(evutil_socket_t fd, short ev, void *arg)
{
	struct np_daemon	*d = arg;

	(void)fd;
	(void)ev;
	reap();
	if (st.job != NULL || st.path == NULL || d->state_gen == st.saved_gen)
		return;
	st.job = serialize(d);
	st.job_gen = d->state_gen;
	atomic_store(&st.done, 0);
	if (pthread_create(&st.th, NULL, writer, st.job) != 0) {
		/* no thread: write from here rather than not at all */
		st.job->err = write_atomic(st.job->path, st.job->data,
		    st.job->len);
		job_end(st.job, st.job_gen);
		st.job = NULL;
	}
}

void
state_dirty(struct np_daemon *d)
{
	d->state_gen++;
}

/* ---- reading ---------------------------------------------------------- */

yaml_node_t *
state_get(struct yamldoc *yd, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return (NULL);
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = yd_node(yd, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return (yd_node(yd, p->value));
	}
	return (NULL);
}

const char *
state_str(struct yamldoc *yd, yaml_node_t *map, const char *key)
{
	yaml_node_t	*v = state_get(yd, map, key);

	if (v == NULL || v->type != YAML_SCALAR_NODE || yd_is_null(v))
		return (NULL);
	return ((const char *)v->data.scalar.value);
}

int64_t
state_int(struct yamldoc *yd, yaml_node_t *map, const char *key,
    int64_t def)
{
	const char	*s = state_str(yd, map, key);
	char		*end;
	long long	 v;

	if (s == NULL)
		return (def);
	errno = 0;
	v = strtoll(s, &end, 10);
	return (errno != 0 || end == s || *end != '\0' ? def : (int64_t)v);
}

double
state_num(struct yamldoc *yd, yaml_node_t *map, const char *key)
{
	const char	*s = state_str(yd, map, key);
	char		*end;
	double		 v;

	if (s == NULL)
		return (NAN);
	v = strtod(s, &end);
	return (end == s || *end != '\0' ? NAN : v);
}

void
state_labels(struct yamldoc *yd, yaml_node_t *map, const char *key,
    struct np_labels *l)
{
	yaml_node_t		*m = state_get(yd, map, key), *k, *v;
	yaml_node_pair_t	*p;

	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		k = yd_node(yd, p->key);
		v = yd_node(yd, p->value);
		if (k != NULL && v != NULL && k->type == YAML_SCALAR_NODE &&
		    v->type == YAML_SCALAR_NODE)
			rl_labels_set(l, (const char *)k->data.scalar.value,
			    (const char *)v->data.scalar.value);
	}
}

struct load_ctx {
	struct yamldoc		 yd;	/* first */
	struct np_daemon	*d;
	int			 restored;
};

static void
load_root(struct yamldoc *yd, yaml_node_t *root)
{
	struct load_ctx	*c = (struct load_ctx *)yd;

	if (root->type != YAML_MAPPING_NODE ||
	    state_int(yd, root, "version", 0) != STATE_VERSION) {
		yd_error(yd, root, "not a version %d state file", STATE_VERSION);
		return;
	}
	rules_state_restore(c->d, yd, state_get(yd, root, "alerts"));
	snmp_state_restore(c->d, yd, state_get(yd, root, "managers"));
	c->restored = 1;
}

static void
load(struct np_daemon *d, const char *path)
{
	struct cfg_errors	 errs;
	struct load_ctx		 c;
	char			*text;
	size_t			 len, i;

	memset(&errs, 0, sizeof(errs));
	if (access(path, F_OK) == -1 && errno == ENOENT) {
		log_info("state file %s: none yet", path);
		return;
	}
	if ((text = cfg_read_file(path, &len, &errs)) != NULL) {
		memset(&c, 0, sizeof(c));
		c.yd.file = path;
		c.yd.errs = &errs;
		c.d = d;
		if (len > STATE_MAX_BYTES)
			cfg_error_raw(&errs, path, 0, 0, "larger than %d bytes",
			    STATE_MAX_BYTES);
		else
			(void)yd_load(&c.yd, text, len, load_root);
		free(text);
		if (c.restored && errs.n == 0)
			log_info("state file %s: restored", path);
	}
	for (i = 0; i < errs.n; i++)
		log_warnx("%s (the state file is ignored)", errs.msg[i]);
	cfg_errors_free(&errs);
}

/* ---- life ------------------------------------------------------------- */

void
state_apply(struct np_daemon *d, const struct np_config *conf, int start)
{
	struct timeval	tv = { 1, 0 };
	struct family	*f;

	if (conf->state_path == NULL) {
		if (st.path != NULL)
			state_stop(d);
		return;
	}
	if (st.path == NULL || strcmp(st.path, conf->state_path) != 0) {
		free(st.path);
		st.path = xstrdup(conf->state_path);
		st.saved_gen = d->state_gen - 1;	/* write it soon */
	}
	if (st.m_writes[0] == NULL) {
		f = store_family(d->store, "netprobe_state_writes_total",
		    "Writes of the state file (state_file:), by result.",
		    METRIC_COUNTER, NULL, 0);
		st.m_writes[0] = store_series(d->store, f, NULL, "result",
		    "failure", NULL);
		st.m_writes[1] = store_series(d->store, f, NULL, "result",
		    "success", NULL);
	}
	if (start)
		load(d, st.path);
	if (st.timer == NULL) {
		if ((st.timer = event_new(d->base, -1, EV_PERSIST, tick,
		    d)) == NULL)
			fatalx("event_new failed");
		event_add(st.timer, &tv);
	}
}

void
state_stop(struct np_daemon *d)
{
	if (st.job != NULL) {
		pthread_join(st.th, NULL);
		job_end(st.job, st.job_gen);
		st.job = NULL;
	}
	if (st.path != NULL && d->state_gen != st.saved_gen) {
		struct job	*j = serialize(d);

		j->err = write_atomic(j->path, j->data, j->len);
		job_end(j, d->state_gen);
	}
	if (st.timer != NULL)
		event_free(st.timer);
	free(st.path);
	memset(&st, 0, sizeof(st));
}
