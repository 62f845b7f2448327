/* Test-only stand-ins for the few OpenCL built-ins kernels/conv2d_mma.cl calls, for
 * tests/conv/mma_ptx.sh: clang's NVPTX target has no OpenCL library here (no
 * libclc), so get_local_id, get_global_id and the half loads and stores are
 * defined from NVVM's special registers and cl_khr_fp16 conversions. They only
 * need to be right enough for ptxas to assemble the kernel; nothing runs. */
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
#define SHIM __attribute__((overloadable))
SHIM size_t get_local_id(uint d) {
  return d == 0   ? __nvvm_read_ptx_sreg_tid_x()
         : d == 1 ? __nvvm_read_ptx_sreg_tid_y()
                  : __nvvm_read_ptx_sreg_tid_z();
}
SHIM size_t get_global_id(uint d) {
  return d == 0 ? (size_t)__nvvm_read_ptx_sreg_ctaid_x() * __nvvm_read_ptx_sreg_ntid_x() +
                      __nvvm_read_ptx_sreg_tid_x()
                : (size_t)__nvvm_read_ptx_sreg_ctaid_y() * __nvvm_read_ptx_sreg_ntid_y() +
                      __nvvm_read_ptx_sreg_tid_y();
}
SHIM float vload_half(size_t i, const __global half *p) { return (float)p[i]; }
SHIM void vstore_half(float v, size_t i, __global half *p) { p[i] = (half)v; }
