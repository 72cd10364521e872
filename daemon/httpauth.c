/*
 * HTTP basic authentication (RFC 7617) against bcrypt hashes, without
 * blocking the loop.  A bcrypt comparison costs tens of milliseconds by
 * design -- as long as a whole scrape -- so it runs on one worker thread:
 * the loop hands it a job through a pipe and gets the job back through
 * another, watched by a libevent event.  At most AUTH_MAX_PENDING jobs
 * are in flight (a client guessing passwords gets 503s, the loop stays
 * free), and a credential that passed is remembered by its SHA-256 (with
 * the hash it matched, so a changed password is checked again), as the
 * exporters do: Prometheus sends the same one every scrape.
 *
 * The thread starts with the first job, after the privileges were
 * dropped (capset(2) is per thread), and touches only its job's
 * password, hash and result; the loop owns the rest.
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "daemon/netprobed.h"
#include "daemon/webconfig.h"

#define AUTH_CACHE	64
#define AUTH_MAX_HEADER	1024	/* base64 of user:password */

struct auth_job {
	/* the worker's */
	char		*password;
	char		 hash[64];
	int		 ok;
	/* the loop's */
	int		 known;		/* 0: an unknown user, always denied */
	int		 cancelled;
	unsigned char	 key[SHA256_DIGEST_LENGTH];
	void		(*done)(void *, int);
	void		*arg;
};

static struct {
	int		 started;
	pthread_t	 thread;
	int		 req[2], rep[2];	/* to and from the worker */
	struct event	*ev;
	size_t		 pending;
	unsigned char	 cache[AUTH_CACHE][SHA256_DIGEST_LENGTH];
	size_t		 ncache, next;
	atomic_int	 stopping;
} au = { .req = { -1, -1 }, .rep = { -1, -1 } };

static void
job_free(struct auth_job *j)
{
	secret_free(j->password, strlen(j->password));
	explicit_bzero(j->hash, sizeof(j->hash));
	free(j);
}

static void *
worker(void *arg)
{
	struct crypt_data	*cd;
	struct auth_job		*j;
	const char		*out;
	ssize_t			 r;

	(void)arg;
	cd = xcalloc(1, sizeof(*cd));
	for (;;) {
		r = read(au.req[0], &j, sizeof(j));
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(j))
			break;		/* closed: auth_shutdown */
		j->ok = 0;
		if (!atomic_load(&au.stopping)) {
			out = crypt_r(j->password, j->hash, cd);
			j->ok = out != NULL && strlen(out) == strlen(j->hash) &&
			    CRYPTO_memcmp(out, j->hash, strlen(j->hash)) == 0;
		}
		while (write(au.rep[1], &j, sizeof(j)) == -1 && errno == EINTR)
			;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return (NULL);
}

static int
cached(const unsigned char key[SHA256_DIGEST_LENGTH])
{
	size_t	i;

	for (i = 0; i < au.ncache; i++)
		if (CRYPTO_memcmp(au.cache[i], key, SHA256_DIGEST_LENGTH) == 0)
			return (1);
	return (0);
}

static void
remember(const unsigned char key[SHA256_DIGEST_LENGTH])
{
	if (cached(key))
		return;
	memcpy(au.cache[au.next], key, SHA256_DIGEST_LENGTH);
	au.next = (au.next + 1) % AUTH_CACHE;
	if (au.ncache < AUTH_CACHE)
		au.ncache++;
}

/* Jobs coming back from the worker. */
static void
reply_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct auth_job	*j;
	int		 ok;

	(void)ev;
	(void)arg;
	while (read(fd, &j, sizeof(j)) == (ssize_t)sizeof(j)) {
		au.pending--;
		ok = j->ok && j->known;
		if (ok)
			remember(j->key);
		if (!j->cancelled)
			j->done(j->arg, ok);
		job_free(j);
	}
}

