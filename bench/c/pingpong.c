/* pingpong: the floor of a vfio-user round trip. Two processes (fork) over an AF_UNIX SOCK_STREAM
 * socketpair: the parent sends 64 bytes, the child echoes them back, N times.
 *   pingpong N [WARMUP [recvmsg]]
 * With "recvmsg" the child reads with recvmsg(2) and room for 253 fds, as a vfio-user server must
 * (any request may carry fds); everything else stays send(2)/recv(2), as jvfio's client uses for a
 * region access. Prints one line: "pingpong: N round trips, NS ns per round trip, cpu C ns per round
 * trip (both processes, from /proc/PID/schedstat)". Exits 1 on any error. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static void die(const char *what)
{
    fprintf(stderr, "pingpong: %s: %s\n", what, strerror(errno));
    exit(1);
}

#define MAX_FDS 253

static int use_recvmsg;
static char control[CMSG_SPACE(MAX_FDS * sizeof(int))];

static ssize_t receive(int fd, char *buf, size_t len)
{
    if (!use_recvmsg)
        return recv(fd, buf, len, 0);
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    return recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
}

/* Reads exactly MSG bytes; returns 0 at end of stream before the first byte. */
static int read_msg(int fd, char *buf)
{
    size_t got = 0;
    while (got < MSG) {
        ssize_t n = receive(fd, buf + got, MSG - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("recv");
        }
        if (n == 0) {
            if (got == 0)
                return 0;
            errno = EPROTO;
            die("recv: short message");
        }
        got += (size_t)n;
    }
    return 1;
}

static void write_msg(int fd, const char *buf)
{
    size_t sent = 0;
    while (sent < MSG) {
        ssize_t n = send(fd, buf + sent, MSG - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("send");
        }
        sent += (size_t)n;
    }
}

/* CPU time a single-threaded process has run, in ns (first field of /proc/PID/schedstat); -1 if unknown. */
static long long cpu_ns(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    long long ns = -1;
    if (fscanf(f, "%lld", &ns) != 1)
        ns = -1;
    fclose(f);
    return ns;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (argc > 3 && strcmp(argv[3], "recvmsg") != 0)) {
        fprintf(stderr, "usage: pingpong N [WARMUP [recvmsg]]\n");
        return 2;
    }
    long n = atol(argv[1]);
    long warmup = argc > 2 ? atol(argv[2]) : n / 10;
    if (n <= 0 || warmup < 0) {
        fprintf(stderr, "pingpong: N must be positive and WARMUP not negative\n");
        return 2;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        die("socketpair");
    pid_t child = fork();
    if (child < 0)
        die("fork");
    char buf[MSG];
    if (child == 0) {
        close(sv[0]);
        use_recvmsg = argc > 3;
        while (read_msg(sv[1], buf))
            write_msg(sv[1], buf);
        _exit(0);
    }
    close(sv[1]);
    memset(buf, 0x5a, sizeof buf);
    for (long i = 0; i < warmup; i++) {
        write_msg(sv[0], buf);
        if (!read_msg(sv[0], buf))
            die("child closed");
    }
    long long cpu_start = cpu_ns(getpid()) + cpu_ns(child);
    long long start = now_ns();
    for (long i = 0; i < n; i++) {
        write_msg(sv[0], buf);
        if (!read_msg(sv[0], buf))
            die("child closed");
    }
    long long elapsed = now_ns() - start;
    long long cpu = cpu_ns(getpid()) + cpu_ns(child) - cpu_start;
    close(sv[0]);
    int status;
    waitpid(child, &status, 0);
    printf("pingpong: %ld round trips, %.1f ns per round trip, cpu %.1f ns per round trip\n", n,
           (double)elapsed / (double)n, (double)cpu / (double)n);
    return 0;
}
