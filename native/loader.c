// SPDX-License-Identifier: Apache-2.0
/*
 * The BPF enforcer's loader in plain C (see loader.h): attach/adopt/pin, the table store with its
 * generation swap, bindings, the event ring buffer, program stats and the kernel probe. No Node
 * here: bpf_lsm.c wraps it for JavaScript, test/loader_test.c drives it directly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "varmor.skel.h"

/* Names in the pin folder beside the maps and links (see "version tag, upgrade, uninstall"). */
#define VT_VERSION_PIN "vt_version"
#define VT_PREV_DIR "prev"

/* Fills *err (positive errno, message) and returns the negative errno. */
static int fail(struct vt_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	if (code < 0)
		code = -code;
	if (err) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
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

/* ---- lifecycle ------------------------------------------------------------------------- */

void vt_loader_destroy(struct vt_loader *e)
{
	if (!e || e->detached)
		return;
	if (e->rb)
		ring_buffer__free(e->rb);
	e->rb = NULL;
	if (e->rec_link)
		bpf_link__destroy(e->rec_link);
	e->rec_link = NULL;
	for (int i = 0; i < e->nlinks; i++)
		bpf_link__destroy(e->links[i]); /* closes our fd; a pinned link stays */
	e->nlinks = 0;
	if (e->skel)
		varmor__destroy(e->skel);
	e->skel = NULL;
	e->attached = false;
	e->detached = true;
}

static uint32_t read_mnt_ns(void)
{
	struct stat st;
	if (stat("/proc/1/ns/mnt", &st) == 0)
		return (uint32_t)st.st_ino;
	return 0;
}

/* What those programs (varmor.bpf.c, vt_path_gen) attach to: without all of them the cache stays off. */
static const char *const path_gen_funcs[] = { "__d_move", "__d_free", "__d_free_external", "namespace_unlock" };

struct kernel_features vt_kernel_features(void)
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

/* The ring buffer's callback: one record, handed to the caller's vt_event_fn. */
static int on_event(void *ctx, void *data, size_t size)
{
	struct vt_loader *e = ctx;
	struct vt_log_event ev;
	if (size < sizeof(ev) || !e->on_event)
		return 0;
	memcpy(&ev, data, sizeof(ev));
	ev.path[sizeof(ev.path) - 1] = 0;
	return e->on_event(e->event_ctx, &ev);
}

/* The path-fact cache's invalidating programs (fentry/fexit). */
static bool is_path_gen_prog(struct bpf_program *p)
{
	const char *sec = bpf_program__section_name(p);
	return !strncmp(sec, "fentry/", 7) || !strncmp(sec, "fexit/", 6);
}

/* Programs attached only on demand (vt_record_syscalls), never pinned: loaded in both modes. */
static bool is_on_demand_prog(struct bpf_program *p)
{
	return !strncmp(bpf_program__name(p), "vt_rec_", 7);
}

/* Enforce mode: the LSM programs, and the cache's programs where the kernel has their
 * functions; audit mode: the tp_btf programs. Both: the on-demand ones. */
static bool prog_wanted(struct vt_loader *e, struct bpf_program *p)
{
	const char *sec = bpf_program__section_name(p);
	if (is_on_demand_prog(p) || !strncmp(bpf_program__name(p), "vt_track_", 9))
		return true; /* both modes: on demand, and the pid -> cgroup trackers */
	if (is_path_gen_prog(p))
		return e->mode == VT_LOADER_ENFORCE && e->path_cache;
	return e->mode == VT_LOADER_ENFORCE ? !strncmp(sec, "lsm/", 4) : !strncmp(sec, "tp_btf/", 7);
}

/* Turns the path-fact cache on once its programs are attached (or off when they are not). The
 * generation is kept when the cache is already on: an adopted set's entries rely on it. */
static int set_path_cache(struct vt_loader *e, bool on)
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
static void unlink_pins(struct vt_loader *e)
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
	snprintf(path, sizeof(path), "%s/" VT_VERSION_PIN, e->pin);
	unlink(path);
}

/* ---- version tag, upgrade, uninstall ---------------------------------------------------- */

