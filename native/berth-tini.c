/*
 * berth-tini: the init of `berth run --init` (docker's tini), bind-mounted read-only at
 * /sbin/berth-init and run as the container's pid 1 as `berth-init -- CMD ARGS...`.
 *
 * A process that is pid 1 of a pid namespace gets no default signal actions (pid_namespaces(7)):
 * a plain program there ignores SIGTERM and never reaps the orphans reparented to it. This
 * init runs the command as its child, forwards every catchable signal to it, reaps every zombie, and exits with the child's status
 * (128 + signal when it was killed, as a shell reports it). Static: images need no libc.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int first = 1;
  if (argc > 1 && strcmp(argv[1], "--") == 0) first = 2;
  if (first >= argc) {
    fprintf(stderr, "berth-init: usage: berth-init -- COMMAND [ARG]...\n");
    return 125;
  }
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t child = fork();
  if (child < 0) {
    perror("berth-init: fork");
    return 125;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    execvp(argv[first], argv + first);
    int e = errno;
    fprintf(stderr, "berth-init: exec \"%s\": %s\n", argv[first], strerror(e));
    _exit(e == ENOENT ? 127 : 126);
  }
  int status = 0;
  for (;;) {
    siginfo_t si;
    struct timespec ts = {1, 0};
    int sig = sigtimedwait(&all, &si, &ts);
    if (sig > 0 && sig != SIGCHLD) {
      /* SIGKILL and SIGSTOP never arrive here; everything else goes to the command (it stays
       * in our process group, so a terminal's foreground group keeps working with -t) */
      kill(child, sig);
      continue;
    }
    /* reap every zombie; the command's own exit ends the init */
    for (;;) {
      int st;
      pid_t p = waitpid(-1, &st, WNOHANG);
      if (p <= 0) break;
      if (p == child) {
        status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
        /* orphans left behind go with us (the kernel kills them when pid 1 exits) */
        return status;
      }
    }
  }
}
