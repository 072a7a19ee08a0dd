// SPDX-License-Identifier: Apache-2.0
/*
 * Loads each program of a BPF object on its own, so that one refused program does not hide the others, and says
 * for each whether this kernel loads it (and, with --attach, attaches it) and if not, why: libbpf's first error
 * and the verifier's last word. Used by kernels/checks/bpf to compare kernels.
 *   bpfprobe [--attach] [--verbose] [--only PROGRAM] [--set VAR.FIELD=N]... OBJECT.o...
 * --set gives a const volatile global (in .rodata) the value a loader would, since the verifier prunes code that
 * reads it: with sockflow's defaults (all zero) whole groups of a program would never be checked.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

static char logbuf[1 << 20];
static size_t loglen;
static int verbose;
static const char *only;

static int collect(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	if (loglen < sizeof(logbuf) - 1) {
		int n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen, fmt, args);
		if (n > 0)
			loglen += (size_t)n < sizeof(logbuf) - loglen ? (size_t)n : sizeof(logbuf) - loglen - 1;
	}
	return 0;
}

/* libbpf's first complaint, and the verifier's last line before its own summary */
static void reasons(char *first, size_t fsz, char *verifier, size_t vsz)
{
	char *save, *line, *copy = strdup(logbuf);
	int in_log = 0;

	first[0] = verifier[0] = 0;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "-- BEGIN PROG LOAD LOG --")) {
			in_log = 1;
			continue;
		}
		if (strstr(line, "-- END PROG LOAD LOG --")) {
			in_log = 0;
			continue;
		}
		if (in_log) {
			if (!strncmp(line, "processed ", 10) || !strncmp(line, "verification time", 17) ||
			    !strncmp(line, "stack depth", 11) || line[0] == 0)
				continue;
			snprintf(verifier, vsz, "%s", line);
		} else if (!first[0] && strncmp(line, "libbpf: elf:", 12) && !strstr(line, "memlock")) {
			snprintf(first, fsz, "%s", line);
		}
	}
	free(copy);
}

static char *sets[32];
static int nsets;

/* VAR.FIELD=N: finds VAR in .rodata and FIELD in its struct through the object's BTF, and writes N there */
static int apply_sets(struct bpf_object *obj)
{
	const struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *m, *ro = NULL;
	int i;

	bpf_object__for_each_map(m, obj) {
		const char *n = bpf_map__name(m);
		if (strlen(n) >= 7 && !strcmp(n + strlen(n) - 7, ".rodata"))
			ro = m;
	}
	for (i = 0; i < nsets; i++) {
		char var[128], field[128];
		unsigned long long val;
		const struct btf_type *sec, *t;
		const struct btf_var_secinfo *vs;
		size_t size;
		char *data;
		int j, k, sid, done = 0;

		if (sscanf(sets[i], "%127[^.].%127[^=]=%lli", var, field, &val) != 3) {
			fprintf(stderr, "bpfprobe: --set %s: expected VAR.FIELD=N\n", sets[i]);
			return -1;
		}
		if (!ro || !btf || (sid = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC)) < 0) {
			fprintf(stderr, "bpfprobe: --set %s: the object has no .rodata\n", sets[i]);
			return -1;
		}
		/* libbpf 1.1 declares it const; the initial value is writable until load */
		data = (char *)bpf_map__initial_value(ro, &size);
		sec = btf__type_by_id(btf, sid);
		vs = btf_var_secinfos(sec);
		for (j = 0; j < btf_vlen(sec) && !done; j++, vs++) {
			const struct btf_member *mb;

			if (strcmp(btf__name_by_offset(btf, btf__type_by_id(btf, vs->type)->name_off), var))
				continue;
			t = btf__type_by_id(btf, btf__resolve_type(btf, btf__type_by_id(btf, vs->type)->type));
			mb = btf_members(t);
			for (k = 0; k < btf_vlen(t); k++, mb++) {
				long msz;

				if (strcmp(btf__name_by_offset(btf, mb->name_off), field))
					continue;
				msz = btf__resolve_size(btf, mb->type);
				if (msz != 4 && msz != 8)
					break;
				if (vs->offset + btf_member_bit_offset(t, k) / 8 + msz > size)
					break;
				memcpy(data + vs->offset + btf_member_bit_offset(t, k) / 8, &val, msz);
				done = 1;
				break;
			}
		}
		if (!done) {
			fprintf(stderr, "bpfprobe: --set %s: no 4- or 8-byte field %s in %s\n", sets[i], field, var);
			return -1;
		}
	}
	return 0;
}