/*
 * Which build pinned the objects: a one-entry array map pinned as <pin>/vt_version holding the
 * tag (a hash of the embedded BPF object). An agent finding its own tag adopts the pinned links;
 * finding another (or none beside pinned links: a build before tags) it loads its own programs
 * and moves each pinned link onto them, so a fixed program is deployed by the upgrade itself.
 */

void vt_object_version(char *out, size_t n)
{
	size_t sz = 0;
	const uint8_t *b = varmor__elf_bytes(&sz);
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < sz; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(out, n, "%016llx", (unsigned long long)h);
}

/* The tag pinned under e->pin, or "" when there is none. */
static void read_pinned_version(struct vt_loader *e, char *out)
{
	char path[600], val[VT_VERSION_TAG_LEN] = "";
	uint32_t zero = 0;
	int fd;
	out[0] = 0;
	snprintf(path, sizeof(path), "%s/" VT_VERSION_PIN, e->pin);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	if (bpf_map_lookup_elem(fd, &zero, val) == 0) {
		val[sizeof(val) - 1] = 0;
		memcpy(out, val, sizeof(val));
	}
	close(fd);
}

/* Pins e->version as the tag of what is attached under e->pin (created on first use). */
static int write_pinned_version(struct vt_loader *e)
{
	char path[600], val[VT_VERSION_TAG_LEN];
	uint32_t zero = 0;
	int fd, err = 0;
	snprintf(path, sizeof(path), "%s/" VT_VERSION_PIN, e->pin);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vt_version", sizeof(uint32_t), sizeof(val), 1, NULL);
		if (fd < 0)
			return -errno;
		if (bpf_obj_pin(fd, path)) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	memset(val, 0, sizeof(val));
	snprintf(val, sizeof(val), "%s", e->version);
	if (bpf_map_update_elem(fd, &zero, val, BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}

/* Removes every pin directly under dir (and dir/prev), then dir. Returns how many it removed. */
static int remove_pin_dir(const char *dir)
{
	char path[1024];
	struct dirent *d;
	int n = 0;
	DIR *dp = opendir(dir);
	if (!dp)
		return 0;
	while ((d = readdir(dp))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (d->d_type == DT_DIR) {
			n += remove_pin_dir(path);
			continue;
		}
		if (unlink(path) == 0)
			n++;
	}
	closedir(dp);
	rmdir(dir);
	return n;
}

int vt_uninstall(const char *pin, struct vt_err *errp)
{
	struct stat st;
	if (!pin || pin[0] != '/')
		return fail(errp, EINVAL, "pinPath must be an absolute path in bpffs");
	if (stat(pin, &st))
		return errno == ENOENT ? 0 : fail(errp, errno, "uninstall: %s: %s", pin, strerror(errno));
	remove_pin_dir(pin);
	if (stat(pin, &st) == 0)
		return fail(errp, EBUSY, "uninstall: %s still holds entries that could not be removed", pin);
	return 0;
}

int vt_loader_release_previous(const char *pin, struct vt_err *errp)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/" VT_PREV_DIR, pin);
	remove_pin_dir(path);
	if (access(path, F_OK) == 0)
		return fail(errp, EBUSY, "%s could not be removed", path);
	return 0;
}

/* Moves every pin of the folder (not sub-folders) into <pin>/prev: the old set stays attached,
 * with its own maps, while this agent loads a fresh set. */
static int move_to_prev(struct vt_loader *e)
{
	char prev[600], from[1024], to[1024];
	struct dirent *d;
	DIR *dp;
	int fd;
	snprintf(prev, sizeof(prev), "%s/" VT_PREV_DIR, e->pin);
	remove_pin_dir(prev); /* an older set still kept there: the one moved now enforces meanwhile */
	if (mkdir(prev, 0700) && errno != EEXIST)
		return -errno;
	dp = opendir(e->pin);
	if (!dp)
		return -errno;
	while ((d = readdir(dp))) {
		if (d->d_type == DT_DIR)
			continue;
		snprintf(from, sizeof(from), "%s/%s", e->pin, d->d_name);
		snprintf(to, sizeof(to), "%s/%s", prev, d->d_name);
		/* pinned again under prev before the old name goes: never a moment unpinned */
		fd = bpf_obj_get(from);
		if (fd < 0 || bpf_obj_pin(fd, to)) {
			int err = -errno;
			if (fd >= 0)
				close(fd);
			closedir(dp);
			return err;
		}
		close(fd);
		unlink(from);
	}
	closedir(dp);
	return 0;
}

/* Whether a program of this object is named `name`. */
static bool has_program(struct vt_loader *e, const char *name)
{
	struct bpf_program *p;
	bpf_object__for_each_program(p, e->skel->obj)
	if (!strcmp(bpf_program__name(p), name))
		return true;
	return false;
}

/* After an upgrade: pinned links of programs the new object no longer has are removed (their
 * programs detach). */
static void retire_unknown_links(struct vt_loader *e)
{
	char path[1024];
	struct dirent *d;
	DIR *dp = opendir(e->pin);
	if (!dp)
		return;
	while ((d = readdir(dp))) {
		if (d->d_type == DT_DIR || strncmp(d->d_name, "link_", 5) || has_program(e, d->d_name + 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", e->pin, d->d_name);
		if (unlink(path) == 0)
			e->upgrade.retired++;
	}
	closedir(dp);
}

/*
 * Moves the pinned link at `path` onto `prog` (loaded by this agent), with no instant where the
 * hook runs neither program: bpf_link_update where the link type supports it (one pointer swap
 * in the kernel); otherwise (tracing and LSM links have no update operation in 6.1 or 6.12) the
 * new program is attached and pinned at the old link's path, then the old link is closed. In between both programs run on the hook, reading the same maps: the stricter of two
 * equal answers, never none.
 */
static struct bpf_link *swap_link(struct vt_loader *e, struct bpf_program *prog, const char *path, int *errout)
{
	char tmp[700];
	struct bpf_link *old = bpf_link__open(path), *nl;
	int err;
	if (!old) {
		*errout = errno;
		return NULL;
	}
	err = bpf_link__update_program(old, prog);
	if (err == 0) {
		e->upgrade.link_update++;
		e->upgrade.swapped++;
		return old;
	}
	e->upgrade.link_update_err = -err;
	nl = bpf_program__attach(prog);
	if (!nl) {
		*errout = errno;
		bpf_link__destroy(old);
		return NULL;
	}
	/* The new link is pinned beside the old one first (so it stays attached even if this process
	 * dies here: the next upgrade retires the stray pin), then the old pin is replaced. We hold
	 * both fds meanwhile: both programs stay attached throughout. */
	snprintf(tmp, sizeof(tmp), "%s__new", path); /* bpffs refuses names with a dot */
	unlink(tmp);
	if (bpf_obj_pin(bpf_link__fd(nl), tmp)) {
		*errout = errno;
		bpf_link__destroy(nl);
		bpf_link__destroy(old);
		return NULL;
	}
	unlink(path);
	if (bpf_obj_pin(bpf_link__fd(nl), path)) {
		*errout = errno;
		bpf_obj_pin(bpf_link__fd(old), path); /* put the old one back: the set stays as it was */
		unlink(tmp);
		bpf_link__destroy(nl);
		bpf_link__destroy(old);
		return NULL;
	}
	unlink(tmp);
	bpf_link__destroy(old); /* its last reference: the old program detaches here */
	e->upgrade.overlap++;
	e->upgrade.swapped++;
	return nl;
}

/* Pins left by an agent built with another table layout cannot be reused: libbpf would refuse
 * them. Such a stale set is moved aside so this agent loads fresh; the agent re-applies policies
 * and bindings, as it does after any restart. Returns 1 when it moved (or removed) pins. */
static int drop_stale_pins(struct vt_loader *e)
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
	/* The old set cannot share maps with this one, but it still enforces the old agent's
	 * tables and bindings: keep it attached under <pin>/prev until the agent has re-applied
	 * them here (vt_loader_release_previous). Both sets run meanwhile: never a gap. */
	if (move_to_prev(e) == 0) {
		e->upgrade.previous = true;
		return 1;
	}
	unlink_pins(e);
	return 1;
}

int vt_loader_attach(struct vt_loader *e, struct vt_err *errp)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	char path[600], pinned[VT_VERSION_TAG_LEN] = "";
	bool upgrade = false;
	int err;

	if (e->detached)
		return fail(errp, EBADF, "BpfEnforcer was detached; create a new one");
	if (e->attached)
		return fail(errp, EALREADY, "BpfEnforcer is already attached");
	libbpf_set_print(libbpf_log);
	last_log[0] = 0;
	log_tail[0] = 0;
	log_tail_len = 0;
	e->skel = varmor__open();
	if (!e->skel)
		return fail(errp, errno ? errno : EINVAL, "varmor__open: %s", strerror(errno));
	e->skel->rodata->init_mnt_ns = read_mnt_ns();
	{
		struct kernel_features kf = vt_kernel_features();
		/* 6.2+: the path pre-filter reads above a file's mount by direct loads (see bpf/lib/path_facts.h) */
		e->skel->rodata->have_rdonly_cast = kf.rdonly_cast;
		e->path_cache = e->mode == VT_LOADER_ENFORCE && kf.path_cache;
	}
	if (e->pin[0]) {
		err = mkdir_p(e->pin);
		if (err) {
			varmor__destroy(e->skel);
			e->skel = NULL;
			return fail(errp, err, "cannot create pin directory %s: %s", e->pin, strerror(-err));
		}
		if (!e->version[0])
			vt_object_version(e->version, sizeof(e->version));
		memset(&e->upgrade, 0, sizeof(e->upgrade));
		read_pinned_version(e, pinned);
		drop_stale_pins(e);
		/* links pinned by another build (or by one before version tags): load ours and swap */
		bpf_object__for_each_program(prog, e->skel->obj)
		{
			snprintf(path, sizeof(path), "%s/link_%s", e->pin, bpf_program__name(prog));
			if (prog_wanted(e, prog) && access(path, F_OK) == 0 && strcmp(pinned, e->version)) {
				upgrade = true;
				snprintf(e->upgrade.from, sizeof(e->upgrade.from), "%s", pinned[0] ? pinned : "untagged");
				break;
			}
		}
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
		if (want && e->pin[0] && !upgrade) {
			/* a pinned link of an earlier agent of this build is adopted: not loaded again */
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
		return fail(errp, code, "loading the %s programs failed: %s%s%s", e->mode == VT_LOADER_ENFORCE ? "LSM" : "audit",
				 strerror(code), log[0] ? " (libbpf: " : "", log[0] ? log : "");
	}
	bpf_object__for_each_program(prog, e->skel->obj)
	{
		struct bpf_link *link;
		if (!prog_wanted(e, prog) || is_on_demand_prog(prog))
			continue;
		if (e->pin[0]) {
			snprintf(path, sizeof(path), "%s/link_%s", e->pin, bpf_program__name(prog));
			if (access(path, F_OK) == 0) {
				/* a pinned link: moved onto this build's program (upgrade), or adopted as it is */
				link = upgrade ? swap_link(e, prog, path, &err) : bpf_link__open(path);
				if (!link) {
					if (!upgrade)
						err = errno;
					vt_loader_destroy(e);
					e->detached = false;
					return upgrade ? fail(errp, err, "swapping pinned link %s to this build's program: %s", path, strerror(err))
						       : fail(errp, err, "adopting pinned link %s: %s", path, strerror(err));
				}
				e->link_names[e->nlinks] = bpf_program__name(prog);
				e->links[e->nlinks++] = link;
				continue;
			}
		}
		link = bpf_program__attach(prog);
		if (!link) {
			err = errno;
			vt_loader_destroy(e);
			e->detached = false;
			return fail(errp, err, "attaching %s failed: %s", bpf_program__name(prog), strerror(err));
		}
		e->link_names[e->nlinks] = bpf_program__name(prog);
		e->links[e->nlinks++] = link;
		if (e->pin[0]) {
			err = bpf_link__pin(link, path);
			if (err) {
				vt_loader_destroy(e);
				e->detached = false;
				return fail(errp, -err, "pinning link %s: %s", path, strerror(-err));
			}
		}
		if (e->nlinks >= VT_LOADER_MAX_LINKS)
			break;
	}
	if (e->mode == VT_LOADER_ENFORCE) {
		/* every wanted program is attached by now (or attach threw): the cache may be used */
		err = set_path_cache(e, e->path_cache);
		if (err) {
			vt_loader_destroy(e);
			e->detached = false;
			return fail(errp, -err, "setting vt_path_gen: %s", strerror(-err));
		}
	}
	if (e->pin[0]) {
		if (upgrade)
			retire_unknown_links(e);
		err = write_pinned_version(e);
		if (err) {
			vt_loader_destroy(e);
			e->detached = false;
			return fail(errp, -err, "pinning the version tag under %s: %s", e->pin, strerror(-err));
		}
	}
	e->rb = ring_buffer__new(bpf_map__fd(e->skel->maps.vt_events), on_event, e, NULL);
	if (!e->rb) {
		err = errno;
		vt_loader_destroy(e);
		e->detached = false;
		return fail(errp, err, "ring_buffer__new: %s", strerror(err));
	}
	e->attached = true;
	return 0;
}

/* Removes every pin under the pin folder (this set's, the version tag, a kept previous set) and
 * the folder (detach({ unpin: true })). */
void vt_loader_unpin_all(struct vt_loader *e)
{
	if (!e->skel || !e->pin[0])
		return;
	unlink_pins(e);
	remove_pin_dir(e->pin);
}

/* ---- maps: generic key iteration -------------------------------------------------------- */

struct rule_map {
	int fd;
	uint32_t key_size;
	uint32_t pid_off; /* offset of policy_id in the key; gen follows it */
};

static int rule_maps(struct vt_loader *e, struct rule_map *out)
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
		{ s->maps.vt_path_ancestor, sizeof(struct vt_path_key), 0 },
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

static int purge_policy(struct vt_loader *e, uint32_t policy_id, uint32_t gen, enum purge how)
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
 * of its cgroup to a policy is dropped on its next hook (see protected_cg in bpf/lib/policy.h). Called
 * after the change, so a task that cached the old state before it sees the new generation. */
enum gen_kind { GEN_BINDINGS, GEN_POLICIES };

static int bump_gen(struct vt_loader *e, enum gen_kind which)
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

int vt_load_policy(struct vt_loader *e, uint32_t policy_id, const uint8_t *buf, size_t len, struct vt_err *errp)
{
	uint32_t gen = 1;
	struct vt_blob_header h;
	struct vt_policy pol, old;
	struct varmor *s;
	struct sec_spec spec[VT_SEC_MAX + 1];
	bool have_policy = false;
	int err;

	if (policy_id == 0)
		return fail(errp, EINVAL, "policyId 0 is reserved (no policy)");
	if (len < sizeof(h))
		return fail(errp, EINVAL, "tables: %zu bytes is shorter than the %zu-byte header", len, sizeof(h));
	memcpy(&h, buf, sizeof(h));
	if (h.magic != VT_MAGIC)
		return fail(errp, EINVAL, "tables: bad magic 0x%08x (not a varmor tables blob)", h.magic);
	if (h.version != VT_VERSION)
		return fail(errp, EINVAL, "tables: version %u, this addon reads version %u", h.version, VT_VERSION);
	if (h.header_size < sizeof(h) || h.total_size != len)
		return fail(errp, EINVAL, "tables: total_size %u does not match the buffer length %zu", h.total_size, len);
	if (h.policy_id && h.policy_id != policy_id)
		return fail(errp, EINVAL, "tables were compiled for policy %u, not %u", h.policy_id, policy_id);
	if (h.section_count > 64 || h.header_size + (size_t)h.section_count * sizeof(struct vt_section) > len)
		return fail(errp, EINVAL, "tables: section table (%u sections) runs past the end", h.section_count);

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
	SPEC(VT_SEC_PATH_ANCESTOR, vt_path_exact_rec, struct vt_path_key, 0, vt_path_ancestor);
#undef SPEC
	spec[VT_SEC_POLICY].rec_size = sizeof(struct vt_policy);

	/* validate every section before touching a map */
	for (uint32_t i = 0; i < h.section_count; i++) {
		struct vt_section sec;
		memcpy(&sec, buf + h.header_size + i * sizeof(sec), sizeof(sec));
		if (sec.type < 1 || sec.type > VT_SEC_MAX)
			return fail(errp, EINVAL, "tables: section %u has unknown type %u", i, sec.type);
		if (sec.record_size != spec[sec.type].rec_size)
			return fail(errp, EINVAL, "tables: section %u (type %u) record_size %u, expected %u (header/encoder mismatch)", i,
					 sec.type, sec.record_size, spec[sec.type].rec_size);
		if ((uint64_t)sec.offset + (uint64_t)sec.count * sec.record_size > len)
			return fail(errp, EINVAL, "tables: section %u (type %u) runs past the end of the buffer", i, sec.type);
		if (sec.type == VT_SEC_POLICY) {
			if (sec.count != 1)
				return fail(errp, EINVAL, "tables: policy section must hold exactly one record, not %u", sec.count);
			memcpy(&pol, buf + sec.offset, sizeof(pol));
			have_policy = true;
		}
	}
	if (!have_policy)
		return fail(errp, EINVAL, "tables: no policy section");
	if (pol.mode != VT_MODE_ENFORCE && pol.mode != VT_MODE_RECORD)
		return fail(errp, EINVAL, "tables: policy mode %u is neither enforce (1) nor record (2)", pol.mode);

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
				return fail(errp, err, "inserting record %u of section type %u: %s (the previous rules stay active)", r,
						 sec.type, strerror(err));
			}
		}
	}
	/* 2. flip: one update makes every hook use the new generation */
	pol.gen = gen;
	if (bpf_map_update_elem(bpf_map__fd(s->maps.vt_policies), &policy_id, &pol, BPF_ANY)) {
		err = errno;
		purge_policy(e, policy_id, gen, PURGE_ONLY_GEN);
		return fail(errp, err, "activating policy %u: %s", policy_id, strerror(err));
	}
	err = bump_gen(e, GEN_POLICIES);
	if (err)
		return fail(errp, -err, "policy %u loaded, but announcing it failed: %s", policy_id, strerror(-err));
	/* 3. drop the old generation (after the bump: no task still uses it once it sees the bump) */
	err = purge_policy(e, policy_id, gen, PURGE_EXCEPT_GEN);
	if (err)
		return fail(errp, err, "policy %u loaded, but removing old entries failed: %s", policy_id, strerror(-err));
	return 0;
}

