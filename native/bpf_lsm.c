// SPDX-License-Identifier: Apache-2.0
/*
 * varmor_bpf: N-API addon around the BPF enforcer's loader (loader.c: attach/adopt/pin, the
 * table store with its generation swap, bindings, the event ring buffer, stats, probe). This
 * file only reads JavaScript arguments, builds JavaScript values and throws: errors are Error
 * objects whose `code` is the errno name (EPERM, EINVAL, ENOENT, ...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/klog.h>
#include <node_api.h>

#include "loader.h"

struct event_buf {
	napi_env env;
	napi_value arr;
	uint32_t n, max;
};

/* One BpfEnforcer: the loader and the env that owns it. */
struct enforcer {
	struct vt_loader l;
	napi_env env;
};

/* ---- errors --------------------------------------------------------------------------- */

static napi_value throw_err(napi_env env, int err, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	const char *name;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err < 0)
		err = -err;
	name = strerrorname_np(err);
	napi_throw_error(env, name ? name : "EIO", msg);
	return NULL;
}

/* Throws what the loader reported. */
static napi_value throw_vt(napi_env env, const struct vt_err *err)
{
	return throw_err(env, err->code ? err->code : EIO, "%s", err->msg);
}

/* ---- argument helpers ------------------------------------------------------------------ */

static bool get_u32(napi_env env, napi_value v, uint32_t *out, const char *what)
{
	double d;
	if (napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d > 4294967295.0 || d != (double)(uint32_t)d) {
		throw_err(env, EINVAL, "%s must be an unsigned 32-bit integer", what);
		return false;
	}
	*out = (uint32_t)d;
	return true;
}

static bool get_u64(napi_env env, napi_value v, uint64_t *out, const char *what)
{
	bool lossless;
	napi_valuetype t;
	napi_typeof(env, v, &t);
	if (t == napi_bigint) {
		if (napi_get_value_bigint_uint64(env, v, out, &lossless) != napi_ok || !lossless) {
			throw_err(env, EINVAL, "%s must be a non-negative 64-bit BigInt", what);
			return false;
		}
		return true;
	}
	if (t == napi_number) {
		double d;
		napi_get_value_double(env, v, &d);
		if (d >= 0 && d <= 9007199254740991.0 && d == (double)(uint64_t)d) {
			*out = (uint64_t)d;
			return true;
		}
	}
	throw_err(env, EINVAL, "%s must be a BigInt (cgroup id)", what);
	return false;
}

static struct enforcer *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, bool need_attached)
{
	napi_value self;
	struct enforcer *e = NULL;
	if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok)
		return NULL;
	if (napi_unwrap(env, self, (void **)&e) != napi_ok || !e) {
		throw_err(env, EINVAL, "not a BpfEnforcer");
		return NULL;
	}
	if (e->l.detached) {
		throw_err(env, EBADF, "BpfEnforcer was detached; create a new one");
		return NULL;
	}
	if (need_attached && !e->l.attached) {
		throw_err(env, ENOTCONN, "BpfEnforcer is not attached; call attach() first");
		return NULL;
	}
	return e;
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static void destroy(struct enforcer *e)
{
	if (e)
		vt_loader_destroy(&e->l);
}

static void env_cleanup(void *arg)
{
	destroy((struct enforcer *)arg);
}

static void finalize(napi_env env, void *data, void *hint)
{
	struct enforcer *e = data;
	(void)hint;
	napi_remove_env_cleanup_hook(env, env_cleanup, e);
	destroy(e);
	free(e);
}

