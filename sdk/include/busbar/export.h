// Symbol visibility for the SDK.
//
// Every target is built with -fvisibility=hidden. Types that cross the host/plugin boundary
// (interfaces, exceptions) must keep default visibility so that dynamic_cast and catch work
// across shared objects; BUSBAR_API marks them.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define BUSBAR_API __attribute__((visibility("default")))
#else
#define BUSBAR_API
#endif
