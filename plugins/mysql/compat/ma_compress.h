// Stands in for libmariadb's ma_compress.h, which mysql/client_plugin.h includes and Debian 12's
// libmariadb-dev does not install. Only the compression plugin's declaration uses the type; busbar
// declares no compression plugin. Used only when mysql/client_plugin.h does not compile as installed
// (CMakeLists.txt).
#pragma once

typedef struct busbar_unused_compress_ctx ma_compress_ctx;
