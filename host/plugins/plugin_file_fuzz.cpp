// Fuzz target: the plugin checks that run before any plugin code, on what a malformed plugin file
// can hold. The first byte picks what the rest is:
// - even: a whole file, through elfProblem (read through bounds-checked reads, as from disk). A
//   file it takes has an ELF header inside it.
// - odd: a descriptor as a wrongly built plugin could return, with NULL or odd fields, through
//   checkDescriptor and the PluginFile readers. A descriptor it takes names a plugin of a known
//   kind; the readers never read through a NULL pointer.
#include <elf.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "plugins/elf_check.h"
#include "plugins/plugin_catalog.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void wholeFile(const uint8_t* data, size_t size) {
  const std::string problem =
      busbar::host::elfProblem(size, [data, size](uint64_t offset, size_t length, void* out) {
        if (offset > size || length > size - offset) return false;
        std::memcpy(out, data + offset, length);
        return true;
      });
  if (problem.empty()) {
    check(size >= sizeof(Elf64_Ehdr) && std::memcmp(data, ELFMAG, SELFMAG) == 0);
  } else {
    check(problem.find("fix: ") != std::string::npos);
  }
}

void* createNothing() { return nullptr; }
void destroyNothing(void*) {}

// Layout of the input: flags (1 byte: which fields are NULL, which are the host's own values),
// magic (4), size (4), major (2), minor (2), kind (4), then NUL-separated strings: name, version,
// build signature, required plugins...
void descriptor(const uint8_t* data, size_t size) {
  if (size < 17) return;
  const uint8_t flags = data[0];
  busbar_plugin_descriptor descriptor{};
  std::memcpy(&descriptor.magic, data + 1, 4);
  std::memcpy(&descriptor.size, data + 5, 4);
  std::memcpy(&descriptor.abi_major, data + 9, 2);
  std::memcpy(&descriptor.abi_minor, data + 11, 2);
  std::memcpy(&descriptor.kind, data + 13, 4);
  if (flags & 0x01) descriptor.magic = BUSBAR_DESCRIPTOR_MAGIC;
  if (flags & 0x02) {
    descriptor.size = sizeof descriptor;
    descriptor.abi_major = BUSBAR_ABI_MAJOR;
    descriptor.abi_minor %= BUSBAR_ABI_MINOR + 2;
  }
  std::vector<std::string> strings(1);
  for (size_t i = 17; i < size; ++i) {
    if (data[i] == 0) {
      strings.emplace_back();
    } else {
      strings.back() += static_cast<char>(data[i]);
    }
  }
  strings.resize(std::max<size_t>(strings.size(), 3));
  std::vector<const char*> required;
  for (size_t i = 3; i < strings.size(); ++i) required.push_back(strings[i].c_str());
  required.push_back(nullptr);
  descriptor.name = (flags & 0x04) ? nullptr : strings[0].c_str();
  descriptor.version = strings[1].c_str();
  descriptor.build_signature = (flags & 0x08)   ? nullptr
                               : (flags & 0x10) ? BUSBAR_BUILD_SIGNATURE
                                                : strings[2].c_str();
  descriptor.required_plugins = (flags & 0x20) ? nullptr : required.data();
  descriptor.create = (flags & 0x40) ? nullptr : createNothing;
  descriptor.destroy = (flags & 0x80) ? nullptr : destroyNothing;

  busbar::host::PluginFile file;
  file.path = "fuzz.so";
  file.descriptor = &descriptor;
  file.problem = busbar::host::checkDescriptor(&descriptor, "");
  const std::string name = file.name();
  const std::vector<std::string> names = file.required();
  if (file.ok()) {
    check(file.readable() && !name.empty() && name == descriptor.name);
    check(busbar::host::kindName(descriptor.kind).rfind("unknown", 0) != 0);
    check(names.size() == (descriptor.required_plugins ? required.size() - 1 : 0));
  } else {
    check(file.problem.find(':') != std::string::npos);
  }
  check(busbar::host::checkDescriptor(&descriptor, name.empty() ? "x" : name + "x") != "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  if (data[0] % 2 == 0) {
    wholeFile(data + 1, size - 1);
  } else {
    descriptor(data + 1, size - 1);
  }
  return 0;
}
