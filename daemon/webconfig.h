/*
 * The HTTP endpoints' TLS and basic authentication, configured as the
 * Prometheus exporters' web configuration file is (exporter-toolkit's
 * format), so the city's scrape jobs need nothing new:
 *
 *	tls_server_config:
 *	  cert_file: /etc/netprobed/tls.crt
 *	  key_file: /etc/netprobed/tls.key	# mode 0600/0640: it is checked
 *	  client_auth_type: RequireAndVerifyClientCert	# optional
 *	  client_ca_file: /etc/netprobed/city-ca.crt
 *	  min_version: TLS12			# or TLS13
 *	basic_auth_users:
 *	  prometheus: $2y$10$...		# bcrypt (htpasswd -nBC 10 NAME)
 *
 * Named by `web_config_file:` in the main configuration; relative paths
 * inside it are relative to its own directory.
 */
#ifndef DAEMON_WEBCONFIG_H
#define DAEMON_WEBCONFIG_H

#include <stddef.h>

#include <openssl/ssl.h>

struct yamldoc;
struct yaml_node_s;

struct web_user {
	char	*name;
	char	*hash;		/* bcrypt, checked by crypt_checksalt() */
};

struct web_config {
	char		*path;
	SSL_CTX		*tls;		/* NULL: plain HTTP */
	struct web_user	*users;		/* basic_auth_users, sorted by name */
	size_t		 nusers;	/* 0: no authentication */
};

/*
 * Load the web configuration file at path (already made absolute or
 * relative to the main config).  Errors go to yd's list: those about the
 * file as a whole at node `at` of the main config, those inside it as
 * path:LINE:COL.  NULL after an error.
 */
struct web_config	*web_config_load(struct yamldoc *yd,
			    struct yaml_node_s *at, const char *path);
void			 web_config_free(struct web_config *);
/* The hash of a user, or NULL. */
const char		*web_user_hash(const struct web_config *,
			    const char *name);

/* ---- httpauth.c: basic authentication off the loop ---------------- */

struct event_base;
struct auth_job;

enum auth_result { AUTH_OK, AUTH_DENIED, AUTH_PENDING, AUTH_BUSY };

/*
 * Check an Authorization header (NULL: none) against wc's users.
 * AUTH_OK or AUTH_DENIED at once when the answer is known (no or a
 * malformed header, a credential that passed before); AUTH_PENDING when
 * a bcrypt comparison -- tens of milliseconds -- was handed to the worker
 * thread: done(arg, ok) is called from the loop later, unless
 * auth_cancel(*job) is called first; AUTH_BUSY when AUTH_MAX_PENDING
 * comparisons are in flight already.
 */
#define AUTH_MAX_PENDING	16
int	auth_check(struct event_base *, const struct web_config *wc,
	    const char *header, void (*done)(void *arg, int ok), void *arg,
	    struct auth_job **job);
/* Password checks queued or running now. */
size_t	auth_in_flight(void);
/* The client is gone: its pending result is dropped. */
void	auth_cancel(struct auth_job *);
/* Stop the worker thread and free what it held (at exit). */
void	auth_shutdown(void);

#endif /* DAEMON_WEBCONFIG_H */