static napi_value js_ctor(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], self, v;
	struct enforcer *e;
	char mode[16] = "";
	size_t l;
	bool has;

	napi_get_cb_info(env, info, &argc, argv, &self, NULL);
	if (argc < 1)
		return throw_err(env, EINVAL, "options { mode: 'enforce' | 'audit', pinPath? } are required");
	if (napi_get_named_property(env, argv[0], "mode", &v) != napi_ok ||
	    napi_get_value_string_utf8(env, v, mode, sizeof(mode), &l) != napi_ok)
		return throw_err(env, EINVAL, "mode must be 'enforce' or 'audit'");
	e = calloc(1, sizeof(*e));
	if (!e)
		return throw_err(env, ENOMEM, "out of memory");
	if (!strcmp(mode, "enforce"))
		e->l.mode = VT_LOADER_ENFORCE;
	else if (!strcmp(mode, "audit"))
		e->l.mode = VT_LOADER_AUDIT;
	else {
		free(e);
		return throw_err(env, EINVAL, "mode must be 'enforce' or 'audit', not '%s'", mode);
	}
	if (napi_has_named_property(env, argv[0], "pinPath", &has) == napi_ok && has) {
		napi_valuetype t;
		napi_get_named_property(env, argv[0], "pinPath", &v);
		napi_typeof(env, v, &t);
		if (t != napi_undefined) {
			if (t != napi_string || napi_get_value_string_utf8(env, v, e->l.pin, sizeof(e->l.pin) - 64, &l) != napi_ok || l == 0 ||
			    e->l.pin[0] != '/') {
				free(e);
				return throw_err(env, EINVAL, "pinPath must be an absolute path in bpffs");
			}
		}
	}
	if (napi_has_named_property(env, argv[0], "versionTag", &has) == napi_ok && has) {
		napi_valuetype t;
		napi_get_named_property(env, argv[0], "versionTag", &v);
		napi_typeof(env, v, &t);
		if (t != napi_undefined &&
		    (t != napi_string || napi_get_value_string_utf8(env, v, e->l.version, sizeof(e->l.version), &l) != napi_ok || l == 0)) {
			free(e);
			return throw_err(env, EINVAL, "versionTag must be a non-empty string");
		}
	}
	e->env = env;
	if (napi_wrap(env, self, e, finalize, NULL, NULL) != napi_ok) {
		free(e);
		return throw_err(env, EIO, "napi_wrap failed");
	}
	napi_add_env_cleanup_hook(env, env_cleanup, e);
	return self;
}

static napi_value js_attach(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct enforcer *e = unwrap(env, info, &argc, NULL, false);
	struct vt_err err = { 0 };
	if (!e)
		return NULL;
	if (vt_loader_attach(&e->l, &err))
		return throw_vt(env, &err);
	return NULL;
}

static napi_value js_detach(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct enforcer *e = unwrap(env, info, &argc, argv, false);
	bool unpin = false;
	if (!e)
		return NULL;
	if (argc >= 1) {
		napi_valuetype t;
		napi_typeof(env, argv[0], &t);
		if (t == napi_object) {
			napi_value v;
			if (napi_get_named_property(env, argv[0], "unpin", &v) == napi_ok)
				napi_get_value_bool(env, v, &unpin);
		}
	}
	if (e->l.attached && e->l.pin[0] && unpin)
		vt_loader_unpin_all(&e->l);
	destroy(e);
	napi_remove_env_cleanup_hook(env, env_cleanup, e);
	return NULL;
}

/* ---- policies -------------------------------------------------------------------------- */

static napi_value js_load_policy(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	struct enforcer *e = unwrap(env, info, &argc, argv, true);
	struct vt_err err = { 0 };
	uint32_t policy_id;
	uint8_t *buf;
	size_t len;
	bool is_ta = false;

	if (!e)
		return NULL;
	if (argc < 2)
		return throw_err(env, EINVAL, "loadPolicy(policyId, tables) needs two arguments");
	if (!get_u32(env, argv[0], &policy_id, "policyId"))
		return NULL;
	if (policy_id == 0)
		return throw_err(env, EINVAL, "policyId 0 is reserved (no policy)");
	napi_is_typedarray(env, argv[1], &is_ta);
	if (!is_ta)
		return throw_err(env, EINVAL, "tables must be a Uint8Array (from compileBpf/encodeTables)");
	{
		napi_typedarray_type tt;
		napi_value ab;
		size_t boff;
		void *data;
		napi_get_typedarray_info(env, argv[1], &tt, &len, &data, &ab, &boff);
		if (tt != napi_uint8_array)
			return throw_err(env, EINVAL, "tables must be a Uint8Array");
		buf = data;
	}
	if (vt_load_policy(&e->l, policy_id, buf, len, &err))
		return throw_vt(env, &err);
	return NULL;
}