int vt_remove_policy(struct vt_loader *e, uint32_t policy_id, struct vt_err *errp)
{
	int err;
	if (bpf_map_delete_elem(bpf_map__fd(e->skel->maps.vt_policies), &policy_id)) {
		err = errno;
		if (err == ENOENT)
			return fail(errp, ENOENT, "unknown policy %u", policy_id);
		return fail(errp, err, "removing policy %u: %s", policy_id, strerror(err));
	}
	err = bump_gen(e, GEN_POLICIES);
	if (err)
		return fail(errp, -err, "policy %u removed, but announcing it failed: %s", policy_id, strerror(-err));
	err = purge_policy(e, policy_id, 0, PURGE_ALL);
	if (err)
		return fail(errp, -err, "removing entries of policy %u: %s", policy_id, strerror(-err));
	return 0;
}

/* The entry after `prev` (the first when NULL) of a hash map, with its value; an entry removed
 * between the two calls is skipped. Keys up to 8 bytes (policy ids, cgroup ids). */
static int map_next(int fd, const void *prev, void *key, size_t key_size, void *value)
{
	uint64_t at = 0;
	if (prev)
		memcpy(&at, prev, key_size);
	while (bpf_map_get_next_key(fd, prev ? &at : NULL, key) == 0) {
		if (bpf_map_lookup_elem(fd, key, value) == 0)
			return 0;
		memcpy(&at, key, key_size);
		prev = &at;
	}
	return -ENOENT;
}

