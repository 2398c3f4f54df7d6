// The plugin ABI, version 1.6.
//
// A plugin is a shared object that exports exactly one C function, busbar_plugin_v1, returning a
// pointer to a static descriptor. The host reads and checks the descriptor before it runs any
// other code of the plugin. The descriptor is plain C so that its layout does not depend on the
// C++ standard library; everything behind `create` is C++ and is only safe because the build
// signature (compiler, standard, libstdc++ ABI, Boost and Poco versions, a digest of the SDK's
// headers, and the build options that change layout or behaviour) must match the host's.
//
// Compatibility rule: a host of ABI major M, minor N loads a plugin of major M and minor <= N.
// A major bump may change anything. A minor bump only adds: fields inside `reserved`, virtual
// functions appended at the end of interfaces the host implements (a plugin of an older minor
// never calls them), and new optional interfaces a plugin may implement besides the required
// one (the host finds them with dynamic_cast and works without them). Plain structs that cross
// the boundary by value (Event, HttpRequest...) never change within a major.
//
// Minor versions:
//   1.0  the first.
//   1.1  the event log: InboundSink::deliverSequenced, the optional SequencedTransport with
//        EventLogSeq (seq, log id, request id), the OutcomeUnknown error; events dispatched
//        inside Connection::transaction are logged.
//        HTTP on event loops: Routes::add with RouteOptions (never_blocks, query_parameters).
//        Operations: PluginContext::metrics() and metrics.h (MetricsRegistry, Counter, Gauge,
//        Histogram, readers); the optional TransportHealth (readiness).
//   1.2  Caches checked against the database: PluginContext::consistency() and consistency.h
//        (CheckedCache, ConsistencyObserver). TransactionConflict (errors.h).
//   1.3  The event log's storage as a service of the storage plugin: EventLogStorage
//        (event_log_storage.h) under kEventLogStorageService, and the row helpers of
//        logged_event_row.h; the host speaks no SQL of its own for the log.
//   1.4  Registry::requireService: a missing service is refused naming the plugin that needs it
//        and the one that lacks it. DeliveryQueue (delivery_queue.h): the queue and thread of an
//        in-process transport.
//   1.5  Who may call a route: RouteAccess and Routes::add with a CallerRouteHandler, which gets
//        the Caller (the token's name and scopes) that [http] auth = bearer authenticated.
//   1.6  Who caused an event travels with it: EventContext (its principal and request id) for
//        subscribers through Subscriptions::subscribeWithContext; the optional
//        AttributedTransport and InboundSink::deliverAttributed and deliverSequencedAttributed;
//        the optional EventLogStorage2 with LoggedEvent2 (and prune2, which deletes only while
//        the relay lease is held), and logged_event_row.h's toRow2 and fromRow2 with the
//        principal column.
//
// Plugin authors never fill the descriptor by hand: use BUSBAR_PLUGIN from plugin.h.
#pragma once

#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
#include <cstddef>  // libstdc++'s configuration: the _GLIBCXX_ macros the signature reads
#endif

#include <Poco/Version.h>
#include <boost/version.hpp>

#include "busbar/export.h"
#include "busbar/sdk_digest.h"

#define BUSBAR_ABI_MAJOR 1
#define BUSBAR_ABI_MINOR 6
#define BUSBAR_DESCRIPTOR_MAGIC 0x42555342u /* "BUSB" */

// The exported symbol carries the ABI major, so a host of another major does not even find it.
#define BUSBAR_ENTRY_POINT busbar_plugin_v1
#define BUSBAR_ENTRY_POINT_NAME "busbar_plugin_v1"

#define BUSBAR_STRINGIFY_(x) #x
#define BUSBAR_STRINGIFY(x) BUSBAR_STRINGIFY_(x)

#if defined(__clang__)
#define BUSBAR_COMPILER_ID \
  "clang-" BUSBAR_STRINGIFY(__clang_major__) "." BUSBAR_STRINGIFY(__clang_minor__)
#elif defined(__GNUC__)
#define BUSBAR_COMPILER_ID "gcc-" BUSBAR_STRINGIFY(__GNUC__) "." BUSBAR_STRINGIFY(__GNUC_MINOR__)
#else
#define BUSBAR_COMPILER_ID "unknown"
#endif

#if defined(_GLIBCXX_USE_CXX11_ABI)
#define BUSBAR_CXX11_ABI BUSBAR_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#else
#define BUSBAR_CXX11_ABI "n/a"
#endif

