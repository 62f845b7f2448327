/* The Winograd variant's launches (see conv2d_winograd.h): the input transform
 * writes V into the workspace, the batched GEMM reads it and writes M after it,
 * the output transform reads M and writes the output with the fused epilogue.
 * The three run in order on the caller's queue; the first also waits for the
 * workspace's last reader, so convolutions sharing it cannot overwrite tiles
 * still being read. */
#include "ops/conv2d_winograd.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "clrn_abi.h"
#include "ops/op_launch.h"

clrn_status clrn_conv2d_wino_init(clrn_conv2d_wino *wino, clrn_context *context,
                                  const clrn_conv2d_config *config) {
  const char *in = config->tile == 6 ? "conv2d_wino6_input" : "conv2d_wino4_input";
  const char *out = config->tile == 6 ? "conv2d_wino6_output" : "conv2d_wino4_output";
  wino->scratch.context = context;
  CLRN_TRY(clrn_kernel_get(context, config->program, NULL, in, &wino->input));
  CLRN_TRY(clrn_kernel_get(context, config->program, NULL, config->kernel_name, &wino->gemm));
  CLRN_TRY(clrn_kernel_get(context, config->program, NULL, out, &wino->output));
  wino->local_transform =
      clrn_op_local_size(context, wino->input, (long)config->transform_work_group, false);
  size_t local_out =
      clrn_op_local_size(context, wino->output, (long)config->transform_work_group, false);
  if (local_out < wino->local_transform)
    wino->local_transform = local_out;
  wino->local_gemm = clrn_op_local_size(context, wino->gemm, (long)config->work_group, false);
  return CLRN_STATUS_SUCCESS;
}

/* Tiles of an out_h x out_w plane along each side. */
static void tile_counts(const clrn_conv2d_config *config, int out_h, int out_w, int *th, int *tw) {
  *th = (out_h + config->tile - 1) / config->tile;
  *tw = (out_w + config->tile - 1) / config->tile;
}

size_t clrn_conv2d_wino_workspace(const clrn_conv_shape *shape, const clrn_conv2d_config *config,
                                  int n, int out_h, int out_w) {
  int th, tw;
  tile_counts(config, out_h, out_w, &th, &tw);
  return clrn_conv2d_winograd_floats(shape, config, (size_t)n * th * tw) * sizeof(float);
}

clrn_status clrn_conv2d_wino_enqueue(clrn_conv2d_wino *wino, cl_command_queue queue,
                                     const clrn_conv_shape *shape, const clrn_conv2d_config *config,
                                     cl_mem weight, cl_mem epilogue, const clrn_tensor *input,
                                     const clrn_tensor *residual, const clrn_tensor *output,
                                     int flags, cl_uint num_wait, const cl_event *wait,
                                     cl_event *first, cl_event *event) {
  int th, tw;
  tile_counts(config, output->h, output->w, &th, &tw);
  const int a = config->tile + 2, nr = config->pix_block, blocks = config->blocks_g;
  const int kpad = blocks * config->cout_block;
  size_t tiles = (size_t)input->n * th * tw, tpad = (tiles + nr - 1) / nr * nr;
  size_t floats = clrn_conv2d_winograd_floats(shape, config, tiles);
  if (floats > INT_MAX)
    return clrn_fail(CLRN_STATUS_UNSUPPORTED,
                     "conv2d: Winograd's workspace of %zu floats has 2^31 elements or more",
                     floats);
  CLRN_TRY(clrn_conv2d_pad_reserve(&wino->scratch, floats * sizeof(float)));
  cl_event *all = NULL;
  CLRN_TRY(clrn_conv2d_pad_waits(&wino->scratch, &num_wait, &wait, &all));
  const int tiles_i = (int)tiles, tpad_i = (int)tpad, tiles_h = th, tiles_w = tw;
  const int m_off = (int)((size_t)a * a * (size_t)input->c * tpad);
  cl_mem work = wino->scratch.scratch;
  cl_event transformed = NULL, multiplied = NULL, done = NULL;
  size_t local[3] = {wino->local_transform, 1, 1};
  size_t global[3] = {tpad, (size_t)input->c, 1};
  clrn_status status = clrn_op_launch(
      wino->input, queue,
      CLRN_OP_ARGS(CLRN_ARG(input->buffer), CLRN_ARG(work), CLRN_ARG(input->c), CLRN_ARG(input->h),
                   CLRN_ARG(input->w), CLRN_ARG(tiles_h), CLRN_ARG(tiles_w), CLRN_ARG(tiles_i),
                   CLRN_ARG(tpad_i), CLRN_ARG(shape->pad_h), CLRN_ARG(shape->pad_w)),
      2, global, local, num_wait, wait, &transformed);
  free(all);
  /* The GEMM: tile vectors first where the weight outweighs V (CONV_PIXELS_FIRST). */
  size_t vectors = tpad / (size_t)nr;
  int order = config->pixels_first;
  int tiles_first = order == 1 || (order == 2 && (size_t)kpad > tpad);
  int gemm_flags = tiles_first ? CLRN_CONV2D_FLAG_PIXELS_FIRST : 0;
  if (status == CLRN_STATUS_SUCCESS) {
    size_t gl[3] = {tiles_first ? vectors : (size_t)blocks, tiles_first ? (size_t)blocks : vectors,
                    (size_t)a * a};
    size_t lo[3] = {wino->local_gemm, 1, 1};
    status = clrn_op_launch(wino->gemm, queue,
                            CLRN_OP_ARGS(CLRN_ARG(weight), CLRN_ARG(work), CLRN_ARG(input->c),
                                         CLRN_ARG(blocks), CLRN_ARG(m_off), CLRN_ARG(tpad_i),
                                         CLRN_ARG(gemm_flags)),
                            3, gl, lo, 1, &transformed, &multiplied);
  }
  if (status == CLRN_STATUS_SUCCESS) {
    size_t gl[3] = {tiles, (size_t)output->c, 1};
    clrn_op_arg res = {sizeof(cl_mem), residual ? &residual->buffer : NULL, false};
    status = clrn_op_launch(wino->output, queue,
                            CLRN_OP_ARGS(CLRN_ARG(work), CLRN_ARG(epilogue), res,
                                         CLRN_ARG(output->buffer), CLRN_ARG(m_off),
                                         CLRN_ARG(output->c), CLRN_ARG(kpad), CLRN_ARG(output->h),
                                         CLRN_ARG(output->w), CLRN_ARG(tiles_h), CLRN_ARG(tiles_w),
                                         CLRN_ARG(tiles_i), CLRN_ARG(tpad_i), CLRN_ARG(flags)),
                            2, gl, local, 1, &multiplied, &done);
  }
  if (status == CLRN_STATUS_SUCCESS) {
    clrn_conv2d_pad_used(&wino->scratch, done);
    if (first) {
      *first = transformed;
      transformed = NULL;
    }
    if (event) {
      *event = done;
      done = NULL;
    }
  }
  cl_event events[3] = {transformed, multiplied, done};
  for (int i = 0; i < 3; i++)
    if (events[i])
      clReleaseEvent(events[i]);
  return status;
}

void clrn_conv2d_wino_release(clrn_conv2d_wino *wino) {
  clrn_conv2d_pad_release(&wino->scratch);
  memset(wino, 0, sizeof *wino);
}
