/*
 * Loading the web configuration file (webconfig.h): the TLS context
 * built once per load, so a certificate renewed on disk takes effect on
 * the next SIGHUP for new connections, and a bad one keeps the old.
 * Secrets (the key, the password hashes) are read through secret_read(),
 * which refuses files others can read, and never reach a log line.
 */
#include "config.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "daemon/netprobed.h"
#include "daemon/webconfig.h"
#include "daemon/yamldoc.h"

#define WEB_CONFIG_MAX	(256 * 1024)
#define WEB_KEY_MAX	(64 * 1024)
#define WEB_MAX_USERS	1024

struct web_ctx {
	struct yamldoc		 yd;	/* first: the key callbacks get it */
	struct web_config	*wc;
	yaml_node_t		*cert, *key, *ca, *auth_type, *minv, *maxv;
	size_t			 nerr0;	/* errors before this file's */
};

/* The last OpenSSL error as text (and the queue emptied). */
static const char *
ssl_err(char *buf, size_t len)
{
	unsigned long	e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "unknown error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return (buf);
}

static int
tls_version(struct web_ctx *c, yaml_node_t *v, const char *key, int *out)
{
	const char	*s;

	if ((s = yd_scalar(&c->yd, v, key, "TLS12 or TLS13")) == NULL)
		return (-1);
	if (strcmp(s, "TLS12") == 0)
		*out = TLS1_2_VERSION;
	else if (strcmp(s, "TLS13") == 0)
		*out = TLS1_3_VERSION;
	else {
		/* TLS10 and TLS11 are what exporters also accept: not here */
		yd_error(&c->yd, v, "'%s' expects TLS12 or TLS13, got \"%s\"",
		    key, s);
		return (-1);
	}
	return (0);
}

static int
load_key(struct web_ctx *c, SSL_CTX *ctx, const char *path)
{
	char		*pem, err[512];
	size_t		 len;
	BIO		*bio;
	EVP_PKEY	*pkey;
	int		 rc = -1;

	if ((pem = secret_read(path, WEB_KEY_MAX, &len, err,
	    sizeof(err))) == NULL) {
		yd_error(&c->yd, c->key, "'key_file': %s", err);
		return (-1);
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		fatalx("out of memory (BIO)");
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	secret_free(pem, len);
	if (pkey == NULL)
		yd_error(&c->yd, c->key, "'key_file': %s: no PEM private key "
		    "(%s)", path, ssl_err(err, sizeof(err)));
	else if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		if (ERR_GET_REASON(ERR_peek_error()) ==
		    X509_R_KEY_VALUES_MISMATCH ||
		    ERR_GET_REASON(ERR_peek_error()) ==
		    SSL_R_PRIVATE_KEY_MISMATCH) {
			ERR_clear_error();
			yd_error(&c->yd, c->key, "'key_file': %s does not "
			    "match the certificate", path);
		} else
			yd_error(&c->yd, c->key, "'key_file': %s: %s", path,
			    ssl_err(err, sizeof(err)));
	} else
		rc = 0;
	EVP_PKEY_free(pkey);
	return (rc);
}