static napi_value js_remove_policy(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct enforcer *e = unwrap(env, info, &argc, argv, true);
	struct vt_err err = { 0 };
	uint32_t policy_id;
	if (!e)
		return NULL;
	if (argc < 1 || !get_u32(env, argv[0], &policy_id, "policyId"))
		return argc < 1 ? throw_err(env, EINVAL, "removePolicy(policyId) needs a policy id") : NULL;
	if (vt_remove_policy(&e->l, policy_id, &err))
		return throw_vt(env, &err);
	return NULL;
}

/* recordSyscalls(on): attach or detach the BehaviorModeling syscall recorder (vt_rec_sys_enter). */
static napi_value js_record_syscalls(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct enforcer *e = unwrap(env, info, &argc, argv, true);
	struct vt_err err = { 0 };
	bool on = false;
	if (!e)
		return NULL;
	if (argc < 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok)
		return throw_err(env, EINVAL, "recordSyscalls(on) needs a boolean");
	if (vt_record_syscalls(&e->l, on, &err))
		return throw_vt(env, &err);
	return NULL;
}

/* syscalls(policyId, clear?): the syscall numbers the policy's record-mode containers made, ascending;
 * with clear, the record is forgotten after reading. */
static napi_value js_syscalls(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2], arr, v;
	struct enforcer *e = unwrap(env, info, &argc, argv, true);
	struct vt_err err = { 0 };
	uint64_t bits[VT_SYSCALL_WORDS];
	uint32_t policy_id, n = 0;
	bool clear = false;
	if (!e)
		return NULL;
	if (argc < 1 || !get_u32(env, argv[0], &policy_id, "policyId"))
		return argc < 1 ? throw_err(env, EINVAL, "syscalls(policyId) needs a policy id") : NULL;
	if (argc > 1 && napi_get_value_bool(env, argv[1], &clear) != napi_ok)
		return throw_err(env, EINVAL, "syscalls(policyId, clear): clear must be a boolean");
	if (vt_syscalls_read(&e->l, policy_id, bits, &err) || (clear && vt_syscalls_clear(&e->l, policy_id, &err)))
		return throw_vt(env, &err);
	napi_create_array(env, &arr);
	for (uint32_t nr = 0; nr < VT_SYSCALL_WORDS * 64; nr++) {
		if (!(bits[nr / 64] & (1ULL << (nr % 64))))
			continue;
		napi_create_uint32(env, nr, &v);
		napi_set_element(env, arr, n++, v);
	}
	return arr;
}

/* cgroupOfPid(pid): the cgroup id (bigint) the process had at its last fork or exec, or undefined. */
static napi_value js_cgroup_of_pid(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], out;
	struct enforcer *e = unwrap(env, info, &argc, argv, true);
	uint32_t pid;
	uint64_t cg = 0;
	if (!e)
		return NULL;
	if (argc < 1 || !get_u32(env, argv[0], &pid, "pid"))
		return argc < 1 ? throw_err(env, EINVAL, "cgroupOfPid(pid) needs a pid") : NULL;
	if (vt_cgroup_of_pid(&e->l, pid, &cg))
		return NULL; /* undefined */
	napi_create_bigint_uint64(env, cg, &out);
	return out;
}

/* A new JavaScript Map and its set method. */
static void new_map(napi_env env, napi_value *map, napi_value *set)
{
	napi_value global, ctor;
	napi_get_global(env, &global);
	napi_get_named_property(env, global, "Map", &ctor);
	napi_new_instance(env, ctor, 0, NULL, map);
	napi_get_named_property(env, *map, "set", set);
}

