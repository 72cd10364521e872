/*
 * Dropping root: a daemon started as root (outside systemd, whose unit
 * starts it as its own user with CAP_NET_RAW) opens what needs root --
 * the HTTP listener below 1024, the capture handles -- and then becomes
 * the configured user, keeping only the capabilities the configuration
 * needs: CAP_NET_RAW always (raw ICMP, the isolation observer, reopening
 * a capture, SO_BINDTODEVICE), CAP_NET_ADMIN for fwmark: (SO_MARK),
 * CAP_SYS_ADMIN for netns: (setns).  No library: prctl(2) and capset(2).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <linux/capability.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"

/* The capabilities conf needs, as a CAP_* bit mask. */
uint64_t
priv_needed(const struct np_config *conf)
{
	uint64_t	caps = (uint64_t)1 << CAP_NET_RAW;
	size_t		i;

	for (i = 0; i < conf->nprobes; i++) {
		if (conf->probes[i].net.fwmark != 0)
			caps |= (uint64_t)1 << CAP_NET_ADMIN;
		if (conf->probes[i].net.netns[0] != '\0')
			caps |= (uint64_t)1 << CAP_SYS_ADMIN;
	}
	return (caps);
}

int
priv_drop(const char *user, uint64_t caps, char *err, size_t len)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];
	struct passwd			*pw;
	gid_t				 gid;
	uid_t				 uid;
	int				 c;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, len, "user %s: %s", user,
		    errno ? strerror(errno) : "no such user");
		return (-1);
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0) {
		snprintf(err, len, "user %s is root: nothing to drop", user);
		return (-1);
	}
	/* what is not kept can never come back, not even by exec */
	for (c = 0; c <= CAP_LAST_CAP; c++)
		if (!(caps & ((uint64_t)1 << c)) &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1 && errno != EINVAL) {
			snprintf(err, len, "PR_CAPBSET_DROP: %s",
			    strerror(errno));
			return (-1);
		}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1 ||
	    setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		snprintf(err, len, "becoming %s (%u:%u): %s", user,
		    (unsigned)uid, (unsigned)gid, strerror(errno));
		return (-1);
	}
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	data[0].effective = data[0].permitted = (uint32_t)caps;
	data[1].effective = data[1].permitted = (uint32_t)(caps >> 32);
	if (syscall(SYS_capset, &hdr, data) == -1) {
		snprintf(err, len, "capset: %s", strerror(errno));
		return (-1);
	}
	(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	/* the point of no return: root must be gone for good */
	if (setuid(0) == 0 || geteuid() == 0) {
		snprintf(err, len, "could regain root after dropping it");
		return (-1);
	}
	log_info("running as %s (uid %u) with CAP_NET_RAW%s%s", user,
	    (unsigned)uid, caps & ((uint64_t)1 << CAP_NET_ADMIN) ?
	    ", CAP_NET_ADMIN" : "", caps & ((uint64_t)1 << CAP_SYS_ADMIN) ?
	    ", CAP_SYS_ADMIN" : "");
	return (0);
}