int vt_policy_next(struct vt_loader *e, const uint32_t *prev, uint32_t *id, struct vt_policy *pol)
{
	return map_next(bpf_map__fd(e->skel->maps.vt_policies), prev, id, sizeof(*id), pol);
}

/* ---- bindings -------------------------------------------------------------------------- */

int vt_bind(struct vt_loader *e, uint64_t cg, uint32_t policy_id, uint32_t flags, struct vt_err *errp)
{
	struct vt_binding b = { 0 };
	struct vt_policy p;
	int err;
	if (cg == 0)
		return fail(errp, EINVAL, "cgroupId 0 is not a cgroup");
	if (bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.vt_policies), &policy_id, &p))
		return fail(errp, ENOENT, "unknown policy %u: load it before binding cgroup %llu", policy_id,
			    (unsigned long long)cg);
	b.flags = flags;
	b.policy_id = policy_id;
	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.vt_bindings), &cg, &b, BPF_ANY))
		return fail(errp, errno, "binding cgroup %llu: %s", (unsigned long long)cg, strerror(errno));
	if ((err = bump_gen(e, GEN_BINDINGS)))
		return fail(errp, -err, "cgroup %llu bound, but announcing it failed: %s", (unsigned long long)cg, strerror(-err));
	return 0;
}

