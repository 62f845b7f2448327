/* Device profiles and the tuning table: the embedded files are valid against the
 * table, matching picks the deepest applicable profile, values inherit and
 * CLRN_TUNE overrides them, unknown keys and values out of range are refused
 * naming their source, only a program's own kernel defines enter its build
 * options, and CLRN_PROFILE (or the context option) picks a profile by name. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "runtime/embedded.h"
#include "runtime/profile.h"
#include "runtime/program.h"
#include "runtime/tuning.h"

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

static clrn_device_info pocl_cpu(void) {
  return make_device(CLRN_DEVICE_TYPE_CPU, "pthread-haswell", "AuthenticAMD",
                     "Portable Computing Language");
}

/* Resolves d's profile with CLRN_TUNE set to tune (NULL: unset); NULL on failure. */
static clrn_profile *resolve_with(clrn_device_info d, const char *name, const char *tune) {
  if (tune)
    setenv("CLRN_TUNE", tune, 1);
  else
    unsetenv("CLRN_TUNE");
  clrn_profile *profile = NULL;
  clrn_status status = clrn_profile_resolve(&d, name, &profile);
  unsetenv("CLRN_TUNE");
  CU_ASSERT((status == CLRN_STATUS_SUCCESS) == (profile != NULL));
  return profile;
}

/* Resolving fails and the message holds every one of the NULL-terminated parts. */
static void expect_refused(clrn_device_info d, const char *name, const char *tune, ...) {
  clrn_profile *profile = resolve_with(d, name, tune);
  CU_ASSERT_PTR_NULL(profile);
  clrn_profile_free(profile);
  va_list parts;
  va_start(parts, tune);
  for (const char *part = va_arg(parts, const char *); part; part = va_arg(parts, const char *))
    if (!strstr(clrn_last_error(), part)) {
      fprintf(stderr, "\nmessage \"%s\" lacks \"%s\"\n", clrn_last_error(), part);
      CU_FAIL("message lacks a part");
    }
  va_end(parts);
}

static void test_valid(void) { CLRN_ASSERT_OK(clrn_profiles_validate()); }

