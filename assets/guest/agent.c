/*
 * kbook-agent: the guest end of kbook's command channel.
 *
 * It runs commands for the host over a virtio-serial port (no network needed) and streams their
 * stdout/stderr back. The wire format is documented at the top of lib/agent/client.ts; the
 * constants here must match lib/agent/protocol.ts.
 *
 * Built on the host with `gcc -static -Os` so the same binary runs on a busybox initramfs,
 * Debian and Alpine (musl) guests: it uses only syscalls and libc calls that need no NSS or
 * locale files (no getpwnam & co.).
 *
 * Usage: kbook-agent [--device PATH | --stdio] [--name PORT-NAME]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/random.h>

#define PROTOCOL_VERSION 1
#ifndef KBOOK_AGENT_BUILD
#define KBOOK_AGENT_BUILD "dev"
#endif
#define AGENT_VERSION "1.0+" KBOOK_AGENT_BUILD
#define DEFAULT_PORT_NAME "org.kbook.agent"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#define HEADER_SIZE 16
#define MAX_PAYLOAD (1u << 20)
#define OUTPUT_CHUNK 65536
/* Above this much unsent output, children's pipes are not read: they block in write() instead
 * of the agent buffering without bound while the host is slow. */
#define OUT_HIGH_WATER (1u << 20)
#define MAX_COMMANDS 128
/* The Linux virtio_console driver takes at most 32 KiB per write(). */
#define PORT_WRITE_MAX 32768

enum {
  T_PING = 0x01, T_EXEC = 0x02, T_STDIN = 0x03, T_STDIN_EOF = 0x04, T_SIGNAL = 0x05,
  T_RESUMED = 0x06,
  T_HELLO = 0x81, T_STDOUT = 0x82, T_STDERR = 0x83, T_EXIT = 0x84, T_STDIN_ACK = 0x85,
  T_ERROR = 0x86, T_RESUMED_ACK = 0x87,
};
enum { EXIT_CODE = 0, EXIT_SIGNAL = 1, EXIT_SPAWN_FAILED = 2 };
/* On a PING: a new host's handshake. A quick disconnect and reconnect can go unseen here (the
 * port is connected again by the time we look), so the host tells us. */
#define PING_NEW_SESSION 0x01

static const uint8_t MAGIC[4] = {0x6b, 0x62, 0x41, 0xf1};

struct buf { uint8_t *data; size_t head, len, cap; };

struct command {
  int used;
  uint32_t id;
  pid_t pid;
  int in_fd;              /* child's stdin (write end), -1 once closed */
  struct buf in;          /* stdin bytes received but not yet written */
  int in_eof;             /* host sent STDIN_EOF */
  int out_fd[2];          /* child's stdout, stderr (read ends), -1 once closed */
  int report_fd;          /* read end of the child's exec report: EOF when execve succeeded */
  char *argv0, *cwd;      /* for the message when it could not start */
  int reaped, status;
  int abandoned;          /* host went away: reap silently */
};

static struct command commands[MAX_COMMANDS];
static struct buf inbuf, outbuf;
static int port_in = -1, port_out = -1, stdio_mode, connected, resyncing, oom_protected;
static sigset_t original_mask;
extern char **environ;

static void die(const char *what) { fprintf(stderr, "kbook-agent: %s: %s\n", what, strerror(errno)); exit(1); }

static void *xrealloc(void *p, size_t n) { p = realloc(p, n); if (!p) die("out of memory"); return p; }

static size_t buf_pending(const struct buf *b) { return b->len - b->head; }

/* Room for n more bytes at data + len. */
static uint8_t *buf_space(struct buf *b, size_t n) {
  if (b->head && b->head == b->len) b->head = b->len = 0;
  if (b->len + n > b->cap) {
    if (b->head) { memmove(b->data, b->data + b->head, b->len - b->head); b->len -= b->head; b->head = 0; }
    if (b->len + n > b->cap) {
      size_t cap = b->cap ? b->cap : 4096;
      while (cap < b->len + n) cap *= 2;
      b->data = xrealloc(b->data, cap);
      b->cap = cap;
    }
  }
  return b->data + b->len;
}

static void buf_consume(struct buf *b, size_t n) { b->head += n; if (b->head == b->len) b->head = b->len = 0; }