static napi_value js_policies(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct enforcer *e = unwrap(env, info, &argc, NULL, true);
	napi_value map, set;
	struct vt_policy p;
	uint32_t id;
	bool first = true;
	if (!e)
		return NULL;
	new_map(env, &map, &set);
	while (vt_policy_next(&e->l, first ? NULL : &id, &id, &p) == 0) {
		napi_value args[2], r;
		first = false;
		napi_create_uint32(env, id, &args[0]);
		napi_create_uint32(env, p.gen, &args[1]);
		napi_call_function(env, map, set, 2, args, &r);
	}
	return map;
}

/* ---- bindings -------------------------------------------------------------------------- */

static napi_value js_bind(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	struct enforcer *e = unwrap(env, info, &argc, argv, true);
	struct vt_err err = { 0 };
	uint64_t cg;
	uint32_t policy_id, flags = 0;
	if (!e)
		return NULL;
	if (argc < 2)
		return throw_err(env, EINVAL, "bindCgroup(cgroupId, policyId) needs two arguments");
	if (!get_u64(env, argv[0], &cg, "cgroupId") || !get_u32(env, argv[1], &policy_id, "policyId"))
		return NULL;
	if (argc >= 3) {
		napi_valuetype t;
		napi_typeof(env, argv[2], &t);
		if (t == napi_object) {
			napi_value v;
			bool arm = false;
			if (napi_get_named_property(env, argv[2], "armOnExec", &v) == napi_ok && napi_get_value_bool(env, v, &arm) == napi_ok &&
			    arm)
				flags |= VT_BIND_ARM_ON_EXEC;
		}
	}
	if (vt_bind(&e->l, cg, policy_id, flags, &err))
		return throw_vt(env, &err);
	return NULL;
}

/* setSelfAddresses(cgroupId, addresses: string[]): the pod's own IPv4/IPv6 addresses, for pod-self
 * rules; [] forgets them. */
static napi_value js_set_self_addrs(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	struct enforcer *e = unwrap(env, info, &argc, argv, true);
	struct vt_err err = { 0 };
	struct vt_self_addrs a;
	uint32_t n = 0;
	bool is_array = false;
	uint64_t cg;
	if (!e)
		return NULL;
	if (argc < 2)
		return throw_err(env, EINVAL, "setSelfAddresses(cgroupId, addresses) needs two arguments");
	if (!get_u64(env, argv[0], &cg, "cgroupId"))
		return NULL;
	napi_is_array(env, argv[1], &is_array);
	if (!is_array)
		return throw_err(env, EINVAL, "addresses must be an array of IP address strings");
	napi_get_array_length(env, argv[1], &n);
	if (n > VT_SELF_ADDRS)
		return throw_err(env, EINVAL, "%u addresses; at most %d fit", n, VT_SELF_ADDRS);
	memset(&a, 0, sizeof(a));
	for (uint32_t i = 0; i < n; i++) {
		napi_value v;
		char text[64];
		size_t len = 0;
		napi_get_element(env, argv[1], i, &v);
		if (napi_get_value_string_utf8(env, v, text, sizeof(text), &len) != napi_ok)
			return throw_err(env, EINVAL, "addresses[%u] is not a string", i);
		if (inet_pton(AF_INET, text, a.addr[i]) == 1)
			a.family[i] = AF_INET;
		else if (inet_pton(AF_INET6, text, a.addr[i]) == 1)
			a.family[i] = AF_INET6;
		else
			return throw_err(env, EINVAL, "addresses[%u] \"%s\" is not an IPv4 or IPv6 address", i, text);
	}
	a.count = n;
	if (vt_set_self_addrs(&e->l, cg, &a, &err))
		return throw_vt(env, &err);
	return NULL;
}

