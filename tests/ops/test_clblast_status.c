/* CLBlast's status codes in errors: a failed CLBlast call, such as its kernels
 * failing to compile, names the code and says what it means; codes CLBlast passes
 * through from OpenCL get their OpenCL names instead of "unknown". */
#include <string.h>

#include "harness.h"
#include "ops/clblast.h"

static void test_texts(void) {
  char text[256];
  const char *build = clrn_clblast_status_text(-11, text, sizeof text);
  CU_ASSERT_PTR_NOT_NULL(strstr(build, "CLBlastOpenCLBuildProgramFailure (-11)"));
  CU_ASSERT_PTR_NOT_NULL(strstr(build, "failed to compile"));
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_clblast_status_text(-2041, text, sizeof text), "database"));
  CU_ASSERT_PTR_NOT_NULL(
      strstr(clrn_clblast_status_text(-1017, text, sizeof text), "CLBlastInvalidDimension"));
  CU_ASSERT_PTR_NOT_NULL(
      strstr(clrn_clblast_status_text(-33, text, sizeof text), "CL_INVALID_DEVICE (-33)"));
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_clblast_status_text(-9999, text, sizeof text), "(-9999)"));
}

static void test_fail(void) {
  CU_ASSERT_EQUAL(clrn_clblast_fail(-11, "CLBlastSgemm"), CLRN_STATUS_BUILD_FAILED);
  CU_ASSERT_PTR_NOT_NULL(
      strstr(clrn_last_error(), "CLBlastSgemm: CLBlast returned CLBlastOpenCLBuildProgramFailure"));
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "compiler log"));
  CU_ASSERT_EQUAL(clrn_clblast_fail(-4, "CLBlastSgemm"), CLRN_STATUS_OUT_OF_DEVICE_MEMORY);
  CU_ASSERT_EQUAL(clrn_clblast_fail(-1017, "CLBlastSgemm"), CLRN_STATUS_OPENCL_ERROR);
}

int main(void) {
  clrn_test_add_suite("clblast status", NULL, NULL, "texts", test_texts, "errors", test_fail, NULL);
  return clrn_test_run();
}
