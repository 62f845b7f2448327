/* clresnet's version as macros, for code that must compile against several
 * releases. They repeat project()'s version in CMakeLists.txt, which refuses to
 * configure when they differ; test_version checks that the built library's
 * clrn_version() reports the same string. */
#ifndef CLRESNET_VERSION_H
#define CLRESNET_VERSION_H

#define CLRN_VERSION_MAJOR 0
#define CLRN_VERSION_MINOR 1
#define CLRN_VERSION_PATCH 0

/** The version as one comparable number: major * 10000 + minor * 100 + patch. */
#define CLRN_VERSION_NUMBER                                                                        \
  (CLRN_VERSION_MAJOR * 10000 + CLRN_VERSION_MINOR * 100 + CLRN_VERSION_PATCH)

#endif
