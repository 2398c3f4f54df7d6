// The storage Connection contract, part 1 (busbar-conformance storage): every operation, value
// types and hostile values.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "busbar/errors.h"
#include "contract_fixture.h"

namespace busbar::conformance {
namespace {

std::vector<std::string> ids(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(asText(row.at("id")));
  return out;
}

// Values that break SQL built by concatenation, encodings and length limits.
std::vector<std::string> hostileStrings() {
  return {
      "it's",
      "''",
      "\"double\" quotes",
      "back\\slash\\",
      "'; DROP TABLE users; --",
      "Robert'); DELETE FROM items WHERE ('1'='1",
      "? and ?? and $1 and $2 and :name and %s and {}",
      "/* comment */ -- line comment",
      "tab\tnewline\ncarriage\rreturn",
      "",
      " ",
      "unicode: \xc3\xa9\xc3\xa8 \xe4\xb8\xad\xe6\x96\x87 \xd7\xa2\xd7\x91\xd7\xa8\xd7\x99\xd7\xaa "
      "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",
      "combining e\xcc\x81 and zero width \xe2\x80\x8b joiner",
      // 64 KiB, less the one byte that MySQL's TEXT cannot hold (see MysqlDialect).
      std::string(65535, 'x'),
      std::string(16384, '\'') + std::string(16384, '"') + std::string(16384, '\\') +
          std::string(16383, '?'),
  };
}

TEST_P(StorageContract, NamesItsBackendTheSameOnEveryConnection) {
  EXPECT_FALSE(driver().empty());
  EXPECT_EQ(openAnother()->driver(), driver());
  connection_->transaction([&](Connection& tx) { EXPECT_EQ(tx.driver(), driver()); });
}

TEST_P(StorageContract, InsertThenFindOneReturnsEveryColumnWithItsType) {
  connection_->insert(items_, {{"id", std::string("a")},
                               {"name", std::string("Alice")},
                               {"note", std::monostate{}},
                               {"count", int64_t{42}},
                               {"score", 2.5}});
  auto row = connection_->findOne(items_, {{"id", std::string("a")}});
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->at("id"), Value(std::string("a")));
  EXPECT_EQ(row->at("name"), Value(std::string("Alice")));
  EXPECT_TRUE(isNull(row->at("note")));
  EXPECT_EQ(row->at("count"), Value(int64_t{42}));
  EXPECT_EQ(row->at("score"), Value(2.5));
  EXPECT_EQ(row->size(), 5u);
}

TEST_P(StorageContract, FindOneOfNoRowReturnsNothing) {
  EXPECT_FALSE(connection_->findOne(items_, {{"id", std::string("missing")}}).has_value());
  EXPECT_TRUE(connection_->findAll(items_, {}).empty());
}

TEST_P(StorageContract, IntegersAndRealsKeepTheirValues) {
  const int64_t big = std::numeric_limits<int64_t>::max();
  const int64_t small = std::numeric_limits<int64_t>::min();
  connection_->insert(
      items_,
      {{"id", std::string("max")}, {"name", std::string()}, {"count", big}, {"score", 1.0 / 3.0}});
  connection_->insert(
      items_,
      {{"id", std::string("min")}, {"name", std::string()}, {"count", small}, {"score", -1.5e300}});
  auto max = connection_->findOne(items_, {{"id", std::string("max")}});
  auto min = connection_->findOne(items_, {{"id", std::string("min")}});
  ASSERT_TRUE(max && min);
  EXPECT_EQ(asInt(max->at("count")), big);
  EXPECT_EQ(asInt(min->at("count")), small);
  ASSERT_TRUE(std::holds_alternative<double>(max->at("score")));
  EXPECT_NEAR(std::get<double>(max->at("score")), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(std::get<double>(min->at("score")) / -1.5e300, 1.0, 1e-12);
  // Found by its integer value too.
  EXPECT_EQ(connection_->findAll(items_, {{"count", big}}).size(), 1u);
}

TEST_P(StorageContract, EmptyTextIsNotNull) {
  connection_->insert(items_, {{"id", std::string("e")},
                               {"name", std::string()},
                               {"note", std::string()},
                               {"count", int64_t{0}}});
  auto row = connection_->findOne(items_, {{"id", std::string("e")}});
  ASSERT_TRUE(row);
  EXPECT_EQ(row->at("note"), Value(std::string()));
  EXPECT_EQ(connection_->findAll(items_, {{"note", std::monostate{}}}).size(), 0u);
  EXPECT_EQ(connection_->findAll(items_, {{"note", std::string()}}).size(), 1u);
}

TEST_P(StorageContract, FindAllFiltersOrdersLimitsAndSkips) {
  for (int i = 0; i < 10; ++i) {
    std::string id = "id" + std::to_string(9 - i);
    connection_->insert(items_, item(id, i % 2 == 0 ? "even" : "odd", i));
  }
  EXPECT_EQ(connection_->findAll(items_, {}).size(), 10u);
  FindOptions by_id;
  by_id.order_by = {"id"};
  EXPECT_EQ(ids(connection_->findAll(items_, {{"name", std::string("even")}}, by_id)),
            (std::vector<std::string>{"id1", "id3", "id5", "id7", "id9"}));
  FindOptions page = by_id;
  page.limit = 3;
  page.offset = 2;
  EXPECT_EQ(ids(connection_->findAll(items_, {}, page)),
            (std::vector<std::string>{"id2", "id3", "id4"}));
  FindOptions by_name_then_count;
  by_name_then_count.order_by = {"name", "count"};
  by_name_then_count.limit = 2;
  EXPECT_EQ(ids(connection_->findAll(items_, {}, by_name_then_count)),
            (std::vector<std::string>{"id9", "id7"}));
  EXPECT_EQ(
      ids(connection_->findAll(items_, {{"name", std::string("odd")}, {"count", int64_t{3}}})),
      (std::vector<std::string>{"id6"}));
}

TEST_P(StorageContract, WhereNullMatchesOnlyNull) {
  connection_->insert(items_, item("with", "n", 1));
  connection_->update(items_, {{"note", std::string("set")}}, {{"id", std::string("with")}});
  connection_->insert(items_, item("without", "n", 2));
  EXPECT_EQ(ids(connection_->findAll(items_, {{"note", std::monostate{}}})),
            (std::vector<std::string>{"without"}));
  EXPECT_EQ(ids(connection_->findAll(items_, {{"note", std::string("set")}})),
            (std::vector<std::string>{"with"}));
}

TEST_P(StorageContract, UpdateChangesMatchingRowsAndCountsThem) {
  connection_->insert(items_, item("a", "x", 1));
  connection_->insert(items_, item("b", "x", 2));
  connection_->insert(items_, item("c", "y", 3));
  EXPECT_EQ(connection_->update(items_, {{"name", std::string("z")}, {"score", 1.25}},
                                {{"name", std::string("x")}}),
            2u);
  EXPECT_EQ(connection_->update(items_, {{"count", int64_t{30}}},
                                {{"id", std::string("c")}, {"count", int64_t{3}}}),
            1u);
  EXPECT_EQ(connection_->update(items_, {{"count", int64_t{0}}}, {{"id", std::string("none")}}),
            0u);
  EXPECT_EQ(connection_->update(items_, {}, {{"id", std::string("a")}}), 0u);
  EXPECT_EQ(ids(connection_->findAll(items_, {{"name", std::string("z")}, {"score", 1.25}})).size(),
            2u);
  EXPECT_EQ(asInt(connection_->findOne(items_, {{"id", std::string("c")}})->at("count")), 30);
}

TEST_P(StorageContract, UpdateCountsMatchedRowsEvenWhenNothingChanges) {
  connection_->insert(items_, item("a", "same", 1));
  connection_->insert(items_, item("b", "same", 2));
  EXPECT_EQ(connection_->update(items_, {{"name", std::string("same")}}, {}), 2u);
  EXPECT_EQ(connection_
                ->execute("UPDATE " + items_ + " SET name = ? WHERE id = ?",
                          {std::string("same"), std::string("a")})
                .affected,
            1u);
  // Deletes and inserts count as usual afterwards.
  EXPECT_EQ(connection_->remove(items_, {{"id", std::string("b")}}), 1u);
  EXPECT_EQ(connection_
                ->execute("INSERT INTO " + items_ + " (id, name, count) VALUES (?, ?, ?)",
                          {std::string("c"), std::string("n"), int64_t{3}})
                .affected,
            1u);
}

TEST_P(StorageContract, UpdateCanSetNull) {
  connection_->insert(items_, {{"id", std::string("a")},
                               {"name", std::string("n")},
                               {"note", std::string("x")},
                               {"count", int64_t{1}},
                               {"score", 1.5}});
  EXPECT_EQ(connection_->update(items_, {{"note", std::monostate{}}, {"score", std::monostate{}}},
                                {{"id", std::string("a")}}),
            1u);
  auto row = connection_->findOne(items_, {{"id", std::string("a")}});
  EXPECT_TRUE(isNull(row->at("note")));
  EXPECT_TRUE(isNull(row->at("score")));
}

TEST_P(StorageContract, RemoveDeletesMatchingRowsAndCountsThem) {
  connection_->insert(items_, item("a", "x", 1));
  connection_->insert(items_, item("b", "x", 2));
  connection_->insert(items_, item("c", "y", 3));
  EXPECT_EQ(connection_->remove(items_, {{"name", std::string("x")}}), 2u);
  EXPECT_EQ(connection_->remove(items_, {{"name", std::string("x")}}), 0u);
  EXPECT_EQ(ids(connection_->findAll(items_, {})), (std::vector<std::string>{"c"}));
  EXPECT_EQ(connection_->remove(items_, {}), 1u);
  EXPECT_TRUE(connection_->findAll(items_, {}).empty());
}

TEST_P(StorageContract, UpsertInsertsThenUpdatesTheOtherColumns) {
  connection_->upsert(
      items_, {{"id", std::string("a")}, {"name", std::string("first")}, {"count", int64_t{1}}},
      {"id"});
  connection_->upsert(items_,
                      {{"id", std::string("a")},
                       {"name", std::string("second")},
                       {"count", int64_t{2}},
                       {"note", std::string("n")}},
                      {"id"});
  auto rows = connection_->findAll(items_, {});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("name"), Value(std::string("second")));
  EXPECT_EQ(rows[0].at("count"), Value(int64_t{2}));
  EXPECT_EQ(rows[0].at("note"), Value(std::string("n")));
}

TEST_P(StorageContract, UpsertOfOnlyKeyColumnsKeepsTheRow) {
  std::string tags = createTable({"tags", {{"tag", ColumnType::kText, 32, false}}, {"tag"}});
  connection_->upsert(tags, {{"tag", std::string("t")}}, {"tag"});
  connection_->upsert(tags, {{"tag", std::string("t")}}, {"tag"});
  EXPECT_EQ(connection_->findAll(tags, {}).size(), 1u);
}

TEST_P(StorageContract, UpsertWithoutItsKeyValueIsRejected) {
  EXPECT_THROW(connection_->upsert(items_, {{"name", std::string("x")}}, {"id"}), StorageError);
}

TEST_P(StorageContract, InsertOfAnExistingKeyThrowsDuplicateKey) {
  connection_->insert(items_, item("a", "first", 1));
  EXPECT_THROW(connection_->insert(items_, item("a", "second", 2)), DuplicateKey);
  // The connection goes on, and the first row is untouched.
  EXPECT_EQ(connection_->findOne(items_, {{"id", std::string("a")}})->at("name"),
            Value(std::string("first")));
  connection_->insert(items_, item("b", "other", 3));
  EXPECT_EQ(connection_->findAll(items_, {}).size(), 2u);
}

TEST_P(StorageContract, KeysCompareByteForByte) {
  connection_->insert(items_, item("abc", "lower", 1));
  connection_->insert(items_, item("ABC", "upper", 2));
  connection_->insert(items_, item("abc ", "trailing space", 3));
  EXPECT_EQ(connection_->findAll(items_, {}).size(), 3u);
  EXPECT_EQ(connection_->findOne(items_, {{"id", std::string("ABC")}})->at("name"),
            Value(std::string("upper")));
}

TEST_P(StorageContract, TextSortsInByteOrder) {
  const std::vector<std::string> sorted = {
      " ", "A", "B", "Z", "_", "a", "b", "z", "\xc3\xa9" /* é */, "\xe4\xb8\xad" /* 中 */};
  for (auto it = sorted.rbegin(); it != sorted.rend(); ++it) {
    connection_->insert(items_, item(*it, *it, 0));
  }
  FindOptions by_id;
  by_id.order_by = {"id"};
  EXPECT_EQ(ids(connection_->findAll(items_, {}, by_id)), sorted);
  FindOptions by_name;
  by_name.order_by = {"name"};
  EXPECT_EQ(ids(connection_->findAll(items_, {}, by_name)), sorted);
}

TEST_P(StorageContract, HostileStringsAreStoredAndMatchedExactly) {
  auto values = hostileStrings();
  for (std::size_t i = 0; i < values.size(); ++i) {
    connection_->insert(items_, {{"id", "h" + std::to_string(i)},
                                 {"name", values[i]},
                                 {"note", values[i]},
                                 {"count", static_cast<int64_t>(i)}});
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    SCOPED_TRACE("value " + std::to_string(i));
    auto rows = connection_->findAll(items_, {{"note", values[i]}});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(asText(rows[0].at("id")), "h" + std::to_string(i));
    EXPECT_EQ(asText(rows[0].at("name")), values[i]);
    EXPECT_EQ(asText(rows[0].at("note")), values[i]);
  }
  // Hostile keys too, up to the column's bound.
  connection_->insert(items_, item("k'\"\\?$1 \xf0\x9f\x98\x80", "key", 1));
  EXPECT_TRUE(connection_->findOne(items_, {{"id", std::string("k'\"\\?$1 \xf0\x9f\x98\x80")}}));
  // Updates and deletes bind them as well.
  EXPECT_EQ(connection_->update(items_, {{"note", values[4]}}, {{"note", values[5]}}), 1u);
  EXPECT_EQ(connection_->findAll(items_, {{"note", values[4]}}).size(), 2u);
  EXPECT_EQ(connection_->remove(items_, {{"note", values[4]}}), 2u);
  EXPECT_EQ(connection_->findAll(items_, {}).size(), values.size() - 2 + 1);
}

TEST_P(StorageContract, TextLongerThanItsBoundIsRejected) {
  // The key column holds 64 characters; multi-byte ones count as one.
  const std::string emoji = "\xf0\x9f\x98\x80";
  std::string fits;
  for (int i = 0; i < 64; ++i) fits += emoji;
  connection_->insert(items_, item(fits, "fits", 1));
  EXPECT_TRUE(connection_->findOne(items_, {{"id", fits}}).has_value());
  try {
    connection_->insert(items_, item(std::string(65, 'x'), "too long", 2));
    FAIL() << "a 65-character key was stored";
  } catch (const DuplicateKey&) {
    FAIL() << "not a duplicate";
  } catch (const StorageUnavailable& error) {
    FAIL() << "not unavailable: " << error.what();
  } catch (const StorageError&) {
  }
  EXPECT_THROW(connection_->update(items_, {{"id", fits + "x"}}, {{"id", fits}}), StorageError);
  EXPECT_EQ(connection_->findAll(items_, {}).size(), 1u);
}

TEST_P(StorageContract, ExecuteBindsQuestionMarksInOrder) {
  connection_->insert(items_, item("a", "x", 1));
  connection_->insert(items_, item("b", "y", 2));
  connection_->insert(items_, item("c", "?", 3));
  auto result =
      connection_->execute("SELECT id, count FROM " + items_ +
                               " WHERE (name = ? OR name = '?') AND count >= ? ORDER BY id",
                           {std::string("y"), int64_t{2}});
  EXPECT_EQ(ids(result.rows), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(result.rows[0].at("count"), Value(int64_t{2}));
  auto changed = connection_->execute("UPDATE " + items_ + " SET count = count + ? WHERE id <> ?",
                                      {int64_t{10}, std::string("a")});
  EXPECT_EQ(changed.affected, 2u);
  EXPECT_TRUE(changed.rows.empty());
  auto counted = connection_->execute("SELECT COUNT(*) AS n FROM " + items_ + " WHERE count > ?",
                                      {int64_t{10}});
  ASSERT_EQ(counted.rows.size(), 1u);
  EXPECT_EQ(asInt(counted.rows[0].at("n")), 2);
}

TEST_P(StorageContract, ExecuteOfBadSqlThrowsStorageError) {
  try {
    connection_->execute("SELECT nonsense FROM " + items_ + " WHERE");
    FAIL() << "no error";
  } catch (const DuplicateKey&) {
    FAIL() << "not a duplicate key";
  } catch (const StorageUnavailable& error) {
    FAIL() << "not unavailable: " << error.what();
  } catch (const StorageError&) {
  }
  // The session that failed goes on serving.
  EXPECT_TRUE(connection_->findAll(items_, {}).empty());
}

TEST_P(StorageContract, InvalidIdentifiersAreRejectedBeforeAnySql) {
  EXPECT_THROW(connection_->insert("items; DROP TABLE x", item("a", "x", 1)), StorageError);
  EXPECT_THROW(connection_->findAll(items_, {{"id = id OR 1", std::string("x")}}), StorageError);
  EXPECT_THROW(connection_->findOne("1abc", {}), StorageError);
  EXPECT_THROW(connection_->update(items_, {{"na\"me", std::string("x")}}, {}), StorageError);
  FindOptions options;
  options.order_by = {"id DESC"};
  EXPECT_THROW(connection_->findAll(items_, {}, options), StorageError);
}

TEST_P(StorageContract, CreateTableIsIdempotentAndKeepsRows) {
  TableSchema schema;
  schema.name = items_;
  schema.columns = {{"id", ColumnType::kText, 64, false}, {"other", ColumnType::kInteger, 0, true}};
  schema.primary_key = {"id"};
  connection_->insert(items_, item("a", "x", 1));
  connection_->createTable(schema);  // exists: nothing changes
  connection_->createTable(schema);
  EXPECT_EQ(connection_->findAll(items_, {}).size(), 1u);
  EXPECT_EQ(connection_->findOne(items_, {{"id", std::string("a")}})->count("other"), 0u);
}

TEST_P(StorageContract, TablesWithCompositeKeysAndNoKey) {
  std::string pairs = createTable({"pairs",
                                   {{"module", ColumnType::kText, 64, false},
                                    {"number", ColumnType::kInteger, 0, false},
                                    {"text", ColumnType::kText, 0, true}},
                                   {"module", "number"}});
  std::string log = createTable({"log", {{"line", ColumnType::kText, 0, false}}, {}});
  connection_->insert(pairs, {{"module", std::string("m")}, {"number", int64_t{1}}});
  connection_->insert(pairs, {{"module", std::string("m")}, {"number", int64_t{2}}});
  EXPECT_THROW(connection_->insert(pairs, {{"module", std::string("m")}, {"number", int64_t{1}}}),
               DuplicateKey);
  connection_->insert(log, {{"line", std::string("same")}});
  connection_->insert(log, {{"line", std::string("same")}});
  EXPECT_EQ(connection_->findAll(log, {}).size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Plugin, StorageContract, ::testing::ValuesIn(pluginUnderTestName()),
                         pluginParamName);

}  // namespace
}  // namespace busbar::conformance