static void buf_free(struct buf *b) { free(b->data); memset(b, 0, sizeof *b); }

static void put32(uint8_t *p, uint32_t v) { p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* Fletcher-16 over the header without its own check field: resync after lost or garbled bytes
 * must not lock onto a magic that merely appears inside payload data. */
static uint16_t header_check(const uint8_t *h) {
  uint32_t a = 0, b = 0;
  for (int i = 0; i < HEADER_SIZE; i++) {
    if (i == 6 || i == 7) continue;
    a = (a + h[i]) % 255;
    b = (b + a) % 255;
  }
  return (uint16_t)(b << 8 | a);
}

static void write_header(uint8_t *h, uint8_t type, uint32_t id, uint32_t len) {
  memcpy(h, MAGIC, 4);
  h[4] = type; h[5] = 0; h[6] = h[7] = 0;
  put32(h + 8, id);
  put32(h + 12, len);
  uint16_t c = header_check(h);
  h[6] = c; h[7] = c >> 8;
}

static void send_frame(uint8_t type, uint32_t id, const void *payload, size_t len) {
  if (!connected) return;
  uint8_t *p = buf_space(&outbuf, HEADER_SIZE + len);
  write_header(p, type, id, len);
  if (len) memcpy(p + HEADER_SIZE, payload, len);
  outbuf.len += HEADER_SIZE + len;
}

static void send_error(uint32_t id, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  send_frame(T_ERROR, id, msg, n < 0 ? 0 : (size_t)n >= sizeof msg ? sizeof msg - 1 : (size_t)n);
}

static size_t put_string(uint8_t *p, const char *s) { size_t n = strlen(s); put32(p, n); memcpy(p + 4, s, n); return 4 + n; }

static void send_hello(uint32_t id) {
  struct utsname u;
  uint8_t payload[4 + 4 + sizeof AGENT_VERSION + 4 + sizeof u.release];
  if (uname(&u) < 0) strcpy(u.release, "unknown");
  size_t n = 0;
  put32(payload, PROTOCOL_VERSION); n += 4;
  n += put_string(payload + n, AGENT_VERSION);
  n += put_string(payload + n, u.release);
  send_frame(T_HELLO, id, payload, n);
}

static void send_exit(uint32_t id, uint8_t kind, int32_t value, const char *message) {
  uint8_t payload[600];
  size_t mlen = strlen(message);
  if (mlen > 512) mlen = 512;
  payload[0] = kind;
  put32(payload + 1, (uint32_t)value);
  put32(payload + 5, mlen);
  memcpy(payload + 9, message, mlen);
  send_frame(T_EXIT, id, payload, 9 + mlen);
}

static struct command *find_command(uint32_t id) {
  for (int i = 0; i < MAX_COMMANDS; i++)
    if (commands[i].used && !commands[i].abandoned && commands[i].id == id) return &commands[i];
  return NULL;
}

static void close_fd(int *fd) { if (*fd >= 0) { close(*fd); *fd = -1; } }

static void release_command(struct command *c) {
  close_fd(&c->report_fd);
  free(c->argv0);
  free(c->cwd);
  close_fd(&c->in_fd);
  close_fd(&c->out_fd[0]);
  close_fd(&c->out_fd[1]);
  buf_free(&c->in);
  memset(c, 0, sizeof *c);
}

/* ---- exec ---------------------------------------------------------------------------------- */

struct strings { char **items; uint32_t count; };

/* Reads `count` length-prefixed strings; NULL-terminated array, each a NUL-terminated copy. */
static int read_strings(const uint8_t *p, size_t len, size_t *off, uint32_t count, struct strings *out) {
  if (count > 65536) return -1;
  out->items = calloc(count + 1, sizeof(char *));
  out->count = 0;
  if (!out->items) return -1;
  for (uint32_t i = 0; i < count; i++) {
    if (len - *off < 4) return -1;
    uint32_t n = get32(p + *off);
    *off += 4;
    if (n > len - *off || memchr(p + *off, 0, n)) return -1;
    out->items[i] = malloc(n + 1);
    if (!out->items[i]) return -1;
    memcpy(out->items[i], p + *off, n);
    out->items[i][n] = 0;
    out->count++;
    *off += n;
  }
  return 0;
}

static void free_strings(struct strings *s) {
  if (!s->items) return;
  for (uint32_t i = 0; i < s->count; i++) free(s->items[i]);
  free(s->items);
  s->items = NULL;
}

static const char *env_get(char **env, const char *key) {
  size_t k = strlen(key);
  for (; *env; env++) if (!strncmp(*env, key, k) && (*env)[k] == '=') return *env + k + 1;
  return NULL;
}

/* The agent's environment, overridden by the host's, plus PATH and HOME when neither has them
 * (init may start the agent with an empty environment). */
static char **merge_env(struct strings *overrides) {
  size_t n = 0;
  while (environ[n]) n++;
  char **env = calloc(n + overrides->count + 3, sizeof(char *));
  if (!env) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const char *eq = strchr(environ[i], '=');
    size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
    int overridden = 0;
    for (uint32_t j = 0; j < overrides->count && !overridden; j++)
      overridden = !strncmp(overrides->items[j], environ[i], klen) && overrides->items[j][klen] == '=';
    if (!overridden) env[k++] = environ[i];
  }
  for (uint32_t j = 0; j < overrides->count; j++) env[k++] = overrides->items[j];
  env[k] = NULL;
  if (!env_get(env, "PATH")) env[k++] = "PATH=" DEFAULT_PATH;
  if (!env_get(env, "HOME")) env[k++] = getuid() == 0 ? "HOME=/root" : "HOME=/";
  env[k] = NULL;
  return env;
}