int vt_set_self_addrs(struct vt_loader *e, uint64_t cg, const struct vt_self_addrs *a, struct vt_err *errp)
{
	int fd = bpf_map__fd(e->skel->maps.vt_self_addrs);
	if (cg == 0)
		return fail(errp, EINVAL, "cgroupId 0 is not a cgroup");
	if (!a || a->count == 0) {
		if (bpf_map_delete_elem(fd, &cg) && errno != ENOENT)
			return fail(errp, errno, "forgetting the addresses of cgroup %llu: %s", (unsigned long long)cg, strerror(errno));
		return 0;
	}
	if (a->count > VT_SELF_ADDRS)
		return fail(errp, EINVAL, "%u addresses for cgroup %llu; at most %d fit", a->count, (unsigned long long)cg, VT_SELF_ADDRS);
	for (uint32_t i = 0; i < a->count; i++)
		if (a->family[i] != AF_INET && a->family[i] != AF_INET6)
			return fail(errp, EINVAL, "address %u of cgroup %llu has family %u", i, (unsigned long long)cg, a->family[i]);
	if (bpf_map_update_elem(fd, &cg, a, BPF_ANY))
		return fail(errp, errno, "setting the addresses of cgroup %llu: %s", (unsigned long long)cg, strerror(errno));
	return 0;
}

