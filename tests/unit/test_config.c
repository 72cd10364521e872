/*
 * Unit tests for the configuration loader (daemon/config.c).
 *
 * The bad-config table pins the exact first message of each mistake,
 * position included, so a change in wording or a drifting LINE:COL shows
 * up here.  Columns are 1-based and count characters, not bytes.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/netprobed.h"
#include "probes/probe.h"
#include "rules/rule_file.h"

#define NAME	"t.yaml"

struct bad_case {
	const char	*what;
	const char	*yaml;
	size_t		 nerr;		/* expected number of errors */
	const char	*first;		/* exact errs.msg[0] */
	const char	*second;	/* exact errs.msg[1], or NULL */
};

static const struct bad_case bad_cases[] = {
	{ "snmp: unknown key",
	    "snmp:\n  manager: []\n",
	    1,
	    "t.yaml:2:3: unknown key 'manager' in snmp (known: base_oid, "
	    "engine_id, state_dir, alert_spacing, rate_limit, agentx, "
	    "managers)", NULL },
	/* found by fuzz_config: an entry without a name crashed the
	 * duplicate-name check */
	{ "snmp: a manager entry that is not a mapping",
	    "snmp:\n  managers:\n    - {name: a, address: \"127.0.0.1:162\", "
	    "community: c}\n    - 7\n",
	    1, "t.yaml:4:7: a manager must be a mapping, got a scalar", NULL },
	{ "snmp: bad base OID",
	    "snmp: {base_oid: 1.3.x}\n",
	    1,
	    "t.yaml:1:18: 'base_oid': invalid OID \"1.3.x\": expected digits "
	    "separated by dots", NULL },
	{ "snmp: agentx master with a host name",
	    "snmp: {agentx: 'tcp:localhost:705'}\n",
	    1,
	    "t.yaml:1:16: 'agentx': invalid master agent address "
	    "\"tcp:localhost:705\": expected unix:PATH, /PATH or tcp:IP:PORT "
	    "(an IP literal; names are never resolved)", NULL },
	{ "snmp: agentx over UDP",
	    "snmp: {agentx: 'udp:127.0.0.1:705'}\n",
	    1,
	    "t.yaml:1:16: 'agentx': invalid master agent address "
	    "\"udp:127.0.0.1:705\": AgentX runs over TCP or a unix socket, "
	    "not UDP", NULL },
	{ "snmp: agentx unix socket not absolute",
	    "snmp: {agentx: 'unix:master'}\n",
	    1,
	    "t.yaml:1:16: 'agentx': invalid master agent address "
	    "\"unix:master\": a unix socket path must be absolute", NULL },
	{ "snmp: manager without address",
	    "snmp:\n  managers:\n    - {name: a, community: public}\n",
	    1,
	    "t.yaml:3:7: a manager needs 'address' (IP:port)", NULL },
	{ "snmp: manager with a host name",
	    "snmp:\n  managers:\n    - {address: 'nms.example:162', "
	    "community: c}\n",
	    1,
	    "t.yaml:3:17: 'address': invalid address \"nms.example:162\": "
	    "expected an IPv4 or IPv6 address literal (names are not "
	    "resolved)",
	    NULL },
	{ "snmp: v2c without community",
	    "snmp:\n  managers:\n    - {address: '127.0.0.1:162'}\n",
	    1,
	    "t.yaml:3:7: manager 127.0.0.1:162: version 2c needs 'community' "
	    "or 'community_file'", NULL },
	{ "snmp: bad version",
	    "snmp:\n  managers:\n    - {address: '127.0.0.1:162', version: 1, "
	    "community: c}\n",
	    1,
	    "t.yaml:3:43: 'version' expects 2c or 3, got \"1\"", NULL },
	{ "snmp: v3 inform without the manager's engine ID",
	    "snmp:\n  managers:\n    - {address: '127.0.0.1:162', version: '3',"
	    " user: u, mode: inform}\n",
	    1,
	    "t.yaml:3:63: manager 127.0.0.1:162: v3 informs need the manager's "
	    "'engine_id'", NULL },
	{ "snmp: short USM passphrase",
	    "snmp:\n  managers:\n    - {address: '127.0.0.1:162', version: '3',"
	    " user: u, mode: trap, auth_protocol: SHA, auth_passphrase: short}\n",
	    1,
	    "t.yaml:3:7: manager 127.0.0.1:162: USM passphrases must be at "
	    "least 8 characters (RFC 3414)", NULL },
	{ "snmp: privacy without authentication",
	    "snmp:\n  managers:\n    - {address: '127.0.0.1:162', version: '3',"
	    " user: u, mode: trap, priv_protocol: AES, priv_passphrase: "
	    "longenough}\n",
	    1,
	    "t.yaml:3:84: manager 127.0.0.1:162: privacy needs authentication "
	    "('auth_protocol')", NULL },
	{ "snmp: bad engine ID",
	    "snmp: {engine_id: 0x8000}\n",
	    1,
	    "t.yaml:1:19: 'engine_id' expects 5 to 32 octets in hex, like "
	    "0x80001f8880aabbccddeeff0011", NULL },
	{ "snmp: duplicate manager names",
	    "snmp:\n  managers:\n    - {name: a, address: '127.0.0.1:162', "
	    "community: c}\n    - {name: a, address: '127.0.0.1:163', "
	    "community: c}\n",
	    1,
	    "t.yaml:4:7: duplicate manager name 'a'", NULL },
	{ "snmp: missing secret file",
	    "snmp:\n  managers:\n    - {address: '127.0.0.1:162', "
	    "community_file: /nonexistent/c}\n",
	    1,
	    "t.yaml:3:50: 'community_file': cannot open /nonexistent/c: No such "
	    "file or directory", NULL },
	{ "rule_files not a list",
	    "rule_files: {a: b}\n",
	    1,
	    "t.yaml:1:13: 'rule_files' expects a list of file names or "
	    "patterns, got a mapping", NULL },
	{ "rule_files entry not a scalar",
	    "rule_files:\n  - [a]\n",
	    1,
	    "t.yaml:2:5: 'rule_files' expects a file name or pattern, got a "
	    "sequence", NULL },
	{ "rule file missing",
	    "rule_files: [nope.yml, 'none-*.yml']\n",
	    1,
	    "t.yaml:1:14: 'rule_files': no such file: ./nope.yml", NULL },
	{ "evaluation interval too short",
	    "defaults: {evaluation_interval: 500ms}\n",
	    1,
	    "t.yaml:1:33: 'evaluation_interval' must be between 1s and 24h, "
	    "got 500ms", NULL },
	{ "unknown top-level key",
	    "sites:\n"
	    "  name: x\n",
	    1,
	    "t.yaml:1:1: unknown key 'sites' in the configuration "
	    "(known: site, listen, defaults, probes, rule_files, snmp, watchers, audit_log, user, web_config_file, state_file)", NULL },
	{ "unknown key in site",
	    "site:\n"
	    "  nme: x\n",
	    1,
	    "t.yaml:2:3: unknown key 'nme' in site (known: name, "
	    "display_name, labels)", NULL },
	{ "unknown key in defaults",
	    "defaults:\n"
	    "  intervall: 5s\n",
	    1,
	    "t.yaml:2:3: unknown key 'intervall' in defaults (known: "
	    "interval, timeout, evaluation_interval, histograms)", NULL },
	{ "unknown key in probe entry",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    cont: 3\n",
	    1,
	    "t.yaml:5:5: unknown key 'cont' in probe 'a' (known: name, "
	    "type, targets, target, interval, timeout, labels, source, "
	    "interface, fwmark, vrf, netns, expect, control, filter_hops, sweep, histograms; "
	    "icmp options: count, packet_interval, "
	    "size, dont_fragment, ttl)", NULL },
	{ "icmp option on a tcp probe",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    target: 127.0.0.1:22\n"
	    "    count: 3\n",
	    1,
	    "t.yaml:5:5: unknown key 'count' in probe 'a' (known: name,"
	    " type, targets, target, interval, timeout, labels, source,"
	    " interface, fwmark, vrf, netns, expect, control, filter_hops, sweep, histograms;"
	    " tcp options: port)", NULL },
	{ "duplicate top-level key",
	    "listen: 127.0.0.1:1\n"
	    "listen: 127.0.0.1:2\n",
	    1,
	    "t.yaml:2:1: duplicate key 'listen' (first at line 1)", NULL },
	{ "duplicate key in flow mapping",
	    "site: {name: a, name: a}\n",
	    1,
	    "t.yaml:1:17: duplicate key 'name' (first at line 1)", NULL },
	{ "duplicate key in probe entry",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    name: b\n"
	    "    target: 127.0.0.1\n",
	    1,
	    "t.yaml:4:5: duplicate key 'name' (first at line 2)", NULL },
	{ "probes as scalar",
	    "probes: icmp\n",
	    1,
	    "t.yaml:1:9: 'probes' must be a sequence of probe entries, "
	    "got a scalar", NULL },
	{ "probes as mapping",
	    "probes:\n"
	    "  a: 1\n",
	    1,
	    "t.yaml:2:3: 'probes' must be a sequence of probe entries, "
	    "got a mapping", NULL },
	{ "probes as quoted empty string",
	    "probes: \"\"\n",
	    1,
	    "t.yaml:1:9: 'probes' must be a sequence of probe entries, "
	    "got a scalar", NULL },
	{ "site as sequence",
	    "site:\n"
	    "  - a\n",
	    1,
	    "t.yaml:2:3: 'site' must be a mapping, got a sequence", NULL },
	{ "site as scalar",
	    "site: x\n",
	    1,
	    "t.yaml:1:7: 'site' must be a mapping, got a scalar", NULL },
	{ "defaults as scalar",
	    "defaults: 5s\n",
	    1,
	    "t.yaml:1:11: 'defaults' must be a mapping, got a scalar", NULL },
	{ "labels as sequence",
	    "site:\n"
	    "  labels:\n"
	    "    - a\n",
	    1,
	    "t.yaml:3:5: 'labels' must be a mapping, got a sequence", NULL },
	{ "probe entry as scalar",
	    "probes:\n"
	    "  - icmp\n",
	    1,
	    "t.yaml:2:5: a probe entry must be a mapping, got a scalar", NULL },
	{ "non-scalar key",
	    "? [a]\n"
	    ": 1\n",
	    1,
	    "t.yaml:1:3: keys must be scalars, got a sequence", NULL },
	{ "label value as sequence",
	    "site:\n"
	    "  labels:\n"
	    "    a: [x]\n",
	    1,
	    "t.yaml:3:8: 'a' expects a string value, got a sequence", NULL },
	{ "display_name as sequence",
	    "site:\n"
	    "  display_name: [x]\n",
	    1,
	    "t.yaml:2:17: 'display_name' expects a string, got a "
	    "sequence", NULL },
	{ "missing probe name",
	    "probes:\n"
	    "  - type: icmp\n"
	    "    target: 127.0.0.1\n",
	    1,
	    "t.yaml:2:5: probe entry has no 'name'", NULL },
	{ "missing probe name and targets",
	    "probes:\n"
	    "  - type: icmp\n",
	    2,
	    "t.yaml:2:5: probe entry has no 'name'",
	    "t.yaml:2:5: probe '?' has no 'targets'" },
	{ "missing probe type",
	    "probes:\n"
	    "  - name: a\n"
	    "    target: 127.0.0.1\n",
	    1,
	    "t.yaml:2:5: probe entry has no 'type'", NULL },
	{ "unknown probe type",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: udpp\n"
	    "    target: x\n"
	    "    bogus: 1\n",
	    1,
	    "t.yaml:3:11: unknown probe type \"udpp\" (known types: icmp, "
	    "tcp, ...", NULL },
	{ "duplicate probe names",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    target: 127.0.0.1:22\n",
	    1,
	    "t.yaml:5:5: duplicate probe name 'a' (first defined at "
	    "line 2)", NULL },
	{ "bad probe name",
	    "probes:\n"
	    "  - name: a b\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n",
	    1,
	    "t.yaml:2:11: probe name \"a b\" must be 1 to 64 letters, "
	    "digits, '-', '_' or '.'", NULL },
	{ "probe name as sequence",
	    "probes:\n"
	    "  - name: [a]\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n",
	    1,
	    "t.yaml:2:11: 'name' expects a string, got a sequence", NULL },
	{ "probe name with NUL",
	    "probes:\n"
	    "  - name: \"a\\0b\"\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n",
	    1,
	    "t.yaml:2:11: 'name' contains a NUL byte", NULL },
	{ "bad site name",
	    "site:\n"
	    "  name: my site\n",
	    1,
	    "t.yaml:2:9: site name \"my site\" must be 1 to 64 letters, "
	    "digits, '-', '_' or '.'", NULL },
	{ "empty site name",
	    "site:\n"
	    "  name: \"\"\n",
	    1,
	    "t.yaml:2:9: site name \"\" must be 1 to 64 letters, digits, "
	    "'-', '_' or '.'", NULL },
	{ "site name too long",
	    "site:\n"
	    "  name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    1,
	    "t.yaml:2:9: site name "
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" "
	    "must be 1 to 64 letters, digits, '-', '_' or '.'", NULL },
	{ "duration without unit",
	    "defaults:\n"
	    "  interval: 15\n",
	    1,
	    "t.yaml:2:13: 'interval' expects a duration like 10s or "
	    "500ms, got \"15\" (no unit; use ms, s, m, h, d or w)", NULL },
	{ "duration unknown unit",
	    "defaults:\n"
	    "  interval: 10x\n",
	    1,
	    "t.yaml:2:13: 'interval' expects a duration like 10s or "
	    "500ms, got \"10x\" (unknown unit; use ms, s, m, h, d or w)", NULL },
	{ "duration empty",
	    "defaults:\n"
	    "  interval: \"\"\n",
	    1,
	    "t.yaml:2:13: 'interval' expects a duration like 10s or "
	    "500ms, got \"\" (empty duration)", NULL },
	{ "duration units out of order",
	    "defaults:\n"
	    "  interval: 1s5m\n",
	    1,
	    "t.yaml:2:13: 'interval' expects a duration like 10s or "
	    "500ms, got \"1s5m\" (units out of order)", NULL },
	{ "duration negative",
	    "defaults:\n"
	    "  interval: -1s\n",
	    1,
	    "t.yaml:2:13: 'interval' expects a duration like 10s or "
	    "500ms, got \"-1s\" (expected a number)", NULL },
	{ "duration too long",
	    "defaults:\n"
	    "  interval: 721h\n",
	    1,
	    "t.yaml:2:13: 'interval' expects a duration like 10s or "
	    "500ms, got \"721h\" (duration too long (at most 720h))", NULL },
	{ "duration overflowing digits",
	    "defaults:\n"
	    "  interval: 99999999999999999999s\n",
	    1,
	    "t.yaml:2:13: 'interval' expects a duration like 10s or "
	    "500ms, got \"99999999999999999999s\" (duration too long (at "
	    "most 720h))", NULL },
	{ "interval below minimum",
	    "defaults:\n"
	    "  interval: 50ms\n",
	    1,
	    "t.yaml:2:13: 'interval' must be between 100ms and 24h, "
	    "got 50ms", NULL },
	{ "interval above maximum",
	    "defaults:\n"
	    "  interval: 25h\n",
	    1,
	    "t.yaml:2:13: 'interval' must be between 100ms and 24h, "
	    "got 25h", NULL },
	{ "timeout below minimum",
	    "defaults:\n"
	    "  timeout: 5ms\n",
	    1,
	    "t.yaml:2:12: 'timeout' must be between 10ms and 10m, got "
	    "5ms", NULL },
	{ "timeout above maximum",
	    "defaults:\n"
	    "  timeout: 11m\n",
	    1,
	    "t.yaml:2:12: 'timeout' must be between 10ms and 10m, got "
	    "11m", NULL },
	{ "probe timeout above maximum",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    timeout: 11m\n",
	    1,
	    "t.yaml:5:14: 'timeout' must be between 10ms and 10m, got "
	    "11m", NULL },
	{ "probe timeout equal to interval",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    interval: 1s\n"
	    "    timeout: 1s\n",
	    1,
	    "t.yaml:6:14: probe 'a': timeout (1s) must be shorter than "
	    "interval (1s)", NULL },
	{ "probe interval below default timeout",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    interval: 100ms\n",
	    1,
	    "t.yaml:5:15: probe 'a': timeout (2s) must be shorter than "
	    "interval (100ms)", NULL },
	{ "defaults timeout not below interval",
	    "defaults:\n"
	    "  interval: 1s\n"
	    "  timeout: 2s\n",
	    1,
	    "t.yaml:3:12: default timeout (2s) must be shorter than the"
	    " default interval (1s)", NULL },
	{ "defaults interval below built-in timeout",
	    "defaults:\n"
	    "  interval: 1s\n",
	    1,
	    "t.yaml:2:13: default timeout (2s, built in) must be "
	    "shorter than the default interval (1s)", NULL },
	{ "defaults timeout error reported once, not per probe",
	    "defaults:\n"
	    "  interval: 1s\n"
	    "  timeout: 2s\n"
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n",
	    1,
	    "t.yaml:3:12: default timeout (2s) must be shorter than the "
	    "default interval (1s)", NULL },
	{ "target hostname",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: gw.example\n",
	    1,
	    "t.yaml:4:13: invalid icmp target \"gw.example\": expected "
	    "an IPv4 or IPv6 address literal (names are not resolved)", NULL },
	{ "target bad IPv4",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 300.1.1.1\n",
	    1,
	    "t.yaml:4:13: invalid icmp target \"300.1.1.1\": expected an "
	    "IPv4 or IPv6 address literal (names are not resolved)", NULL },
	{ "tcp target without port",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    target: 127.0.0.1\n",
	    1,
	    "t.yaml:4:13: invalid tcp target \"127.0.0.1\": expected "
	    "HOST:PORT (a port is required)", NULL },
	{ "tcp target port 0",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    target: 127.0.0.1:0\n",
	    1,
	    "t.yaml:4:13: invalid tcp target \"127.0.0.1:0\": port must "
	    "be a number from 1 to 65535", NULL },
	{ "tcp target port 70000",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    target: 127.0.0.1:70000\n",
	    1,
	    "t.yaml:4:13: invalid tcp target \"127.0.0.1:70000\": port "
	    "must be a number from 1 to 65535", NULL },
	{ "icmp target with port",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1:80\n",
	    1,
	    "t.yaml:4:13: invalid icmp target \"127.0.0.1:80\": a port "
	    "is not allowed here", NULL },
	{ "unterminated IPv6 bracket",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    target: \"[::1\"\n",
	    1,
	    "t.yaml:4:13: invalid tcp target \"[::1\": missing ']' after "
	    "IPv6 address", NULL },
	{ "garbage after IPv6 bracket",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    target: \"[::1]x\"\n",
	    1,
	    "t.yaml:4:13: invalid tcp target \"[::1]x\": expected "
	    "':PORT' after ']'", NULL },
	{ "garbage after port",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    target: 1.2.3.4:80x\n",
	    1,
	    "t.yaml:4:13: invalid tcp target \"1.2.3.4:80x\": port must "
	    "be a number from 1 to 65535", NULL },
	{ "duplicate target",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    targets:\n"
	    "      - 127.0.0.1\n"
	    "      - ::1\n"
	    "      - 127.0.0.1\n",
	    1,
	    "t.yaml:7:9: duplicate target \"127.0.0.1\" in probe 'a'", NULL },
	{ "duplicate target, same canonical form",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    targets: [\"::1\", \"0:0::1\"]\n",
	    1,
	    "t.yaml:4:22: duplicate target \"0:0::1\" in probe 'a'", NULL },
	{ "empty target list",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    targets: []\n",
	    1,
	    "t.yaml:4:14: probe 'a' has an empty target list", NULL },
	{ "both target and targets",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    targets:\n"
	    "      - ::1\n",
	    1,
	    "t.yaml:5:5: give either 'target' or 'targets', not both", NULL },
	{ "no targets",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n",
	    1,
	    "t.yaml:2:5: probe 'a' has no 'targets'", NULL },
	{ "targets as mapping",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: {a: 1}\n",
	    1,
	    "t.yaml:4:13: 'targets' expects an address or a list of "
	    "addresses, got a mapping", NULL },
	{ "target list item as sequence",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    targets:\n"
	    "      - 127.0.0.1\n"
	    "      - [a]\n",
	    1,
	    "t.yaml:6:9: 'targets' expects an address, got a sequence", NULL },
	{ "label name starting with digit",
	    "site:\n"
	    "  labels:\n"
	    "    1abc: x\n",
	    1,
	    "t.yaml:3:5: invalid label name '1abc' (letters, digits "
	    "and '_', not starting with a digit or '__')", NULL },
	{ "label name starting with __",
	    "site:\n"
	    "  labels:\n"
	    "    __x: x\n",
	    1,
	    "t.yaml:3:5: invalid label name '__x' (letters, digits and "
	    "'_', not starting with a digit or '__')", NULL },
	{ "label name with dash",
	    "site:\n"
	    "  labels:\n"
	    "    a-b: x\n",
	    1,
	    "t.yaml:3:5: invalid label name 'a-b' (letters, digits and "
	    "'_', not starting with a digit or '__')", NULL },
	{ "reserved label probe",
	    "site:\n"
	    "  labels:\n"
	    "    probe: x\n",
	    1,
	    "t.yaml:3:5: label name 'probe' is reserved by netprobed", NULL },
	{ "reserved label target",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    labels:\n"
	    "      target: x\n",
	    1,
	    "t.yaml:6:7: label name 'target' is reserved by netprobed", NULL },
	{ "reserved label type",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    labels: {type: x}\n",
	    1,
	    "t.yaml:5:14: label name 'type' is reserved by netprobed", NULL },
	{ "reserved label le",
	    "site:\n"
	    "  labels:\n"
	    "    le: x\n",
	    1,
	    "t.yaml:3:5: label name 'le' is reserved by netprobed", NULL },
	{ "duplicate label",
	    "site:\n"
	    "  labels:\n"
	    "    a: x\n"
	    "    a: y\n",
	    1,
	    "t.yaml:4:5: duplicate label 'a'", NULL },
	{ "non-scalar label name",
	    "site:\n"
	    "  labels:\n"
	    "    [a]: x\n",
	    1,
	    "t.yaml:3:5: 'labels' expects label names, got a sequence", NULL },
	{ "icmp count 0",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    count: 0\n",
	    1,
	    "t.yaml:5:12: 'count' must be between 1 and 100, got 0", NULL },
	{ "icmp count 101",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    count: 101\n",
	    1,
	    "t.yaml:5:12: 'count' must be between 1 and 100, got 101", NULL },
	{ "icmp count negative",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    count: -1\n",
	    1,
	    "t.yaml:5:12: 'count' expects a whole number, got \"-1\"", NULL },
	{ "icmp count not a number",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    count: 3x\n",
	    1,
	    "t.yaml:5:12: 'count' expects a whole number, got \"3x\"", NULL },
	{ "icmp ttl 0",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    ttl: 0\n",
	    1,
	    "t.yaml:5:10: 'ttl' must be between 1 and 255, got 0", NULL },
	{ "bad bool dont_fragment",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    dont_fragment: maybe\n",
	    1,
	    "t.yaml:5:20: 'dont_fragment' expects true or false, got "
	    "\"maybe\"", NULL },
	{ "icmp packets do not fit in timeout",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    count: 10\n"
	    "    packet_interval: 500ms\n",
	    1,
	    "t.yaml:6:22: probe 'a': 10 packets 500ms apart do not fit "
	    "in the 2s timeout", NULL },
	{ "icmp source of the wrong family",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    source: ::1\n",
	    1,
	    "t.yaml:5:13: probe 'a': target 127.0.0.1 is not of the "
	    "source address's family", NULL },
	{ "interface name with a slash",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "    interface: eth0/1\n",
	    1,
	    "t.yaml:5:16: 'interface': \"eth0/1\" is not an interface name "
	    "(1 to 15 characters, no '/', ':' or spaces)", NULL },
	{ "interface name too long",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    target: 127.0.0.1:80\n"
	    "    interface: abcdefghijklmnop\n",
	    1,
	    "t.yaml:5:16: 'interface': \"abcdefghijklmnop\" is not an "
	    "interface name (1 to 15 characters, no '/', ':' or spaces)",
	    NULL },
	{ "fwmark zero",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    target: 127.0.0.1:80\n"
	    "    fwmark: 0\n",
	    1,
	    "t.yaml:5:13: 'fwmark' must be between 1 and 4294967295, got 0",
	    NULL },
	{ "tcp source of the wrong family",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    port: 22\n"
	    "    target: ::1\n"
	    "    source: 127.0.0.1\n",
	    1,
	    "t.yaml:6:13: probe 'a': target [::1]:22 is not of the "
	    "source address's family", NULL },
	{ "source with a port",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    target: 127.0.0.1:22\n"
	    "    source: 127.0.0.1:5\n",
	    1,
	    "t.yaml:5:13: 'source': invalid address \"127.0.0.1:5\": a "
	    "port is not allowed here", NULL },
	{ "tcp port option 0",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    port: 0\n"
	    "    target: 127.0.0.1\n",
	    2,
	    "t.yaml:4:11: 'port' must be between 1 and 65535, got 0",
	    "t.yaml:5:13: invalid tcp target \"127.0.0.1\": expected "
	    "HOST:PORT (a port is required)" },
	{ "listen on a hostname",
	    "listen: localhost:9560\n",
	    1,
	    "t.yaml:1:9: 'listen': invalid address \"localhost:9560\": "
	    "expected an IPv4 or IPv6 address literal (names are not "
	    "resolved)", NULL },
	{ "listen without port",
	    "listen: 127.0.0.1\n",
	    1,
	    "t.yaml:1:9: 'listen': invalid address \"127.0.0.1\": "
	    "expected HOST:PORT (a port is required)", NULL },
	{ "listen unterminated bracket",
	    "listen: \"[::1\"\n",
	    1,
	    "t.yaml:1:9: 'listen': invalid address \"[::1\": missing ']' "
	    "after IPv6 address", NULL },
	{ "YAML unclosed bracket",
	    "probes: [\n",
	    1,
	    "t.yaml:2:1: YAML syntax error: did not find expected node "
	    "content while parsing a flow node", NULL },
	{ "YAML unclosed flow sequence",
	    "key: [a, b\n"
	    "other: c\n",
	    1,
	    "t.yaml:2:6: YAML syntax error: did not find expected ',' "
	    "or ']' while parsing a flow sequence (started at line 1, "
	    "column 6)", NULL },
	{ "YAML bad indentation",
	    "site:\n"
	    "  name: a\n"
	    " labels: {}\n",
	    1,
	    "t.yaml:3:2: YAML syntax error: did not find expected key "
	    "while parsing a block mapping (started at line 1, column "
	    "1)", NULL },
	{ "YAML tab indentation",
	    "\t- a\n",
	    1,
	    "t.yaml:1:1: YAML syntax error: found character that "
	    "cannot start any token while scanning for the next token", NULL },
	{ "YAML unquoted ::1 in flow sequence",
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    targets: [127.0.0.1, ::1]\n",
	    1,
	    "t.yaml:4:26: YAML syntax error: did not find expected "
	    "node content while parsing a flow node", NULL },
	{ "empty file",
	    "",
	    1,
	    "t.yaml:1:1: the configuration is empty", NULL },
	{ "comment-only file",
	    "# nothing here\n",
	    1,
	    "t.yaml:1:1: the configuration is empty", NULL },
	{ "second YAML document",
	    "site:\n"
	    "  name: a\n"
	    "---\n"
	    "site:\n"
	    "  name: b\n",
	    1,
	    "t.yaml:3:1: only one YAML document is allowed", NULL },
	{ "second empty YAML document",
	    "site: {name: a}\n"
	    "--- \n",
	    1,
	    "t.yaml:2:1: only one YAML document is allowed", NULL },
	{ "syntax error in second document",
	    "site: {name: a}\n"
	    "---\n"
	    "[\n",
	    1,
	    "t.yaml:4:1: YAML syntax error: did not find expected node "
	    "content while parsing a flow node", NULL },
	{ "document after end marker",
	    "site: {name: a}\n"
	    "...\n"
	    "listen: 127.0.0.1:1\n",
	    1,
	    "t.yaml:3:1: YAML syntax error: did not find expected "
	    "<document start>", NULL },
	{ "root is a sequence",
	    "- a\n",
	    1,
	    "t.yaml:1:1: the configuration must be a mapping of keys "
	    "(site, listen, defaults, probes, rule_files, snmp, watchers, audit_log, user, web_config_file, state_file), got a sequence", NULL },
	{ "root is a scalar",
	    "hello\n",
	    1,
	    "t.yaml:1:1: the configuration must be a mapping of keys "
	    "(site, listen, defaults, probes, rule_files, snmp, watchers, audit_log, user, web_config_file, state_file), got a scalar", NULL },
	{ "column counts characters after UTF-8",
	    "site: {display_name: 中文中文, nme: x}\n",
	    1,
	    "t.yaml:1:28: unknown key 'nme' in site (known: name, "
	    "display_name, labels)", NULL },
};

static struct np_config *
load(const char *text, struct cfg_errors *errs)
{
	return (config_load_string(NAME, text, strlen(text), errs));
}

/* Load text that must be valid; fail with every message if it is not. */
static struct np_config *
load_ok(const char *text)
{
	struct cfg_errors	 errs;
	struct np_config	*conf;
	size_t			 i;

	conf = load(text, &errs);
	for (i = 0; i < errs.n; i++)
		print_error("unexpected: %s\n", errs.msg[i]);
	cfg_errors_free(&errs);
	assert_non_null(conf);
	return (conf);
}

static void
test_bad_config(void **state)
{
	const struct bad_case	*bc = *state;
	struct cfg_errors	 errs;
	struct np_config	*conf;
	size_t			 i;

	conf = load(bc->yaml, &errs);
	if (conf != NULL) {
		config_free(conf);
		cfg_errors_free(&errs);
		fail_msg("%s: config was accepted", bc->what);
	}
	if (errs.n != bc->nerr) {
		for (i = 0; i < errs.n; i++)
			print_error("got: %s\n", errs.msg[i]);
		cfg_errors_free(&errs);
		fail_msg("%s: expected %zu error(s)", bc->what, bc->nerr);
	}
	/* "..." at the end: a prefix (lists that grow with the types) */
	if (strlen(bc->first) > 3 &&
	    strcmp(bc->first + strlen(bc->first) - 3, "...") == 0)
		assert_memory_equal(errs.msg[0], bc->first,
		    strlen(bc->first) - 3);
	else
		assert_string_equal(errs.msg[0], bc->first);
	if (bc->second != NULL)
		assert_string_equal(errs.msg[1], bc->second);
	cfg_errors_free(&errs);
}

/* Several independent mistakes: every one is reported, not the first. */
static void
test_errors_collected(void **state)
{
	static const char *const want[] = {
		NAME ":2:1: unknown key 'sites' in the configuration "
		    "(known: site, listen, defaults, probes, rule_files, snmp, watchers, audit_log, user, web_config_file, state_file)",
		NAME ":4:9: site name \"my site\" must be 1 to 64 letters, "
		    "digits, '-', '_' or '.'",
		NAME ":6:5: label name 'le' is reserved by netprobed",
		NAME ":8:13: 'interval' expects a duration like 10s or "
		    "500ms, got \"15\" (no unit; use ms, s, m, h, d or w)",
		NAME ":13:12: 'count' must be between 1 and 100, got 0",
		NAME ":12:13: invalid icmp target \"gw.example\": expected "
		    "an IPv4 or IPv6 address literal (names are not "
		    "resolved)",
		NAME ":16:13: invalid tcp target \"127.0.0.1\": expected "
		    "HOST:PORT (a port is required)",
		NAME ":17:5: duplicate probe name 'a' (first defined at "
		    "line 10)",
	};
	static const char text[] =
	    "listen: 127.0.0.1:9560\n"
	    "sites: x\n"
	    "site:\n"
	    "  name: my site\n"
	    "  labels:\n"
	    "    le: x\n"
	    "defaults:\n"
	    "  interval: 15\n"
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: gw.example\n"
	    "    count: 0\n"
	    "  - name: b\n"
	    "    type: tcp\n"
	    "    target: 127.0.0.1\n"
	    "  - name: a\n"
	    "    type: tcp\n"
	    "    target: 127.0.0.1:22\n";
	struct cfg_errors	 errs;
	size_t			 i;

	(void)state;
	assert_null(load(text, &errs));
	assert_int_equal(errs.n, NP_NELEM(want));
	for (i = 0; i < NP_NELEM(want); i++)
		assert_string_equal(errs.msg[i], want[i]);
	cfg_errors_free(&errs);
	assert_int_equal(errs.n, 0);
	assert_null(errs.msg);
}

/* Entries that are not mappings: reported, never a crash. */
static void
test_non_mapping_entries(void **state)
{
	static const char text[] =
	    "probes:\n"
	    "  - name: a\n"
	    "    type: icmp\n"
	    "    target: 127.0.0.1\n"
	    "  - icmp\n"
	    "  - tcp\n";
	struct cfg_errors	 errs;

	(void)state;
	assert_null(load(text, &errs));
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.msg[0], NAME ":5:5: a probe entry must be "
	    "a mapping, got a scalar");
	assert_string_equal(errs.msg[1], NAME ":6:5: a probe entry must be "
	    "a mapping, got a scalar");
	cfg_errors_free(&errs);
}

