// Exceptions that cross the host/plugin boundary.
//
// The host maps them to outcomes: ConfigError stops the host with exit code 2,
// StorageUnavailable and TransactionConflict become HTTP 503 with Retry-After,
// BadRequest becomes HTTP 400. Anything else thrown by a route handler becomes HTTP 500 and is
// logged.
#pragma once

#include <stdexcept>
#include <string>

#include "busbar/export.h"

namespace busbar {

// A configuration value is missing, unknown or out of range. The message names the file, the
// key and what is allowed.
class BUSBAR_API ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A storage operation failed for a reason that is not the caller's input.
class BUSBAR_API StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The database cannot be reached or the connection broke; retrying later may succeed.
class BUSBAR_API StorageUnavailable : public StorageError {
 public:
  using StorageError::StorageError;
};

// Since SDK 1.1. A commit's connection broke before the database answered, and whether the
// transaction committed could not be settled in time (HTTP 503). Every server's cache follows the
// database whatever the outcome; the caller should read the state back before writing again.
class BUSBAR_API OutcomeUnknown : public StorageUnavailable {
 public:
  using StorageUnavailable::StorageUnavailable;
};

// Since SDK 1.2. The database refused a statement or a commit because of another transaction
// working on the same rows: a deadlock, a serialization failure, a lock wait that timed out. The
// transaction is rolled back and nothing of it was committed; running the whole transaction again
// may succeed, which a module whose work has no effect outside the transaction should do (HTTP 503
// with Retry-After when it reaches the host).
class BUSBAR_API TransactionConflict : public StorageError {
 public:
  using StorageError::StorageError;
};

// An insert hit a unique or primary key that already exists.
class BUSBAR_API DuplicateKey : public StorageError {
 public:
  using StorageError::StorageError;
};

// The request is malformed; the message is shown to the client.
class BUSBAR_API BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace busbar