/* execvpe() would search the agent's PATH, not the command's: search the command's. */
static void exec_with_path(char **argv, char **env) {
  if (strchr(argv[0], '/')) { execve(argv[0], argv, env); return; }
  const char *path = env_get(env, "PATH");
  int saw_eacces = 0;
  char full[4096];
  for (const char *p = path; p && *p;) {
    const char *end = strchrnul(p, ':');
    /* An empty PATH element means the current directory. */
    int dlen = end == p ? 1 : (int)(end - p);
    int n = snprintf(full, sizeof full, "%.*s/%s", dlen, end == p ? "." : p, argv[0]);
    if (n > 0 && (size_t)n < sizeof full) {
      execve(full, argv, env);
      if (errno == EACCES) saw_eacces = 1;
    }
    p = *end ? end + 1 : end;
  }
  errno = saw_eacces ? EACCES : ENOENT;
}

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, text, strlen(text)) < 0) { /* best effort */ }
  close(fd);
}

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static void start_command(uint32_t id, const uint8_t *p, size_t len) {
  struct strings cwd = {0}, argv = {0}, envs = {0};
  char **env = NULL;
  size_t off = 12;
  int fds[8] = {-1, -1, -1, -1, -1, -1, -1, -1}; /* in, out, err, report: read/write pairs */
  struct command *c = NULL;

  if (find_command(id)) { send_error(id, "command id %u is already running", id); return; }
  if (len < 12 || read_strings(p, len, &off, 1, &cwd) < 0 || read_strings(p, len, &off, get32(p + 4), &argv) < 0 ||
      read_strings(p, len, &off, get32(p + 8), &envs) < 0 || off != len || argv.count == 0) {
    send_error(id, "malformed exec request");
    goto out;
  }
  for (int i = 0; i < MAX_COMMANDS && !c; i++) if (!commands[i].used) c = &commands[i];
  if (!c) { send_error(id, "too many commands running (at most %d)", MAX_COMMANDS); goto out; }
  if (!(env = merge_env(&envs))) { send_error(id, "out of memory"); goto out; }
  for (int i = 0; i < 4; i++)
    if (pipe2(fds + 2 * i, O_CLOEXEC) < 0) { send_error(id, "pipe: %s", strerror(errno)); goto out; }

  pid_t pid = fork();
  if (pid < 0) { send_error(id, "fork: %s", strerror(errno)); goto out; }
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &original_mask, NULL);
    /* Ignored signals stay ignored across execve, and `kbook-agent &` in an init script starts
     * us with SIGINT and SIGQUIT ignored (POSIX, for background jobs of non-interactive shells):
     * commands would then shrug off the host's SIGINT, and a shell could not even trap it. */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
    /* Its own session and process group: SIGINT/SIGKILL reach the whole command tree. */
    setsid();
    if (oom_protected) write_file("/proc/self/oom_score_adj", "0");
    dup2(fds[0], 0); dup2(fds[3], 1); dup2(fds[5], 2);
    int32_t report[2] = {0, 0};
    if (cwd.items[0][0] && chdir(cwd.items[0]) < 0) report[0] = 1;
    else exec_with_path(argv.items, env), report[0] = 2;
    report[1] = errno;
    if (write(fds[7], report, sizeof report) < 0) { /* nothing left to tell */ }
    _exit(127);
  }
  close_fd(&fds[0]); close_fd(&fds[3]); close_fd(&fds[5]); close_fd(&fds[7]);
  /* Not waiting here for the child's execve: that would make the agent start one command at a
   * time (about 3 ms each under TCG). Whether it ran is read from the report pipe once the
   * child has exited (finish_commands): a failed child wrote its report before _exit(). */
  memset(c, 0, sizeof *c);
  c->used = 1; c->id = id; c->pid = pid;
  c->in_fd = fds[1]; c->out_fd[0] = fds[2]; c->out_fd[1] = fds[4]; c->report_fd = fds[6];
  c->argv0 = strdup(argv.items[0]);
  c->cwd = strdup(cwd.items[0]);
  fds[1] = fds[2] = fds[4] = fds[6] = -1;
  set_nonblock(c->in_fd); set_nonblock(c->out_fd[0]); set_nonblock(c->out_fd[1]);
