/* The interface between the host launchers and the kernels, in one place: the
 * argument order of the conv2d kernels and the bits of their flags argument.
 *
 * Valid C and OpenCL C alike (macros only). The host includes it (src/ops/conv2d.c);
 * every kernel program starts with it (the build puts the headers of kernels/
 * before each program's source, see src/runtime/program.c), so the two cannot drift apart. */
#ifndef CLRN_ABI_H
#define CLRN_ABI_H

/* The arguments of every conv2d kernel, in order, as a list for the caller to
 * expand: IN(name) for a read-only float buffer, OUT(name) for the written one,
 * INT(name) for an int. The kernels turn it into their parameter list, the host
 * into argument indices (CLRN_CONV2D_ARG_name). The pointers: input
 * [N][in_c][in_h][in_w], weight (layout per variant), epilogue [3][channels]
 * (bias, scale, shift), residual (output-shaped, or NULL), output
 * [N][out_c][out_h][out_w]; then the geometry, pixels (N*out_h*out_w) and flags. */
#define CLRN_CONV2D_ARGS(IN, OUT, INT)                                                             \
  IN(input), IN(weight), IN(epilogue), IN(residual), OUT(output), INT(in_c), INT(in_h), INT(in_w), \
      INT(out_c), INT(out_h), INT(out_w), INT(cin_g), INT(cout_g), INT(blocks_g), INT(kernel_h),   \
      INT(kernel_w), INT(stride_h), INT(stride_w), INT(pad_h), INT(pad_w), INT(pixels), INT(flags)

#ifndef __OPENCL_VERSION__
/* The host's argument indices: CLRN_CONV2D_ARG_input is 0, and so on. */
#define CLRN_CONV2D_ARG_INDEX_(name) CLRN_CONV2D_ARG_##name
enum clrn_conv2d_arg {
  CLRN_CONV2D_ARGS(CLRN_CONV2D_ARG_INDEX_, CLRN_CONV2D_ARG_INDEX_, CLRN_CONV2D_ARG_INDEX_),
  CLRN_CONV2D_ARG_COUNT
};
#endif

/* Bits of the conv2d kernels' flags argument. */
#define CLRN_CONV2D_FLAG_RESIDUAL 1     /* add the residual before ReLU */
#define CLRN_CONV2D_FLAG_RELU 2         /* ReLU last */
#define CLRN_CONV2D_FLAG_PIXELS_FIRST 4 /* blocked: dimension 0 runs over pixel blocks */

#endif
