// SPDX-License-Identifier: Apache-2.0
/*
 * varmor_bpf: N-API addon that loads the BPF enforcer (bpf/varmor.bpf.c, embedded as a libbpf
 * skeleton), attaches it in enforce (LSM) or audit (tp_btf) mode, and manages its maps:
 * policies (atomic generation swap), cgroup bindings and the event ring buffer.
 * Errors are thrown as Error objects whose `code` is the errno name (EPERM, EINVAL, ENOENT, ...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <node_api.h>

#include "varmor_tables.h"
#include "varmor.skel.h"

#define MODE_ENFORCE 1
#define MODE_AUDIT 2

struct event_buf {
	napi_env env;
	napi_value arr;
	uint32_t n, max;
	bool fail;
};

struct enforcer {
	struct varmor *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[32];
	const char *link_names[32]; /* the program's full name (the kernel keeps 15 characters) */
	int nlinks;
	int mode;
	bool attached;
	bool detached;
	bool path_cache; /* the kernel has what the path-fact cache's programs attach to */
	char pin[512];
	struct event_buf *eb; /* valid during readEvents only */
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

/* ---- libbpf log capture: the last warning is appended to error messages -------------- */

static char last_log[512];
/* tail of libbpf's warnings: the verifier's reason for a refused program ends up in the error */
static char log_tail[2048];
static size_t log_tail_len;

static void tail_append(const char *msg)
{
	size_t l = strlen(msg);
	if (l >= sizeof(log_tail) - 1) {
		msg += l - (sizeof(log_tail) - 1);
		l = sizeof(log_tail) - 1;
	}
	if (log_tail_len + l >= sizeof(log_tail)) {
		size_t drop = log_tail_len + l - (sizeof(log_tail) - 1);
		memmove(log_tail, log_tail + drop, log_tail_len - drop);
		log_tail_len -= drop;
	}
	memcpy(log_tail + log_tail_len, msg, l);
	log_tail_len += l;
	log_tail[log_tail_len] = 0;
}