/* The value of a type option, found through the type's own table. */
static const void *
opt_ptr(const struct probe_cfg *p, const char *name)
{
	size_t	i;

	for (i = 0; i < p->type->nopts; i++)
		if (strcmp(p->type->opts[i].name, name) == 0)
			return ((const char *)p->opts + p->type->opts[i].off);
	fail_msg("type %s has no option %s", p->type->name, name);
	return (NULL);
}

static uint64_t
opt_uint(const struct probe_cfg *p, const char *name)
{
	return (*(const uint64_t *)opt_ptr(p, name));
}

static void
assert_addr(const struct np_addr *a, int with_port, const char *want)
{
	char	buf[NP_ADDRSTRLEN];

	format_addr(a, with_port, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static const char good_full[] =
    "# a full configuration\n"
    "site:\n"
    "  name: lab-1.east\n"
    "  display_name: \"网络探测 实验室\"\n"
    "  labels:\n"
    "    zone: east\n"
    "    env: test\n"
    "    az: a1\n"
    "listen: \"[::1]:9560\"\n"
    "defaults:\n"
    "  interval: 30s\n"
    "  timeout: 3s\n"
    "probes:\n"
    "  - name: ping-gw\n"
    "    type: icmp\n"
    "    targets:\n"
    "      - 127.0.0.1\n"
    "      - 127.0.0.2\n"
    "    interval: 5s\n"
    "    count: 5\n"
    "    packet_interval: 200ms\n"
    "    size: 100\n"
    "    dont_fragment: true\n"
    "    ttl: 64\n"
    "    source: 127.0.0.1\n"
    "    labels:\n"
    "      role: gateway\n"
    "      building: b2\n"
    "  - name: ssh\n"
    "    type: tcp\n"
    "    port: 22\n"
    "    targets: [127.0.0.1, \"::1\"]\n"
    "    timeout: 1s\n"
    "  - name: web\n"
    "    type: tcp\n"
    "    targets:\n"
    "      - 127.0.0.1:80\n"
    "      - \"[::1]:443\"\n"
    "      - \"[0:0::2]:8080\"\n";

static void
test_good_full(void **state)
{
	struct np_config	*conf;
	const struct probe_cfg	*p;

	(void)state;
	conf = load_ok(good_full);
	assert_string_equal(conf->path, NAME);
	assert_string_equal(conf->site_name, "lab-1.east");
	assert_string_equal(conf->site_display_name, "网络探测 实验室");
	/* labels come back sorted by name */
	assert_int_equal(conf->site_labels.n, 3);
	assert_string_equal(conf->site_labels.v[0].name, "az");
	assert_string_equal(conf->site_labels.v[0].value, "a1");
	assert_string_equal(conf->site_labels.v[1].name, "env");
	assert_string_equal(conf->site_labels.v[1].value, "test");
	assert_string_equal(conf->site_labels.v[2].name, "zone");
	assert_string_equal(conf->site_labels.v[2].value, "east");
	assert_int_equal(conf->listen.ss.ss_family, AF_INET6);
	assert_int_equal(addr_port(&conf->listen), 9560);
	assert_addr(&conf->listen, 1, "[::1]:9560");
	assert_int_equal(conf->default_interval_ms, 30000);
	assert_int_equal(conf->default_timeout_ms, 3000);
	assert_int_equal(conf->nprobes, 3);

	/* icmp: its own interval, the default timeout, every option */
	p = &conf->probes[0];
	assert_string_equal(p->name, "ping-gw");
	assert_ptr_equal(p->type, &probe_type_icmp);
	assert_int_equal(p->line, 14);
	assert_int_equal(p->interval_ms, 5000);
	assert_int_equal(p->timeout_ms, 3000);
	assert_int_equal(p->ntargets, 2);
	assert_string_equal(p->targets[0], "127.0.0.1");
	assert_string_equal(p->targets[1], "127.0.0.2");
	assert_addr(&p->addrs[1], 0, "127.0.0.2");
	assert_int_equal(opt_uint(p, "count"), 5);
	assert_int_equal(opt_uint(p, "packet_interval"), 200);
	assert_int_equal(opt_uint(p, "size"), 100);
	assert_int_equal(opt_uint(p, "ttl"), 64);
	assert_int_equal(*(const int *)opt_ptr(p, "dont_fragment"), 1);
	assert_addr(&p->net.source, 0, "127.0.0.1");
	assert_int_equal(p->labels.n, 2);
	assert_string_equal(p->labels.v[0].name, "building");
	assert_string_equal(p->labels.v[0].value, "b2");
	assert_string_equal(p->labels.v[1].name, "role");
	assert_string_equal(p->labels.v[1].value, "gateway");

	/* tcp with a port option and bare targets: the default interval */
	p = &conf->probes[1];
	assert_string_equal(p->name, "ssh");
	assert_ptr_equal(p->type, &probe_type_tcp);
	assert_int_equal(p->line, 29);
	assert_int_equal(p->interval_ms, 30000);
	assert_int_equal(p->timeout_ms, 1000);
	assert_int_equal(opt_uint(p, "port"), 22);
	assert_int_equal(p->ntargets, 2);
	assert_string_equal(p->targets[0], "127.0.0.1:22");
	assert_string_equal(p->targets[1], "[::1]:22");
	assert_int_equal(addr_port(&p->addrs[1]), 22);
	assert_int_equal(p->labels.n, 0);

	/* tcp with HOST:PORT targets, canonicalised; both defaults */
	p = &conf->probes[2];
	assert_string_equal(p->name, "web");
	assert_int_equal(p->interval_ms, 30000);
	assert_int_equal(p->timeout_ms, 3000);
	assert_int_equal(p->ntargets, 3);
	assert_string_equal(p->targets[0], "127.0.0.1:80");
	assert_string_equal(p->targets[1], "[::1]:443");
	assert_string_equal(p->targets[2], "[::2]:8080");
	assert_int_equal(addr_port(&p->addrs[2]), 8080);

	assert_ptr_equal(config_find_probe(conf, "ssh"), &conf->probes[1]);
	assert_ptr_equal(config_find_probe(conf, "web"), &conf->probes[2]);
	assert_null(config_find_probe(conf, "nope"));
	assert_null(config_find_probe(conf, "SSH"));
	config_free(conf);
}

/* Built-in defaults apply when nothing is said; icmp option defaults. */
static void
test_good_minimal(void **state)
{
	struct np_config	*conf;
	const struct probe_cfg	*p;

	(void)state;
	conf = load_ok("probes:\n"
	    "  - name: lo\n"
	    "    type: icmp\n"
	    "    targets: 127.0.0.1\n");
	assert_string_equal(conf->site_name, "default");
	assert_null(conf->site_display_name);
	assert_int_equal(conf->site_labels.n, 0);
	assert_addr(&conf->listen, 1, NP_DEFAULT_LISTEN);
	assert_int_equal(conf->default_interval_ms, NP_DEFAULT_INTERVAL_MS);
	assert_int_equal(conf->default_timeout_ms, NP_DEFAULT_TIMEOUT_MS);
	assert_int_equal(conf->nprobes, 1);
	p = &conf->probes[0];
	/* a scalar `targets` is a list of one */
	assert_int_equal(p->ntargets, 1);
	assert_string_equal(p->targets[0], "127.0.0.1");
	assert_int_equal(p->interval_ms, NP_DEFAULT_INTERVAL_MS);
	assert_int_equal(p->timeout_ms, NP_DEFAULT_TIMEOUT_MS);
	assert_int_equal(opt_uint(p, "count"), 3);
	assert_int_equal(opt_uint(p, "packet_interval"), 100);
	assert_int_equal(opt_uint(p, "size"), 56);
	assert_int_equal(*(const int *)opt_ptr(p, "dont_fragment"), 0);
	assert_ptr_equal(config_find_probe(conf, "lo"), p);
	config_free(conf);

	/* `target:` (singular) and "[::1]" without a port for icmp */
	conf = load_ok("probes:\n"
	    "  - name: lo6\n"
	    "    type: icmp\n"
	    "    target: \"[::1]\"\n");
	assert_string_equal(conf->probes[0].targets[0], "::1");
	config_free(conf);
}

static void
test_good_no_probes(void **state)
{
	static const char *const texts[] = {
		"probes:\n",
		"probes: ~\n",
		"probes: null\n",
		"probes: []\n",
		"site:\n  name: quiet\nprobes:\n",
		"site: {name: x}\n",
	};
	struct np_config	*conf;
	size_t			 i;

	(void)state;
	for (i = 0; i < NP_NELEM(texts); i++) {
		conf = load_ok(texts[i]);
		assert_int_equal(conf->nprobes, 0);
		assert_null(config_find_probe(conf, "x"));
		config_free(conf);
	}
}

static void
test_load_file_missing(void **state)
{
	static const char path[] = "/nonexistent/netprobed-test/np.yaml";
	struct cfg_errors	 errs;

	(void)state;
	assert_null(config_load_file(path, &errs));
	assert_int_equal(errs.n, 1);
	assert_memory_equal(errs.msg[0], path, strlen(path));
	assert_int_equal(errs.msg[0][strlen(path)], ':');
	assert_non_null(strstr(errs.msg[0], "cannot open"));
	cfg_errors_free(&errs);
}

static void
test_load_file(void **state)
{
	char			 path[] = "/tmp/np-test-config-XXXXXX";
	struct cfg_errors	 errs;
	struct np_config	*conf;
	size_t			 len = strlen(good_full);
	int			 fd;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, good_full, len), (ssize_t)len);
	close(fd);
	conf = config_load_file(path, &errs);
	assert_int_equal(errs.n, 0);
	assert_non_null(conf);
	assert_string_equal(conf->path, path);
	assert_int_equal(conf->nprobes, 3);
	config_free(conf);

	/* errors name the file */
	assert_true((fd = open(path, O_WRONLY | O_TRUNC)) != -1);
	assert_int_equal(write(fd, "site: x\n", 8), 8);
	close(fd);
	assert_null(config_load_file(path, &errs));
	unlink(path);
	assert_int_equal(errs.n, 1);
	assert_memory_equal(errs.msg[0], path, strlen(path));
	assert_string_equal(errs.msg[0] + strlen(path),
	    ":1:7: 'site' must be a mapping, got a scalar");
	cfg_errors_free(&errs);
}

