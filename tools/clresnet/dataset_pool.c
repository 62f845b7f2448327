/* The decoding pool of a dataset run: threads (C11) read, decode and preprocess the
 * inputs into a ring of `window` batch buffers while the device runs the batch
 * before. An input is taken only when its batch lies inside the window, so memory
 * is window x batch preprocessed images (plus one decoded photo per thread),
 * whatever the number of inputs. Each input is read into memory once and decoded
 * by its content: .npy by its magic, else a photo (JPEG, PNG). A failure stays
 * with the input as its message; the run goes on. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <threads.h>
#include <unistd.h>

#include "dataset.h"

/* Larger files are refused unread: no photo of CLRN_IMAGE_MAX_PIXELS needs more. */
#define MAX_FILE_BYTES (512ull << 20)

typedef struct slot {
  float *pixels;
  char **errors;
  int remaining; /* inputs of its batch not decoded yet */
} slot;

struct cli_pool {
  char *const *paths;
  size_t count, next; /* next: the next input to take */
  size_t released;    /* batches given back */
  int batch, window;
  size_t image; /* floats per image */
  clrn_preprocess pre;
  slot *slots;
  mtx_t lock;
  cnd_t decoded, space;
  bool stop;
  thrd_t *threads;
  int thread_count;
};

static char *message(const char *fmt, const char *path, const char *detail) {
  size_t length = strlen(fmt) + strlen(path) + strlen(detail) + 1;
  char *text = malloc(length);
  if (text)
    snprintf(text, length, fmt, path, detail);
  return text;
}

/* The whole of a regular file, or NULL with *error set. */
static unsigned char *read_file(const char *path, size_t *size, char **error) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  unsigned char *data = NULL;
  if (fd < 0 || fstat(fd, &st) != 0)
    *error = message("%s: cannot open: %s", path, strerror(errno));
  else if (!S_ISREG(st.st_mode))
    *error = message("%s: %s", path, "not a regular file");
  else if ((unsigned long long)st.st_size > MAX_FILE_BYTES)
    *error = message("%s: %s", path, "larger than 512 MiB; not an input");
  else if (!(data = malloc(st.st_size ? (size_t)st.st_size : 1)))
    *error = message("%s: %s", path, "out of memory");
  size_t done = 0;
  while (data && done < (size_t)st.st_size) {
    ssize_t n = read(fd, data + done, (size_t)st.st_size - done);
    if (n <= 0) {
      *error = message("%s: cannot read: %s", path, n < 0 ? strerror(errno) : "file shrank");
      free(data);
      data = NULL;
    }
    done += n > 0 ? (size_t)n : 0;
  }
  if (fd >= 0)
    close(fd);
  *size = done;
  return data;
}

static char *library_error(void) {
  char *text = strdup(clrn_last_error());
  clrn_clear_error();
  return text;
}

static char *decode_npy(const cli_pool *p, const char *path, const void *data, size_t size,
                        float *out) {
  clrn_npy a;
  if (clrn_npy_parse(data, size, path, p->image, &a) != CLRN_STATUS_SUCCESS)
    return library_error();
  int c = p->pre.crop;
  bool ok = (a.ndim == 3 || (a.ndim == 4 && a.shape[0] == 1)) && a.shape[a.ndim - 3] == 3 &&
            a.shape[a.ndim - 2] == c && a.shape[a.ndim - 1] == c;
  if (ok)
    memcpy(out, a.data, p->image * sizeof *out);
  clrn_npy_free(&a);
  if (ok)
    return NULL;
  char need[64];
  snprintf(need, sizeof need, "one image [3,%d,%d] or [1,3,%d,%d]", c, c, c, c);
  return message("%s: a .npy input of a dataset run must hold %s", path, need);
}

static char *decode_photo(const cli_pool *p, const char *path, const void *data, size_t size,
                          float *out) {
  clrn_image image;
  if (clrn_image_decode(data, size, path, &image) != CLRN_STATUS_SUCCESS)
    return library_error();
  clrn_status s = clrn_image_preprocess(&image, &p->pre, out);
  clrn_image_free(&image);
  return s == CLRN_STATUS_SUCCESS ? NULL : library_error();
}

/* Decodes input i into out; its error message, or NULL. */
static char *decode(const cli_pool *p, size_t i, float *out) {
  const char *path = p->paths[i];
  size_t size;
  char *error = NULL;
  unsigned char *data = read_file(path, &size, &error);
  if (data)
    error = size >= 6 && memcmp(data, "\x93NUMPY", 6) == 0 ? decode_npy(p, path, data, size, out)
                                                           : decode_photo(p, path, data, size, out);
  free(data);
  if (error)
    memset(out, 0, p->image * sizeof *out);
  return error;
}

