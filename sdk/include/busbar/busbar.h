// The whole SDK. Plugins include this, or the headers they need.
#pragma once

#include "busbar/abi.h"
#include "busbar/config.h"
#include "busbar/consistency.h"
#include "busbar/errors.h"
#include "busbar/event.h"
#include "busbar/event_bus.h"
#include "busbar/event_log_storage.h"
#include "busbar/export.h"
#include "busbar/http.h"
#include "busbar/logged_event_row.h"
#include "busbar/metrics.h"
#include "busbar/migrations.h"
#include "busbar/plugin.h"
#include "busbar/registry.h"
#include "busbar/storage.h"
#include "busbar/transport.h"
