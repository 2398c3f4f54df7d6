// How an ODBC failure becomes busbar's error (storage.h): by the SQLSTATE the driver reports
// (psqlODBC passes PostgreSQL's own), and by whether the session is still connected.
#pragma once

#include <string>

#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

namespace odbc_storage {

enum class Failure { kDuplicateKey, kUnavailable, kConflict, kOther };

// The SQLSTATE of the first diagnostic record of an ODBC exception, or the first its message
// names; "" when it names none.
std::string sqlState(const Poco::Exception& error);

// 23505 is kDuplicateKey; 08xxx, the server going away (57P01-57P03, 53300) or a session no
// longer connected is kUnavailable; 40001, 40P01 and 55P03 (lock timeout) are kConflict.
Failure classify(const Poco::Exception& error, Poco::Data::Session& session);

// Throws DuplicateKey, StorageUnavailable, TransactionConflict or StorageError with `message`.
[[noreturn]] void throwFailure(Failure failure, const std::string& message);

// The exception's text in one line: its diagnostics, without Poco's banner.
std::string describe(const Poco::Exception& error);

}  // namespace odbc_storage