static void expect_profile(clrn_device_info d, const char *want) {
  clrn_profile *profile = resolve_with(d, NULL, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(profile);
  if (strcmp(clrn_profile_name(profile), want) != 0)
    fprintf(stderr, "\n%s: got profile %s, want %s\n", d.name, clrn_profile_name(profile), want);
  CU_ASSERT_STRING_EQUAL(clrn_profile_name(profile), want);
  char name[128];
  clrn_profile_match_name(&d, name, sizeof name);
  CU_ASSERT_STRING_EQUAL(name, want);
  clrn_profile_free(profile);
}

static void test_matching(void) {
  unsetenv("CLRN_PROFILE");
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

/* Every row is well formed, and the root profile (a device nothing else matches)
 * resolves to exactly the table's defaults: one source of defaults. */
static void test_table_is_the_defaults(void) {
  unsetenv("CLRN_PROFILE");
  clrn_profile *root = resolve_with(
      make_device(CLRN_DEVICE_TYPE_OTHER, "unknown", "unknown", "unknown platform"), NULL, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(root);
  CU_ASSERT_STRING_EQUAL(clrn_profile_name(root), "default");
  for (int i = 0; i < CLRN_TUNING_COUNT; i++) {
    const clrn_tuning_param *p = clrn_tuning_param_of((clrn_tuning_id)i);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p->name);
    CU_ASSERT_PTR_NOT_NULL(p->doc);
    CU_ASSERT(p->min <= p->default_value && p->default_value <= p->max);
    clrn_tuning_id id;
    CU_ASSERT(clrn_tuning_find(p->name, &id) && id == (clrn_tuning_id)i);
    CU_ASSERT_EQUAL(clrn_profile_value(root, (clrn_tuning_id)i), p->default_value);
    CU_ASSERT_EQUAL(clrn_profile_int(root, p->name, -12345), p->default_value);
    if (p->family) { /* a family is a kernel program */
      char file[64];
      snprintf(file, sizeof file, "%s.cl", p->family);
      CU_ASSERT_PTR_NOT_NULL(clrn_embedded_find(clrn_embedded_kernels, file));
    }
    CU_ASSERT(p->kind == CLRN_TUNING_KIND_HOST || p->family != NULL);
  }
  CU_ASSERT_EQUAL(clrn_profile_int(root, "NO_SUCH_KEY", -7), -7);
  clrn_profile_free(root);
}

static void test_inheritance_and_override(void) {
  unsetenv("CLRN_PROFILE");
  clrn_profile *profile = resolve_with(pocl_cpu(), NULL, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(profile);
  /* pocl-cpu sets CONV_VEC; it does not set ELTWISE_WG, which keeps the default. */
  CU_ASSERT_EQUAL(clrn_profile_value(profile, CLRN_TUNING_CONV_VEC), 8);
  CU_ASSERT_EQUAL(clrn_profile_value(profile, CLRN_TUNING_ELTWISE_WG),
                  clrn_tuning_param_of(CLRN_TUNING_ELTWISE_WG)->default_value);
  clrn_profile_free(profile);

  profile = resolve_with(pocl_cpu(), NULL, "ELTWISE_WG=32,CONV_VEC=4,CONV_VEC=2");
  CU_ASSERT_PTR_NOT_NULL_FATAL(profile);
  CU_ASSERT_EQUAL(clrn_profile_value(profile, CLRN_TUNING_ELTWISE_WG), 32);
  CU_ASSERT_EQUAL(clrn_profile_value(profile, CLRN_TUNING_CONV_VEC), 2);
  clrn_profile_free(profile);

  const char *bad[] = {"ELTWISE_WG", "=3", "ELTWISE_WG=a b", "ELTWISE_WG=$(x)", "ELTWISE_WG="};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_refused(pocl_cpu(), NULL, bad[i], "CLRN_TUNE: ", (const char *)NULL);
}

/* A misspelt key is refused by name, with the known keys listed. */
static void test_tune_unknown_key(void) {
  expect_refused(pocl_cpu(), NULL, "CONV_BLOCK_OCC=4",
                 "CLRN_TUNE: unknown tuning key \"CONV_BLOCK_OCC\" (known: ", "CONV_BLOCK_WG",
                 "PEAK_FLOP_PER_CYCLE_PER_CU", (const char *)NULL);
  expect_refused(pocl_cpu(), NULL, "conv_vec=4", "unknown tuning key \"conv_vec\"",
                 (const char *)NULL);
}

/* Out-of-range values name CLRN_TUNE, the key and the value, never a profile. */
static void test_tune_out_of_range(void) {
  const char *cases[][2] = {
      {"CONV_VEC=3", "CLRN_TUNE: CONV_VEC=3 is out of range (allowed: 1, 2, 4, 8 or 16)"},
      {"CONV_PIX_BLOCK=0", "CLRN_TUNE: CONV_PIX_BLOCK=0 is out of range (allowed: 1..16)"},
      {"CONV_PIXELS_FIRST=3", "CLRN_TUNE: CONV_PIXELS_FIRST=3 is out of range (allowed: 0..2)"},
      {"CONV_BLOCK_WG=0", "CLRN_TUNE: CONV_BLOCK_WG=0 is out of range"},
      {"ELTWISE_WG=99999999999999999999", "CLRN_TUNE: ELTWISE_WG=99999999999999999999 is not"},
      {"CONV_VEC=4.0", "CLRN_TUNE: CONV_VEC=4.0 is not an integer"},
      {"CONV_COUT_BLOCK=12", "CONV_COUT_BLOCK=12 (from CLRN_TUNE) is not a multiple of "
                             "CONV_VEC=8 (from devices/pocl-cpu.json)"},
      {"CONV_VEC=8,CONV_COUT_BLOCK=12", "CONV_COUT_BLOCK=12 (from CLRN_TUNE)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    expect_refused(pocl_cpu(), NULL, cases[i][0], cases[i][1], (const char *)NULL);
    /* the file named in the first line is only there when the profile is at fault */
    CU_ASSERT(i >= 6 || strstr(clrn_last_error(), "devices/") == NULL);
  }
  expect_refused(pocl_cpu(), "default", "CONV_VEC=16",
                 "CONV_COUT_BLOCK=8 (from the tuning table's default) is not a multiple of "
                 "CONV_VEC=16 (from CLRN_TUNE)",
                 (const char *)NULL);
  /* The same values from a profile file are refused naming the file. */
  const char *json = "{\"parent\": \"default\", \"options\": {\"CONV_PIX_BLOCK\": 17}}";
  CU_ASSERT_EQUAL(clrn_profile_validate_json("test.json", json, strlen(json)),
                  CLRN_STATUS_INVALID_ARGUMENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), "test.json: CONV_PIX_BLOCK=17 is out of range"));
}

/* The validator used for devices/ refuses a bad key or value in a profile file. */
static void test_profile_json(void) {
  const char *cases[][2] = {
      {"{\"parent\": \"pocl\", \"options\": {\"CONV_BLOCK_OCC\": 4}}",
       "devices/x.json: unknown tuning key \"CONV_BLOCK_OCC\" (known: "},
      {"{\"parent\": \"pocl\", \"options\": {\"CONV_VEC\": 4.5}}",
       "devices/x.json: CONV_VEC=4.5 is not an integer"},
      {"{\"parent\": \"pocl\", \"options\": {\"CONV_VEC\": \"wide\"}}",
       "devices/x.json: CONV_VEC=wide is not an integer"},
      {"{\"parent\": \"pocl\", \"options\": {\"CONV_VEC\": 32}}",
       "devices/x.json: CONV_VEC=32 is out of range"},
      {"{\"parent\": \"pocl\", \"option\": {}}", "devices/x.json: unknown field \"option\""},
      {"{\"parent\": \"pocl\", \"match\": {\"vendr\": \"x\"}}", "unknown match field \"vendr\""},
      {"{\"parent\": \"nosuch\"}", "devices/x.json: parent nosuch does not exist"},
      {"{\"options\": {}}", "devices/x.json has no parent"},
      {"[1]", "devices/x.json is not a JSON object"},
      {"{", "devices/x.json is not valid JSON"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CU_ASSERT_NOT_EQUAL(
        clrn_profile_validate_json("devices/x.json", cases[i][0], strlen(cases[i][0])),
        CLRN_STATUS_SUCCESS);
    if (!strstr(clrn_last_error(), cases[i][1]))
      fprintf(stderr, "\n\"%s\" lacks \"%s\"\n", clrn_last_error(), cases[i][1]);
    CU_ASSERT_PTR_NOT_NULL(strstr(clrn_last_error(), cases[i][1]));
  }
  const char *good = "{\"parent\": \"pocl\", \"match\": {\"type\": \"cpu\"}, \"options\": "
                     "{\"CONV_VEC\": 16, \"CONV_COUT_BLOCK\": 32, \"CONV_AUTO_BLOCKED\": true}}";
  CLRN_ASSERT_OK(clrn_profile_validate_json("devices/x.json", good, strlen(good)));
}

/* Build options of program name under CLRN_TUNE=tune, into out. */
static void options_with(const char *tune, const char *name, char *out, size_t size) {
  clrn_device_info d = pocl_cpu();
  d.opencl_c_major = 1;
  d.opencl_c_minor = 2;
  clrn_profile *profile = resolve_with(d, NULL, tune);
  CU_ASSERT_PTR_NOT_NULL_FATAL(profile);
  CU_ASSERT(clrn_program_options(&d, profile, name, out, size));
  clrn_profile_free(profile);
}

/* Host values change no program's options (so no cache key); a kernel define
 * changes only its own family's. */
static void test_build_options(void) {
  char conv[1024], eltwise[1024], other[1024];
  options_with(NULL, "conv2d", conv, sizeof conv);
  options_with(NULL, "eltwise", eltwise, sizeof eltwise);
  CU_ASSERT_PTR_NOT_NULL(strstr(conv, " -DCONV_VEC=8 -DCONV_COUT_BLOCK=16 -DCONV_PIX_BLOCK=6"));
  CU_ASSERT_PTR_NULL(strstr(eltwise, "CONV_"));
  for (int i = 0; i < CLRN_TUNING_COUNT; i++) { /* every define reaches its program */
    const clrn_tuning_param *p = clrn_tuning_param_of((clrn_tuning_id)i);
    char want[80];
    snprintf(want, sizeof want, " -D%s=", p->name);
    CU_ASSERT((strstr(conv, want) != NULL) ==
              (p->kind == CLRN_TUNING_KIND_DEFINE && strcmp(p->family, "conv2d") == 0));
    CU_ASSERT_PTR_NULL(strstr(eltwise, want));
  }
  const char *host_only = "ELTWISE_WG=32,CONV_WG=16,CONV_BLOCK_WG=8,CONV_PIXELS_FIRST=0,"
                          "CONV_AUTO_BLOCKED=0,GAP_GROUP_MIN_HW=5,LINEAR_GEMV_MAX_BATCH=4,"
                          "PEAK_FLOP_PER_CYCLE_PER_CU=7";
  const char *programs[] = {"conv2d", "eltwise", "pooling", "softmax", "linear", "batchnorm"};
  for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
    char plain[1024];
    options_with(NULL, programs[i], plain, sizeof plain);
    options_with(host_only, programs[i], other, sizeof other);
    CU_ASSERT_STRING_EQUAL(other, plain);
  }
  options_with("CONV_PIX_BLOCK=5", "conv2d", other, sizeof other);
  CU_ASSERT_PTR_NOT_NULL(strstr(other, " -DCONV_PIX_BLOCK=5"));
  CU_ASSERT_STRING_NOT_EQUAL(other, conv);
  options_with("CONV_PIX_BLOCK=5", "eltwise", other, sizeof other);
  CU_ASSERT_STRING_EQUAL(other, eltwise);
}

/* CLRN_PROFILE runs any device with a named profile; the context option wins over
 * it; an unknown name is refused with the known names. */
static void test_profile_by_name(void) {
  setenv("CLRN_PROFILE", "nvidia-hopper", 1);
  clrn_profile *profile = resolve_with(pocl_cpu(), NULL, "CONV_WG=32");
  CU_ASSERT_PTR_NOT_NULL_FATAL(profile);
  CU_ASSERT_STRING_EQUAL(clrn_profile_name(profile), "nvidia-hopper");
  CU_ASSERT_EQUAL(clrn_profile_value(profile, CLRN_TUNING_PEAK_FLOP_PER_CYCLE_PER_CU), 256);
  CU_ASSERT_EQUAL(clrn_profile_value(profile, CLRN_TUNING_CONV_WG), 32); /* CLRN_TUNE still */
  CU_ASSERT_EQUAL(clrn_profile_value(profile, CLRN_TUNING_CONV_PIXELS_FIRST), 1);
  clrn_profile_free(profile);

  profile = resolve_with(pocl_cpu(), "oclgrind", NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(profile);
  CU_ASSERT_STRING_EQUAL(clrn_profile_name(profile), "oclgrind");
  CU_ASSERT_EQUAL(clrn_profile_value(profile, CLRN_TUNING_CONV_WG), 16);
  clrn_profile_free(profile);

  setenv("CLRN_PROFILE", "nvidia-hoper", 1);
  expect_refused(pocl_cpu(), NULL, NULL, "CLRN_PROFILE: unknown device profile \"nvidia-hoper\"",
                 "(known: ", "nvidia-hopper", "pocl-cpu", (const char *)NULL);
  unsetenv("CLRN_PROFILE");
  expect_refused(
      pocl_cpu(), "gpu", NULL,
      "context option profile: unknown device profile \"gpu\" (known: ", (const char *)NULL);
  setenv("CLRN_PROFILE", "", 1); /* empty: as if unset */
  profile = resolve_with(pocl_cpu(), "", NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(profile);
  CU_ASSERT_STRING_EQUAL(clrn_profile_name(profile), "pocl-cpu-avx2");
  clrn_profile_free(profile);
  unsetenv("CLRN_PROFILE");
}

int main(void) {
  unsetenv("CLRN_PROFILE");
  clrn_test_add_suite("profiles", NULL, NULL, "embedded profiles are valid", test_valid, "matching",
                      test_matching, "the table is the only source of defaults",
                      test_table_is_the_defaults, "inheritance and CLRN_TUNE",
                      test_inheritance_and_override, "CLRN_TUNE unknown key", test_tune_unknown_key,
                      "CLRN_TUNE out of range", test_tune_out_of_range, "profile JSON validation",
                      test_profile_json, "only kernel defines in build options", test_build_options,
                      "CLRN_PROFILE and the context option", test_profile_by_name, NULL);
  return clrn_test_run();
}