/* tls_server_config, once its keys are known. */
static SSL_CTX *
tls_build(struct web_ctx *c, yaml_node_t *map)
{
	static const unsigned char	 sid[] = "netprobed";
	SSL_CTX				*ctx;
	char				*cert = NULL, *key = NULL, *ca = NULL;
	char				 err[256];
	const char			*type = "NoClientCert";
	int				 minv = TLS1_2_VERSION, maxv = 0, ok = 1;
	STACK_OF(X509_NAME)		*names;

	if (c->cert == NULL || c->key == NULL) {
		yd_error(&c->yd, map, "'tls_server_config' needs 'cert_file' "
		    "and 'key_file'");
		return (NULL);
	}
	if ((cert = yd_path(&c->yd, c->cert, "cert_file")) == NULL ||
	    (key = yd_path(&c->yd, c->key, "key_file")) == NULL)
		ok = 0;
	if (c->ca != NULL && (ca = yd_path(&c->yd, c->ca, "client_ca_file")) ==
	    NULL)
		ok = 0;
	if (c->auth_type != NULL && (type = yd_scalar(&c->yd, c->auth_type,
	    "client_auth_type", "a client auth type")) == NULL)
		ok = 0;
	if (c->minv != NULL && tls_version(c, c->minv, "min_version",
	    &minv) == -1)
		ok = 0;
	if (c->maxv != NULL && tls_version(c, c->maxv, "max_version",
	    &maxv) == -1)
		ok = 0;
	if (ok && maxv != 0 && maxv < minv) {
		yd_error(&c->yd, c->maxv, "'max_version' is lower than "
		    "'min_version'");
		ok = 0;
	}
	if (ok && strcmp(type, "NoClientCert") != 0 &&
	    strcmp(type, "RequireAndVerifyClientCert") != 0 &&
	    strcmp(type, "VerifyClientCertIfGiven") != 0) {
		/* RequestClientCert, RequireAnyClientCert verify nothing */
		yd_error(&c->yd, c->auth_type, "'client_auth_type' expects "
		    "NoClientCert, RequireAndVerifyClientCert or "
		    "VerifyClientCertIfGiven, got \"%s\"", type);
		ok = 0;
	}
	if (ok && strcmp(type, "NoClientCert") != 0 && ca == NULL) {
		yd_error(&c->yd, c->auth_type, "'client_auth_type' %s needs "
		    "'client_ca_file'", type);
		ok = 0;
	}
	if (ok && strcmp(type, "NoClientCert") == 0 && ca != NULL) {
		yd_error(&c->yd, c->ca, "'client_ca_file' is set but "
		    "'client_auth_type' is NoClientCert: say which");
		ok = 0;
	}
	ctx = NULL;
	if (!ok)
		goto out;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		fatalx("SSL_CTX_new: %s", ssl_err(err, sizeof(err)));
	SSL_CTX_set_min_proto_version(ctx, minv);
	if (maxv != 0)
		SSL_CTX_set_max_proto_version(ctx, maxv);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		yd_error(&c->yd, c->cert, "'cert_file': cannot load %s: %s",
		    cert, ssl_err(err, sizeof(err)));
		ok = 0;
	} else if (load_key(c, ctx, key) == -1)
		ok = 0;
	if (ok && ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
		    (names = SSL_load_client_CA_file(ca)) == NULL) {
			yd_error(&c->yd, c->ca, "'client_ca_file': cannot load "
			    "%s: %s", ca, ssl_err(err, sizeof(err)));
			ok = 0;
		} else
			SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, strcmp(type,
		    "RequireAndVerifyClientCert") == 0 ? SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER, NULL);
	}
	if (!ok) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
out:
	free(cert);
	free(key);
	free(ca);
	return (ctx);
}

static void
tls_key(struct yamldoc *yd, const char *key, yaml_node_t *v,
    yaml_node_t *k, void *arg)
{
	struct web_ctx	*c = (struct web_ctx *)yd;

	(void)k;
	(void)arg;
	if (strcmp(key, "cert_file") == 0)
		c->cert = v;
	else if (strcmp(key, "key_file") == 0)
		c->key = v;
	else if (strcmp(key, "client_ca_file") == 0)
		c->ca = v;
	else if (strcmp(key, "client_auth_type") == 0)
		c->auth_type = v;
	else if (strcmp(key, "min_version") == 0)
		c->minv = v;
	else if (strcmp(key, "max_version") == 0)
		c->maxv = v;
}

static int
user_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct web_user *)a)->name,
	    ((const struct web_user *)b)->name));
}

