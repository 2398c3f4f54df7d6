#include "handover/folder_watcher.h"

#include <condition_variable>
#include <fstream>
#include <mutex>

#include <gtest/gtest.h>

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>

namespace busbar::host {
namespace {

using namespace std::chrono_literals;

class FolderWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override { Poco::File(dir_).createDirectories(); }
  void TearDown() override { Poco::File(dir_).remove(true); }

  void write(const std::string& name, const std::string& text, bool append = false) {
    std::ofstream(dir_ + "/" + name, append ? std::ios::app : std::ios::trunc) << text;
  }

  // The calls made so far, waiting up to `wait` for `count` of them.
  std::vector<std::set<std::string>> calls(size_t count, std::chrono::milliseconds wait = 5s) {
    std::unique_lock<std::mutex> lock(mutex_);
    called_.wait_for(lock, wait, [&] { return calls_.size() >= count; });
    return calls_;
  }

  FolderWatcher::Settled record() {
    return [this](const std::set<std::string>& changed) {
      std::lock_guard<std::mutex> lock(mutex_);
      calls_.push_back(changed);
      called_.notify_all();
    };
  }

  const std::string dir_ = Poco::TemporaryFile::tempName();
  std::mutex mutex_;
  std::condition_variable called_;
  std::vector<std::set<std::string>> calls_;
};

bool isPlugin(const std::string& path) {
  return path.size() > 3 && path.compare(path.size() - 3, 3, ".so") == 0;
}

TEST_F(FolderWatcherTest, ChangesThatFollowEachOtherEndInOneCallWithEveryFile) {
  // A quiet period far longer than the pauses between writes, however loaded the machine.
  FolderWatcher watcher({{dir_, true}}, isPlugin, 2s, record());
  // A copy written in pieces, and a second file.
  for (int piece = 0; piece < 5; ++piece) {
    write("a.so", std::string(1000, 'x'), piece > 0);
    std::this_thread::sleep_for(20ms);
  }
  write("b.so", "b");
  write("notes.txt", "not a plugin");
  const auto seen = calls(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (std::set<std::string>{dir_ + "/a.so", dir_ + "/b.so"}));
  // Nothing more comes until something changes again; a rename in counts.
  EXPECT_EQ(calls(2, 600ms).size(), 1u);
  write("c.tmp", "c");
  Poco::File(dir_ + "/c.tmp").renameTo(dir_ + "/c.so");
  const auto again = calls(2);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1], (std::set<std::string>{dir_ + "/c.so"}));
}

TEST_F(FolderWatcherTest, AFolderSwappedForAnotherIsReportedAndWatchedAgain) {
  const std::string folder = dir_ + "/plugins";
  Poco::File(folder).createDirectories();
  FolderWatcher watcher({{folder, true}}, isPlugin, 300ms, record());
  // A deployment that renames a new folder over the old one.
  Poco::File(dir_ + "/next").createDirectories();
  std::ofstream(dir_ + "/next/a.so") << "a";
  Poco::File(folder).renameTo(dir_ + "/previous");
  Poco::File(dir_ + "/next").renameTo(folder);
  const auto seen = calls(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].count(folder + "/"), 1u);
  // The new folder of that path is watched from then on.
  std::this_thread::sleep_for(100ms);
  write("plugins/b.so", "b");
  const auto again = calls(2);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1], (std::set<std::string>{folder + "/b.so"}));
}

TEST_F(FolderWatcherTest, AFolderThatCannotBeWatchedIsNamed) {
  try {
    FolderWatcher watcher({{dir_ + "/missing", true}}, isPlugin, 100ms, record());
    FAIL() << "watched a missing folder";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(dir_ + "/missing"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace busbar::host
