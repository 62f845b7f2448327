/* Device profiles: the embedded files are valid, matching picks the deepest
 * applicable profile, values inherit and CLRN_TUNE overrides them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/profile.h"
#include "harness.h"

static clrn_device_info make_device(clrn_device_type type, const char *name, const char *vendor,
                                    const char *platform) {
  clrn_device_info d;
  memset(&d, 0, sizeof d);
  d.type = type;
  snprintf(d.name, sizeof d.name, "%s", name);
  snprintf(d.vendor, sizeof d.vendor, "%s", vendor);
  snprintf(d.platform_name, sizeof d.platform_name, "%s", platform);
  return d;
}

static void test_valid(void) { CLRN_ASSERT_OK(clrn_profiles_validate()); }

static void expect_profile(clrn_device_info d, const char *want) {
  clrn_profile *profile = NULL;
  CLRN_ASSERT_OK(clrn_profile_resolve(&d, &profile));
  if (strcmp(clrn_profile_name(profile), want) != 0)
    fprintf(stderr, "\n%s: got profile %s, want %s\n", d.name, clrn_profile_name(profile), want);
  CU_ASSERT_STRING_EQUAL(clrn_profile_name(profile), want);
  char name[128];
  clrn_profile_match_name(&d, name, sizeof name);
  CU_ASSERT_STRING_EQUAL(name, want);
  clrn_profile_free(profile);
}

static void test_matching(void) {
  unsetenv("CLRN_TUNE");
  expect_profile(make_device(CLRN_DEVICE_TYPE_CPU, "pthread-haswell-AMD EPYC", "AuthenticAMD",
                             "Portable Computing Language"),
                 "pocl-cpu-avx2");
  expect_profile(make_device(CLRN_DEVICE_TYPE_CPU, "pthread-skylake-avx512-Intel(R) Xeon(R)",
                             "GenuineIntel", "Portable Computing Language"),
                 "pocl-cpu-avx512");
  expect_profile(
      make_device(CLRN_DEVICE_TYPE_CPU, "cpu-generic", "ARM", "Portable Computing Language"),
      "pocl-cpu");
  expect_profile(make_device(CLRN_DEVICE_TYPE_GPU, "NVIDIA H100 80GB HBM3", "NVIDIA Corporation",
                             "NVIDIA CUDA"),
                 "nvidia-hopper");
  expect_profile(make_device(CLRN_DEVICE_TYPE_GPU, "NVIDIA GeForce RTX 3090", "NVIDIA Corporation",
                             "NVIDIA CUDA"),
                 "nvidia");
  expect_profile(make_device(CLRN_DEVICE_TYPE_ACCELERATOR, "Some FPGA", "Nobody Inc", "FPGA SDK"),
                 "default");
}

static void test_inheritance_and_override(void) {
  clrn_device_info d = make_device(CLRN_DEVICE_TYPE_CPU, "pthread-haswell", "AuthenticAMD",
                                   "Portable Computing Language");
  clrn_profile *root = NULL, *profile = NULL;
  clrn_device_info nobody =
      make_device(CLRN_DEVICE_TYPE_OTHER, "unknown", "unknown", "unknown platform");
  unsetenv("CLRN_TUNE");
  CLRN_ASSERT_OK(clrn_profile_resolve(&nobody, &root));
  CLRN_ASSERT_OK(clrn_profile_resolve(&d, &profile));
  /* A value pocl-cpu does not set comes from default. */
  long root_wg = clrn_profile_int(root, "ELTWISE_WG", -1);
  CU_ASSERT(root_wg > 0);
  CU_ASSERT_EQUAL(clrn_profile_int(profile, "ELTWISE_WG", -1), root_wg);
  CU_ASSERT_EQUAL(clrn_profile_int(profile, "NO_SUCH_KEY", -7), -7);
  char options[4096] = "";
  CU_ASSERT(clrn_profile_build_options(profile, options, sizeof options));
  CU_ASSERT_PTR_NOT_NULL(strstr(options, "-DELTWISE_WG="));
  clrn_profile_free(profile);

  setenv("CLRN_TUNE", "ELTWISE_WG=32,NEW_KEY=5", 1);
  CLRN_ASSERT_OK(clrn_profile_resolve(&d, &profile));
  CU_ASSERT_EQUAL(clrn_profile_int(profile, "ELTWISE_WG", -1), 32);
  CU_ASSERT_EQUAL(clrn_profile_int(profile, "NEW_KEY", -1), 5);
  clrn_profile_free(profile);

  const char *bad[] = {"ELTWISE_WG", "lower=1", "KEY=a b", "KEY=$(x)", "=3"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setenv("CLRN_TUNE", bad[i], 1);
    profile = NULL;
    CU_ASSERT_EQUAL(clrn_profile_resolve(&d, &profile), CLRN_STATUS_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(profile);
    CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "CLRN_TUNE"));
  }
  unsetenv("CLRN_TUNE");
  clrn_profile_free(root);
}

int main(void) {
  clrn_test_add_suite("profiles", NULL, NULL, "embedded profiles are valid", test_valid, "matching",
                      test_matching, "inheritance and CLRN_TUNE", test_inheritance_and_override,
                      NULL);
  return clrn_test_run();
}