static napi_value js_unbind(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct enforcer *e = unwrap(env, info, &argc, argv, true);
	struct vt_err err = { 0 };
	uint64_t cg;
	if (!e)
		return NULL;
	if (argc < 1)
		return throw_err(env, EINVAL, "unbindCgroup(cgroupId) needs a cgroup id");
	if (!get_u64(env, argv[0], &cg, "cgroupId"))
		return NULL;
	if (vt_unbind(&e->l, cg, &err))
		return throw_vt(env, &err);
	return NULL;
}

static napi_value js_bindings(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct enforcer *e = unwrap(env, info, &argc, NULL, true);
	napi_value map, set;
	struct vt_binding b;
	uint64_t cg;
	bool first = true;
	if (!e)
		return NULL;
	new_map(env, &map, &set);
	while (vt_binding_next(&e->l, first ? NULL : &cg, &cg, &b) == 0) {
		napi_value args[2], r;
		first = false;
		napi_create_bigint_uint64(env, cg, &args[0]);
		napi_create_uint32(env, b.policy_id, &args[1]);
		napi_call_function(env, map, set, 2, args, &r);
	}
	return map;
}

/* ---- events ---------------------------------------------------------------------------- */

static const char *hook_names[] = { "",        "file_open", "exec",           "path_unlink", "path_rename", "path_link",
				     "path_chmod", "capable",  "socket_create", "socket_connect", "setsockopt", "ptrace",
				     "mount",   "umount",    "move_mount",     "bpf",         "userns_create", "path_symlink", "path_truncate" };

static void set_str(napi_env env, napi_value o, const char *k, const char *v)
{
	napi_value s;
	napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &s);
	napi_set_named_property(env, o, k, s);
}

static void set_u32(napi_env env, napi_value o, const char *k, uint32_t v)
{
	napi_value s;
	napi_create_uint32(env, v, &s);
	napi_set_named_property(env, o, k, s);
}

/* One event as a JavaScript object (index.ts: BpfEvent), appended to eb->arr. */
static int on_event(void *ctx, const struct vt_log_event *evp)
{
	struct event_buf *eb = ctx;
	napi_env env = eb->env;
	struct vt_log_event ev = *evp;
	napi_value o, v;
	napi_create_object(env, &o);
	napi_create_bigint_uint64(env, ev.time_ns, &v);
	napi_set_named_property(env, o, "timeNs", v);
	napi_create_bigint_uint64(env, ev.cgroup_id, &v);
	napi_set_named_property(env, o, "cgroupId", v);
	set_u32(env, o, "pid", ev.pid);
	set_u32(env, o, "policyId", ev.policy_id);
	set_str(env, o, "hook", ev.hook <= VT_HOOK_MAX ? hook_names[ev.hook] : "unknown");
	set_str(env, o, "decision", ev.decision == VT_DECISION_DENIED ? "denied" : ev.decision == VT_DECISION_AUDIT ? "audit" : "allowed");
	set_u32(env, o, "detail", ev.detail);
	switch (ev.hook) {
	case VT_HOOK_SOCKET_CONNECT: {
		char a[INET6_ADDRSTRLEN] = "";
		inet_ntop(ev.family == AF_INET ? AF_INET : AF_INET6, ev.addr, a, sizeof(a));
		set_str(env, o, "address", a);
		set_u32(env, o, "port", ev.port);
		set_u32(env, o, "family", ev.family);
		break;
	}
	case VT_HOOK_SOCKET_CREATE:
		set_u32(env, o, "family", ev.family);
		set_u32(env, o, "protocol", ev.extra);
		break;
	case VT_HOOK_MOUNT:
	case VT_HOOK_UMOUNT:
	case VT_HOOK_MOVE_MOUNT: {
		size_t l = strnlen(ev.path, 128);
		set_str(env, o, "path", ev.path);
		if (l + 1 < sizeof(ev.path))
			set_str(env, o, "fstype", ev.path + l + 1);
		break;
	}
	case VT_HOOK_PTRACE:
		set_u32(env, o, "targetPid", ev.extra);
		break;
	default:
		if (ev.path[0])
			set_str(env, o, "path", ev.path);
	}
	/* a file or mount event denied because its rules could not be checked (fails closed) */
	if (ev.hook != VT_HOOK_SOCKET_CREATE && ev.hook != VT_HOOK_PTRACE && ev.hook != VT_HOOK_SOCKET_CONNECT) {
		if (ev.extra == VT_REASON_PATH_LONG)
			set_str(env, o, "reason", "path-too-long");
		else if (ev.extra == VT_REASON_PATH_DEEP)
			set_str(env, o, "reason", "path-too-deep");
		else if (ev.extra == VT_REASON_BUSY)
			set_str(env, o, "reason", "scratch-busy");
	}
	napi_set_element(env, eb->arr, eb->n++, o);
	return eb->n >= eb->max ? -E2BIG : 0;
}