static void
parse_users(struct web_ctx *c, yaml_node_t *map)
{
	struct web_config	*wc = c->wc;
	yaml_node_pair_t	*p;
	const char		*name, *hash;
	size_t			 n;
	struct strindex		 seen;

	if (yd_is_null(map))
		return;
	if (yd_mapping_expect(&c->yd, map, "'basic_auth_users'") == -1)
		return;
	n = (size_t)(map->data.mapping.pairs.top -
	    map->data.mapping.pairs.start);
	if (n > WEB_MAX_USERS) {
		yd_error(&c->yd, map, "'basic_auth_users': more than %d users",
		    WEB_MAX_USERS);
		return;
	}
	wc->users = xcalloc(n ? n : 1, sizeof(*wc->users));
	memset(&seen, 0, sizeof(seen));
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		yaml_node_t	*kn = yd_node(&c->yd, p->key),
				*vn = yd_node(&c->yd, p->value);

		name = yd_scalar(&c->yd, kn, "basic_auth_users", "user names");
		hash = yd_scalar(&c->yd, vn, "basic_auth_users",
		    "a bcrypt hash");
		if (name == NULL || hash == NULL)
			continue;
		/* RFC 7617 2: the user-id cannot contain a colon */
		if (*name == '\0' || strchr(name, ':') != NULL) {
			yd_error(&c->yd, kn, "'basic_auth_users': a user name "
			    "must be non-empty and without ':'");
			continue;
		}
		if (strindex_add(&seen, name, wc->nusers) != -1) {
			yd_error(&c->yd, kn, "'basic_auth_users': user \"%s\" "
			    "is repeated", name);
			continue;
		}
		/* the hash itself is never echoed: it is a secret */
		if (strncmp(hash, "$2", 2) != 0 ||
		    crypt_checksalt(hash) != CRYPT_SALT_OK ||
		    strlen(hash) != 60) {
			yd_error(&c->yd, vn, "'basic_auth_users': the hash of "
			    "\"%s\" is not a bcrypt hash (make one with "
			    "htpasswd -nBC 10 %s)", name, name);
			continue;
		}
		wc->users[wc->nusers].name = xstrdup(name);
		wc->users[wc->nusers].hash = xstrdup(hash);
		wc->nusers++;
	}
	strindex_free(&seen);
	qsort(wc->users, wc->nusers, sizeof(*wc->users), user_cmp);
}

static void
web_key(struct yamldoc *yd, const char *key, yaml_node_t *v,
    yaml_node_t *k, void *arg)
{
	static const char *const tls_known[] = { "cert_file", "key_file",
	    "client_ca_file", "client_auth_type", "min_version",
	    "max_version" };
	struct web_ctx	*c = (struct web_ctx *)yd;

	(void)k;
	(void)arg;
	if (strcmp(key, "basic_auth_users") == 0) {
		parse_users(c, v);
		return;
	}
	/* tls_server_config */
	if (yd_is_null(v))
		return;
	if (yd_mapping_expect(yd, v, "'tls_server_config'") == -1)
		return;
	yd_mapping_walk(yd, v, tls_known, NP_NELEM(tls_known), NULL, tls_key,
	    NULL, "'tls_server_config'", NULL);
	if (yd->errs->n == c->nerr0)
		c->wc->tls = tls_build(c, v);
}

static void
web_root(struct yamldoc *yd, yaml_node_t *root)
{
	static const char *const known[] = { "tls_server_config",
	    "basic_auth_users" };

	if (yd_mapping_expect(yd, root, "the web configuration") == -1)
		return;
	yd_mapping_walk(yd, root, known, NP_NELEM(known), NULL, web_key, NULL,
	    "the web configuration", NULL);
}

struct web_config *
web_config_load(struct yamldoc *parent, yaml_node_t *at, const char *path)
{
	struct web_ctx	 c;
	char		*text, err[512];
	size_t		 len, nerr = parent->errs->n;

	/* it holds password hashes: a secret file */
	if ((text = secret_read(path, WEB_CONFIG_MAX, &len, err,
	    sizeof(err))) == NULL) {
		yd_error(parent, at, "'web_config_file': %s", err);
		return (NULL);
	}
	memset(&c, 0, sizeof(c));
	c.yd.file = path;
	c.yd.errs = parent->errs;
	c.nerr0 = nerr;
	c.wc = xcalloc(1, sizeof(*c.wc));
	c.wc->path = xstrdup(path);
	(void)yd_load(&c.yd, text, len, web_root);
	secret_free(text, len);
	if (parent->errs->n > nerr) {
		web_config_free(c.wc);
		return (NULL);
	}
	return (c.wc);
}

void
web_config_free(struct web_config *wc)
{
	size_t	i;

	if (wc == NULL)
		return;
	for (i = 0; i < wc->nusers; i++) {
		free(wc->users[i].name);
		secret_free(wc->users[i].hash, strlen(wc->users[i].hash));
	}
	free(wc->users);
	SSL_CTX_free(wc->tls);
	free(wc->path);
	free(wc);
}

const char *
web_user_hash(const struct web_config *wc, const char *name)
{
	struct web_user	 key, *u;

	if (wc == NULL || wc->nusers == 0)
		return (NULL);
	key.name = (char *)(uintptr_t)name;
	u = bsearch(&key, wc->users, wc->nusers, sizeof(*wc->users), user_cmp);
	return (u != NULL ? u->hash : NULL);
}