int vt_unbind(struct vt_loader *e, uint64_t cg, struct vt_err *errp)
{
	int err;
	if (bpf_map_delete_elem(bpf_map__fd(e->skel->maps.vt_bindings), &cg))
		return fail(errp, errno, errno == ENOENT ? "cgroup %llu is not bound" : "unbinding cgroup %llu: %s",
			    (unsigned long long)cg, strerror(errno));
	/* after the binding: a pod-self rule never runs without the addresses it compares */
	bpf_map_delete_elem(bpf_map__fd(e->skel->maps.vt_self_addrs), &cg);
	if ((err = bump_gen(e, GEN_BINDINGS)))
		return fail(errp, -err, "cgroup %llu unbound, but announcing it failed: %s", (unsigned long long)cg, strerror(-err));
	return 0;
}

int vt_binding_next(struct vt_loader *e, const uint64_t *prev, uint64_t *cg, struct vt_binding *b)
{
	return map_next(bpf_map__fd(e->skel->maps.vt_bindings), prev, cg, sizeof(*cg), b);
}

/* ---- events ---------------------------------------------------------------------------- */

/*
 * The kernel skips a tracing program that would run again on a CPU where it is already running
 * (its recursion guard), counting a miss. For the path-fact cache's programs a skipped run is a
 * generation bump lost: possible only when they nest, e.g. RCU callbacks freeing dentries both
 * in an offloaded callback thread and in a softirq that interrupts it (rcu_nocbs setups). Checked
 * each time the agent drains events: after any miss the cache is turned off for good.
 */