static napi_value js_read_events(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct enforcer *e = unwrap(env, info, &argc, argv, true);
	struct event_buf eb = { 0 };
	struct vt_err err = { 0 };
	uint32_t max = 4096;
	if (!e)
		return NULL;
	if (argc >= 1) {
		napi_valuetype t;
		napi_typeof(env, argv[0], &t);
		if (t != napi_undefined && !get_u32(env, argv[0], &max, "max"))
			return NULL;
		if (max == 0)
			return throw_err(env, EINVAL, "max must be at least 1");
	}
	eb.env = env;
	eb.max = max;
	napi_create_array(env, &eb.arr);
	if (vt_read_events(&e->l, on_event, &eb, &err))
		return throw_vt(env, &err);
	return eb.arr;
}

/* ---- program ids (tests, diagnostics) -------------------------------------------------- */

static napi_value js_program_ids(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct enforcer *e = unwrap(env, info, &argc, NULL, true);
	napi_value arr;
	uint32_t n = 0;
	if (!e)
		return NULL;
	napi_create_array(env, &arr);
	for (int i = 0; i < e->l.nlinks; i++) {
		uint32_t id;
		napi_value v;
		if (!vt_link_prog_id(&e->l, i, &id))
			continue;
		napi_create_uint32(env, id, &v);
		napi_set_element(env, arr, n++, v);
	}
	return arr;
}

/* The version tag of this set and what attach() did to a set pinned by another build. */
static napi_value js_version_info(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct enforcer *e = unwrap(env, info, &argc, NULL, true);
	napi_value o, v;
	if (!e)
		return NULL;
	napi_create_object(env, &o);
	if (!e->l.version[0])
		vt_object_version(e->l.version, sizeof(e->l.version));
	set_str(env, o, "version", e->l.version);
	if (e->l.upgrade.from[0])
		set_str(env, o, "upgradedFrom", e->l.upgrade.from);
#define SET_INT(name, val)                       \
	napi_create_int32(env, (val), &v);        \
	napi_set_named_property(env, o, name, v)
	SET_INT("swapped", e->l.upgrade.swapped);
	SET_INT("linkUpdate", e->l.upgrade.link_update);
	SET_INT("overlap", e->l.upgrade.overlap);
	SET_INT("retired", e->l.upgrade.retired);
#undef SET_INT
	if (e->l.upgrade.link_update_err)
		set_str(env, o, "linkUpdateError",
			strerrorname_np(e->l.upgrade.link_update_err) ? strerrorname_np(e->l.upgrade.link_update_err) : "EIO");
	napi_get_boolean(env, e->l.upgrade.previous, &v);
	napi_set_named_property(env, o, "previous", v);
	return o;
}

static napi_value js_release_previous(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct enforcer *e = unwrap(env, info, &argc, NULL, true);
	struct vt_err err = { 0 };
	if (!e || !e->l.pin[0])
		return NULL;
	if (vt_loader_release_previous(e->l.pin, &err))
		return throw_vt(env, &err);
	e->l.upgrade.previous = false;
	return NULL;
}