out:
  for (int i = 0; i < 8; i++) close_fd(&fds[i]);
  free(env);
  free_strings(&cwd); free_strings(&argv); free_strings(&envs);
}

/* ---- stdin, output, exit ------------------------------------------------------------------- */

static void flush_stdin(struct command *c) {
  size_t done = 0;
  while (c->in_fd >= 0 && buf_pending(&c->in)) {
    ssize_t n = write(c->in_fd, c->in.data + c->in.head, buf_pending(&c->in));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0) { /* EPIPE: the command stopped reading; drop what it will never read */
      done += buf_pending(&c->in);
      buf_consume(&c->in, buf_pending(&c->in));
      close_fd(&c->in_fd);
      break;
    }
    done += n;
    buf_consume(&c->in, n);
  }
  if (c->in_eof && !buf_pending(&c->in)) close_fd(&c->in_fd);
  if (done) { uint8_t ack[4]; put32(ack, done); send_frame(T_STDIN_ACK, c->id, ack, 4); }
}

/* One read from the child's stdout (stream 0) or stderr (1) straight into a frame.
 * Returns 1 after data, 0 at EOF (pipe closed), -1 when the pipe is empty. */
static int pump_output(struct command *c, int stream) {
  uint8_t *p = buf_space(&outbuf, HEADER_SIZE + OUTPUT_CHUNK);
  ssize_t n;
  do n = read(c->out_fd[stream], p + HEADER_SIZE, OUTPUT_CHUNK); while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return -1;
  if (n <= 0) { close_fd(&c->out_fd[stream]); return 0; }
  if (!connected) return 1;
  write_header(p, stream ? T_STDERR : T_STDOUT, c->id, n);
  outbuf.len += HEADER_SIZE + n;
  return 1;
}

/* After the child is reaped, forward what it left in its pipes, then report the exit. Output
 * of background processes that outlive it is not waited for: a pipe that is empty once the
 * child is gone is closed. */
static void finish_commands(void) {
  for (int i = 0; i < MAX_COMMANDS; i++) {
    struct command *c = &commands[i];
    if (!c->used || !c->reaped) continue;
    for (int s = 0; s < 2; s++)
      while (c->out_fd[s] >= 0 && buf_pending(&outbuf) < OUT_HIGH_WATER)
        if (pump_output(c, s) < 0) close_fd(&c->out_fd[s]);
    if (c->out_fd[0] >= 0 || c->out_fd[1] >= 0) continue;
    int32_t report[2];
    ssize_t r = -1;
    /* The child is gone, so this read does not block: a report, or EOF after a good execve. */
    if (c->report_fd >= 0) do r = read(c->report_fd, report, sizeof report); while (r < 0 && errno == EINTR);
    if (c->abandoned) {
      /* nobody to tell */
    } else if (r == sizeof report) {
      char msg[512];
      snprintf(msg, sizeof msg, report[0] == 1 ? "cannot change directory to %s: %s" : "cannot run %s: %s",
               report[0] == 1 ? c->cwd : c->argv0, strerror(report[1]));
      send_exit(c->id, EXIT_SPAWN_FAILED, report[1], msg);
    } else if (WIFSIGNALED(c->status)) send_exit(c->id, EXIT_SIGNAL, WTERMSIG(c->status), "");
    else send_exit(c->id, EXIT_CODE, WEXITSTATUS(c->status), "");
    release_command(c);
  }
}

