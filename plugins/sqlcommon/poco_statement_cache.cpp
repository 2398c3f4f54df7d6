#include "poco_statement_cache.h"

#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

#include "statement_runner.h"

namespace busbar::sql {
namespace {

// One character per parameter: its type. NULL has a type of its own, since the slot it binds is
// a constant.
std::string cacheKey(const std::string& sql, const std::vector<Value>& params) {
  std::string key;
  key.reserve(params.size() + 1 + sql.size());
  for (const auto& value : params) key += "nids"[value.index()];
  key += '|';
  key += sql;
  return key;
}

}  // namespace

// A kept statement and the slots its parameters are bound to by reference. The slot vectors are
// sized when the statement is made and never grow, so the references stay valid.
struct PocoStatementCache::Entry {
  std::vector<Poco::Int64> integers;
  std::vector<double> reals;
  std::vector<std::string> texts;
  std::unique_ptr<Poco::Data::Statement> statement;

  // Copies params into the slots, in the order prepare() bound them.
  void fill(const std::vector<Value>& params) {
    std::size_t integer = 0;
    std::size_t real = 0;
    std::size_t text = 0;
    for (const auto& value : params) {
      if (const auto* i = std::get_if<int64_t>(&value)) {
        integers[integer++] = static_cast<Poco::Int64>(*i);
      } else if (const auto* d = std::get_if<double>(&value)) {
        reals[real++] = *d;
      } else if (const auto* t = std::get_if<std::string>(&value)) {
        texts[text++] = *t;
      }
    }
  }
};

PocoStatementCache::PocoStatementCache(std::size_t capacity) : capacity_(capacity) {}

PocoStatementCache::~PocoStatementCache() = default;

ExecuteResult PocoStatementCache::execute(Poco::Data::Session& session, const Dialect& dialect,
                                          const std::string& sql,
                                          const std::vector<Value>& params) {
  const std::string key = cacheKey(sql, params);
  Entry* entry = nullptr;
  if (std::unique_ptr<Entry>* kept = statements_.use(key)) {
    entry = kept->get();
    entry->fill(params);
  } else {
    if (capacity_ == 0) return executeStatement(session, dialect, sql, params);
    if (statements_.size() >= capacity_) statements_.removeLeastRecentlyUsed();
    entry = statements_.add(key, prepare(session, dialect, sql, params)).get();
  }
  try {
    return runStatement(*entry->statement, session, dialect);
  } catch (...) {
    statements_.remove(key);  // closes it, and with it any result it left unread
    throw;
  }
}

std::unique_ptr<PocoStatementCache::Entry> PocoStatementCache::prepare(
    Poco::Data::Session& session, const Dialect& dialect, const std::string& sql,
    const std::vector<Value>& params) {
  using Poco::Data::Keywords::bind;
  using Poco::Data::Keywords::use;
  auto entry = std::make_unique<Entry>();
  std::size_t integers = 0;
  std::size_t reals = 0;
  std::size_t texts = 0;
  for (const auto& value : params) {
    integers += std::holds_alternative<int64_t>(value) ? 1 : 0;
    reals += std::holds_alternative<double>(value) ? 1 : 0;
    texts += std::holds_alternative<std::string>(value) ? 1 : 0;
  }
  entry->integers.resize(integers);
  entry->reals.resize(reals);
  entry->texts.resize(texts);
  entry->fill(params);
  entry->statement = std::make_unique<Poco::Data::Statement>(session);
  Poco::Data::Statement& statement = *entry->statement;
  statement << dialect.rewritePlaceholders(sql);
  std::size_t integer = 0;
  std::size_t real = 0;
  std::size_t text = 0;
  for (const auto& value : params) {
    if (std::holds_alternative<int64_t>(value)) {
      statement, use(entry->integers[integer++]);
    } else if (std::holds_alternative<double>(value)) {
      statement, use(entry->reals[real++]);
    } else if (std::holds_alternative<std::string>(value)) {
      statement, use(entry->texts[text++]);
    } else {
      statement, bind(Poco::Nullable<std::string>());
    }
  }
  ++prepared_;
  return entry;
}

void PocoStatementCache::clear() noexcept { statements_.clear(); }

}  // namespace busbar::sql