/* The verifier's last lines before "-- END PROG LOAD LOG --" (its reason), or "". */
static void verifier_reason(char *out, size_t n)
{
	char *end = strstr(log_tail, "-- END PROG LOAD LOG --");
	char *start;
	int lines = 0;
	out[0] = 0;
	if (!end)
		return;
	start = end;
	while (start > log_tail && lines < 4) {
		start--;
		if (*start == '\n')
			lines++;
	}
	snprintf(out, n, "%.*s", (int)(end - start), start);
	for (char *c = out; *c; c++)
		if (*c == '\n')
			*c = ' ';
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	if (getenv("VARMOR_BPF_DEBUG")) {
		va_list cp;
		va_copy(cp, ap);
		vfprintf(stderr, fmt, cp);
		va_end(cp);
	}
	{
		char *buf = NULL;
		va_list cp;
		va_copy(cp, ap);
		if (vasprintf(&buf, fmt, cp) >= 0 && buf) {
			tail_append(buf);
			free(buf);
		}
		va_end(cp);
	}
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	size_t l = strlen(last_log);
	while (l && (last_log[l - 1] == '\n'))
		last_log[--l] = 0;
	return 0;
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
	if (e->detached) {
		throw_err(env, EBADF, "BpfEnforcer was detached; create a new one");
		return NULL;
	}
	if (need_attached && !e->attached) {
		throw_err(env, ENOTCONN, "BpfEnforcer is not attached; call attach() first");
		return NULL;
	}
	return e;
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static void destroy(struct enforcer *e)
{
	if (!e || e->detached)
		return;
	if (e->rb)
		ring_buffer__free(e->rb);
	e->rb = NULL;
	for (int i = 0; i < e->nlinks; i++)
		bpf_link__destroy(e->links[i]); /* closes our fd; a pinned link stays */
	e->nlinks = 0;
	if (e->skel)
		varmor__destroy(e->skel);
	e->skel = NULL;
	e->attached = false;
	e->detached = true;
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
		e->mode = MODE_ENFORCE;
	else if (!strcmp(mode, "audit"))
		e->mode = MODE_AUDIT;
	else {
		free(e);
		return throw_err(env, EINVAL, "mode must be 'enforce' or 'audit', not '%s'", mode);
	}
	if (napi_has_named_property(env, argv[0], "pinPath", &has) == napi_ok && has) {
		napi_valuetype t;
		napi_get_named_property(env, argv[0], "pinPath", &v);
		napi_typeof(env, v, &t);
		if (t != napi_undefined) {
			if (t != napi_string || napi_get_value_string_utf8(env, v, e->pin, sizeof(e->pin) - 64, &l) != napi_ok || l == 0 ||
			    e->pin[0] != '/') {
				free(e);
				return throw_err(env, EINVAL, "pinPath must be an absolute path in bpffs");
			}
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

static uint32_t read_mnt_ns(void)
{
	struct stat st;
	if (stat("/proc/1/ns/mnt", &st) == 0)
		return (uint32_t)st.st_ino;
	return 0;
}

/* What the running kernel's BTF offers the programs (kfuncs are listed there, and every
 * function a tracing program can attach to); one parse of it answers both. */
struct kernel_features {
	bool rdonly_cast; /* the bpf_rdonly_cast kfunc (6.2+): direct loads above a file's mount */
	bool path_cache;  /* every function the path-fact cache's fentry/fexit programs attach to */
};

/* What those programs (varmor.bpf.c, vt_path_gen) attach to: without all of them the cache stays off. */
static const char *const path_gen_funcs[] = { "__d_move", "__d_free", "__d_free_external", "namespace_unlock" };

static struct kernel_features kernel_features(void)
{
	struct kernel_features f = { false, false };
	struct btf *vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return f;
	f.rdonly_cast = btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
	f.path_cache = true;
	for (size_t i = 0; f.path_cache && i < sizeof(path_gen_funcs) / sizeof(path_gen_funcs[0]); i++)
		f.path_cache = btf__find_by_name_kind(vmlinux, path_gen_funcs[i], BTF_KIND_FUNC) > 0;
	btf__free(vmlinux);
	return f;
}

static int mkdir_p(const char *path)
{
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0700) && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int on_event(void *ctx, void *data, size_t size);

/* The path-fact cache's invalidating programs (fentry/fexit). */
static bool is_path_gen_prog(struct bpf_program *p)
{
	const char *sec = bpf_program__section_name(p);
	return !strncmp(sec, "fentry/", 7) || !strncmp(sec, "fexit/", 6);
}

/* Enforce mode: the LSM programs, and the cache's programs where the kernel has their
 * functions; audit mode: the tp_btf programs. */
static bool prog_wanted(struct enforcer *e, struct bpf_program *p)
{
	const char *sec = bpf_program__section_name(p);
	if (is_path_gen_prog(p))
		return e->mode == MODE_ENFORCE && e->path_cache;
	return e->mode == MODE_ENFORCE ? !strncmp(sec, "lsm/", 4) : !strncmp(sec, "tp_btf/", 7);
}

/* Turns the path-fact cache on once its programs are attached (or off when they are not). The
 * generation is kept when the cache is already on: an adopted set's entries rely on it. */
static int set_path_cache(struct enforcer *e, bool on)
{
	uint32_t zero = 0;
	struct vt_path_gen_val v;
	int fd = bpf_map__fd(e->skel->maps.vt_path_gen);
	if (bpf_map_lookup_elem(fd, &zero, &v))
		return -errno;
	if (!!v.enabled == on)
		return 0;
	v.enabled = on;
	return bpf_map_update_elem(fd, &zero, &v, BPF_ANY) ? -errno : 0;
}

/* Removes the pinned links and maps of this object's set from the pin folder (what is not there is skipped). */
static void unlink_pins(struct enforcer *e)
{
	char path[600];
	struct bpf_program *prog;
	struct bpf_map *map;
	bpf_object__for_each_program(prog, e->skel->obj)
	{
		snprintf(path, sizeof(path), "%s/link_%s", e->pin, bpf_program__name(prog));
		unlink(path);
	}
	bpf_object__for_each_map(map, e->skel->obj)
	{
		snprintf(path, sizeof(path), "%s/%s", e->pin, bpf_map__name(map));
		unlink(path);
	}
}

/* Pins left by an agent built with another table layout cannot be reused: libbpf would refuse
 * them. Remove such a stale set (its links detach with it) so this agent loads fresh; the agent
 * re-applies policies and bindings, as it does after any restart. Returns 1 when it removed pins. */
static int drop_stale_pins(struct enforcer *e)
{
	char path[600];
	struct bpf_map *map;
	int stale = 0;
	bpf_object__for_each_map(map, e->skel->obj)
	{
		struct bpf_map_info info;
		uint32_t len = sizeof(info);
		int fd;
		const char *n = bpf_map__name(map);
		if (strncmp(n, "vt_", 3) || !strcmp(n, "vt_scratch"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", e->pin, n);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
		     info.value_size != bpf_map__value_size(map) || info.max_entries != bpf_map__max_entries(map)))
			stale = 1;
		close(fd);
	}
	if (!stale)
		return 0;
	unlink_pins(e);
	return 1;
}

static napi_value js_attach(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct enforcer *e = unwrap(env, info, &argc, NULL, false);
	struct bpf_program *prog;
	struct bpf_map *map;
	char path[600];
	int err;

	if (!e)
		return NULL;
	if (e->attached)
		return throw_err(env, EALREADY, "BpfEnforcer is already attached");
	libbpf_set_print(libbpf_log);
	last_log[0] = 0;
	log_tail[0] = 0;
	log_tail_len = 0;
	e->skel = varmor__open();
	if (!e->skel)
		return throw_err(env, errno ? errno : EINVAL, "varmor__open: %s", strerror(errno));
	e->skel->rodata->init_mnt_ns = read_mnt_ns();
	{
		struct kernel_features kf = kernel_features();
		/* 6.2+: the path pre-filter reads above a file's mount by direct loads (see varmor.bpf.c) */
		e->skel->rodata->have_rdonly_cast = kf.rdonly_cast;
		e->path_cache = e->mode == MODE_ENFORCE && kf.path_cache;
	}
	if (e->pin[0]) {
		err = mkdir_p(e->pin);
		if (err) {
			varmor__destroy(e->skel);
			e->skel = NULL;
			return throw_err(env, err, "cannot create pin directory %s: %s", e->pin, strerror(-err));
		}
		drop_stale_pins(e);
		/* maps are pinned by name and reused when they exist (adoption after a restart) */
		bpf_object__for_each_map(map, e->skel->obj)
		{
			const char *n = bpf_map__name(map);
			if (strncmp(n, "vt_", 3) || !strcmp(n, "vt_scratch"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", e->pin, n);
			bpf_map__set_pin_path(map, path);
		}
	}
	bpf_object__for_each_program(prog, e->skel->obj)
	{
		bool want = prog_wanted(e, prog);
		if (want && e->pin[0]) {
			/* a pinned link of an earlier agent is adopted: that program is not loaded again */
			snprintf(path, sizeof(path), "%s/link_%s", e->pin, bpf_program__name(prog));
			if (access(path, F_OK) == 0)
				want = false;
		}
		bpf_program__set_autoload(prog, want);
	}
	err = varmor__load(e->skel);
	if (err) {
		int code = -err;
		char log[512];
		verifier_reason(log, sizeof(log));
		if (!log[0])
			snprintf(log, sizeof(log), "%s", last_log);
		varmor__destroy(e->skel);
		e->skel = NULL;
		return throw_err(env, code, "loading the %s programs failed: %s%s%s", e->mode == MODE_ENFORCE ? "LSM" : "audit",
				 strerror(code), log[0] ? " (libbpf: " : "", log[0] ? log : "");
	}
	bpf_object__for_each_program(prog, e->skel->obj)
	{
		struct bpf_link *link;
		if (!prog_wanted(e, prog))
			continue;
		if (e->pin[0]) {
			snprintf(path, sizeof(path), "%s/link_%s", e->pin, bpf_program__name(prog));
			if (access(path, F_OK) == 0) {
				link = bpf_link__open(path);
				if (!link) {
					err = errno;
					destroy(e);
					e->detached = false;
					return throw_err(env, err, "adopting pinned link %s: %s", path, strerror(err));
				}
				e->link_names[e->nlinks] = bpf_program__name(prog);
				e->links[e->nlinks++] = link;
				continue;
			}
		}
		link = bpf_program__attach(prog);
		if (!link) {
			err = errno;
			destroy(e);
			e->detached = false;
			return throw_err(env, err, "attaching %s failed: %s", bpf_program__name(prog), strerror(err));
		}
		e->link_names[e->nlinks] = bpf_program__name(prog);
		e->links[e->nlinks++] = link;
		if (e->pin[0]) {
			err = bpf_link__pin(link, path);
			if (err) {
				destroy(e);
				e->detached = false;
				return throw_err(env, -err, "pinning link %s: %s", path, strerror(-err));
			}
		}
		if (e->nlinks >= 32)
			break;
	}
	if (e->mode == MODE_ENFORCE) {
		/* every wanted program is attached by now (or attach threw): the cache may be used */
		err = set_path_cache(e, e->path_cache);
		if (err) {
			destroy(e);
			e->detached = false;
			return throw_err(env, -err, "setting vt_path_gen: %s", strerror(-err));
		}
	}
	e->rb = ring_buffer__new(bpf_map__fd(e->skel->maps.vt_events), on_event, e, NULL);
	if (!e->rb) {
		err = errno;
		destroy(e);
		e->detached = false;
		return throw_err(env, err, "ring_buffer__new: %s", strerror(err));
	}
	e->attached = true;
	return NULL;
}

static int unpin_all(struct enforcer *e)
{
	unlink_pins(e);
	rmdir(e->pin);
	return 0;
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
	if (e->attached && e->pin[0] && unpin)
		unpin_all(e);
	destroy(e);
	napi_remove_env_cleanup_hook(env, env_cleanup, e);
	return NULL;
}

/* ---- maps: generic key iteration -------------------------------------------------------- */

struct rule_map {
	int fd;
	uint32_t key_size;
	uint32_t pid_off; /* offset of policy_id in the key; gen follows it */
};

static int rule_maps(struct enforcer *e, struct rule_map *out)
{
	struct varmor *s = e->skel;
	struct {
		struct bpf_map *m;
		uint32_t ks, off;
	} t[] = {
		{ s->maps.vt_path_exact, sizeof(struct vt_path_key), 0 },
		{ s->maps.vt_path_prefix, sizeof(struct vt_path_lpm_key), 4 },
		{ s->maps.vt_path_suffix, sizeof(struct vt_path_lpm_key), 4 },
		{ s->maps.vt_path_glob, sizeof(struct vt_index_key), 0 },
		{ s->maps.vt_socket, sizeof(struct vt_socket_key), 0 },
		{ s->maps.vt_net, sizeof(struct vt_net_key), 4 },
		{ s->maps.vt_net_ports, sizeof(struct vt_index_key), 0 },
		{ s->maps.vt_mount_fstype, sizeof(struct vt_fstype_key), 0 },
		{ s->maps.vt_mount_rule, sizeof(struct vt_index_key), 0 },
	};
	int n = sizeof(t) / sizeof(t[0]);
	for (int i = 0; i < n; i++) {
		out[i].fd = bpf_map__fd(t[i].m);
		out[i].key_size = t[i].ks;
		out[i].pid_off = t[i].off;
	}
	return n;
}

/* Delete every key of `policy_id` whose generation is (keep ? != gen : == gen) ... or all. */
enum purge { PURGE_ALL, PURGE_EXCEPT_GEN, PURGE_ONLY_GEN };

static int purge_map(const struct rule_map *m, uint32_t policy_id, uint32_t gen, enum purge how)
{
	uint8_t key[512], next[512];
	size_t cap = 256, n = 0;
	uint8_t *dead = malloc(cap * m->key_size);
	int err = 0;
	bool first = true;
	if (!dead)
		return -ENOMEM;
	while (bpf_map_get_next_key(m->fd, first ? NULL : key, next) == 0) {
		uint32_t pid, g;
		first = false;
		memcpy(key, next, m->key_size);
		memcpy(&pid, next + m->pid_off, 4);
		memcpy(&g, next + m->pid_off + 4, 4);
		if (pid != policy_id)
			continue;
		if ((how == PURGE_EXCEPT_GEN && g == gen) || (how == PURGE_ONLY_GEN && g != gen))
			continue;
		if (n == cap) {
			uint8_t *d2 = realloc(dead, 2 * cap * m->key_size);
			if (!d2) {
				free(dead);
				return -ENOMEM;
			}
			dead = d2;
			cap *= 2;
		}
		memcpy(dead + n * m->key_size, next, m->key_size);
		n++;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(m->fd, dead + i * m->key_size) && errno != ENOENT)
			err = -errno;
	free(dead);
	return err;
}

static int purge_policy(struct enforcer *e, uint32_t policy_id, uint32_t gen, enum purge how)
{
	struct rule_map maps[16];
	int n = rule_maps(e, maps), err = 0;
	for (int i = 0; i < n; i++) {
		int r = purge_map(&maps[i], policy_id, gen, how);
		if (r && !err)
			err = r;
	}
	return err;
}

/* ---- loadPolicy ------------------------------------------------------------------------ */

struct sec_spec {
	uint32_t rec_size;
	uint32_t key_size;
	uint32_t val_off;
	uint32_t pid_off;
	int fd;
};

/* Tell the programs that vt_bindings (or vt_policies) changed: every task's cached resolution
 * of its cgroup to a policy is dropped on its next hook (see protected_cg in varmor.bpf.c). Called
 * after the change, so a task that cached the old state before it sees the new generation. */
enum gen_kind { GEN_BINDINGS, GEN_POLICIES };

static int bump_gen(struct enforcer *e, enum gen_kind which)
{
	struct vt_state st;
	uint32_t zero = 0;
	int fd = bpf_map__fd(e->skel->maps.vt_state);
	memset(&st, 0, sizeof(st));
	if (bpf_map_lookup_elem(fd, &zero, &st))
		return -errno;
	if (which == GEN_BINDINGS)
		st.bind_gen++;
	else
		st.policy_gen++;
	return bpf_map_update_elem(fd, &zero, &st, BPF_ANY) ? -errno : 0;
}

static napi_value js_load_policy(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	struct enforcer *e = unwrap(env, info, &argc, argv, true);
	uint32_t policy_id, gen = 1;
	uint8_t *buf;
	size_t len;
	bool is_ta = false;
	struct vt_blob_header h;
	struct vt_policy pol, old;
	struct varmor *s;
	struct sec_spec spec[VT_SEC_MAX + 1];
	bool have_policy = false;
	int err;

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
	if (len < sizeof(h))
		return throw_err(env, EINVAL, "tables: %zu bytes is shorter than the %zu-byte header", len, sizeof(h));
	memcpy(&h, buf, sizeof(h));
	if (h.magic != VT_MAGIC)
		return throw_err(env, EINVAL, "tables: bad magic 0x%08x (not a varmor tables blob)", h.magic);
	if (h.version != VT_VERSION)
		return throw_err(env, EINVAL, "tables: version %u, this addon reads version %u", h.version, VT_VERSION);
	if (h.header_size < sizeof(h) || h.total_size != len)
		return throw_err(env, EINVAL, "tables: total_size %u does not match the buffer length %zu", h.total_size, len);
	if (h.policy_id && h.policy_id != policy_id)
		return throw_err(env, EINVAL, "tables were compiled for policy %u, not %u", h.policy_id, policy_id);
	if (h.section_count > 64 || h.header_size + (size_t)h.section_count * sizeof(struct vt_section) > len)
		return throw_err(env, EINVAL, "tables: section table (%u sections) runs past the end", h.section_count);

	s = e->skel;
	memset(spec, 0, sizeof(spec));
#define SPEC(T, REC, KEY, PIDOFF, MAP)                                                                        \
	spec[T] = (struct sec_spec){ sizeof(struct REC), sizeof(KEY), offsetof(struct REC, val), PIDOFF, bpf_map__fd(s->maps.MAP) }
	SPEC(VT_SEC_PATH_EXACT, vt_path_exact_rec, struct vt_path_key, 0, vt_path_exact);
	SPEC(VT_SEC_PATH_PREFIX, vt_path_lpm_rec, struct vt_path_lpm_key, 4, vt_path_prefix);
	SPEC(VT_SEC_PATH_SUFFIX, vt_path_lpm_rec, struct vt_path_lpm_key, 4, vt_path_suffix);
	SPEC(VT_SEC_PATH_GLOB, vt_path_glob_rec, struct vt_index_key, 0, vt_path_glob);
	SPEC(VT_SEC_SOCKET, vt_socket_rec, struct vt_socket_key, 0, vt_socket);
	SPEC(VT_SEC_NET, vt_net_rec, struct vt_net_key, 4, vt_net);
	SPEC(VT_SEC_NET_PORTS, vt_net_ports_rec, struct vt_index_key, 0, vt_net_ports);
	SPEC(VT_SEC_MOUNT_FSTYPE, vt_mount_fstype_rec, struct vt_fstype_key, 0, vt_mount_fstype);
	SPEC(VT_SEC_MOUNT_RULE, vt_mount_rule_rec, struct vt_index_key, 0, vt_mount_rule);
#undef SPEC
	spec[VT_SEC_POLICY].rec_size = sizeof(struct vt_policy);

	/* validate every section before touching a map */
	for (uint32_t i = 0; i < h.section_count; i++) {
		struct vt_section sec;
		memcpy(&sec, buf + h.header_size + i * sizeof(sec), sizeof(sec));
		if (sec.type < 1 || sec.type > VT_SEC_MAX)
			return throw_err(env, EINVAL, "tables: section %u has unknown type %u", i, sec.type);
		if (sec.record_size != spec[sec.type].rec_size)
			return throw_err(env, EINVAL, "tables: section %u (type %u) record_size %u, expected %u (header/encoder mismatch)", i,
					 sec.type, sec.record_size, spec[sec.type].rec_size);
		if ((uint64_t)sec.offset + (uint64_t)sec.count * sec.record_size > len)
			return throw_err(env, EINVAL, "tables: section %u (type %u) runs past the end of the buffer", i, sec.type);
		if (sec.type == VT_SEC_POLICY) {
			if (sec.count != 1)
				return throw_err(env, EINVAL, "tables: policy section must hold exactly one record, not %u", sec.count);
			memcpy(&pol, buf + sec.offset, sizeof(pol));
			have_policy = true;
		}
	}
	if (!have_policy)
		return throw_err(env, EINVAL, "tables: no policy section");
	if (pol.mode != VT_MODE_ENFORCE && pol.mode != VT_MODE_RECORD)
		return throw_err(env, EINVAL, "tables: policy mode %u is neither enforce (1) nor record (2)", pol.mode);

	if (bpf_map_lookup_elem(bpf_map__fd(s->maps.vt_policies), &policy_id, &old) == 0)
		gen = old.gen + 1 ? old.gen + 1 : 1;
	/* a crashed earlier load may have left entries of this generation: start clean */
	purge_policy(e, policy_id, gen, PURGE_ONLY_GEN);

	/* 1. insert the new generation's entries */
	for (uint32_t i = 0; i < h.section_count; i++) {
		struct vt_section sec;
		struct sec_spec *sp;
		memcpy(&sec, buf + h.header_size + i * sizeof(sec), sizeof(sec));
		if (sec.type == VT_SEC_POLICY)
			continue;
		sp = &spec[sec.type];
		for (uint32_t r = 0; r < sec.count; r++) {
			uint8_t key[512];
			const uint8_t *rec = buf + sec.offset + (size_t)r * sec.record_size;
			memcpy(key, rec, sp->key_size);
			memcpy(key + sp->pid_off, &policy_id, 4);
			memcpy(key + sp->pid_off + 4, &gen, 4);
			if (bpf_map_update_elem(sp->fd, key, rec + sp->val_off, BPF_ANY)) {
				err = errno;
				purge_policy(e, policy_id, gen, PURGE_ONLY_GEN);
				return throw_err(env, err, "inserting record %u of section type %u: %s (the previous rules stay active)", r,
						 sec.type, strerror(err));
			}
		}
	}
	/* 2. flip: one update makes every hook use the new generation */
	pol.gen = gen;
	if (bpf_map_update_elem(bpf_map__fd(s->maps.vt_policies), &policy_id, &pol, BPF_ANY)) {
		err = errno;
		purge_policy(e, policy_id, gen, PURGE_ONLY_GEN);
		return throw_err(env, err, "activating policy %u: %s", policy_id, strerror(err));
	}
	err = bump_gen(e, GEN_POLICIES);
	if (err)
		return throw_err(env, -err, "policy %u loaded, but announcing it failed: %s", policy_id, strerror(-err));
	/* 3. drop the old generation (after the bump: no task still uses it once it sees the bump) */
	err = purge_policy(e, policy_id, gen, PURGE_EXCEPT_GEN);
	if (err)
		return throw_err(env, err, "policy %u loaded, but removing old entries failed: %s", policy_id, strerror(-err));
	return NULL;
}

static napi_value js_remove_policy(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct enforcer *e = unwrap(env, info, &argc, argv, true);
	uint32_t policy_id;
	int err;
	if (!e)
		return NULL;
	if (argc < 1 || !get_u32(env, argv[0], &policy_id, "policyId"))
		return argc < 1 ? throw_err(env, EINVAL, "removePolicy(policyId) needs a policy id") : NULL;
	if (bpf_map_delete_elem(bpf_map__fd(e->skel->maps.vt_policies), &policy_id)) {
		err = errno;
		if (err == ENOENT)
			return throw_err(env, ENOENT, "unknown policy %u", policy_id);
		return throw_err(env, err, "removing policy %u: %s", policy_id, strerror(err));
	}
	err = bump_gen(e, GEN_POLICIES);
	if (err)
		return throw_err(env, -err, "policy %u removed, but announcing it failed: %s", policy_id, strerror(-err));
	err = purge_policy(e, policy_id, 0, PURGE_ALL);
	if (err)
		return throw_err(env, -err, "removing entries of policy %u: %s", policy_id, strerror(-err));
	return NULL;
}

static napi_value js_policies(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct enforcer *e = unwrap(env, info, &argc, NULL, true);
	napi_value map, set;
	uint32_t key, next;
	bool first = true;
	int fd;
	if (!e)
		return NULL;
	fd = bpf_map__fd(e->skel->maps.vt_policies);
	napi_value global, ctor;
	napi_get_global(env, &global);
	napi_get_named_property(env, global, "Map", &ctor);
	napi_new_instance(env, ctor, 0, NULL, &map);
	napi_get_named_property(env, map, "set", &set);
	while (bpf_map_get_next_key(fd, first ? NULL : &key, &next) == 0) {
		struct vt_policy p;
		first = false;
		key = next;
		if (bpf_map_lookup_elem(fd, &next, &p))
			continue;
		napi_value args[2], r;
		napi_create_uint32(env, next, &args[0]);
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
	uint64_t cg;
	int err;
	uint32_t policy_id;
	struct vt_binding b = { 0 };
	struct vt_policy p;
	if (!e)
		return NULL;
	if (argc < 2)
		return throw_err(env, EINVAL, "bindCgroup(cgroupId, policyId) needs two arguments");
	if (!get_u64(env, argv[0], &cg, "cgroupId") || !get_u32(env, argv[1], &policy_id, "policyId"))
		return NULL;
	if (cg == 0)
		return throw_err(env, EINVAL, "cgroupId 0 is not a cgroup");
	if (bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.vt_policies), &policy_id, &p))
		return throw_err(env, ENOENT, "unknown policy %u: load it before binding cgroup %llu", policy_id,
				 (unsigned long long)cg);
	if (argc >= 3) {
		napi_valuetype t;
		napi_typeof(env, argv[2], &t);
		if (t == napi_object) {
			napi_value v;
			bool arm = false;
			if (napi_get_named_property(env, argv[2], "armOnExec", &v) == napi_ok && napi_get_value_bool(env, v, &arm) == napi_ok &&
			    arm)
				b.flags |= VT_BIND_ARM_ON_EXEC;
		}
	}
	b.policy_id = policy_id;
	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.vt_bindings), &cg, &b, BPF_ANY))
		return throw_err(env, errno, "binding cgroup %llu: %s", (unsigned long long)cg, strerror(errno));
	if ((err = bump_gen(e, GEN_BINDINGS)))
		return throw_err(env, -err, "cgroup %llu bound, but announcing it failed: %s", (unsigned long long)cg, strerror(-err));
	return NULL;
}

static napi_value js_unbind(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct enforcer *e = unwrap(env, info, &argc, argv, true);
	uint64_t cg;
	int err;
	if (!e)
		return NULL;
	if (argc < 1)
		return throw_err(env, EINVAL, "unbindCgroup(cgroupId) needs a cgroup id");
	if (!get_u64(env, argv[0], &cg, "cgroupId"))
		return NULL;
	if (bpf_map_delete_elem(bpf_map__fd(e->skel->maps.vt_bindings), &cg))
		return throw_err(env, errno, errno == ENOENT ? "cgroup %llu is not bound" : "unbinding cgroup %llu: %s",
				 (unsigned long long)cg, strerror(errno));
	if ((err = bump_gen(e, GEN_BINDINGS)))
		return throw_err(env, -err, "cgroup %llu unbound, but announcing it failed: %s", (unsigned long long)cg, strerror(-err));
	return NULL;
}

static napi_value js_bindings(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct enforcer *e = unwrap(env, info, &argc, NULL, true);
	napi_value map, set, global, ctor;
	uint64_t key, next;
	bool first = true;
	int fd;
	if (!e)
		return NULL;
	fd = bpf_map__fd(e->skel->maps.vt_bindings);
	napi_get_global(env, &global);
	napi_get_named_property(env, global, "Map", &ctor);
	napi_new_instance(env, ctor, 0, NULL, &map);
	napi_get_named_property(env, map, "set", &set);
	while (bpf_map_get_next_key(fd, first ? NULL : &key, &next) == 0) {
		struct vt_binding b;
		napi_value args[2], r;
		first = false;
		key = next;
		if (bpf_map_lookup_elem(fd, &next, &b))
			continue;
		napi_create_bigint_uint64(env, next, &args[0]);
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

static int on_event(void *ctx, void *data, size_t size)
{
	struct enforcer *e = ctx;
	struct event_buf *eb = e->eb;
	napi_env env = eb->env;
	struct vt_log_event ev;
	napi_value o, v;
	if (size < sizeof(ev))
		return 0;
	memcpy(&ev, data, sizeof(ev));
	ev.path[sizeof(ev.path) - 1] = 0;
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
	napi_set_element(env, eb->arr, eb->n++, o);
	return eb->n >= eb->max ? -E2BIG : 0;
}

/*
 * The kernel skips a tracing program that would run again on a CPU where it is already running
 * (its recursion guard), counting a miss. For the path-fact cache's programs a skipped run is a
 * generation bump lost: possible only when they nest, e.g. RCU callbacks freeing dentries both
 * in an offloaded callback thread and in a softirq that interrupts it (rcu_nocbs setups). Checked
 * each time the agent drains events: after any miss the cache is turned off for good.
 */
static bool link_prog_info(struct enforcer *e, int i, uint32_t *id, struct bpf_prog_info *pi);

static void guard_path_cache(struct enforcer *e)
{
	if (!e->path_cache)
		return;
	for (int i = 0; i < e->nlinks; i++) {
		struct bpf_prog_info pi;
		uint32_t id;
		if (strncmp(e->link_names[i], "vt_gen_", 7) || !link_prog_info(e, i, &id, &pi))
			continue;
		if (pi.recursion_misses > 0) {
			if (set_path_cache(e, false) == 0)
				e->path_cache = false;
			return;
		}
	}
}

static napi_value js_read_events(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct enforcer *e = unwrap(env, info, &argc, argv, true);
	struct event_buf eb = { 0 };
	uint32_t max = 4096;
	int err;
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
	e->eb = &eb;
	err = ring_buffer__consume(e->rb);
	e->eb = NULL;
	if (err < 0 && err != -E2BIG)
		return throw_err(env, -err, "reading events: %s", strerror(-err));
	guard_path_cache(e);
	return eb.arr;
}

/* ---- program ids (tests, diagnostics) -------------------------------------------------- */

/* Kernel id of the program behind link i; false when the kernel does not say. */
static bool link_prog_id(struct enforcer *e, int i, uint32_t *id)
{
	struct bpf_link_info li;
	uint32_t len = sizeof(li);
	memset(&li, 0, sizeof(li));
	if (bpf_obj_get_info_by_fd(bpf_link__fd(e->links[i]), &li, &len))
		return false;
	*id = li.prog_id;
	return true;
}

/* The program behind link i: its id and bpf_prog_info (counters, sizes). */
static bool link_prog_info(struct enforcer *e, int i, uint32_t *id, struct bpf_prog_info *pi)
{
	uint32_t len = sizeof(*pi);
	int fd, err;
	if (!link_prog_id(e, i, id))
		return false;
	fd = bpf_prog_get_fd_by_id(*id);
	if (fd < 0)
		return false;
	memset(pi, 0, sizeof(*pi));
	err = bpf_obj_get_info_by_fd(fd, pi, &len);
	close(fd);
	return err == 0;
}

static napi_value js_program_ids(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	struct enforcer *e = unwrap(env, info, &argc, NULL, true);
	napi_value arr;
	uint32_t n = 0;
	if (!e)
		return NULL;
	napi_create_array(env, &arr);
	for (int i = 0; i < e->nlinks; i++) {
		uint32_t id;
		napi_value v;
		if (!link_prog_id(e, i, &id))
			continue;
		napi_create_uint32(env, id, &v);
		napi_set_element(env, arr, n++, v);
	}
	return arr;
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
	for (int i = 0; i < e->nlinks; i++) {
		struct bpf_prog_info pi;
		uint32_t id;
		napi_value o, v;
		if (!link_prog_info(e, i, &id, &pi))
			continue;
		napi_create_object(env, &o);
		napi_create_string_utf8(env, e->link_names[i], NAPI_AUTO_LENGTH, &v);
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
		napi_set_element(env, arr, n++, o);
	}
	return arr;
}

/* ---- probe ----------------------------------------------------------------------------- */

static int try_load(enum bpf_prog_type type, enum bpf_attach_type at, const char *fn)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	int id = libbpf_find_vmlinux_btf_id(fn, at), fd;
	if (id < 0)
		return id;
	o.expected_attach_type = at;
	o.attach_btf_id = id;
	fd = bpf_prog_load(type, "varmor_probe", "GPL", insns, 2, &o);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static napi_value js_probe(napi_env env, napi_callback_info info)
{
	napi_value o, v;
	char lsms[256] = "";
	int err;
	FILE *f;
	(void)info;
	libbpf_set_print(libbpf_log);
	napi_create_object(env, &o);
	f = fopen("/sys/kernel/security/lsm", "r");
	if (f) {
		if (!fgets(lsms, sizeof(lsms), f))
			lsms[0] = 0;
		fclose(f);
	}
	err = try_load(BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "file_open");
	napi_get_boolean(env, err == 0 && strstr(lsms, "bpf") != NULL, &v);
	napi_set_named_property(env, o, "lsm", v);
	if (err)
		set_str(env, o, "lsmReason", strerrorname_np(-err) ? strerrorname_np(-err) : "EIO");
	else if (!strstr(lsms, "bpf"))
		set_str(env, o, "lsmReason", "bpf is not in /sys/kernel/security/lsm (boot with lsm=...,bpf)");
	err = try_load(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, "sched_process_exec");
	napi_get_boolean(env, err == 0, &v);
	napi_set_named_property(env, o, "tracing", v);
	if (err)
		set_str(env, o, "tracingReason", strerrorname_np(-err) ? strerrorname_np(-err) : "EIO");
	{
		/* the same tests attach() uses: the pre-filter's walk above a mount, the path-fact cache */
		struct kernel_features kf = kernel_features();
		napi_get_boolean(env, kf.rdonly_cast, &v);
		napi_set_named_property(env, o, "directMountWalk", v);
		napi_get_boolean(env, kf.path_cache, &v);
		napi_set_named_property(env, o, "pathCache", v);
	}
	return o;
}

/* ---- module ---------------------------------------------------------------------------- */

static napi_value init(napi_env env, napi_value exports)
{
	napi_property_descriptor methods[] = {
		{ "attach", NULL, js_attach, NULL, NULL, NULL, napi_default, NULL },
		{ "detach", NULL, js_detach, NULL, NULL, NULL, napi_default, NULL },
		{ "loadPolicy", NULL, js_load_policy, NULL, NULL, NULL, napi_default, NULL },
		{ "removePolicy", NULL, js_remove_policy, NULL, NULL, NULL, napi_default, NULL },
		{ "policies", NULL, js_policies, NULL, NULL, NULL, napi_default, NULL },
		{ "bindCgroup", NULL, js_bind, NULL, NULL, NULL, napi_default, NULL },
		{ "unbindCgroup", NULL, js_unbind, NULL, NULL, NULL, napi_default, NULL },
		{ "bindings", NULL, js_bindings, NULL, NULL, NULL, napi_default, NULL },
		{ "readEvents", NULL, js_read_events, NULL, NULL, NULL, napi_default, NULL },
		{ "programIds", NULL, js_program_ids, NULL, NULL, NULL, napi_default, NULL },
		{ "programStats", NULL, js_program_stats, NULL, NULL, NULL, napi_default, NULL },
	};
	napi_value cls, probe;
	napi_define_class(env, "NativeEnforcer", NAPI_AUTO_LENGTH, js_ctor, NULL, sizeof(methods) / sizeof(methods[0]), methods,
			  &cls);
	napi_set_named_property(env, exports, "NativeEnforcer", cls);
	napi_create_function(env, "probe", NAPI_AUTO_LENGTH, js_probe, NULL, &probe);
	napi_set_named_property(env, exports, "probe", probe);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