static int images_in(const cli_pool *p, size_t batch) {
  size_t first = batch * (size_t)p->batch;
  size_t left = first < p->count ? p->count - first : 0;
  return left < (size_t)p->batch ? (int)left : p->batch;
}

static int worker(void *arg) {
  cli_pool *p = arg;
  mtx_lock(&p->lock);
  while (!p->stop && p->next < p->count) {
    size_t i = p->next, b = i / (size_t)p->batch;
    if (b >= p->released + (size_t)p->window) {
      cnd_wait(&p->space, &p->lock);
      continue;
    }
    p->next++;
    slot *s = &p->slots[b % (size_t)p->window];
    size_t at = i % (size_t)p->batch;
    mtx_unlock(&p->lock);
    char *error = decode(p, i, s->pixels + at * p->image);
    mtx_lock(&p->lock);
    s->errors[at] = error;
    if (--s->remaining == 0)
      cnd_broadcast(&p->decoded);
  }
  mtx_unlock(&p->lock);
  return 0;
}

int cli_pool_start(char *const *paths, size_t count, int batch, int window, int threads,
                   const clrn_preprocess *pre, cli_pool **pool) {
  cli_pool *p = calloc(1, sizeof *p);
  *pool = p;
  if (!p)
    goto no_memory;
  p->paths = paths;
  p->count = count;
  p->batch = batch;
  p->window = window;
  p->pre = *pre;
  p->image = 3 * (size_t)pre->crop * (size_t)pre->crop;
  p->slots = calloc((size_t)window, sizeof *p->slots);
  p->threads = calloc((size_t)threads, sizeof *p->threads);
  if (!p->slots || !p->threads)
    goto no_memory;
  for (int w = 0; w < window; w++) {
    slot *s = &p->slots[w];
    s->pixels = malloc((size_t)batch * p->image * sizeof *s->pixels);
    s->errors = calloc((size_t)batch, sizeof *s->errors);
    if (!s->pixels || !s->errors)
      goto no_memory;
    s->remaining = images_in(p, (size_t)w);
  }
  if (mtx_init(&p->lock, mtx_plain) != thrd_success)
    goto no_threads;
  if (cnd_init(&p->decoded) != thrd_success || cnd_init(&p->space) != thrd_success)
    goto no_threads;
  for (; p->thread_count < threads; p->thread_count++)
    if (thrd_create(&p->threads[p->thread_count], worker, p) != thrd_success)
      goto no_threads;
  return CLI_EXIT_OK;
no_memory:
  cli_error("out of memory for the decoding buffers");
  return CLI_EXIT_FAILURE;
no_threads:
  cli_error("cannot start the decoding threads");
  return CLI_EXIT_FAILURE;
}

bool cli_pool_next(cli_pool *p, cli_batch *b) {
  size_t index = p->released;
  int count = images_in(p, index);
  if (count == 0)
    return false;
  slot *s = &p->slots[index % (size_t)p->window];
  mtx_lock(&p->lock);
  while (s->remaining > 0)
    cnd_wait(&p->decoded, &p->lock);
  mtx_unlock(&p->lock);
  *b = (cli_batch){index * (size_t)p->batch, count, s->pixels, s->errors};
  return true;
}

void cli_pool_release(cli_pool *p) {
  mtx_lock(&p->lock);
  slot *s = &p->slots[p->released % (size_t)p->window];
  for (int i = 0; i < p->batch; i++) {
    free(s->errors[i]);
    s->errors[i] = NULL;
  }
  s->remaining = images_in(p, p->released + (size_t)p->window);
  p->released++;
  cnd_broadcast(&p->space);
  mtx_unlock(&p->lock);
}

void cli_pool_stop(cli_pool *p) {
  if (!p)
    return;
  if (p->thread_count > 0) {
    mtx_lock(&p->lock);
    p->stop = true;
    cnd_broadcast(&p->space);
    mtx_unlock(&p->lock);
    for (int t = 0; t < p->thread_count; t++)
      thrd_join(p->threads[t], NULL);
    mtx_destroy(&p->lock);
    cnd_destroy(&p->decoded);
    cnd_destroy(&p->space);
  }
  for (int w = 0; p->slots && w < p->window; w++) {
    for (int i = 0; p->slots[w].errors && i < p->batch; i++)
      free(p->slots[w].errors[i]);
    free(p->slots[w].errors);
    free(p->slots[w].pixels);
  }
  free(p->slots);
  free(p->threads);
  free(p);
}