static void guard_path_cache(struct vt_loader *e)
{
	if (!e->path_cache)
		return;
	for (int i = 0; i < e->nlinks; i++) {
		struct bpf_prog_info pi;
		uint32_t id;
		if (strncmp(e->link_names[i], "vt_gen_", 7) || !vt_link_prog_info(e, i, &id, &pi))
			continue;
		if (pi.recursion_misses > 0) {
			if (set_path_cache(e, false) == 0)
				e->path_cache = false;
			return;
		}
	}
}

int vt_read_events(struct vt_loader *e, vt_event_fn fn, void *ctx, struct vt_err *errp)
{
	int err;
	e->on_event = fn;
	e->event_ctx = ctx;
	err = ring_buffer__consume(e->rb);
	e->on_event = NULL;
	e->event_ctx = NULL;
	if (err < 0 && err != -E2BIG)
		return fail(errp, -err, "reading events: %s", strerror(-err));
	guard_path_cache(e);
	return 0;
}

/* ---- program ids (tests, diagnostics) -------------------------------------------------- */

/* Kernel id of the program behind link i; false when the kernel does not say. */
bool vt_link_prog_id(struct vt_loader *e, int i, uint32_t *id)
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
bool vt_link_prog_info(struct vt_loader *e, int i, uint32_t *id, struct bpf_prog_info *pi)
{
	uint32_t len = sizeof(*pi);
	int fd, err;
	if (!vt_link_prog_id(e, i, id))
		return false;
	fd = bpf_prog_get_fd_by_id(*id);
	if (fd < 0)
		return false;
	memset(pi, 0, sizeof(*pi));
	err = bpf_obj_get_info_by_fd(fd, pi, &len);
	close(fd);
	return err == 0;
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


void vt_probe(struct vt_probe_result *r)
{
	char lsms[256] = "";
	FILE *f;
	libbpf_set_print(libbpf_log);
	f = fopen("/sys/kernel/security/lsm", "r");
	if (f) {
		if (!fgets(lsms, sizeof(lsms), f))
			lsms[0] = 0;
		fclose(f);
	}
	r->lsm_err = try_load(BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "file_open");
	r->lsm_listed = strstr(lsms, "bpf") != NULL;
	r->tracing_err = try_load(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, "sched_process_exec");
	/* the same tests attach() uses: the pre-filter's walk above a mount, the path-fact cache */
	r->kf = vt_kernel_features();
}

/* ---- BehaviorModeling: syscall record -------------------------------------------------- */

int vt_record_syscalls(struct vt_loader *e, bool on, struct vt_err *errp)
{
	if (!e->attached)
		return fail(errp, ENOTCONN, "not attached");
	if (!on) {
		if (e->rec_link)
			bpf_link__destroy(e->rec_link); /* never pinned: detached here */
		e->rec_link = NULL;
		return 0;
	}
	if (e->rec_link)
		return 0;
	e->rec_link = bpf_program__attach(e->skel->progs.vt_rec_sys_enter);
	if (!e->rec_link) {
		int err = errno;
		return fail(errp, err, "attaching vt_rec_sys_enter: %s", strerror(err));
	}
	return 0;
}

int vt_syscalls_read(struct vt_loader *e, uint32_t policy_id, uint64_t bits[VT_SYSCALL_WORDS], struct vt_err *errp)
{
	if (!e->attached)
		return fail(errp, ENOTCONN, "not attached");
	if (bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.vt_syscalls), &policy_id, bits)) {
		if (errno != ENOENT)
			return fail(errp, errno, "reading vt_syscalls: %s", strerror(errno));
		memset(bits, 0, sizeof(uint64_t) * VT_SYSCALL_WORDS);
	}
	return 0;
}

int vt_syscalls_clear(struct vt_loader *e, uint32_t policy_id, struct vt_err *errp)
{
	if (!e->attached)
		return fail(errp, ENOTCONN, "not attached");
	if (bpf_map_delete_elem(bpf_map__fd(e->skel->maps.vt_syscalls), &policy_id) && errno != ENOENT)
		return fail(errp, errno, "clearing vt_syscalls: %s", strerror(errno));
	return 0;
}

int vt_cgroup_of_pid(struct vt_loader *e, uint32_t pid, uint64_t *cgid)
{
	if (!e->attached)
		return -ENOTCONN;
	return bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.vt_pid_cgroup), &pid, cgid) ? -errno : 0;
}
