/*
 * Reference for berth's seccomp compiler: builds the same filter with libseccomp and writes
 * its BPF (seccomp_export_bpf), so a test can run both programs over the same inputs.
 *
 *   libseccomp-export OUT.bpf < PROFILE.txt
 * PROFILE.txt, one directive per line (numbers in C syntax):
 *   default ACTION            ACTION is the SECCOMP_RET_* value (libseccomp's SCMP_ACT_* equal them)
 *   badarch ACTION
 *   arch NAME                 libseccomp arch name (x86, x32, ...): added besides the native one
 *   rule NAME ACTION N [INDEX OP VALUE VALUE_TWO]...   OP is enum scmp_compare (1 = NE ... 7 = MASKED_EQ)
 * A rule libseccomp refuses is reported on stderr as "skip NAME: error" and left out.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: libseccomp-export OUT.bpf < PROFILE.txt\n");
    return 2;
  }
  char line[4096];
  scmp_filter_ctx ctx = NULL;
  uint32_t badarch = SCMP_ACT_KILL_PROCESS;
  while (fgets(line, sizeof line, stdin)) {
    char *save = NULL;
    char *word = strtok_r(line, " \n", &save);
    if (!word) continue;
    if (!strcmp(word, "default")) {
      ctx = seccomp_init((uint32_t)strtoul(strtok_r(NULL, " \n", &save), NULL, 0));
      if (!ctx) return fprintf(stderr, "seccomp_init failed\n"), 3;
      if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, badarch)) return fprintf(stderr, "badarch failed\n"), 3;
    } else if (!strcmp(word, "badarch")) {
      badarch = (uint32_t)strtoul(strtok_r(NULL, " \n", &save), NULL, 0);
    } else if (!strcmp(word, "arch")) {
      const char *name = strtok_r(NULL, " \n", &save);
      uint32_t a = seccomp_arch_resolve_name(name);
      if (!a) return fprintf(stderr, "unknown arch %s\n", name), 3;
      int rc = seccomp_arch_add(ctx, a);
      if (rc && rc != -EEXIST) return fprintf(stderr, "arch %s: %s\n", name, strerror(-rc)), 3;
    } else if (!strcmp(word, "rule")) {
      const char *name = strtok_r(NULL, " \n", &save);
      uint32_t action = (uint32_t)strtoul(strtok_r(NULL, " \n", &save), NULL, 0);
      unsigned n = (unsigned)strtoul(strtok_r(NULL, " \n", &save), NULL, 0);
      struct scmp_arg_cmp args[6];
      for (unsigned i = 0; i < n && i < 6; i++) {
        args[i].arg = (unsigned)strtoul(strtok_r(NULL, " \n", &save), NULL, 0);
        args[i].op = (enum scmp_compare)strtoul(strtok_r(NULL, " \n", &save), NULL, 0);
        args[i].datum_a = strtoull(strtok_r(NULL, " \n", &save), NULL, 0);
        args[i].datum_b = strtoull(strtok_r(NULL, " \n", &save), NULL, 0);
      }
      int nr = seccomp_syscall_resolve_name(name);
      if (nr == __NR_SCMP_ERROR) {
        fprintf(stderr, "skip %s: unknown\n", name);
        continue;
      }
      int rc = seccomp_rule_add_array(ctx, action, nr, n, args);
      if (rc) fprintf(stderr, "skip %s: %s\n", name, strerror(-rc));
    } else {
      return fprintf(stderr, "unknown directive %s\n", word), 2;
    }
  }
  if (!ctx) return fprintf(stderr, "no default\n"), 2;
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return perror("open"), 3;
  int rc = seccomp_export_bpf(ctx, fd);
  close(fd);
  seccomp_release(ctx);
  if (rc) return fprintf(stderr, "export: %s\n", strerror(-rc)), 3;
  return 0;
}
