/* Symbol visibility for the clresnet public API. The library is built with hidden
 * visibility; only declarations marked CLRN_API are exported. */
#ifndef CLRESNET_EXPORT_H
#define CLRESNET_EXPORT_H

#if defined(_WIN32) && defined(CLRN_SHARED_BUILD)
#define CLRN_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CLRN_API __attribute__((visibility("default")))
#else
#define CLRN_API
#endif

#endif
