/*
 * spinal sd_notify relay. Node core has no AF_UNIX datagram sockets; this program is the datagram
 * end. Built once at install time (build-notify-helper.mjs, the package's "install" script) into
 * the package's own directory; never compiled at run time. Two modes:
 *
 *   send            reads NUL-terminated messages on stdin; sends each as ONE datagram to
 *                   $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace); answers each
 *                   with a line "ok" or "err <reason>" on stdout, in order. Exits on stdin EOF or
 *                   when its parent dies (PR_SET_PDEATHSIG), so it can never outlive the daemon.
 *   listen PATH     binds a datagram socket at PATH ("@name": abstract) and writes every datagram
 *                   it receives to stdout followed by a NUL byte; one empty record first once
 *                   bound. For tests (a stand-in for systemd's notify socket).
 *
 * The helper is long-lived, so systemd can always attribute its messages to the service's cgroup
 * (the race that makes spawning systemd-notify per message unreliable does not arise); the unit
 * needs NotifyAccess=all because the sender is the daemon's child, not its main PID.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_MSG 4096

static int address(const char *name, struct sockaddr_un *sa, socklen_t *len) {
  size_t n = strlen(name);
  if (n == 0 || n >= sizeof(sa->sun_path)) return -1;
  if (name[0] != '/' && name[0] != '@') return -1;
  memset(sa, 0, sizeof(*sa));
  sa->sun_family = AF_UNIX;
  memcpy(sa->sun_path, name, n);
  if (name[0] == '@') sa->sun_path[0] = 0; /* abstract namespace: no trailing NUL in the length */
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '@' ? 0 : 1));
  return 0;
}

static int do_send(void) {
  const char *name = getenv("NOTIFY_SOCKET");
  struct sockaddr_un sa;
  socklen_t len;
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() == 1) return 0;
  int ok = name && address(name, &sa, &len) == 0;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  static char buf[MAX_MSG + 1];
  size_t used = 0;
  int c;
  setvbuf(stdout, NULL, _IOLBF, 0);
  while ((c = getchar()) != EOF) {
    if (c != 0) {
      if (used < MAX_MSG) buf[used] = (char)c;
      used++;
      continue;
    }
    if (!ok) printf("err NOTIFY_SOCKET \"%s\" is not a path or @abstract name\n", name ? name : "");
    else if (fd < 0) printf("err socket: %s\n", strerror(errno));
    else if (used > MAX_MSG) printf("err message of %zu bytes exceeds %d\n", used, MAX_MSG);
    else if (sendto(fd, buf, used, MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0) printf("err sendto %s: %s\n", name, strerror(errno));
    else printf("ok\n");
    used = 0;
  }
  return 0;
}

static int do_listen(const char *name) {
  struct sockaddr_un sa;
  socklen_t len;
  static char buf[MAX_MSG];
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (address(name, &sa, &len) != 0) { fprintf(stderr, "bad socket name %s\n", name); return 2; }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0) { fprintf(stderr, "bind %s: %s\n", name, strerror(errno)); return 1; }
  fputc(0, stdout);
  fflush(stdout);
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) { if (errno == EINTR) continue; return 1; }
    fwrite(buf, 1, (size_t)n, stdout);
    fputc(0, stdout);
    fflush(stdout);
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "send") == 0) return do_send();
  if (argc == 3 && strcmp(argv[1], "listen") == 0) return do_listen(argv[2]);
  fprintf(stderr, "usage: %s send | listen PATH\n", argv[0]);
  return 2;
}
