/*
 * net-snmp, set up once per process for the notifier (the AgentX
 * sub-agent, daemon/agentx.c, does not use net-snmp): kept away from
 * /etc/snmp, /var/lib/snmp and MIB files (the daemon works with numeric
 * OIDs), its log lines sent to ours.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "daemon/snmp.h"

static int	lib_ready;
static char	lib_tmpdir[64];

static int
logcb(int major, int minor, void *serverarg, void *clientarg)
{
	const struct snmp_log_message	*m = serverarg;
	char				 buf[512];
	size_t				 n;

	(void)major;
	(void)minor;
	(void)clientarg;
	if (m == NULL || m->msg == NULL)
		return (0);
	snprintf(buf, sizeof(buf), "%s", m->msg);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0)
		return (0);
	if (m->priority <= LOG_ERR)
		log_warnx("net-snmp: %s", buf);
	else
		log_debug("net-snmp: %s", buf);
	return (0);
}

void
snmp_lib_init(const char *state_dir)
{
	if (lib_ready)
		return;
	lib_ready = 1;
	/* no MIB files: else ~250 lines of "Cannot find module" */
	setenv("MIBS", "", 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
	    NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
	    NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
	    NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
	    NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	/* the library writes cert_indexes/ there at init, whatever we say */
	if (state_dir == NULL) {
		snprintf(lib_tmpdir, sizeof(lib_tmpdir),
		    "/tmp/netprobed-snmp.XXXXXX");
		if (mkdtemp(lib_tmpdir) == NULL)
			lib_tmpdir[0] = '\0';
		state_dir = lib_tmpdir[0] ? lib_tmpdir : "/nonexistent";
	}
	netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID,
	    NETSNMP_DS_LIB_PERSISTENT_DIR, state_dir);
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING,
	    logcb, NULL);
	snmp_enable_calllog();
	init_snmp("netprobed");
}

/* The temporary state directory, removed at exit (cert_indexes/ in it). */
void
snmp_lib_shutdown(void)
{
	char	path[128];

	if (!lib_ready)
		return;
	snmp_shutdown("netprobed");
	if (lib_tmpdir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/cert_indexes", lib_tmpdir);
		(void)rmdir(path);
		(void)rmdir(lib_tmpdir);
	}
	lib_ready = 0;
}
