/*
 * The end-to-end competitor of `cbpf eval --summary`: what a C programmer
 * would write to summarize a trace through one filter. Built by
 * bench/native.ts with the filter translated to C included as COMPETITOR
 * (a file that defines `decide`):
 *
 *   end-to-end RECORDS THREADS
 *
 * opens RECORDS (64-byte little-endian seccomp_data), and on each of THREADS
 * threads (each its own share of the file) `pread`s 256 KiB at a time,
 * decides each record and counts it by decision value and by arch and
 * syscall number. With a COMPETITOR of NO_FILTER it only reads: the
 * machine's ceiling for reading the file. It prints one line of JSON: the
 * time from opening the file to the merged counts, and the records by value.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include COMPETITOR

#define PIECE_BYTES (256 * 1024)
#define DENSE_NR 1024
#define MAX_VALUES 64
#define MAX_ARCHES 8

/* One thread's counts: records by value, and by (arch, nr) for nr below DENSE_NR (the rest by arch only). */
struct counts {
  uint32_t values[MAX_VALUES];
  uint64_t by_value[MAX_VALUES];
  int value_count;
  uint32_t arches[MAX_ARCHES];
  uint64_t by_syscall[MAX_ARCHES][DENSE_NR + 1];
  int arch_count;
  uint64_t records;
};

struct share {
  int fd;
  off_t from, to;
  struct counts counts;
  int failed;
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count(struct counts *c, const uint8_t *record) {
#ifndef NO_FILTER
  uint32_t value = decide(record);
  int v = 0;
  while (v < c->value_count && c->values[v] != value) v++;
  if (v == c->value_count && v < MAX_VALUES) c->values[c->value_count++] = value;
  if (v < MAX_VALUES) c->by_value[v]++;
  uint32_t nr, arch;
  memcpy(&nr, record, 4);
  memcpy(&arch, record + 4, 4);
  int a = 0;
  while (a < c->arch_count && c->arches[a] != arch) a++;
  if (a == c->arch_count && a < MAX_ARCHES) c->arches[c->arch_count++] = arch;
  if (a < MAX_ARCHES) c->by_syscall[a][nr < DENSE_NR ? nr : DENSE_NR]++;
#else
  (void)record;
#endif
  c->records++;
}

static void *run(void *arg) {
  struct share *s = arg;
  uint8_t *piece = aligned_alloc(64, PIECE_BYTES);
  if (!piece) { s->failed = 1; return NULL; }
  for (off_t at = s->from; at < s->to;) {
    size_t want = (size_t)(s->to - at < PIECE_BYTES ? s->to - at : PIECE_BYTES);
    ssize_t got = pread(s->fd, piece, want, at);
    if (got <= 0) { s->failed = 1; break; }
    size_t records = (size_t)got / 64;
    for (size_t i = 0; i < records; i++) count(&s->counts, piece + 64 * i);
    at += (off_t)(records * 64);
  }
  free(piece);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s RECORDS THREADS\n", argv[0]);
    return 2;
  }
  int threads = atoi(argv[2]);
  if (threads < 1 || threads > 64) { fprintf(stderr, "THREADS: 1 to 64\n"); return 2; }
  struct share *shares = calloc((size_t)threads, sizeof *shares);
  pthread_t *ids = calloc((size_t)threads, sizeof *ids);
  if (!shares || !ids) return 1;
  uint64_t start = now_ns();
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) { perror(argv[1]); return 1; }
  off_t size = lseek(fd, 0, SEEK_END);
  off_t records = size / 64;
  for (int t = 0; t < threads; t++) {
    shares[t].fd = fd;
    shares[t].from = records * t / threads * 64;
    shares[t].to = records * (t + 1) / threads * 64;
    if (pthread_create(&ids[t], NULL, run, &shares[t]) != 0) { fprintf(stderr, "cannot start a thread\n"); return 1; }
  }
  struct counts *total = calloc(1, sizeof *total);
  if (!total) return 1;
  for (int t = 0; t < threads; t++) {
    pthread_join(ids[t], NULL);
    if (shares[t].failed) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
    struct counts *c = &shares[t].counts;
    total->records += c->records;
    for (int v = 0; v < c->value_count; v++) {
      int w = 0;
      while (w < total->value_count && total->values[w] != c->values[v]) w++;
      if (w == total->value_count && w < MAX_VALUES) total->values[total->value_count++] = c->values[v];
      if (w < MAX_VALUES) total->by_value[w] += c->by_value[v];
    }
    for (int a = 0; a < c->arch_count; a++) {
      int b = 0;
      while (b < total->arch_count && total->arches[b] != c->arches[a]) b++;
      if (b == total->arch_count && b < MAX_ARCHES) total->arches[total->arch_count++] = c->arches[a];
      if (b < MAX_ARCHES)
        for (int nr = 0; nr <= DENSE_NR; nr++) total->by_syscall[b][nr] += c->by_syscall[a][nr];
    }
  }
  close(fd);
  uint64_t ns = now_ns() - start;
  printf("{\"ns\":%llu,\"records\":%llu,\"values\":[", (unsigned long long)ns, (unsigned long long)total->records);
  for (int v = 0; v < total->value_count; v++) printf("%s[%u,%llu]", v ? "," : "", total->values[v], (unsigned long long)total->by_value[v]);
  printf("]}\n");
  return 0;
}
