#include "plugins/elf_check.h"

#include <elf.h>

#include <cstdio>
#include <cstring>
#include <fstream>

namespace busbar::host {
namespace {

#if defined(__x86_64__)
constexpr uint16_t kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kMachine = EM_AARCH64;
#elif defined(__riscv) && __riscv_xlen == 64
constexpr uint16_t kMachine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr uint16_t kMachine = EM_PPC64;
#elif defined(__s390x__)
constexpr uint16_t kMachine = EM_S390;
#else
constexpr uint16_t kMachine = EM_NONE;  // unknown here: the dynamic loader judges
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr unsigned char kByteOrder = ELFDATA2LSB;
#else
constexpr unsigned char kByteOrder = ELFDATA2MSB;
#endif

const char* const kCopyAgain =
    "; fix: copy the plugin again, and install it by writing a temporary file and renaming it "
    "into the folder (install(1), or cp then mv) so that busbar never sees it half-written";

std::string machineName(uint16_t machine) {
  switch (machine) {
    case EM_386:
      return "x86 (3)";
    case EM_X86_64:
      return "x86-64 (62)";
    case EM_ARM:
      return "32-bit ARM (40)";
    case EM_AARCH64:
      return "AArch64 (183)";
    case EM_RISCV:
      return "RISC-V (243)";
    case EM_PPC64:
      return "64-bit PowerPC (21)";
    case EM_S390:
      return "s390 (22)";
  }
  return "machine " + std::to_string(machine);
}

std::string typeName(uint16_t type) {
  switch (type) {
    case ET_REL:
      return "a relocatable object (.o)";
    case ET_EXEC:
      return "an executable";
    case ET_CORE:
      return "a core dump";
  }
  return "an ELF file of type " + std::to_string(type);
}

// True when [offset, offset + length) lies inside a file of `size` bytes.
bool inside(uint64_t offset, uint64_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

std::string range(uint64_t offset, uint64_t length) {
  return "bytes " + std::to_string(offset) + " to " + std::to_string(offset + length);
}

std::string cutShort(const std::string& what, uint64_t offset, uint64_t length, uint64_t size) {
  return "cut short: " + what + " (" + range(offset, length) + ") ends past the end of the file (" +
         std::to_string(size) + " bytes)" + kCopyAgain;
}

}  // namespace

std::string elfProblem(uint64_t file_size, const ReadAt& read_at) {
  Elf64_Ehdr header;
  unsigned char magic[SELFMAG] = {};
  const bool has_magic = file_size >= SELFMAG && read_at(0, SELFMAG, magic);
  if (!has_magic || std::memcmp(magic, ELFMAG, SELFMAG) != 0) {
    std::string found = "it is empty";
    if (file_size > 0) {
      unsigned char start[4] = {};
      const size_t shown = file_size < 4 ? static_cast<size_t>(file_size) : 4;
      read_at(0, shown, start);
      found = "it starts with bytes";
      for (size_t i = 0; i < shown; ++i) {
        char hex[4];
        std::snprintf(hex, sizeof hex, " %02x", start[i]);
        found += hex;
      }
    }
    return "not an ELF shared object (" + found +
           ", not 7f 45 4c 46); fix: put only plugins built as shared libraries in the plugin "
           "folder";
  }
  if (!read_at(0, sizeof header, &header)) {
    return cutShort("the ELF header", 0, sizeof header, file_size);
  }
  if (header.e_ident[EI_CLASS] != ELFCLASS64) {
    return std::string("built for ") +
           (header.e_ident[EI_CLASS] == ELFCLASS32 ? "32-bit" : "an unknown ELF class") +
           " systems, this host is 64-bit; fix: rebuild the plugin for this system";
  }
  if (header.e_ident[EI_DATA] != kByteOrder) {
    return std::string("built for ") +
           (kByteOrder == ELFDATA2LSB ? "big-endian" : "little-endian") +
           " systems, this host is not; fix: rebuild the plugin for this system";
  }
  if (header.e_type != ET_DYN) {
    return "not a shared object but " + typeName(header.e_type) +
           "; fix: build the plugin as a shared library (busbar_add_plugin in CMake, or -shared)";
  }
  if (kMachine != EM_NONE && header.e_machine != kMachine) {
    return "built for " + machineName(header.e_machine) + ", this host runs on " +
           machineName(kMachine) + "; fix: rebuild the plugin for this system";
  }

  // Section 0 holds the real counts when they do not fit the header's 16 bits.
  Elf64_Shdr first_section{};
  const bool has_sections = header.e_shoff != 0;
  if (has_sections) {
    if (header.e_shentsize != sizeof(Elf64_Shdr)) {
      return "damaged: section headers of " + std::to_string(header.e_shentsize) +
             " bytes, expected " + std::to_string(sizeof(Elf64_Shdr)) + kCopyAgain;
    }
    if (!inside(header.e_shoff, sizeof first_section, file_size) ||
        !read_at(header.e_shoff, sizeof first_section, &first_section)) {
      return cutShort("the section header table", header.e_shoff, sizeof first_section, file_size);
    }
  }
  uint64_t segments = header.e_phnum;
  if (segments == PN_XNUM) segments = has_sections ? first_section.sh_info : 0;
  if (segments == 0 || header.e_phentsize != sizeof(Elf64_Phdr)) {
    return "damaged: no program headers of the expected size (" +
           std::to_string(header.e_phentsize) + " bytes, " + std::to_string(segments) +
           " of them)" + kCopyAgain;
  }
  const uint64_t segment_table = segments * sizeof(Elf64_Phdr);
  if (!inside(header.e_phoff, segment_table, file_size)) {
    return cutShort("the program header table", header.e_phoff, segment_table, file_size);
  }
  for (uint64_t i = 0; i < segments; ++i) {
    Elf64_Phdr segment;
    if (!read_at(header.e_phoff + i * sizeof segment, sizeof segment, &segment)) {
      return cutShort("the program header table", header.e_phoff, segment_table, file_size);
    }
    if (segment.p_type == PT_LOAD && !inside(segment.p_offset, segment.p_filesz, file_size)) {
      return cutShort("loadable segment " + std::to_string(i), segment.p_offset, segment.p_filesz,
                      file_size);
    }
  }

  if (!has_sections) return "";
  uint64_t sections = header.e_shnum;
  if (sections == 0) sections = first_section.sh_size;
  const uint64_t section_table = sections * sizeof(Elf64_Shdr);
  if (sections > file_size / sizeof(Elf64_Shdr) ||
      !inside(header.e_shoff, section_table, file_size)) {
    return cutShort("the section header table", header.e_shoff, section_table, file_size);
  }
  for (uint64_t i = 1; i < sections; ++i) {
    Elf64_Shdr section;
    if (!read_at(header.e_shoff + i * sizeof section, sizeof section, &section)) {
      return cutShort("the section header table", header.e_shoff, section_table, file_size);
    }
    if (section.sh_type != SHT_NOBITS && !inside(section.sh_offset, section.sh_size, file_size)) {
      return cutShort("section " + std::to_string(i), section.sh_offset, section.sh_size,
                      file_size);
    }
  }
  return "";
}

std::string elfFileProblem(const std::string& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) return "cannot be opened for reading; fix: check that it exists and is readable";
  const auto end = file.tellg();
  if (end < 0) return "cannot be read; fix: check that it is a regular file";
  return elfProblem(static_cast<uint64_t>(end), [&file](uint64_t offset, size_t size, void* out) {
    file.clear();
    file.seekg(static_cast<std::streamoff>(offset));
    return static_cast<bool>(
        file.read(static_cast<char*>(out), static_cast<std::streamsize>(size)));
  });
}

}  // namespace busbar::host