/* Per-program cost counters (kernel.bpf_stats_enabled must be 1 for them to move): name, calls and
 * time spent in the program, from bpf_prog_info (whose name the kernel cuts to 15 characters). */
static napi_value js_program_stats(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct enforcer *e = unwrap(env, info, &argc, NULL, true);
	napi_value arr;
	uint32_t n = 0;
	if (!e)
		return NULL;
	napi_create_array(env, &arr);
	for (int i = 0; i < e->l.nlinks; i++) {
		struct bpf_prog_info pi;
		uint32_t id;
		napi_value o, v;
		if (!vt_link_prog_info(&e->l, i, &id, &pi))
			continue;
		napi_create_object(env, &o);
		napi_create_string_utf8(env, e->l.link_names[i], NAPI_AUTO_LENGTH, &v);
		napi_set_named_property(env, o, "name", v);
		napi_create_uint32(env, id, &v);
		napi_set_named_property(env, o, "id", v);
		napi_create_bigint_uint64(env, pi.run_cnt, &v);
		napi_set_named_property(env, o, "runCount", v);
		napi_create_bigint_uint64(env, pi.run_time_ns, &v);
		napi_set_named_property(env, o, "runTimeNs", v);
		/* runs the kernel skipped because the program was already running on that CPU */
		napi_create_bigint_uint64(env, pi.recursion_misses, &v);
		napi_set_named_property(env, o, "recursionMisses", v);
		/* 0 when the kernel runs the program in its interpreter (JIT off or failed) */
		napi_create_uint32(env, pi.jited_prog_len, &v);
		napi_set_named_property(env, o, "jitedBytes", v);
		napi_create_uint32(env, pi.xlated_prog_len / 8, &v);
		napi_set_named_property(env, o, "instructions", v);
		/* what the verifier walked to accept it: the headroom below its 1,000,000 budget */
		napi_create_uint32(env, pi.verified_insns, &v);
		napi_set_named_property(env, o, "verifiedInstructions", v);
		napi_set_element(env, arr, n++, o);
	}
	return arr;
}

/* ---- probe ----------------------------------------------------------------------------- */

static napi_value js_probe(napi_env env, napi_callback_info info)
{
	struct vt_probe_result r;
	napi_value o, v;
	(void)info;
	vt_probe(&r);
	napi_create_object(env, &o);
	napi_get_boolean(env, r.lsm_err == 0 && r.lsm_listed, &v);
	napi_set_named_property(env, o, "lsm", v);
	if (r.lsm_err)
		set_str(env, o, "lsmReason", strerrorname_np(-r.lsm_err) ? strerrorname_np(-r.lsm_err) : "EIO");
	else if (!r.lsm_listed)
		set_str(env, o, "lsmReason", "bpf is not in /sys/kernel/security/lsm (boot with lsm=...,bpf)");
	napi_get_boolean(env, r.tracing_err == 0, &v);
	napi_set_named_property(env, o, "tracing", v);
	if (r.tracing_err)
		set_str(env, o, "tracingReason", strerrorname_np(-r.tracing_err) ? strerrorname_np(-r.tracing_err) : "EIO");
	napi_get_boolean(env, r.kf.rdonly_cast, &v);
	napi_set_named_property(env, o, "directMountWalk", v);
	napi_get_boolean(env, r.kf.path_cache, &v);
	napi_set_named_property(env, o, "pathCache", v);
	return o;
}

/* uninstall(pinPath): every pin under the folder removed (programs detach), then the folder. */
/* kernelLog(): the kernel's log buffer as syslog(2) gives it (SYSLOG_ACTION_READ_ALL: every
 * record still in the ring, not consumed; CAP_SYSLOG), a Buffer of "<pri>[seconds] text" lines.
 * A container reads it without the /dev/kmsg device, which its device cgroup does not allow. */