static void reap_children(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
    for (int i = 0; i < MAX_COMMANDS; i++)
      if (commands[i].used && commands[i].pid == pid && !commands[i].reaped) {
        commands[i].reaped = 1;
        commands[i].status = status;
      }
}

/* The host is gone: nobody will read these commands' output. */
static void abandon_all(void) {
  for (int i = 0; i < MAX_COMMANDS; i++) {
    struct command *c = &commands[i];
    if (!c->used) continue;
    if (!c->reaped) kill(-c->pid, SIGKILL);
    c->abandoned = 1;
    close_fd(&c->in_fd);
    close_fd(&c->out_fd[0]);
    close_fd(&c->out_fd[1]);
  }
}

/* ---- frames from the host ------------------------------------------------------------------ */

/* The guest was resumed from a saved state: its wall clock is the one saved, and its random
 * state is the one every other resume of that state also has. The host sends its own time and
 * fresh random bytes; this sets the clock, credits the bytes to the input pool and reseeds the
 * CRNG at once, so no two resumed guests share a random stream. Answered with the errno of
 * each step (0 for done). */
static void handle_resumed(uint32_t id, const uint8_t *p, uint32_t len) {
  uint8_t ack[8];
  if (len < 16 || len - 16 > 512) { send_error(id, "malformed resume request"); return; }
  uint64_t sec = get32(p) | (uint64_t)get32(p + 4) << 32;
  struct timespec ts = {(time_t)sec, (long)get32(p + 8)};
  uint32_t n = get32(p + 12);
  if (n != len - 16 || ts.tv_nsec >= 1000000000L) { send_error(id, "malformed resume request"); return; }
  if (stdio_mode) {
    /* On a host (tests), not a resumed guest: its clock and pool are not ours to touch. */
    put32(ack, EOPNOTSUPP);
    put32(ack + 4, EOPNOTSUPP);
    send_frame(T_RESUMED_ACK, id, ack, sizeof ack);
    return;
  }
  int clock_errno = clock_settime(CLOCK_REALTIME, &ts) < 0 ? errno : 0;
  int random_errno = 0;
  struct { struct rand_pool_info info; uint8_t bytes[512]; } pool;
  pool.info.entropy_count = (int)n * 8;
  pool.info.buf_size = (int)n;
  memcpy(pool.bytes, p + 16, n);
  int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ioctl(fd, RNDADDENTROPY, &pool) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0) random_errno = errno;
  if (fd >= 0) close(fd);
  memset(&pool, 0, sizeof pool);
  put32(ack, (uint32_t)clock_errno);
  put32(ack + 4, (uint32_t)random_errno);
  send_frame(T_RESUMED_ACK, id, ack, sizeof ack);
}

static void handle_frame(uint8_t type, uint8_t flags, uint32_t id, const uint8_t *p, uint32_t len) {
  struct command *c;
  switch (type) {
  case T_PING:
    if (flags & PING_NEW_SESSION) abandon_all();
    send_hello(id);
    break;
  case T_EXEC: start_command(id, p, len); break;
  case T_RESUMED: handle_resumed(id, p, len); break;
  /* STDIN, STDIN_EOF and SIGNAL for an unknown id race with the command's exit: ignored. */
  case T_STDIN:
    if (!(c = find_command(id))) break;
    if (c->in_fd < 0) { uint8_t ack[4]; put32(ack, len); send_frame(T_STDIN_ACK, id, ack, 4); break; }
    memcpy(buf_space(&c->in, len), p, len);
    c->in.len += len;
    flush_stdin(c);
    break;
  case T_STDIN_EOF:
    if ((c = find_command(id))) { c->in_eof = 1; flush_stdin(c); }
    break;
  case T_SIGNAL:
    if (len != 4) { send_error(id, "malformed signal request"); break; }
    if ((c = find_command(id)) && kill(-c->pid, (int)get32(p)) < 0 && !c->reaped)
      kill(c->pid, (int)get32(p));
    break;
  default: send_error(id, "unknown frame type 0x%02x (ignored)", type);
  }
}