// Build options that change the layout or the meaning of what crosses the boundary, named in the
// signature only when set: libstdc++'s debug containers change their layout, its assertions and
// the sanitizers the code that inline functions run, and a plugin without exceptions or RTTI can
// neither throw the SDK's errors nor be found by dynamic_cast.
#if defined(_GLIBCXX_DEBUG)
#define BUSBAR_SIGNATURE_GLIBCXX_DEBUG ";glibcxx-debug"
#else
#define BUSBAR_SIGNATURE_GLIBCXX_DEBUG ""
#endif
#if defined(_GLIBCXX_ASSERTIONS)
#define BUSBAR_SIGNATURE_GLIBCXX_ASSERTIONS ";glibcxx-assertions"
#else
#define BUSBAR_SIGNATURE_GLIBCXX_ASSERTIONS ""
#endif
#if defined(__SANITIZE_ADDRESS__)
#define BUSBAR_SANITIZES_ADDRESS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUSBAR_SANITIZES_ADDRESS 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define BUSBAR_SANITIZES_THREAD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BUSBAR_SANITIZES_THREAD 1
#endif
#endif
#if defined(BUSBAR_SANITIZES_ADDRESS)
#define BUSBAR_SIGNATURE_ASAN ";asan"
#else
#define BUSBAR_SIGNATURE_ASAN ""
#endif
#if defined(BUSBAR_SANITIZES_THREAD)
#define BUSBAR_SIGNATURE_TSAN ";tsan"
#else
#define BUSBAR_SIGNATURE_TSAN ""
#endif
#if defined(__cplusplus) && !defined(__cpp_exceptions)
#define BUSBAR_SIGNATURE_NO_EXCEPTIONS ";no-exceptions"
#else
#define BUSBAR_SIGNATURE_NO_EXCEPTIONS ""
#endif
#if defined(__cplusplus) && !defined(__cpp_rtti) && !defined(__GXX_RTTI)
#define BUSBAR_SIGNATURE_NO_RTTI ";no-rtti"
#else
#define BUSBAR_SIGNATURE_NO_RTTI ""
#endif

// Everything that must be equal between the host and a plugin for C++ objects to cross over.
// Evaluated where this header is compiled: in the host for the host, in the plugin for the plugin.
// `sdk=` is a digest of the SDK's headers as this SDK was built: a plugin built from headers that
// were edited without a version bump differs there.
#define BUSBAR_BUILD_SIGNATURE                                                                \
  BUSBAR_COMPILER_ID ";c++" BUSBAR_STRINGIFY(                                                 \
      __cplusplus) ";cxx11abi=" BUSBAR_CXX11_ABI                                              \
                   ";boost=" BUSBAR_STRINGIFY(BOOST_VERSION) ";poco=" BUSBAR_STRINGIFY(       \
                       POCO_VERSION) ";sdk=" BUSBAR_SDK_DIGEST BUSBAR_SIGNATURE_GLIBCXX_DEBUG \
                       BUSBAR_SIGNATURE_GLIBCXX_ASSERTIONS BUSBAR_SIGNATURE_ASAN              \
                           BUSBAR_SIGNATURE_TSAN BUSBAR_SIGNATURE_NO_EXCEPTIONS               \
                               BUSBAR_SIGNATURE_NO_RTTI

#ifdef __cplusplus
extern "C" {
#endif

typedef enum busbar_plugin_kind {
  BUSBAR_KIND_TRANSPORT = 1,
  BUSBAR_KIND_STORAGE = 2,
  BUSBAR_KIND_MODULE = 3
} busbar_plugin_kind;

typedef struct busbar_plugin_descriptor {
  uint32_t magic;               // BUSBAR_DESCRIPTOR_MAGIC
  uint32_t size;                // sizeof(busbar_plugin_descriptor) as the plugin was compiled
  uint16_t abi_major;           // BUSBAR_ABI_MAJOR of the plugin's SDK
  uint16_t abi_minor;           // BUSBAR_ABI_MINOR of the plugin's SDK
  uint32_t kind;                // a busbar_plugin_kind
  const char* name;             // the name host.conf uses, [A-Za-z0-9_-]+
  const char* version;          // the plugin's own version, free text
  const char* build_signature;  // BUSBAR_BUILD_SIGNATURE at the plugin's compile time
  const char* const*
      required_plugins;    // names of plugins that must be loaded first; NULL-terminated
  void* (*create)(void);   // a new busbar::Plugin, owned by the host
  void (*destroy)(void*);  // deletes what create returned
  void* reserved[8];       // zero; room for minor versions to grow
} busbar_plugin_descriptor;

typedef const busbar_plugin_descriptor* (*busbar_entry_point_fn)(void);

#ifdef __cplusplus
}
#endif