static int try_attach(struct bpf_program *p, char *why, size_t wsz)
{
	enum bpf_prog_type type = bpf_program__type(p);
	struct bpf_link *link;
	int err;

	if (type == BPF_PROG_TYPE_CGROUP_SOCK) {
		/* the cgroup v2 root: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one */
		const char *roots[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
		struct statfs st;
		int cg = -1, r;

		for (r = 0; r < 2 && cg < 0; r++)
			if (!statfs(roots[r], &st) && st.f_type == 0x63677270 /* CGROUP2_SUPER_MAGIC */)
				cg = open(roots[r], O_RDONLY | O_DIRECTORY);
		if (cg < 0) {
			snprintf(why, wsz, "no cgroup v2 root at /sys/fs/cgroup or /sys/fs/cgroup/unified");
			return -1;
		}
		link = bpf_program__attach_cgroup(p, cg);
		close(cg);
	} else {
		link = bpf_program__attach(p);
	}
	err = libbpf_get_error(link);
	if (!link || err) {
		snprintf(why, wsz, "%s", strerror(err ? -err : errno));
		return -1;
	}
	if (type == BPF_PROG_TYPE_TRACING && bpf_program__expected_attach_type(p) == BPF_TRACE_ITER) {
		/* an iterator runs when read */
		char buf[4096];
		int fd = bpf_iter_create(bpf_link__fd(link));
		if (fd < 0 || read(fd, buf, sizeof(buf)) < 0) {
			snprintf(why, wsz, "attached but reading it failed: %s", strerror(errno));
			if (fd >= 0)
				close(fd);
			bpf_link__destroy(link);
			return -1;
		}
		close(fd);
	}
	bpf_link__destroy(link);
	return 0;
}

static int probe(const char *path, int attach)
{
	struct bpf_object *obj;
	struct bpf_program *p, *q;
	char names[256][128];
	char first[512], verifier[512], why[256];
	int n = 0, i, err, refused = 0;

	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		printf("%s: cannot open: %s\n", path, strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(p, obj) {
		if (n < 256)
			snprintf(names[n++], sizeof(names[0]), "%s", bpf_program__name(p));
	}
	/* maps and externs first, with no program: what fails here takes the whole object down */
	bpf_object__for_each_program(p, obj) bpf_program__set_autoload(p, false);
	if (apply_sets(obj))
		return 2;
	loglen = 0;
	logbuf[0] = 0;
	err = bpf_object__load(obj);
	bpf_object__close(obj);
	printf("%s: %d programs\n", path, n);
	if (err) {
		reasons(first, sizeof(first), verifier, sizeof(verifier));
		printf("  OBJECT REFUSED  %s (%s)\n", first, strerror(-err));
		if (verbose)
			fputs(logbuf, stdout);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (only && strcmp(only, names[i]))
			continue;
		obj = bpf_object__open_file(path, NULL);
		if (!obj)
			return 1;
		p = NULL;
		bpf_object__for_each_program(q, obj) {
			int mine = !strcmp(bpf_program__name(q), names[i]);
			bpf_program__set_autoload(q, mine);
			if (mine)
				p = q;
		}
		apply_sets(obj);
		loglen = 0;
		logbuf[0] = 0;
		err = bpf_object__load(obj);
		if (err) {
			reasons(first, sizeof(first), verifier, sizeof(verifier));
			printf("  %-28s %-40s REFUSED  %s%s%s\n", names[i], bpf_program__section_name(p), first,
			       verifier[0] ? " | verifier: " : "", verifier);
			if (verbose)
				fputs(logbuf, stdout);
			refused++;
		} else if (attach && try_attach(p, why, sizeof(why))) {
			printf("  %-28s %-40s loads, ATTACH FAILS  %s\n", names[i], bpf_program__section_name(p), why);
			refused++;
		} else {
			printf("  %-28s %-40s %s\n", names[i], bpf_program__section_name(p),
			       attach ? "loads, attaches" : "loads");
		}
		bpf_object__close(obj);
	}
	return refused ? 1 : 0;
}

int main(int argc, char **argv)
{
	int attach = 0, rc = 0, i;

	libbpf_set_print(collect);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--attach"))
			attach = 1;
		else if (!strcmp(argv[i], "--verbose"))
			verbose = 1;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--set") && i + 1 < argc && nsets < 32)
			sets[nsets++] = argv[++i];
		else
			rc |= probe(argv[i], attach);
	}
	if (argc < 2)
		fprintf(stderr, "usage: bpfprobe [--attach] [--verbose] [--only PROGRAM] [--set VAR.FIELD=N]... OBJECT.o...\n");
	return argc < 2 ? 2 : rc;
}