static napi_value js_kernel_log(napi_env env, napi_callback_info info)
{
	napi_value out;
	void *data;
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0), n;
	(void)info;
	if (size <= 0)
		return throw_err(env, errno ? errno : EIO, "syslog(SIZE_BUFFER): %s", strerror(errno));
	char *buf = malloc((size_t)size);
	if (!buf)
		return throw_err(env, ENOMEM, "kernelLog: out of memory");
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (n < 0) {
		int err = errno;
		free(buf);
		return throw_err(env, err, "syslog(READ_ALL): %s", strerror(err));
	}
	napi_create_buffer_copy(env, (size_t)n, buf, &data, &out);
	free(buf);
	return out;
}

static napi_value js_uninstall(napi_env env, napi_callback_info info)
{
	size_t argc = 1, l;
	napi_value argv[1];
	char pin[512] = "";
	struct vt_err err = { 0 };
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 1 || napi_get_value_string_utf8(env, argv[0], pin, sizeof(pin), &l) != napi_ok || l == 0)
		return throw_err(env, EINVAL, "uninstall(pinPath): pinPath must be an absolute path in bpffs");
	if (vt_uninstall(pin, &err))
		return throw_vt(env, &err);
	return NULL;
}

/* ---- module ---------------------------------------------------------------------------- */

static napi_value init(napi_env env, napi_value exports)
{
	napi_property_descriptor methods[] = {
		{ "attach", NULL, js_attach, NULL, NULL, NULL, napi_default, NULL },
		{ "detach", NULL, js_detach, NULL, NULL, NULL, napi_default, NULL },
		{ "loadPolicy", NULL, js_load_policy, NULL, NULL, NULL, napi_default, NULL },
		{ "removePolicy", NULL, js_remove_policy, NULL, NULL, NULL, napi_default, NULL },
		{ "recordSyscalls", NULL, js_record_syscalls, NULL, NULL, NULL, napi_default, NULL },
		{ "cgroupOfPid", NULL, js_cgroup_of_pid, NULL, NULL, NULL, napi_default, NULL },
		{ "syscalls", NULL, js_syscalls, NULL, NULL, NULL, napi_default, NULL },
		{ "policies", NULL, js_policies, NULL, NULL, NULL, napi_default, NULL },
		{ "bindCgroup", NULL, js_bind, NULL, NULL, NULL, napi_default, NULL },
		{ "unbindCgroup", NULL, js_unbind, NULL, NULL, NULL, napi_default, NULL },
		{ "setSelfAddresses", NULL, js_set_self_addrs, NULL, NULL, NULL, napi_default, NULL },
		{ "bindings", NULL, js_bindings, NULL, NULL, NULL, napi_default, NULL },
		{ "readEvents", NULL, js_read_events, NULL, NULL, NULL, napi_default, NULL },
		{ "programIds", NULL, js_program_ids, NULL, NULL, NULL, napi_default, NULL },
		{ "programStats", NULL, js_program_stats, NULL, NULL, NULL, napi_default, NULL },
		{ "versionInfo", NULL, js_version_info, NULL, NULL, NULL, napi_default, NULL },
		{ "releasePrevious", NULL, js_release_previous, NULL, NULL, NULL, napi_default, NULL },
	};
	napi_value cls, probe;
	napi_define_class(env, "NativeEnforcer", NAPI_AUTO_LENGTH, js_ctor, NULL, sizeof(methods) / sizeof(methods[0]), methods,
			  &cls);
	napi_set_named_property(env, exports, "NativeEnforcer", cls);
	napi_create_function(env, "probe", NAPI_AUTO_LENGTH, js_probe, NULL, &probe);
	napi_set_named_property(env, exports, "probe", probe);
	napi_create_function(env, "uninstall", NAPI_AUTO_LENGTH, js_uninstall, NULL, &probe);
	napi_set_named_property(env, exports, "uninstall", probe);
	napi_create_function(env, "kernelLog", NAPI_AUTO_LENGTH, js_kernel_log, NULL, &probe);
	napi_set_named_property(env, exports, "kernelLog", probe);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
