// Running one statement on a Poco::Data session, and what its failures mean.
//
// Free functions shared by the pooled Connection and the Connection of a transaction. The
// session must be used by one thread at a time; the functions keep no state.
#pragma once

#include <string>
#include <vector>

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include "busbar/storage.h"
#include "dialect.h"

namespace busbar::sql {

// What a failed statement means for the caller.
enum class Failure {
  kDuplicateKey,  // a unique or primary key violation
  kUnavailable,   // the database is unreachable or the session is broken: discard the session
  kRetryable,     // a deadlock or lock timeout: the statement was rolled back and may run again
  kOther,         // anything else: the statement's own fault
};

// Runs `sql` (with `?` placeholders) on `session` with `params` bound in order. Returns the rows
// of a SELECT, or the count of rows changed. Throws what Poco throws.
ExecuteResult executeStatement(Poco::Data::Session& session, const Dialect& dialect,
                               const std::string& sql, const std::vector<Value>& params);

// Runs `statement`, prepared and bound, on `session`: the rows of a SELECT, or the count of
// rows changed. Throws what Poco throws.
ExecuteResult runStatement(Poco::Data::Statement& statement, Poco::Data::Session& session,
                           const Dialect& dialect);

// Classifies `error`, raised by a statement on `session`, through the dialect; a session that
// no longer says it is connected makes any error kUnavailable.
Failure classify(const Dialect& dialect, Poco::Data::Session& session,
                 const Poco::Exception& error);

// Throws DuplicateKey, StorageUnavailable or StorageError for `failure` with `message`.
[[noreturn]] void throwFailure(Failure failure, const std::string& message);

}  // namespace busbar::sql
