// elfProblem on the bytes of a real plugin (a test fixture), whole, cut short at every length and
// with single header fields changed.
#include "plugins/elf_check.h"

#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

namespace busbar::host {
namespace {

std::string plugin() {
  std::ifstream in(std::string(BUSBAR_FIXTURE_DIR) + "/good_module.so", std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string problemOf(const std::string& bytes) {
  return elfProblem(bytes.size(), [&bytes](uint64_t offset, size_t size, void* out) {
    if (offset > bytes.size() || size > bytes.size() - offset) return false;
    std::memcpy(out, bytes.data() + offset, size);
    return true;
  });
}

// `bytes` with its ELF header changed by `change`.
template <typename Change>
std::string withHeader(std::string bytes, Change change) {
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof header);
  change(header);
  std::memcpy(bytes.data(), &header, sizeof header);
  return bytes;
}

TEST(ElfCheckTest, TakesAWholePlugin) {
  const std::string bytes = plugin();
  ASSERT_GT(bytes.size(), 4096u);
  EXPECT_EQ(problemOf(bytes), "");
}

TEST(ElfCheckTest, RefusesThePluginCutShortAtAnyLength) {
  const std::string bytes = plugin();
  for (size_t length = 0; length < bytes.size(); length += (length < 256 ? 1 : 61)) {
    const std::string problem = problemOf(bytes.substr(0, length));
    EXPECT_NE(problem, "") << "took the first " << length << " bytes";
    EXPECT_NE(problem.find("fix:"), std::string::npos) << problem;
    if (length >= SELFMAG) {
      EXPECT_EQ(problem.rfind("cut short: ", 0), 0u) << length << ": " << problem;
    }
  }
  EXPECT_NE(problemOf(bytes.substr(0, bytes.size() - 1)), "");
}

TEST(ElfCheckTest, NamesWhatAFileOfAnotherKindIs) {
  EXPECT_EQ(problemOf(""),
            "not an ELF shared object (it is empty, not 7f 45 4c 46); fix: put only plugins built "
            "as shared libraries in the plugin folder");
  EXPECT_NE(problemOf("#!/bin/sh\n").find("it starts with bytes 23 21 2f 62"), std::string::npos);
  const std::string bytes = plugin();
  EXPECT_NE(problemOf(withHeader(bytes, [](Elf64_Ehdr& h) { h.e_ident[EI_CLASS] = ELFCLASS32; }))
                .find("built for 32-bit systems, this host is 64-bit"),
            std::string::npos);
  EXPECT_NE(problemOf(withHeader(bytes, [](Elf64_Ehdr& h) { h.e_ident[EI_DATA] = ELFDATA2MSB; }))
                .find("built for big-endian systems"),
            std::string::npos);
  EXPECT_NE(problemOf(withHeader(bytes, [](Elf64_Ehdr& h) { h.e_type = ET_EXEC; }))
                .find("not a shared object but an executable; fix: build the plugin as a shared "
                      "library"),
            std::string::npos);
  EXPECT_NE(problemOf(withHeader(bytes, [](Elf64_Ehdr& h) { h.e_type = ET_REL; }))
                .find("a relocatable object (.o)"),
            std::string::npos);
#if defined(__x86_64__)
  EXPECT_NE(problemOf(withHeader(bytes, [](Elf64_Ehdr& h) { h.e_machine = EM_AARCH64; }))
                .find("built for AArch64 (183), this host runs on x86-64 (62)"),
            std::string::npos);
#endif
}

TEST(ElfCheckTest, RefusesHeadersThatPointOutsideTheFile) {
  const std::string bytes = plugin();
  for (auto change : std::initializer_list<void (*)(Elf64_Ehdr&)>{
           [](Elf64_Ehdr& h) { h.e_phoff = ~uint64_t{0} - 8; },
           [](Elf64_Ehdr& h) { h.e_phnum = 0xfffe; }, [](Elf64_Ehdr& h) { h.e_phentsize = 1; },
           [](Elf64_Ehdr& h) { h.e_shoff = ~uint64_t{0}; },
           [](Elf64_Ehdr& h) { h.e_shnum = 0xfffe; }, [](Elf64_Ehdr& h) { h.e_shentsize = 12; }}) {
    EXPECT_NE(problemOf(withHeader(bytes, change)), "");
  }
}

TEST(ElfCheckTest, ReadsAFileFromDisk) {
  EXPECT_EQ(elfFileProblem(std::string(BUSBAR_FIXTURE_DIR) + "/good_module.so"), "");
  EXPECT_NE(elfFileProblem("/nonexistent/plugin.so").find("cannot be opened"), std::string::npos);
}

}  // namespace
}  // namespace busbar::host
