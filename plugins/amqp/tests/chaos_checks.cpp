// The checks every chaos round ends with (chaos_fixture.h): every server against the database,
// the consistency observers, the acknowledged writes, each subscriber's deliveries against the
// event log, and the audit table.
#include "chaos_fixture.h"

#include <limits>
#include <set>

#include <Poco/JSON/Array.h>

namespace busbar::testing {

void Chaos::expectConverged(const std::string& fault, std::chrono::milliseconds within,
                            OutMember member) {
  auto started = Clock::now();
  std::string expected;
  auto converged = [&] {
    expected = allUsersOf(*reader_);
    for (ServerProcess* server : servers_) {
      if (allUsersOf(*server) != expected) return false;
    }
    return true;
  };
  bool ok = eventually(converged, within);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  Worst& worst = worst_[fault];
  ++worst.rounds;
  worst.converge = std::max(worst.converge, took);
  if (ok) {
    expectObserversCountedNothing(fault, member);
    return;
  }
  for (ServerProcess* server : servers_) {
    std::string held = allUsersOf(*server);
    EXPECT_EQ(held, expected) << fault << ": server " << server->port()
                              << " differs from the database after " << within.count() << " ms\n"
                              << tail(server->output()) << "\nits /health: " << healthOf(*server);
  }
  FAIL() << fault << ": not converged within " << within.count() << " ms";
}

void Chaos::expectObserversCountedNothing(const std::string& fault, OutMember member) {
  for (ServerProcess* server : servers_) {
    if (!server->running()) continue;
    auto tables = parseJson(server->request("GET", "/health").body)
                      ->getObject("consistency")
                      ->getObject("tables");
    ASSERT_TRUE(tables && tables->getObject("users")) << "no users cache observed";
    const ObserverFigures now{tables->getObject("users")->getValue<uint64_t>("samples"),
                              tables->getObject("users")->getValue<uint64_t>("inconsistencies")};
    ObserverFigures& last = observed_[server->port()];
    uint64_t counted = now.inconsistencies - std::min(now.inconsistencies, last.inconsistencies);
    if (now.samples < last.samples) {  // restarted since
      observed_before_restarts_.samples += last.samples;
      observed_before_restarts_.inconsistencies += last.inconsistencies;
      counted = now.inconsistencies;
    }
    last = now;
    if (server == member.server && member.out > std::chrono::seconds(kObserverBoundSeconds)) {
      excused_inconsistencies_ += counted;
      continue;
    }
    // Which member lagged, and where its event log and its broker consumer stood.
    const auto index = std::find(servers_.begin(), servers_.end(), server) - servers_.begin();
    EXPECT_EQ(counted, 0u) << fault << ": the consistency observer of server " << server->port()
                           << " (servers_[" << index << "]"
                           << (index == 0 && proxy_ ? ", behind the database proxy" : "")
                           << ") counted rows stale for more than " << kObserverBoundSeconds
                           << " s:\n"
                           << linesWith(server->output(), "cache inconsistent")
                           << "its event log lines:\n"
                           << linesWith(server->output(), "event ")
                           << "its broker consumer's lines:\n"
                           << linesWith(server->output(), "consumer")
                           << "its /health now: " << healthOf(*server);
  }
}

void Chaos::expectRestoreRound(const std::string& tag, const std::string& fault,
                               const std::function<void()>& dump,
                               const std::function<void()>& restore) {
  ASSERT_EQ(servers_[0]->request("PUT", "/users/" + tag, R"({"name":"before the dump"})").status,
            201);
  expectConverged(fault);
  dump();
  ASSERT_EQ(servers_[1]->request("PUT", "/users/" + tag, R"({"name":"after the dump"})").status,
            200);
  ASSERT_EQ(servers_[1]->request("PUT", "/users/" + tag + "-new", R"({"name":"lost"})").status,
            201);
  expectConverged(fault);
  restore();
  expectConverged(fault);
  for (ServerProcess* server : servers_) {
    EXPECT_EQ(
        parseJson(server->request("GET", "/users/" + tag).body)->getValue<std::string>("name"),
        "before the dump");
    EXPECT_EQ(server->request("GET", "/users/" + tag + "-new").status, 404);
  }
  ASSERT_EQ(servers_[2]->request("PUT", "/users/" + tag, R"({"name":"after the restore"})").status,
            200);
  expectConverged(fault);
}

void Chaos::expectKept(const std::vector<std::string>& acknowledged) {
  std::string users = allUsersOf(*reader_);
  size_t missing = 0;
  for (const auto& id : acknowledged) {
    if (users.find("\"id\":\"" + id + "\"") != std::string::npos) continue;
    if (++missing <= 10)
      ADD_FAILURE() << "acknowledged write of " << id << " is not in the database";
  }
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged writes";
}

std::map<std::string, uint64_t> Chaos::logged() {
  std::map<std::string, uint64_t> seq_of;
  std::istringstream rows(cluster_->query("SELECT seq, event_id FROM busbar_events"));
  for (std::string row; std::getline(rows, row);) {
    auto bar = row.find('|');
    if (bar == std::string::npos) continue;
    seq_of[row.substr(bar + 1)] = std::stoull(row.substr(0, bar));
  }
  return seq_of;
}

void Chaos::expectSubscribersSawEachEventOnceInOrder(std::chrono::milliseconds within) {
  auto seq_of = logged();
  uint64_t head = 0;
  uint64_t oldest = std::numeric_limits<uint64_t>::max();
  for (const auto& [id, seq] : seq_of) {
    head = std::max(head, seq);
    oldest = std::min(oldest, seq);
  }
  const bool pruned = !seq_of.empty() && oldest > 1;
  for (ServerProcess* server : servers_) {
    Poco::JSON::Object::Ptr body;
    Poco::JSON::Array::Ptr ids;
    auto recorded = [&] {
      body = parseJson(server->request("GET", "/recorded").body);
      ids = body->getArray("ids");
      if (ids->size() == 0) return true;
      auto last = seq_of.find(ids->getElement<std::string>(static_cast<unsigned>(ids->size() - 1)));
      return last != seq_of.end() && last->second == head;
    };
    // A refreshed cache may equal the database before the deliveries after it have run.
    eventually(recorded, within);
    std::set<std::string> seen;
    uint64_t previous = 0;
    std::vector<uint64_t> seqs;
    size_t pruned_before_first = 0;
    // Each key's versions rise in the order this subscriber got them (docs/events.md's ordering
    // guarantee), checked on what was delivered, not on the log.
    auto keys = body->getArray("keys");
    auto versions = body->getArray("versions");
    ASSERT_EQ(keys->size(), ids->size());
    ASSERT_EQ(versions->size(), ids->size());
    std::map<std::string, int64_t> last_version;
    size_t out_of_version_order = 0;
    for (size_t i = 0; i < ids->size(); ++i) {
      std::string id = ids->getElement<std::string>(static_cast<unsigned>(i));
      EXPECT_TRUE(seen.insert(id).second)
          << "server " << server->port() << " saw " << id << " twice";
      const auto key = keys->getElement<std::string>(static_cast<unsigned>(i));
      const auto version = versions->getElement<int64_t>(static_cast<unsigned>(i));
      if (!key.empty()) {
        auto [last, first] = last_version.emplace(key, version);
        if (!first && version <= last->second && ++out_of_version_order <= 10) {
          ADD_FAILURE() << "server " << server->port() << "'s subscriber got version " << version
                        << " of " << key << " after version " << last->second;
        }
        last->second = version;
      }
      auto found = seq_of.find(id);
      if (found == seq_of.end() && pruned && seqs.empty()) {
        ++pruned_before_first;
        continue;
      }
      ASSERT_NE(found, seq_of.end())
          << "server " << server->port() << " saw " << id << " (its event number " << i
          << "), which is not in the event log"
          << (seqs.empty() ? "" : " although an event it saw earlier is");
      EXPECT_GT(found->second, previous)
          << "server " << server->port() << " saw seq " << found->second << " after " << previous;
      previous = found->second;
      seqs.push_back(found->second);
    }
    if (pruned_before_first > 0) {
      std::cout << "server " << server->port() << ": its first " << pruned_before_first
                << " events are pruned from the log (it keeps seq " << oldest << " on)\n";
    }
    EXPECT_EQ(out_of_version_order, 0u)
        << "server " << server->port() << "'s subscriber got versions out of their order";
    if (seqs.empty()) continue;
    // Nothing skipped since the first: from there on the log's events, every one.
    EXPECT_EQ(seqs.back(), head) << "server " << server->port() << " is behind the log";
    EXPECT_EQ(seqs.size(), seqs.back() - seqs.front() + 1)
        << "server " << server->port() << " skipped events between seq " << seqs.front() << " and "
        << seqs.back();
  }
}

void Chaos::expectEachUsersVersionsInSeqOrder() {
  std::map<std::string, int64_t> last;  // user id -> version at the highest seq so far
  std::istringstream rows(cluster_->query(
      "SELECT seq, version, payload FROM busbar_events WHERE seq IS NOT NULL ORDER BY seq"));
  size_t out_of_order = 0;
  for (std::string row; std::getline(rows, row);) {
    auto first = row.find('|');
    auto second = row.find('|', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    auto payload = parseJson(row.substr(second + 1));
    if (!payload->has("id")) continue;
    const std::string user = payload->getValue<std::string>("id");
    const int64_t version = std::stoll(row.substr(first + 1, second - first - 1));
    auto found = last.find(user);
    if (found != last.end() && version <= found->second && ++out_of_order <= 10) {
      ADD_FAILURE() << "user " << user << ": version " << version << " at seq "
                    << row.substr(0, first) << " comes after version " << found->second;
    }
    last[user] = version;
  }
  EXPECT_EQ(out_of_order, 0u) << "versions numbered out of their order";
}

void Chaos::expectAuditHoldsEveryEvent() {
  std::set<std::string> audited;
  std::istringstream rows(cluster_->query("SELECT event_id FROM audit_log"));
  for (std::string row; std::getline(rows, row);) audited.insert(row);
  for (const auto& [id, seq] : logged()) {
    EXPECT_EQ(audited.count(id), 1u) << "the audit log lacks event " << seq << " (" << id << ")";
  }
}

}  // namespace busbar::testing
