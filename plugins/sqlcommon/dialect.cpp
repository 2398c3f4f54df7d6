#include "dialect.h"

#include "poco_statement_cache.h"

namespace busbar::sql {

std::unique_ptr<StatementCache> Dialect::makeStatementCache(std::size_t capacity) const {
  return std::make_unique<PocoStatementCache>(capacity);
}

}  // namespace busbar::sql