static int
start(struct event_base *base)
{
	sigset_t	all, old;
	int		rc;

	if (pipe2(au.req, O_CLOEXEC) == -1)
		return (-1);
	if (pipe2(au.rep, O_CLOEXEC | O_NONBLOCK) == -1)
		goto fail;
	if ((au.ev = event_new(base, au.rep[0], EV_READ | EV_PERSIST,
	    reply_cb, NULL)) == NULL || event_add(au.ev, NULL) == -1)
		goto fail;
	/* signals are the loop's (libevent's handlers), not the worker's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&au.thread, NULL, worker, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		goto fail;
	au.started = 1;
	return (0);
fail:
	log_warn("cannot start the authentication worker: %s",
	    strerror(errno));
	if (au.ev != NULL)
		event_free(au.ev);
	au.ev = NULL;
	close(au.req[0]);
	close(au.req[1]);
	if (au.rep[0] != -1) {
		close(au.rep[0]);
		close(au.rep[1]);
	}
	au.req[0] = au.req[1] = au.rep[0] = au.rep[1] = -1;
	return (-1);
}

/*
 * "Basic BASE64(user:password)" into user and password (NUL-terminated
 * in buf, which the caller wipes).  -1 if malformed.
 */
static int
parse_basic(const char *h, char *buf, size_t buflen, char **user,
    char **pass, size_t *outlen)
{
	size_t	n, pad = 0;
	int	len;
	char	*colon;

	/* RFC 7235 2.1: the scheme is case-insensitive */
	if (strncasecmp(h, "Basic ", 6) != 0)
		return (-1);
	h += 6;
	while (*h == ' ')
		h++;
	n = strlen(h);
	while (n > 0 && h[n - 1] == ' ')
		n--;
	if (n == 0 || n % 4 != 0 || n > AUTH_MAX_HEADER || n / 4 * 3 >= buflen)
		return (-1);
	if (h[n - 1] == '=')
		pad = h[n - 2] == '=' ? 2 : 1;
	if ((len = EVP_DecodeBlock((unsigned char *)buf,
	    (const unsigned char *)h, (int)n)) < 0 || (size_t)len < pad)
		return (-1);
	*outlen = (size_t)len - pad;
	buf[*outlen] = '\0';
	if (strlen(buf) != *outlen || (colon = strchr(buf, ':')) == NULL)
		return (-1);	/* a NUL inside, or no colon */
	*colon = '\0';
	*user = buf;
	*pass = colon + 1;
	return (0);
}

int
auth_check(struct event_base *base, const struct web_config *wc,
    const char *header, void (*done)(void *, int), void *arg,
    struct auth_job **jobp)
{
	char		 buf[AUTH_MAX_HEADER];
	char		*user, *pass;
	const char	*hash;
	size_t		 len;
	struct auth_job	*j;
	unsigned char	 key[SHA256_DIGEST_LENGTH];
	int		 known = 1;

	*jobp = NULL;
	if (header == NULL ||
	    parse_basic(header, buf, sizeof(buf), &user, &pass, &len) == -1) {
		explicit_bzero(buf, sizeof(buf));
		return (AUTH_DENIED);
	}
	if ((hash = web_user_hash(wc, user)) == NULL) {
		/* the same work for an unknown user: no timing oracle */
		hash = wc->users[0].hash;
		known = 0;
	}
	/* user NUL password NUL hash: buf has the room (user:pass) */
	if (len + 1 + strlen(hash) >= sizeof(buf)) {
		explicit_bzero(buf, sizeof(buf));
		return (AUTH_DENIED);
	}
	memcpy(buf + len + 1, hash, strlen(hash));
	SHA256((const unsigned char *)buf, len + 1 + strlen(hash), key);
	if (known && cached(key)) {
		explicit_bzero(buf, sizeof(buf));
		return (AUTH_OK);
	}
	if (au.pending >= AUTH_MAX_PENDING || (!au.started &&
	    start(base) == -1)) {
		explicit_bzero(buf, sizeof(buf));
		return (AUTH_BUSY);
	}
	j = xcalloc(1, sizeof(*j));
	j->password = xstrdup(pass);
	explicit_bzero(buf, sizeof(buf));
	strncpy(j->hash, hash, sizeof(j->hash) - 1);
	j->known = known;
	memcpy(j->key, key, sizeof(key));
	j->done = done;
	j->arg = arg;
	/* a pointer is far below PIPE_BUF: atomic, and the pipe has room */
	if (write(au.req[1], &j, sizeof(j)) != (ssize_t)sizeof(j)) {
		job_free(j);
		return (AUTH_BUSY);
	}
	au.pending++;
	*jobp = j;
	return (AUTH_PENDING);
}

size_t
auth_in_flight(void)
{
	return (au.pending);
}

void
auth_cancel(struct auth_job *j)
{
	if (j != NULL)
		j->cancelled = 1;
}

void
auth_shutdown(void)
{
	struct auth_job	*j;
	int		 fl;

	if (!au.started)
		return;
	atomic_store(&au.stopping, 1);
	close(au.req[1]);		/* the worker sees EOF once idle */
	pthread_join(au.thread, NULL);
	close(au.req[0]);
	fl = fcntl(au.rep[0], F_GETFL);
	(void)fcntl(au.rep[0], F_SETFL, fl | O_NONBLOCK);
	while (read(au.rep[0], &j, sizeof(j)) == (ssize_t)sizeof(j))
		job_free(j);
	close(au.rep[0]);
	close(au.rep[1]);
	event_free(au.ev);
	memset(&au, 0, sizeof(au));
	au.req[0] = au.req[1] = au.rep[0] = au.rep[1] = -1;
}
