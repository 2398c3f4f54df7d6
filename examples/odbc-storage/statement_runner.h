// Runs one SQL statement with `?` placeholders on one ODBC session and reads what it returns.
#pragma once

#include <string>
#include <vector>

#include <Poco/Data/Session.h>

#include <busbar/storage.h>

namespace odbc_storage {

// Binds `params` to the `?` outside literals, identifiers and comments, in order; a NULL is
// written into the statement as NULL (an ODBC NULL parameter needs a type the statement does not
// tell). Returns the rows a statement returns, else the rows an INSERT, UPDATE or DELETE changed
// or matched (PostgreSQL's count, also of rows already equal). Throws the
// connector's Poco::Exception; StorageError when the placeholders and `params` differ in number.
busbar::ExecuteResult runStatement(Poco::Data::Session& session, const std::string& sql,
                                   const std::vector<busbar::Value>& params);

}  // namespace odbc_storage