static void lost_sync(const char *why) {
  if (!resyncing) send_error(0, "bad frame from host (%s); resynchronising", why);
  resyncing = 1;
  buf_consume(&inbuf, 1);
}

static void parse_input(void) {
  for (;;) {
    size_t avail = buf_pending(&inbuf);
    const uint8_t *p = inbuf.data + inbuf.head;
    if (!avail) return;
    if (memcmp(p, MAGIC, avail < 4 ? avail : 4)) {
      /* Skip to the next possible magic in one step. */
      const uint8_t *next = memchr(p + 1, MAGIC[0], avail - 1);
      size_t skip = next ? (size_t)(next - p) : avail;
      lost_sync("bad magic");
      buf_consume(&inbuf, skip - 1);
      continue;
    }
    if (avail < HEADER_SIZE) return;
    if ((p[6] | p[7] << 8) != header_check(p)) { lost_sync("bad header check"); continue; }
    uint32_t len = get32(p + 12);
    if (len > MAX_PAYLOAD) { lost_sync("payload too large"); continue; }
    if (avail < HEADER_SIZE + len) { buf_space(&inbuf, HEADER_SIZE + len - avail); return; }
    resyncing = 0;
    handle_frame(p[4], p[5], get32(p + 8), p + HEADER_SIZE, len);
    buf_consume(&inbuf, HEADER_SIZE + len);
  }
}

/* ---- the port ------------------------------------------------------------------------------ */

static void make_raw(int fd) {
  struct termios t;
  if (!isatty(fd) || tcgetattr(fd, &t) < 0) return;
  cfmakeraw(&t);
  tcsetattr(fd, TCSANOW, &t);
}

/* /sys/class/virtio-ports/vportNpM/name holds the name QEMU gave the port. */
static int open_named_port(const char *name) {
  DIR *d = opendir("/sys/class/virtio-ports");
  struct dirent *e;
  int fd = -1;
  while (d && (e = readdir(d)) && fd < 0) {
    char path[512], value[256] = "";
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
    FILE *f = fopen(path, "re");
    if (!f) continue;
    if (!fgets(value, sizeof value, f)) value[0] = 0;
    fclose(f);
    value[strcspn(value, "\n")] = 0;
    if (strcmp(value, name)) continue;
    snprintf(path, sizeof path, "/dev/%s", e->d_name);
    fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && errno == ENOENT) {
      /* No devtmpfs/udev node (yet): make one from the sysfs dev number. */
      char devpath[512];
      unsigned maj, min;
      snprintf(devpath, sizeof devpath, "/sys/class/virtio-ports/%s/dev", e->d_name);
      if ((f = fopen(devpath, "re"))) {
        if (fscanf(f, "%u:%u", &maj, &min) == 2 && mknod(path, S_IFCHR | 0600, makedev(maj, min)) == 0)
          fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        fclose(f);
      }
    }
  }
  if (d) closedir(d);
  return fd;
}

static void sleep_ms(long ms) { struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L}; nanosleep(&ts, NULL); }

static void host_gone(void) {
  if (stdio_mode) { abandon_all(); exit(0); }
  connected = 0;
  abandon_all();
  inbuf.head = inbuf.len = outbuf.head = outbuf.len = 0;
  resyncing = 0;
}

/* A virtio port reports POLLHUP while no host program has the chardev open; writes would only
 * block. The agent (re)announces itself when a host connects. */
static void check_connected(void) {
  struct pollfd pfd = {port_in, 0, 0};
  if (stdio_mode || (poll(&pfd, 1, 0) >= 0 && !(pfd.revents & (POLLHUP | POLLERR)))) {
    connected = 1;
    send_hello(0);
  }
}

/* The virtio_console driver hands out at most one 4 KiB buffer per read(): take several per
 * wakeup instead of going back to poll() for each. */
static void read_port(void) {
  for (int rounds = 0; rounds < 32; rounds++) {
    ssize_t n;
    do n = read(port_in, buf_space(&inbuf, 262144), 262144); while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) { host_gone(); return; }
    inbuf.len += n;
    parse_input();
  }
}