/* rule_files: globs, duplicates, and a bad rule file's own positions. */
static void
test_rule_files(void **state)
{
	char			 dir[] = "/tmp/np-rules-XXXXXX", path[300];
	char			*text;
	struct cfg_errors	 errs;
	struct np_config	*conf;
	FILE			*f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.yml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("groups:\n- name: a\n  rules:\n  - record: x\n    expr: up\n",
	    f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/b.yml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("groups: []\n", f);
	fclose(f);
	xasprintf(&text, "defaults: {evaluation_interval: 30s}\n"
	    "rule_files: ['%s/*.yml', '%s/a.yml', '%s/none-*']\n", dir, dir,
	    dir);
	conf = load_ok(text);
	assert_int_equal(conf->nrule_files, 2);
	assert_int_equal(conf->evaluation_interval_ms, 30000);
	assert_int_equal(conf->rule_files[0]->ngroups, 1);
	config_free(conf);
	free(text);
	conf = load_ok("probes: []\n");
	assert_int_equal(conf->nrule_files, 0);
	assert_int_equal(conf->evaluation_interval_ms, NP_DEFAULT_EVAL_MS);
	config_free(conf);

	/* a bad expression: the config fails with the rule file's column */
	snprintf(path, sizeof(path), "%s/a.yml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("groups:\n- name: a\n  rules:\n  - record: x\n"
	    "    expr: sum(up) by\n", f);
	fclose(f);
	xasprintf(&text, "rule_files: ['%s/a.yml']\n", dir);
	conf = load(text, &errs);
	assert_null(conf);
	assert_int_equal(errs.n, 1);
	snprintf(path, sizeof(path), "%s/a.yml:5:21: ", dir);
	assert_memory_equal(errs.msg[0], path, strlen(path));
	cfg_errors_free(&errs);
	free(text);
	snprintf(path, sizeof(path), "%s/a.yml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b.yml", dir);
	unlink(path);
	rmdir(dir);
}

static const struct CMUnitTest other_tests[] = {
	cmocka_unit_test(test_rule_files),
	cmocka_unit_test(test_errors_collected),
	cmocka_unit_test(test_non_mapping_entries),
	cmocka_unit_test(test_good_full),
	cmocka_unit_test(test_good_minimal),
	cmocka_unit_test(test_good_no_probes),
	cmocka_unit_test(test_load_file_missing),
	cmocka_unit_test(test_load_file),
};

int
main(void)
{
	/* one named case per table row, so TAP counts each */
	struct CMUnitTest	tests[NP_NELEM(bad_cases) + NP_NELEM(other_tests)];
	size_t			i;

	for (i = 0; i < NP_NELEM(bad_cases); i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = bad_cases[i].what;
		tests[i].test_func = test_bad_config;
		tests[i].initial_state = (void *)&bad_cases[i];
	}
	for (i = 0; i < NP_NELEM(other_tests); i++)
		tests[NP_NELEM(bad_cases) + i] = other_tests[i];
	return (cmocka_run_group_tests_name("config", tests, NULL, NULL));
}