static void write_port(void) {
  while (buf_pending(&outbuf)) {
    size_t want = buf_pending(&outbuf);
    ssize_t n = write(port_out, outbuf.data + outbuf.head, want > PORT_WRITE_MAX ? PORT_WRITE_MAX : want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) { host_gone(); return; }
    buf_consume(&outbuf, n);
  }
}

int main(int argc, char **argv) {
  const char *device = NULL, *name = DEFAULT_PORT_NAME;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--stdio")) stdio_mode = 1;
    else if (!strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i];
    else if (!strcmp(argv[i], "--name") && i + 1 < argc) name = argv[++i];
    else if (!strcmp(argv[i], "--version")) { printf("kbook-agent %s protocol %d\n", AGENT_VERSION, PROTOCOL_VERSION); return 0; }
    else {
      fprintf(stderr, "usage: kbook-agent [--device PATH | --stdio] [--name PORT-NAME]\n"
                      "Runs commands for kbook over the virtio-serial port named %s.\n", DEFAULT_PORT_NAME);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &original_mask);
  int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) die("signalfd");

  if (stdio_mode) {
    port_in = 0; port_out = 1;
  } else {
    /* Init may start us with fds 0-2 closed; a pipe landing there would break the children's
     * dup2() onto 0-2 (dup2 of an fd onto itself keeps O_CLOEXEC). */
    int null_fd;
    while ((null_fd = open("/dev/null", O_RDWR)) >= 0 && null_fd <= 2) {}
    if (null_fd > 2) close(null_fd);
    /* A workload that exhausts guest memory must not take the command channel with it.
     * Commands get the default score back (see start_command). */
    write_file("/proc/self/oom_score_adj", "-1000");
    oom_protected = 1;
    for (int waited = 0;; waited++) {
      port_in = device ? open(device, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) : open_named_port(name);
      if (port_in >= 0) break;
      if (waited == 0) fprintf(stderr, "kbook-agent: waiting for %s\n", device ? device : name);
      sleep_ms(100);
    }
    port_out = port_in;
  }
  set_nonblock(port_in); set_nonblock(port_out);
  make_raw(port_in);

  for (;;) {
    if (!connected) check_connected();
    struct pollfd pfds[3 + 3 * MAX_COMMANDS];
    struct command *owner[3 + 3 * MAX_COMMANDS];
    int n = 0, room = buf_pending(&outbuf) < OUT_HIGH_WATER;
    pfds[n++] = (struct pollfd){sfd, POLLIN, 0};
    int port_slot = -1, out_slot = -1;
    if (connected) {
      port_slot = n;
      pfds[n++] = (struct pollfd){port_in, POLLIN, 0};
      if (buf_pending(&outbuf)) {
        if (port_out == port_in) pfds[port_slot].events |= POLLOUT;
        else { out_slot = n; pfds[n++] = (struct pollfd){port_out, POLLOUT, 0}; }
      }
    }
    for (int i = 0; i < MAX_COMMANDS; i++) {
      struct command *c = &commands[i];
      if (!c->used) continue;
      if (c->in_fd >= 0 && buf_pending(&c->in)) { owner[n] = c; pfds[n++] = (struct pollfd){c->in_fd, POLLOUT, 0}; }
      for (int s = 0; s < 2; s++)
        if (c->out_fd[s] >= 0 && room) { owner[n] = c; pfds[n++] = (struct pollfd){c->out_fd[s], POLLIN, 0}; }
    }
    /* While no host is connected the port reports POLLHUP continuously, so connection is
     * re-checked on a short timer (this is on the boot path: the host is usually waiting). */
    if (poll(pfds, n, connected ? -1 : 50) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (pfds[0].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {}
      reap_children();
    }
    for (int i = 1; i < n; i++) {
      if (!pfds[i].revents || i == port_slot || i == out_slot) continue;
      struct command *c = owner[i];
      if (!c->used) continue;
      if (pfds[i].fd == c->in_fd) flush_stdin(c);
      else for (int s = 0; s < 2; s++) if (pfds[i].fd == c->out_fd[s]) pump_output(c, s);
    }
    if (port_slot >= 0 && connected && (pfds[port_slot].revents & (POLLIN | POLLHUP | POLLERR))) read_port();
    finish_commands();
    if (connected) write_port();
  }
}
